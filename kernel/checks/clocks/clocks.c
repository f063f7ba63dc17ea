/* Suite "clocks": every clock the hypervisor offers, read on one vCPU at two
 * instants, each reading inside its own pair of TSC reads; offsets and rates
 * for every pair. KVM computes its paravirtual clocks from one master clock,
 * so those must agree in rate within their units and brackets. */
#include "checks/shared/clock_compare.h"
#include "checks/shared/rate.h"
#include "iface/hv_cpuid.h"
#include "iface/kvm.h"
#include "lib/options.h"
#include "lib/report.h"
#include "live/clocks.h"
#include "live/kvmclock.h"
#include "platform/cpu.h"
#include "platform/refclock.h"
#include "platform/safe.h"
#include "platform/timer.h"

#define MAX_CLOCKS 7
/* Each instant keeps the narrowest of this many bracketed reads. */
#define TRIES 8u

static uint64_t stated_tsc_hz;

static bool read_at_instant(enum clock_id id, struct clock_reading *out)
{
    bool ok = false;
    for (unsigned i = 0; i < TRIES; i++) {
        struct clock_reading r;
        r.tsc_before = rdtsc_ordered();
        bool got = clock_read_ns(id, &r.ns);
        r.tsc_after = rdtsc_ordered();
        if (got && (!ok || r.tsc_after - r.tsc_before < out->tsc_after - out->tsc_before)) {
            *out = r;
            ok = true;
        }
    }
    return ok;
}

static unsigned offered(struct check_ctx *c, struct clock_track *t, enum clock_id *ids,
                        unsigned window_ms)
{
    bool kvm = hv_find(hv_get(), HV_KVM) != 0;
    const struct refclock *ref = refclock_get();
    unsigned n = 0;
    uint64_t ns;
    /* kvmclock as suite kvmclock left it registered. */
    if (kvmclock_now(&ns)) {
        ids[n] = KVMCLOCK;
        t[n++] = (struct clock_track){ .name = "kvmclock", .quantum_ns = 1, .master = kvm };
    }
    struct offered_clocks o = clocks_offered(c);
    if (o.hv_page) {
        ids[n] = HV_PAGE;
        t[n++] = (struct clock_track){ .name = "hv_tsc_page", .quantum_ns = 100, .master = kvm };
    }
    if (o.hv_counter) {
        ids[n] = HV_COUNTER;
        t[n++] = (struct clock_track){ .name = "hv_time_ref_count", .quantum_ns = 100,
                                       .master = kvm };
    }
    if (o.xen_time) {
        ids[n] = XEN_TIME;
        t[n++] = (struct clock_track){ .name = "xen_vcpu_time", .quantum_ns = 1, .master = kvm };
    }
    ids[n] = REFERENCE;
    t[n++] = (struct clock_track){ .name = ref->name, .quantum_ns = 1000000000ull / ref->hz + 1 };
    const char *source;
    stated_tsc_hz = hv_tsc_khz(&source) * 1000;
    clock_set_stated_tsc_hz(stated_tsc_hz);
    if (stated_tsc_hz) {
        ids[n] = TSC;
        t[n++] = (struct clock_track){ .name = "tsc_at_stated_hz", .quantum_ns = 1 };
    }
    /* The PM timer too when the HPET is the reference, if it cannot wrap
     * unseen within the window. */
    if (ref->hz != 3579545u && window_ms < REFCLOCK_PM_TIMER_WRAP_MS && refclock_pm_timer_ns(&ns)) {
        ids[n] = PM_TIMER;
        t[n++] = (struct clock_track){ .name = "acpi_pm", .quantum_ns = 280 };
    }
    return n;
}

static void read_all(struct clock_track *t, const enum clock_id *ids, unsigned n, bool second)
{
    for (unsigned i = 0; i < n; i++) {
        struct clock_reading *r = second ? &t[i].b : &t[i].a;
        t[i].ok = read_at_instant(ids[i], r) && (!second || t[i].ok);
    }
}

