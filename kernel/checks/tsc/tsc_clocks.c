/* The paravirtual clocks across the guest's own TSC writes: kvmclock
 * (KVM), Hyper-V's reference page and TIME_REF_COUNT, and Xen's
 * vcpu_time_info, wherever the hypervisor offers them. Each must keep
 * counting real time across a write that moves the TSC 2^32 cycles, its
 * parameters re-based at once or the guest told (kvmclock's and Xen's
 * version moves; Hyper-V's TscSequence 0 sends the guest to the MSR).
 * The TLFS's reference counter is "strictly monotonically increasing" as
 * every vCPU sees it and "rate constant" (Timers, Reference Counter), the
 * page its enlightenment; msr.rst and Xen's public headers are silent on
 * guest TSC writes: there the rule is that a clock is time. */
#include "checks/shared/pvclock_checks.h"
#include "checks/tsc/tsc_common.h"
#include "iface/kvm.h"
#include "iface/tsc_msr.h"
#include "lib/report.h"
#include "live/clocks.h"
#include "live/hyperv.h"
#include "live/kvmclock.h"
#include "platform/cpu.h"
#include "platform/timer.h"

/* What a clock check does around one write of msr by delta. */
typedef void (*around_write)(struct check_ctx *c, const void *arg, uint32_t msr, int64_t delta,
                             const char *what);

/* around for every write the suite makes: IA32_TSC forward and back, then
 * IA32_TSC_ADJUST forward and back where it is advertised, which is then
 * put back as it was. Every direction, whatever the first showed: each is
 * a figure. */
static void around_each_write(struct check_ctx *c, around_write around, const void *arg)
{
    bool adjust = tsc_has_adjust();
    uint64_t first_adjust = adjust ? rdmsr(MSR_IA32_TSC_ADJUST) : 0;
    around(c, arg, MSR_IA32_TSC, STEP_CYCLES, "tsc_forward");
    around(c, arg, MSR_IA32_TSC, -STEP_CYCLES, "tsc_back");
    if (adjust) {
        around(c, arg, MSR_IA32_TSC_ADJUST, STEP_CYCLES, "adjust_forward");
        around(c, arg, MSR_IA32_TSC_ADJUST, -STEP_CYCLES, "adjust_back");
        wrmsr(MSR_IA32_TSC_ADJUST, first_adjust);
    }
}

/* kvmclock read at a TSC read: false if the TSC is behind the parameters'
 * stamp or the result overflows (*why says which). */
static bool kvmclock_at(const struct pvclock_snapshot *s, uint64_t tsc, uint64_t *ns,
                        const char **why)
{
    bool behind = false;
    if (pvclock_ns_at(s, tsc, ns, &behind))
        return true;
    *why = behind ? "the TSC is behind tsc_timestamp" : "the formula overflows";
    return false;
}

/* kvmclock around one write of msr by delta: read right after it, and
 * again REBASE_WAIT_TICKS later (whether and how soon the host re-based it). */
