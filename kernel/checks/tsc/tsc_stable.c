/* PVCLOCK_TSC_STABLE_BIT while the vCPUs' TSCs disagree. msr.rst: with
 * flags bit 0 (and CPUID bit 24) "time measures taken across multiple cpus
 * are guaranteed to be monotonic". Linux's vDSO (vread_pvclock) reads the
 * bit "to mean that all vCPUs have matching pvti and that the TSC is
 * synced, so we can just look at vCPU 0's pvti", and KVM sets it only from
 * its master clock, which it keeps only while every vCPU's TSC matches
 * (kvm_track_tsc_matching). So once vCPU 1 has moved its own TSC 2^32
 * cycles, no vCPU's area may keep the bit, unless the TSCs agree again;
 * and while every area keeps it, vCPU 0's parameters must give vCPU 1's
 * time at vCPU 1's TSC. */
#include "checks/shared/aps.h"
#include "checks/shared/pvclock_checks.h"
#include "checks/shared/tsc_bracket.h"
#include "checks/tsc/tsc_common.h"
#include "iface/kvm.h"
#include "iface/tsc_msr.h"
#include "lib/format.h"
#include "lib/report.h"
#include "live/kvmclock.h"
#include "live/pvarea.h"
#include "platform/cpu.h"
#include "platform/safe.h"
#include "platform/smp.h"
#include "platform/timer.h"

/* Half the step: beyond any bracket of a few jobs, and far beyond what a
 * write of IA32_TSC back leaves (the cycles between its read and write). */
#define APART_CYCLES (STEP_CYCLES / 2)

/* vCPU 1's own kvmclock area, registered by this check. */
static volatile struct pvclock_vcpu_time_info ap_clock __attribute__((aligned(64)));

static struct kvmclock_own ap_registration;

static void register_job(void *arg)
{
    (void)arg;
    kvmclock_register_here(&ap_clock, &ap_registration);
}

static void disable_job(void *arg)
{
    (void)arg;
    kvmclock_unregister_here();
}

struct ap_write {
    uint32_t msr;
    int64_t delta;
};

static void write_job(void *arg)
{
    const struct ap_write *w = arg;
    uint64_t from = w->msr == MSR_IA32_TSC ? rdtsc_ordered() : rdmsr(MSR_IA32_TSC_ADJUST);
    wrmsr(w->msr, from + (uint64_t)w->delta);
}

/* vCPU 1's TSC, first thing in its job, and its area right after. */
struct ap_view {
    uint64_t tsc;
    enum pvclock_read_status read;
    struct pvclock_snapshot snap;
};

static void view_job(void *arg)
{
    struct ap_view *v = arg;
    v->tsc = rdtsc_ordered();
    v->read = pvclock_read(&ap_clock, &v->snap, PVCLOCK_READ_TRIES, 0);
}

/* Both areas, and vCPU 1's TSC against a bracket of vCPU 0's. */
struct observation {
    struct pvclock_snapshot own;
    struct ap_view ap;
    int64_t lead;
    uint64_t bracket;
};

static bool observe(struct check_ctx *c, struct observation *o)
{
    if (!pvclock_read_checked(c, kvmclock_active(), &o->own))
        return false;
    uint64_t t0 = rdtsc_ordered();
    if (!smp_run_on(c, 1, view_job, &o->ap))
        return false;
    uint64_t t2 = rdtsc_ordered();
    if (o->ap.read != PVCLOCK_READ_OK)
        return expect(c, false, "vCPU 1: no consistent read of its kvmclock area (status %d)",
                      (int)o->ap.read);
    o->lead = tsc_lead_proven(t0, o->ap.tsc, t2);
    o->bracket = t2 - t0;
    return true;
}

static bool stable(const struct pvclock_snapshot *s)
{
    return s->flags & PVCLOCK_TSC_STABLE_BIT;
}

/* The parameters' time at tsc, signed: a TSC behind tsc_timestamp reads
 * before system_time. False if the formula overflows. */
static bool signed_ns_at(const struct pvclock_snapshot *s, uint64_t tsc, int64_t *ns)
{
    bool back = (int64_t)(tsc - s->tsc_timestamp) < 0;
    uint64_t scaled;
    if (!pvclock_scale(back ? s->tsc_timestamp - tsc : tsc - s->tsc_timestamp, s->mul, s->shift,
                       &scaled) || scaled > INT64_MAX)
        return false;
    *ns = (int64_t)s->system_time + (back ? -(int64_t)scaled : (int64_t)scaled);
    return true;
}

/* Figures, and the rule: once the TSCs are proven APART_CYCLES apart, no
 * area keeps the bit; while both keep it, vCPU 0's parameters at vCPU 1's
 * TSC (what Linux's vDSO reads there) may not say a time as far from vCPU
 * 1's own. */
