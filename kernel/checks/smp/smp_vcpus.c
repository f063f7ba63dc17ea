/* The smp suite's per-vCPU KVM state and its needs: each vCPU's kvmclock
 * and steal areas in its own page (the boot vCPU's clock is the live
 * kvmclock where there is one), kvmclock registered and sampled on every
 * AP, and whether every vCPU's clock carries PVCLOCK_TSC_STABLE_BIT. */
#include "checks/smp/smp_kvm.h"

#include "checks/shared/aps.h"
#include "lib/options.h"
#include "platform/budget.h"
#include "platform/cpu.h"
#include "platform/percpu.h"
#include "platform/safe.h"
#include "platform/smp.h"

#define CLOCK_OFFSET 0x40
#define STEAL_OFFSET 0x100
#define EACH_READS 20000u

volatile struct pvclock_vcpu_time_info *smp_clock_area(unsigned cpu)
{
    if (cpu == 0 && kvmclock_active())
        return kvmclock_active();
    return (volatile struct pvclock_vcpu_time_info *)(smp_page(cpu) + CLOCK_OFFSET);
}

volatile struct kvm_steal_time *smp_steal_area(unsigned cpu)
{
    return (volatile struct kvm_steal_time *)(smp_page(cpu) + STEAL_OFFSET);
}

bool smp_clock_now(unsigned cpu, uint64_t *ns)
{
    return kvmclock_read_ns(smp_clock_area(cpu), ns);
}

/* Every byte of the vCPU's page outside its two areas must stay canary. */
void smp_fill_canaries(uint8_t *page)
{
    for (unsigned i = 0; i < SMP_PAGE_BYTES; i++)
        if (!(i >= CLOCK_OFFSET && i < CLOCK_OFFSET + 32) &&
            !(i >= STEAL_OFFSET && i < STEAL_OFFSET + 64))
            page[i] = PV_CANARY;
}

int smp_page_damaged(const volatile uint8_t *page)
{
    for (unsigned i = 0; i < SMP_PAGE_BYTES; i++)
        if (!(i >= CLOCK_OFFSET && i < CLOCK_OFFSET + 32) &&
            !(i >= STEAL_OFFSET && i < STEAL_OFFSET + 64) && page[i] != PV_CANARY)
            return (int)i;
    return -1;
}

/* --- kvmclock on every vCPU ------------------------------------------- */

struct clock_result smp_clock_results[SMP_MAX_CPUS];

static void clock_job(void *arg)
{
    unsigned cpu = this_cpu();
    struct clock_result *r = arg;
    uint8_t *page = smp_page(cpu);
    smp_fill_canaries(page);
    volatile struct pvclock_vcpu_time_info *a = smp_clock_area(cpu);
    *r = (struct clock_result){ .damaged_at = -1 };
    struct kvmclock_own own;
    kvmclock_register_here(a, &own);
    r->vector = own.vector;
    r->populated = own.populated;
    if (!r->populated)
        return;
    r->read = pvclock_read(a, &r->snap, PVCLOCK_READ_TRIES, 0);
    struct budget b;
    budget_start(&b, EACH_READS, pvcheck_options.budget_ms);
    while (r->read == PVCLOCK_READ_OK && budget_next(&b)) {
        struct pvclock_snapshot s;
        r->read = pvclock_read(a, &s, PVCLOCK_READ_TRIES, 0);
        if (r->read == PVCLOCK_READ_OK)
            pvclock_stream_add(&r->stream, &s, rdtsc_ordered());
    }
    r->damaged_at = smp_page_damaged(page);
}

bool smp_kvmclock_on_aps(struct check_ctx *c)
{
    return smp_run_on_aps(c, clock_job, smp_clock_results, sizeof(smp_clock_results[0]));
}

const char *smp_need_aps_and(unsigned feature, const char *name)
{
    const char *why = kvm_missing(feature, name);
    if (why)
        return why;
    smp_init();
    return smp_online() < 2 ? "only one vCPU is online" : 0;
}

bool smp_all_stable(unsigned *unstable_cpu)
{
    if (!kvm_has(KVM_FEATURE_CLOCKSOURCE_STABLE_BIT)) {
        *unstable_cpu = 0xffffffff;
        return false;
    }
    for (unsigned cpu = 0; cpu < smp_online(); cpu++) {
        struct pvclock_snapshot s;
        if (pvclock_read(smp_clock_area(cpu), &s, PVCLOCK_READ_TRIES, 0) != PVCLOCK_READ_OK ||
            !(s.flags & PVCLOCK_TSC_STABLE_BIT)) {
            *unstable_cpu = cpu;
            return false;
        }
    }
    return true;
}

const char *smp_need_clocks(struct check_ctx *c)
{
    const char *why = smp_need_aps_and(KVM_FEATURE_CLOCKSOURCE2, "KVM_FEATURE_CLOCKSOURCE2");
    if (why)
        return why;
    if (!kvmclock_active()) {
        /* The boot vCPU's clock comes from the kvmclock suite, or from here. */
        volatile struct pvclock_vcpu_time_info *a = smp_clock_area(0);
        wrmsr(MSR_KVM_SYSTEM_TIME_NEW, pv_gpa(a) | 1);
        (void)SMP_WAIT_VERSION(a);
    }
    if (!smp_kvmclock_on_aps(c))
        return "an AP did not register its kvmclock";
    return 0;
}