static void kvmclock_around(struct check_ctx *c, const void *arg, uint32_t msr, int64_t delta,
                            const char *what)
{
    (void)arg;
    struct pvclock_snapshot s0, s1, s2;
    uint64_t ns0, ns1, ns2;
    const char *why;
    struct tsc_real_time r;
    /* Registered anew, so that each write starts from parameters the host
     * has just written, whatever the one before left. */
    if (!kvmclock_register_anew(c))
        return;
    volatile struct pvclock_vcpu_time_info *a = kvmclock_active();
    if (!pvclock_read_checked(c, a, &s0))
        return;
    uint64_t base = msr == MSR_IA32_TSC_ADJUST ? rdmsr(MSR_IA32_TSC_ADJUST) : 0;
    tsc_real_start(&r);
    uint64_t tb = rdtsc_ordered();
    wrmsr(msr, (msr == MSR_IA32_TSC ? tb : base) + (uint64_t)delta);
    /* The area first, then the TSC: an update landing between them would
     * otherwise be read at a TSC from before its own stamp. */
    if (!pvclock_read_checked(c, a, &s1))
        return;
    uint64_t ta = rdtsc_ordered();
    uint64_t real_ns = tsc_real_max_ns(&r);
    if (!kvmclock_at(&s0, tb, &ns0, &why)) {
        fail(c, "%s: kvmclock unreadable before the write: %s", what, why);
        return;
    }
    bool readable = kvmclock_at(&s1, ta, &ns1, &why);
    int64_t advance = readable ? (int64_t)(ns1 - ns0) : 0;
    figure(c, "%s version=%u->%u tsc_timestamp=%llu->%llu kvmclock_advance_ns=%lld "
              "real_max_ns=%llu",
           what, s0.version, s1.version, (unsigned long long)s0.tsc_timestamp,
           (unsigned long long)s1.tsc_timestamp, (long long)advance, (unsigned long long)real_ns);
    if (!readable)
        fail(c, "%s: right after a guest write moved the TSC %lld cycles, kvmclock cannot be "
                "read: %s (version %u, parameters not re-based)",
             what, (long long)delta, why, s1.version);
    else
        expect(c, advance >= 0 && (uint64_t)advance <= real_ns + 2,
               "%s: across a guest write that moved the TSC %lld cycles kvmclock moved %lld ns "
               "while at most %llu ns passed (version %u -> %u)", what, (long long)delta,
               (long long)advance, (unsigned long long)real_ns, s0.version, s1.version);
    timer_sleep_ticks(REBASE_WAIT_TICKS);
    uint64_t t2 = rdtsc_ordered();
    uint64_t real2 = tsc_real_max_ns(&r);
    if (pvclock_read(a, &s2, PVCLOCK_READ_TRIES, 0) == PVCLOCK_READ_OK &&
        kvmclock_at(&s2, t2, &ns2, &why))
        figure(c, "%s after_%ums version=%u kvmclock_advance_ns=%lld real_max_ns=%llu", what,
               REBASE_WAIT_TICKS * 1000 / TIMER_HZ, s2.version, (long long)(ns2 - ns0),
               (unsigned long long)real2);
    else
        figure(c, "%s after_%ums version=%u still unreadable", what,
               REBASE_WAIT_TICKS * 1000 / TIMER_HZ, s2.version);
}

enum verdict check_kvmclock_across(struct check_ctx *c)
{
    const char *why = kvm_missing(KVM_FEATURE_CLOCKSOURCE2, "KVM_FEATURE_CLOCKSOURCE2");
    if (why)
        return skip(c, "%s", why);
    const char *source;
    if (!tsc_known_khz(&source))
        return skip(c, "no TSC rate known to bound the reads by");
    around_each_write(c, kvmclock_around, 0);
    /* Fresh parameters for whoever reads kvmclock next. */
    kvmclock_register_anew(c);
    return pass(c);
}

/* The clocks besides kvmclock, each read to the ns: Hyper-V's in 100 ns
 * units, which the bound on each read allows for. */
static const struct {
    enum clock_id id;
    const char *name;
    uint64_t unit_ns;
} others[] = {
    { HV_PAGE, "hv_page", 100 },
    { HV_COUNTER, "hv_time_ref_count", 100 },
    { XEN_TIME, "xen_time", 1 },
};
#define N_OTHERS (sizeof(others) / sizeof(others[0]))

enum reading { READ_OK, READ_NONE, READ_TOLD };

/* One reading; READ_TOLD: the page says TscSequence 0 (use the MSR). */
static enum reading read_other(unsigned i, uint64_t *ns)
{
    if (others[i].id == HV_PAGE) {
        uint64_t units, tsc;
        struct hv_ref_snapshot s;
        if (!hv_page_area())
            return READ_NONE;
        enum hv_ref_status st = hv_page_now(&units, &tsc, &s);
        if (st == HV_REF_INVALID)
            return READ_TOLD;
        *ns = units * 100;
        return st == HV_REF_OK ? READ_OK : READ_NONE;
    }
    return clock_read_ns(others[i].id, ns) ? READ_OK : READ_NONE;
}

