/* What the smp suite's two KVM files share: each vCPU's kvmclock and steal
 * areas in its page, and kvmclock registered on every AP. */
#ifndef PVCHECK_SMP_KVM_H
#define PVCHECK_SMP_KVM_H

#include <stdbool.h>
#include <stdint.h>

#include "checks/pvarea.h"
#include "iface/kvm.h"
#include "iface/pvclock.h"
#include "iface/steal.h"
#include "lib/suite.h"
#include "platform/timer.h"

/* The boot vCPU's area is kvmclock's active one where there is one. */
volatile struct pvclock_vcpu_time_info *smp_clock_area(unsigned cpu);
volatile struct kvm_steal_time *smp_steal_area(unsigned cpu);

/* Raw kvmclock time from that vCPU's area; false if the read failed. */
bool smp_clock_now(unsigned cpu, uint64_t *ns);

/* Why the check cannot run (the feature is missing, or one vCPU only), or
 * NULL. */
const char *smp_need_aps_and(unsigned feature, const char *name);

/* Registers and samples kvmclock on every AP (the kvmclock_each_vcpu job);
 * false, the check failed, if an AP was busy or did not finish. */
bool smp_kvmclock_on_aps(struct check_ctx *c);

/* Every vCPU's area has PVCLOCK_TSC_STABLE_BIT and CPUID advertises it;
 * else false and the first vCPU without (0xffffffff: not advertised). */
bool smp_all_stable(unsigned *unstable_cpu);

/* kvmclock registered on every vCPU, or why a check cannot run (a failed
 * AP fails the check too). */
const char *smp_need_clocks(struct check_ctx *c);

#define SMP_WAIT_VERSION(a) (PV_WAIT_VERSION((a), TIMER_HZ / 10) >= 0)

#endif