static enum verdict check_every_clock(struct check_ctx *c)
{
    struct clock_track t[MAX_CLOCKS];
    enum clock_id ids[MAX_CLOCKS];
    unsigned ms = pvcheck_options.rate_window_ms < pvcheck_options.budget_ms
                      ? pvcheck_options.rate_window_ms
                      : pvcheck_options.budget_ms;
    unsigned n = offered(c, t, ids, ms);
    if (c->failed)
        return pass(c);
    read_all(t, ids, n, false);
    timer_sleep_ticks((uint64_t)ms * TIMER_HZ / 1000);
    read_all(t, ids, n, true);
    /* Bracket widths need only a rough rate: the stated one, else the
     * reference's. */
    uint64_t hz = stated_tsc_hz;
    const struct clock_track *ref = 0;
    for (unsigned i = 0; i < n; i++)
        if (ids[i] == REFERENCE)
            ref = &t[i];
    if (!hz && ref && ref->ok && ref->b.ns > ref->a.ns)
        hz = mul_div_sat(ref->b.tsc_after - ref->a.tsc_after, 1000000000ull,
                         ref->b.ns - ref->a.ns);
    figure(c, "clocks=%u window_ms=%u tsc_hz_for_brackets=%llu", n, ms, (unsigned long long)hz);
    unsigned masters = 0, judged = 0;
    for (unsigned i = 0; i < n; i++) {
        figure(c, "clock=%s master=%d read=%d quantum_ns=%llu elapsed_ns=%llu "
                  "bracket_cycles=%llu,%llu",
               t[i].name, t[i].master, t[i].ok, (unsigned long long)t[i].quantum_ns,
               (unsigned long long)(t[i].b.ns - t[i].a.ns),
               (unsigned long long)(t[i].a.tsc_after - t[i].a.tsc_before),
               (unsigned long long)(t[i].b.tsc_after - t[i].b.tsc_before));
        expect(c, t[i].ok || !t[i].master, "%s could not be read at both instants", t[i].name);
        masters += t[i].master;
    }
    for (unsigned i = 0; i < n; i++) {
        for (unsigned j = i + 1; j < n; j++) {
            struct clock_pair p;
            if (!clock_pair_compare(&t[i], &t[j], hz, &p)) {
                expect(c, !(t[i].master && t[j].master),
                       "%s and %s: a clock did not advance over %u ms", t[i].name, t[j].name, ms);
                continue;
            }
            figure(c, "pair=%s/%s offset_ns=%lld drift_ns=%lld budget_ns=%llu rate_ppb=%lld",
                   t[i].name, t[j].name, (long long)p.offset_ns, (long long)p.drift_ns,
                   (unsigned long long)p.budget_ns, (long long)p.rate_ppb);
            if (!t[i].master || !t[j].master)
                continue;
            judged++;
            expect(c, clock_pair_agrees(&p),
                   "%s runs %lld ppb from %s: %lld ns over %u ms, beyond the %llu ns their units "
                   "and read brackets allow", t[j].name, (long long)p.rate_ppb, t[i].name,
                   (long long)p.drift_ns, ms, (unsigned long long)p.budget_ns);
        }
    }
    if (!judged && !c->failed)
        return skip(c, "%u clocks computed from KVM's master clock offered: no pair to judge "
                       "(rates against the reference are the other suites' checks)", masters);
    return pass(c);
}

static const struct check clocks_checks[] = {
    { "every_clock", "KVM computes kvmclock, the Hyper-V reference page and counter and Xen's "
                     "vcpu_info time from one master clock (arch/x86/kvm x86.c "
                     "kvm_guest_time_update, hyperv.c): their rates agree within units and "
                     "read brackets; every pair reported",
      check_every_clock },
};

static const struct suite clocks_suite = {
    .name = "clocks",
    .order = 56,
    .checks = clocks_checks,
    .n_checks = ARRAY_SIZE(clocks_checks),
};
REGISTER_SUITE(clocks_suite);