/* Every present clock around one write of msr by delta, right after it
 * (judged) and REBASE_WAIT_TICKS later (a figure). */
static void others_around(struct check_ctx *c, const void *arg, uint32_t msr, int64_t delta,
                          const char *what)
{
    const bool *present = arg;
    uint64_t ns0[N_OTHERS] = { 0 }, ns1[N_OTHERS] = { 0 }, ns2[N_OTHERS] = { 0 };
    enum reading r1[N_OTHERS], r2[N_OTHERS];
    struct tsc_real_time real;
    uint64_t base = msr == MSR_IA32_TSC_ADJUST ? rdmsr(MSR_IA32_TSC_ADJUST) : 0;
    tsc_real_start(&real); /* before the first read: it bounds them all */
    for (unsigned i = 0; i < N_OTHERS; i++)
        if (present[i] && read_other(i, &ns0[i]) != READ_OK)
            return (void)fail(c, "%s: %s unreadable before the write", what, others[i].name);
    wrmsr(msr, (msr == MSR_IA32_TSC ? rdtsc_ordered() : base) + (uint64_t)delta);
    for (unsigned i = 0; i < N_OTHERS; i++)
        r1[i] = present[i] ? read_other(i, &ns1[i]) : READ_NONE;
    uint64_t real_ns = tsc_real_max_ns(&real);
    timer_sleep_ticks(REBASE_WAIT_TICKS);
    for (unsigned i = 0; i < N_OTHERS; i++)
        r2[i] = present[i] ? read_other(i, &ns2[i]) : READ_NONE;
    uint64_t real2 = tsc_real_max_ns(&real);
    for (unsigned i = 0; i < N_OTHERS; i++) {
        if (!present[i])
            continue;
        int64_t adv = (int64_t)(ns1[i] - ns0[i]), adv2 = (int64_t)(ns2[i] - ns0[i]);
        figure(c, "%s %s advance_ns=%lld%s real_max_ns=%llu after_%ums advance_ns=%lld%s "
                  "real_max_ns=%llu", what, others[i].name, (long long)adv,
               r1[i] == READ_TOLD ? " (sequence 0)" : "", (unsigned long long)real_ns,
               REBASE_WAIT_TICKS * 1000 / TIMER_HZ, (long long)adv2,
               r2[i] == READ_TOLD ? " (sequence 0)" : "", (unsigned long long)real2);
        if (r1[i] == READ_TOLD)
            continue; /* the guest was told to use the MSR: allowed */
        if (r1[i] != READ_OK) {
            fail(c, "%s: %s unreadable right after the write", what, others[i].name);
            continue;
        }
        expect(c, adv >= 0 && (uint64_t)adv <= real_ns + others[i].unit_ns,
               "%s: across a guest write that moved the TSC %lld cycles %s moved %lld ns while "
               "at most %llu ns passed", what, (long long)delta, others[i].name, (long long)adv,
               (unsigned long long)real_ns);
    }
}

enum verdict check_clocks_across(struct check_ctx *c)
{
    bool present[N_OTHERS], any = false;
    /* TIME_REF_COUNT only where Hyper-V's CPUID grants it: TCG, for one,
     * reads any MSR it does not know as 0. */
    struct offered_clocks o = clocks_offered(c);
    const bool offered[N_OTHERS] = { o.hv_page, o.hv_counter, o.xen_time };
    for (unsigned i = 0; i < N_OTHERS; i++) {
        uint64_t ns;
        present[i] = offered[i] && read_other(i, &ns) == READ_OK;
        any |= present[i];
    }
    if (!any)
        return skip(c, "no Hyper-V reference page or counter, no Xen time");
    const char *source;
    if (!tsc_known_khz(&source))
        return skip(c, "no TSC rate known to bound the reads by");
    around_each_write(c, others_around, present);
    return pass(c);
}