static void judge(struct check_ctx *c, const char *what, const struct observation *o)
{
    int64_t own_ns, borrowed_ns, apart_ns;
    bool both = signed_ns_at(&o->ap.snap, o->ap.tsc, &own_ns) &&
                signed_ns_at(&o->own, o->ap.tsc, &borrowed_ns);
    int64_t gap = both ? borrowed_ns - own_ns : 0;
    bool kept0 = stable(&o->own), kept1 = stable(&o->ap.snap);
    figure(c, "%s vcpu1_lead_cycles=%lld bracket_cycles=%llu stable_bit=%d,%d version=%u,%u "
              "vcpu0_params_at_vcpu1_tsc_ns=%s%lld",
           what, (long long)o->lead, (unsigned long long)o->bracket, kept0, kept1,
           o->own.version, o->ap.snap.version, both ? "" : "overflow:", (long long)gap);
    uint64_t apart = o->lead < 0 ? -(uint64_t)o->lead : (uint64_t)o->lead;
    if (apart >= APART_CYCLES) {
        expect(c, !kept0 && !kept1,
               "%s: vCPU 1's TSC is at least %llu cycles %s vCPU 0's, yet "
               "PVCLOCK_TSC_STABLE_BIT is still set on %s (versions %u, %u); vCPU 0's "
               "parameters at vCPU 1's TSC say %lld ns from vCPU 1's own", what,
               (unsigned long long)apart, o->lead > 0 ? "ahead of" : "behind",
               kept0 && kept1 ? "both vCPUs" : kept0 ? "vCPU 0" : "vCPU 1", o->own.version,
               o->ap.snap.version, (long long)gap);
        return;
    }
    if (!kept0 || !kept1 || !both ||
        !signed_ns_at(&o->ap.snap, o->ap.snap.tsc_timestamp + APART_CYCLES, &apart_ns))
        return;
    apart_ns -= (int64_t)o->ap.snap.system_time;
    expect(c, gap < apart_ns && gap > -apart_ns,
           "%s: the TSCs are not proven apart, PVCLOCK_TSC_STABLE_BIT is set on both vCPUs, "
           "yet vCPU 0's parameters at vCPU 1's TSC say %lld ns from vCPU 1's own (versions "
           "%u, %u): the areas describe two clocks", what, (long long)gap, o->own.version,
           o->ap.snap.version);
}

/* vCPU 1 moves its TSC by msr, waits for the host, is judged; then moves
 * it back and is judged again. */
static bool apart_and_back(struct check_ctx *c, uint32_t msr, const char *name)
{
    static const struct {
        int64_t delta;
        const char *suffix;
    } moves[] = { { STEP_CYCLES, "apart" }, { -STEP_CYCLES, "back" } };
    for (unsigned i = 0; i < 2; i++) {
        struct ap_write w = { msr, moves[i].delta };
        struct observation o;
        char what[32];
        if (!smp_run_on(c, 1, write_job, &w))
            return false;
        timer_sleep_ticks(REBASE_WAIT_TICKS);
        if (!observe(c, &o))
            return false;
        format_buf(what, sizeof(what), "%s_%s", name, moves[i].suffix);
        judge(c, what, &o);
    }
    return true;
}

enum verdict check_stable_bit(struct check_ctx *c)
{
    const char *why = kvm_missing(KVM_FEATURE_CLOCKSOURCE2, "KVM_FEATURE_CLOCKSOURCE2");
    if (why)
        return skip(c, "%s", why);
    if (!kvm_has(KVM_FEATURE_CLOCKSOURCE_STABLE_BIT))
        return skip(c, "CPUID does not advertise KVM_FEATURE_CLOCKSOURCE_STABLE_BIT: the flag "
                       "promises nothing");
    if (smp_init()->online < 2)
        return skip(c, "one vCPU online: no two TSCs to disagree");
    if (!kvmclock_ensure(c) || !smp_run_on(c, 1, register_job, 0))
        return pass(c);
    if (ap_registration.vector != NO_FAULT)
        return fail(c, "vCPU 1: writing MSR_KVM_SYSTEM_TIME_NEW took vector %d",
                    ap_registration.vector);
    if (!ap_registration.populated)
        return fail(c, "vCPU 1's kvmclock area was not written within 100 ms of registration");
    struct observation o;
    if (observe(c, &o)) {
        judge(c, "before", &o);
        if (!stable(&o.own) || !stable(&o.ap.snap))
            skip(c, "PVCLOCK_TSC_STABLE_BIT is not set on vCPU %u before any write: nothing to "
                    "keep", stable(&o.own) ? 1 : 0);
        else if (apart_and_back(c, MSR_IA32_TSC, "tsc") && tsc_has_adjust())
            apart_and_back(c, MSR_IA32_TSC_ADJUST, "adjust");
    }
    smp_run_on(c, 1, disable_job, 0);
    return pass(c);
}
