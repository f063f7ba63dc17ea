/* The TSC's rate measured against the reference clock, for the checks that
 * hold a stated frequency (or a bound in cycles) against it. */
#ifndef PVCHECK_TSC_RATE_H
#define PVCHECK_TSC_RATE_H

#include <stdbool.h>
#include <stdint.h>

/* The TSC's rate in Hz over window_counts of the reference (at least one),
 * and the bound that measurement allows in ppm: both readings' brackets and
 * the reference's resolution, plus RATE_ALLOWANCE_PPM. False where the
 * reference judges no rate, or gave no reading. */
bool tsc_hz_against_reference(uint64_t window_counts, uint64_t *hz, uint64_t *bound_ppm);

#endif
