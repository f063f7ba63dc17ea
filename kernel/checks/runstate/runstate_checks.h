/* What the runstate suite's files share: the checked read, Xen's clock on
 * the boot vCPU, the series verdict and the halt-or-spin round
 * (runstate_common.c), and the cross-vCPU checks (runstate_smp.c). */
#ifndef PVCHECK_RUNSTATE_CHECKS_H
#define PVCHECK_RUNSTATE_CHECKS_H

#include <stdbool.h>
#include <stdint.h>

#include "iface/runstate.h"
#include "lib/suite.h"
#include "live/runstate.h"

#define RUNSTATE_CHECK_READ_TRIES 1000u

/* A consistent copy keeping every rule; own: the reader is that vCPU. */
bool runstate_checked_snap(struct check_ctx *c, const volatile struct vcpu_runstate_info *a,
                           struct runstate_snapshot *s, bool own);

/* Xen's clock on the boot vCPU (vcpu_info[0].time), what runstate times
 * are counted in; a read that fails is remembered until the next
 * runstate_expect_clock, which fails the check then. */
uint64_t runstate_clock_ns(void);
bool runstate_expect_clock(struct check_ctx *c);

/* One snapshot's states and times as a figure. */
void runstate_report_snapshot(struct check_ctx *c, const char *what,
                              const struct runstate_snapshot *s);

/* One snapshot between two clock reads, into the series. */
bool runstate_sample(struct check_ctx *c, const volatile struct vcpu_runstate_info *a, bool own,
                     struct runstate_series *st, struct runstate_snapshot *s);

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

/* The cheapest of 4 runs of 16 CPUIDs, per CPUID, in TSC cycles: what
 * one exit costs on the spot. */
uint64_t runstate_cpuid_cycles(void);

/* Odd rounds halt until the next tick, even rounds spin briefly. */
void runstate_halt_or_spin(unsigned round);

/* runstate_smp.c: a sibling reads the boot vCPU's area while it halts and
 * spins; and the two cross-vCPU checks. */
void runstate_remote_reads(struct check_ctx *c);
enum verdict check_runstate_each_vcpu(struct check_ctx *c);
enum verdict check_runstate_remote_reads(struct check_ctx *c);

#endif
