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

/* Figures and verdicts of a series of snapshots. */
void runstate_report_series(struct check_ctx *c, const struct runstate_series *st);

/* Odd rounds halt until the next tick, even rounds spin briefly. */
void runstate_halt_or_spin(unsigned round);

/* check_runstate_smp.c: a sibling reads the boot vCPU's area while it
 * halts and spins; and the two cross-vCPU checks. */
void runstate_remote_reads(struct check_ctx *c);
enum verdict check_runstate_each_vcpu(struct check_ctx *c);
enum verdict check_runstate_remote_reads(struct check_ctx *c);

#endif
