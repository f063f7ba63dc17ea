/* The pvclock checks that kvmclock and Xen's vcpu_time_info share, run on
 * any area: a checked read, the field rules, a long run of raw reads, the
 * rate against the reference clock, and the wall-clock plausibility. */
#ifndef PVCHECK_PVCLOCK_CHECKS_H
#define PVCHECK_PVCLOCK_CHECKS_H

#include <stdbool.h>
#include <stdint.h>

#include "iface/pvclock.h"
#include "lib/suite.h"

/* A consistent read, or a failure saying why not. */
bool pvclock_read_checked(struct check_ctx *c, const volatile struct pvclock_vcpu_time_info *a,
                          struct pvclock_snapshot *s);

/* Figures and field rules; stable_ok: may PVCLOCK_TSC_STABLE_BIT be set. */
bool pvclock_report_fields(struct check_ctx *c, const struct pvclock_snapshot *s, bool stable_ok);

/* Monotonic over many raw reads, never TSC-behind, advancing; read cost. */
void pvclock_check_reads(struct check_ctx *c, const volatile struct pvclock_vcpu_time_info *a,
                         const char *clock);

/* Rate against the reference clock over rate_window_ms, and the TSC rate
 * mul/shift imply against the measured one and the CPUID-stated one. */
enum verdict pvclock_check_rate(struct check_ctx *c,
                                const volatile struct pvclock_vcpu_time_info *a,
                                const char *clock);

/* Unix time now_s is plausible and near the host's wallclock= stamp, taken
 * before the guest started up_ns ago. */
void pvclock_check_wall_time(struct check_ctx *c, uint64_t now_s, uint64_t up_ns);

/* pvclock_rebase_at at the TSC now. */
bool pvclock_rebase_at_now(const struct pvclock_snapshot *before,
                           const struct pvclock_snapshot *after, struct pvclock_rebase *r);

/* The TSC rate in kHz that CPUID states, else the one the active kvmclock's
 * mul/shift imply; 0 if neither is known. */
uint64_t pvclock_tsc_khz(void);

#endif
