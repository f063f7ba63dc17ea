/* What the smp suite's KVM files share (smp_vcpus.c): each vCPU's kvmclock
 * and steal areas in its page, and kvmclock registered on every AP. */
#ifndef PVCHECK_SMP_KVM_H
#define PVCHECK_SMP_KVM_H

#include <stdbool.h>
#include <stdint.h>

#include "iface/kvm.h"
#include "iface/pvclock.h"
#include "iface/steal.h"
#include "lib/suite.h"
#include "live/kvmclock.h"
#include "live/pvarea.h"
#include "platform/timer.h"

/* The boot vCPU's area is kvmclock's active one where there is one. */
volatile struct pvclock_vcpu_time_info *smp_clock_area(unsigned cpu);
volatile struct kvm_steal_time *smp_steal_area(unsigned cpu);

/* Every byte of the vCPU's page outside its two areas: made canary, and the
 * first one that is not canary any more (or -1). */
void smp_fill_canaries(uint8_t *page);
int smp_page_damaged(const volatile uint8_t *page);

/* Raw kvmclock time from that vCPU's area; false if the read failed. */
bool smp_clock_now(unsigned cpu, uint64_t *ns);

/* Why the check cannot run (the feature is missing, or one vCPU only), or
 * NULL. */
const char *smp_need_aps_and(unsigned feature, const char *name);

/* Registers and samples kvmclock on every AP (the kvmclock_each_vcpu job),
 * each AP's outcome in smp_clock_results; false, the check failed, if an
 * AP was busy or did not finish. */
struct clock_result {
    int vector;
    bool populated;
    enum pvclock_read_status read;
    struct pvclock_snapshot snap;
    struct pvclock_stream stream;
    int damaged_at;
};
extern struct clock_result smp_clock_results[];
bool smp_kvmclock_on_aps(struct check_ctx *c);

/* Every vCPU's area has PVCLOCK_TSC_STABLE_BIT and CPUID advertises it;
 * else false and the first vCPU without (0xffffffff: not advertised). */
bool smp_all_stable(unsigned *unstable_cpu);

/* kvmclock registered on every vCPU, or why a check cannot run (a failed
 * AP fails the check too). */
const char *smp_need_clocks(struct check_ctx *c);

#define SMP_WAIT_VERSION(a) (PV_WAIT_VERSION((a), TIMER_HZ / 10) >= 0)

#endif
