/* What the runstate suite's two files share: the boot vCPU's registered
 * area, whether the update flag is on, and the checked read, the series
 * verdict and the halt-or-spin round that both sides use. */
#ifndef PVCHECK_RUNSTATE_CHECKS_H
#define PVCHECK_RUNSTATE_CHECKS_H

#include <stdbool.h>

#include "iface/runstate.h"
#include "lib/suite.h"

#define RUNSTATE_CHECK_READ_TRIES 1000u

/* Registered by runstate_ensure_area (NULL before, or after a re-register
 * is started); the update flag, once the guest has enabled it. */
extern volatile struct vcpu_runstate_info *runstate_boot_area;
extern bool runstate_flag_enabled;

/* Registers the boot vCPU's area unless it is; false, the check failed. */
bool runstate_ensure_area(struct check_ctx *c);

/* A consistent copy keeping every rule; own: the reader is that vCPU. */
bool runstate_checked_snap(struct check_ctx *c, const volatile struct vcpu_runstate_info *a,
                           struct runstate_snapshot *s, bool own);

/* Figures and verdicts of a series of snapshots. clock_orders: the clock
 * that bracketed each read orders Xen's stamps. A vCPU's own clock does
 * (Xen updates it before the vCPU runs); a sibling's clock read from
 * another vCPU does only with PVCLOCK_TSC_STABLE_BIT: without it a halted
 * vCPU's parameters go stale against Xen's per-pCPU recalibration, and a
 * guest gets cross-vCPU order only by clamping to a global last value
 * (Linux arch/x86/kernel/pvclock.c, pvclock_clocksource_read). Without
 * it, growth bounds and future entries are reported, not judged. */
void runstate_report_series(struct check_ctx *c, const struct runstate_series *st,
                            bool clock_orders);

/* Odd rounds halt until the next tick, even rounds spin briefly. */
void runstate_halt_or_spin(unsigned round);

/* check_runstate_smp.c: a sibling reads the boot vCPU's area while it
 * halts and spins; and the two cross-vCPU checks. */
void runstate_remote_reads(struct check_ctx *c);
enum verdict check_runstate_each_vcpu(struct check_ctx *c);
enum verdict check_runstate_remote_reads(struct check_ctx *c);

#endif
