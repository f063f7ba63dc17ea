/* Arithmetic the rate checks share: hypervisor-written values can make any
 * operand huge, so every step saturates. */
#ifndef PVCHECK_RATE_H
#define PVCHECK_RATE_H

#include <stdint.h>

/* Rate allowance on top of a measurement's own uncertainty: a host clock
 * may be slewed by up to 500 ppm (the NTP limit) against its oscillator, and
 * the clock under test and the emulated reference may follow either. */
#define RATE_ALLOWANCE_PPM 500u

/* a * b / c, saturating. */
static inline uint64_t mul_div_sat(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t p;
    if (c == 0 || __builtin_mul_overflow(a, b, &p))
        return UINT64_MAX;
    return p / c;
}

/* (measured - reference) in ppm of reference, saturating at +-10^12. */
static inline int64_t ppm_error(uint64_t measured, uint64_t reference)
{
    uint64_t diff = measured > reference ? measured - reference : reference - measured;
    uint64_t ppm = mul_div_sat(diff, 1000000, reference);
    if (ppm > 1000000000000ull)
        ppm = 1000000000000ull;
    return measured >= reference ? (int64_t)ppm : -(int64_t)ppm;
}

static inline uint64_t abs64(int64_t v)
{
    return v < 0 ? (uint64_t)-v : (uint64_t)v;
}

/* The measurement's uncertainty over the window, in ppm, plus the allowance. */
static inline uint64_t rate_bound_ppm(uint64_t uncertainty_ns, uint64_t window_ns)
{
    uint64_t ppm = mul_div_sat(uncertainty_ns, 1000000, window_ns);
    return ppm > UINT64_MAX - RATE_ALLOWANCE_PPM ? UINT64_MAX : ppm + RATE_ALLOWANCE_PPM;
}

#endif
