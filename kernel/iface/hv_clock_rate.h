/* The TSC's rate as the hypervisor's own clock states it, for a machine with
 * no other way to know it (no CPUID leaf, no PIT, no CMOS clock): Hyper-V's
 * HV_X64_MSR_TSC_FREQUENCY, else kvmclock's tsc_to_system_mul and tsc_shift.
 * Both belong to the clocks under test; the caller says so. */
#ifndef PVCHECK_HV_CLOCK_RATE_H
#define PVCHECK_HV_CLOCK_RATE_H

#include <stddef.h>
#include <stdint.h>

/* kHz and the source's name, or 0 with why (into why, len bytes). */
uint64_t hv_clock_tsc_khz(const char **source, char *why, size_t len);

#endif
