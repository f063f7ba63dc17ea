/* What the tsc suite's checks share. */
#ifndef PVCHECK_TSC_COMMON_H
#define PVCHECK_TSC_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/suite.h"
#include "platform/timer.h"

/* Each step moves the TSC by 2^32 cycles (seconds on any TSC): far beyond
 * any read's bracket, so that a write that does not take cannot pass. */
#define STEP_CYCLES (1ll << 32)
/* The TSC's rate as known here against real time: 1000 ppm, twice what
 * the rate checks allow a clock, on a bracket of microseconds. */
#define RATE_TOLERANCE_PPM 1000
#define REBASE_WAIT_TICKS (TIMER_HZ / 10)
#define SDM "Intel SDM Vol. 3B, Time-Stamp Counter Adjustment"

/* Whether CPUID.(EAX=7,ECX=0):EBX[1] advertises IA32_TSC_ADJUST. */
bool tsc_has_adjust(void);

/* The real time since start, at most, from the reference when it is fine
 * enough, else from the tick. */
struct tsc_real_time {
    uint64_t ref, ticks;
    bool fine;
};

void tsc_real_start(struct tsc_real_time *r);
uint64_t tsc_real_max_ns(const struct tsc_real_time *r);

/* The TSC's rate, from CPUID, else the APIC timer's calibration, else
 * measured against the reference, else kvmclock's mul/shift: only to bound
 * microseconds, RATE_TOLERANCE_PPM allowed. 0 if none; *source names it. */
uint64_t tsc_known_khz(const char **source);

/* The paravirtual clocks across the guest's TSC writes (tsc_clocks.c). */
enum verdict check_kvmclock_across(struct check_ctx *c);
enum verdict check_clocks_across(struct check_ctx *c);
/* PVCLOCK_TSC_STABLE_BIT while vCPU 1's TSC is apart (tsc_stable.c). */
enum verdict check_stable_bit(struct check_ctx *c);

#endif
