
#include "checks/shared/pvclock_checks.h"
#include "checks/shared/rate.h"
#include "checks/shared/sampling.h"
#include "iface/hv_cpuid.h"
#include "lib/options.h"
#include "lib/report.h"
#include "live/kvmclock.h"
#include "platform/budget.h"
#include "platform/cpu.h"
#include "platform/refclock.h"
#include "platform/timer.h"

#define MONOTONIC_READS 500000u
/* Fewer reads than this, with none of them wrong, is no verdict. */
#define MONOTONIC_MIN_READS 1000u
#define COST_READS 20000u
/* msr.rst: an odd version is an update in progress, and the reader retries.
 * An updater paused mid-update (its thread or CPU descheduled) holds it odd
 * for a while; only one that never finishes within a second is a fault. A
 * count of tries is no such bound: 1000 tries pass in microseconds. */
#define UNSETTLED_MAX_TICKS TIMER_HZ

bool pvclock_read_checked(struct check_ctx *c, const volatile struct pvclock_vcpu_time_info *a,
                          struct pvclock_snapshot *s)
{
    enum pvclock_read_status r = pvclock_read_within(a, s, UNSETTLED_MAX_TICKS);
    if (r == PVCLOCK_READ_ODD)
        fail(c, "version stuck odd (0x%x) for over a second of reads: an update never finished",
             a->version);
    else if (r != PVCLOCK_READ_OK)
        fail(c, "version changed during every read for over a second");
    return r == PVCLOCK_READ_OK;
}

bool pvclock_report_fields(struct check_ctx *c, const struct pvclock_snapshot *s, bool stable_ok)
{
    char why[160];
    figure(c, "version=%u tsc_timestamp=%llu system_time=%llu mul=0x%08x shift=%d flags=0x%02x "
              "implied_tsc_hz=%llu stable_advertised=%d",
           s->version, (unsigned long long)s->tsc_timestamp, (unsigned long long)s->system_time,
           s->mul, s->shift, s->flags, (unsigned long long)pvclock_implied_hz(s->mul, s->shift),
           stable_ok);
    const char *problem = pvclock_params_problem(s, stable_ok, why, sizeof(why));
    return expect(c, !problem, "%s", problem);
}

void pvclock_check_reads(struct check_ctx *c, const volatile struct pvclock_vcpu_time_info *a,
                         const char *clock)
{
    struct pvclock_stream st = { 0 };
    struct pvclock_snapshot s;
    uint64_t first_ns = 0;
    struct budget b;
    budget_start(&b, MONOTONIC_READS, pvcheck_options.budget_ms);
    while (budget_next(&b)) {
        if (!pvclock_read_checked(c, a, &s))
            return;
        pvclock_stream_add(&st, &s, rdtsc_ordered());
        if (b.taken == 1)
            first_ns = st.prev_ns;
    }
    sampling_report(c, "reads", &b);
    figure(c, "reads=%llu backward=%llu max_back_ns=%llu stalls=%llu tsc_behind=%llu "
              "overflow=%llu version_changes=%llu",
           (unsigned long long)st.samples, (unsigned long long)st.backward,
           (unsigned long long)st.max_back_ns, (unsigned long long)st.stalls,
           (unsigned long long)st.tsc_behind, (unsigned long long)st.overflow,
           (unsigned long long)st.version_changes);
    expect(c, st.tsc_behind == 0,
           "the TSC read after the fields was behind tsc_timestamp %llu times (time computed "
           "from it would be garbage)", (unsigned long long)st.tsc_behind);
    expect(c, st.overflow == 0, "the formula overflowed 64 bits %llu times",
           (unsigned long long)st.overflow);
    expect(c, st.backward == 0,
           "time went backwards %llu times, by up to %llu ns, on one vCPU",
           (unsigned long long)st.backward, (unsigned long long)st.max_back_ns);
    expect(c, st.have_prev && st.prev_ns > first_ns,
           "time did not advance over %llu reads (first %llu ns, last %llu ns)",
           (unsigned long long)st.samples, (unsigned long long)first_ns,
           (unsigned long long)st.prev_ns);

    /* Cost of one raw read against one ordered RDTSC, in the same run, each
     * within a tenth of the budget. */
    uint64_t t0 = rdtsc_ordered(), sink = 0, ns;
    struct budget reads, tscs;
    budget_start(&reads, COST_READS, pvcheck_options.budget_ms / 10);
    while (budget_next(&reads))
        if (pvclock_area_now(a, &ns))
            sink += ns;
    uint64_t t1 = rdtsc_ordered();
    budget_start(&tscs, COST_READS, pvcheck_options.budget_ms / 10);
    while (budget_next(&tscs))
        sink += rdtsc_ordered();
    uint64_t t2 = rdtsc_ordered();
    uint64_t read_cycles = (t1 - t0) / reads.taken, tsc_cycles = (t2 - t1) / tscs.taken;
    figure(c, "cycles_per_%s_read=%llu cycles_per_rdtsc_ordered=%llu ratio_x100=%llu", clock,
           (unsigned long long)read_cycles, (unsigned long long)tsc_cycles,
           (unsigned long long)(tsc_cycles ? read_cycles * 100 / tsc_cycles : 0));
    barrier();
    (void)sink;
    sampling_require(c, "reads", st.samples, MONOTONIC_MIN_READS, &b);
}

/* Clock time and TSC at the midpoint of the reference reading's bracket;
 * half the bracket is the uncertainty of pairing them, beside the
 * reference's own resolution. */
struct rate_point {
    uint64_t ref, ns, tsc, uncertainty_ns, resolution_ns;
};

static bool rate_point(const volatile struct pvclock_vcpu_time_info *a, struct rate_point *p)
{
    struct pvclock_snapshot s0, s1;
    uint64_t ns0, ns1;
    bool behind = false;
    struct refclock_point r;
    if (pvclock_read(a, &s0, PVCLOCK_READ_TRIES, 0) != PVCLOCK_READ_OK || !refclock_point(&r))
        return false;
    uint64_t t0 = r.tsc_lo, t1 = r.tsc_hi;
    p->ref = r.count;
    p->resolution_ns = r.resolution_ns;
    if (pvclock_read(a, &s1, PVCLOCK_READ_TRIES, 0) != PVCLOCK_READ_OK)
        return false;
    /* An update stamped after t1 (the vCPU left between RDTSC and the
     * read) does not describe t1: the parameters before it do. */
    /* The later parameters describe a TSC from their stamp on (an edge read
     * may wait a second after s0); before it only s0 does. */
    const struct pvclock_snapshot *at_t0 = s1.tsc_timestamp > t0 ? &s0 : &s1;
    const struct pvclock_snapshot *at_t1 = s1.tsc_timestamp > t1 ? &s0 : &s1;
    if (!pvclock_ns_at(at_t0, t0, &ns0, &behind) || !pvclock_ns_at(at_t1, t1, &ns1, &behind) ||
        ns1 < ns0)
        return false;
    p->ns = ns0 + (ns1 - ns0) / 2;
    p->tsc = t0 + (t1 - t0) / 2;
    p->uncertainty_ns = (ns1 - ns0) / 2 + 1;
    return true;
}

enum verdict pvclock_check_rate(struct check_ctx *c,
                                const volatile struct pvclock_vcpu_time_info *a,
                                const char *clock)
{
    const struct refclock *ref = refclock_get();
    if (ref->unfit)
        return skip(c, "no HPET or PM timer to judge the rate by: %s", ref->unfit);
    struct rate_point pa, pb;
    struct pvclock_snapshot start;
    if (!pvclock_read_checked(c, a, &start))
        return pass(c);
    if (!rate_point(a, &pa))
        return fail(c, "%s could not be read at the start of the window", clock);
    refclock_wait(pa.ref, (uint64_t)pvcheck_options.rate_window_ms * ref->hz / 1000);
    if (!rate_point(a, &pb))
        return fail(c, "%s could not be read at the end of the window", clock);

    uint64_t ref_ns = refclock_to_ns(pb.ref - pa.ref);
    uint64_t clock_ns = pb.ns - pa.ns;
    uint64_t tsc_hz = mul_div_sat(pb.tsc - pa.tsc, 1000000000ull, ref_ns);
    /* Uncertainty: both brackets plus the reference's resolution (one
     * count, or none at an edge), over the window. */
    uint64_t uncertainty_ns = pa.uncertainty_ns + pb.uncertainty_ns +
                              (pa.resolution_ns > pb.resolution_ns ? pa.resolution_ns
                                                                   : pb.resolution_ns);
    uint64_t bound_ppm = rate_bound_ppm(uncertainty_ns, ref_ns);
    int64_t err = ppm_error(clock_ns, ref_ns);
    struct pvclock_snapshot s;
    if (!pvclock_read_checked(c, a, &s))
        return pass(c);
    uint64_t implied = pvclock_implied_hz(s.mul, s.shift);
    int64_t tsc_err = ppm_error(implied, tsc_hz);
    /* What the start parameters alone predict at the end: differs from the
     * clock read there when updates re-based it within the window. */
    uint64_t predicted = 0;
    bool behind = false;
    pvclock_ns_at(&start, pb.tsc, &predicted, &behind);
    figure(c, "version_start=%u version_end=%u rebase_ns=%lld", start.version, s.version,
           (long long)(pb.ns - predicted));

    figure(c, "reference=%s reference_hz=%llu window_ns=%llu %s_ns=%llu error_ppm=%lld "
              "bound_ppm=%llu",
           ref->name, (unsigned long long)ref->hz, (unsigned long long)ref_ns, clock,
           (unsigned long long)clock_ns, (long long)err, (unsigned long long)bound_ppm);
    figure(c, "measured_tsc_hz=%llu implied_tsc_hz=%llu tsc_error_ppm=%lld",
           (unsigned long long)tsc_hz, (unsigned long long)implied, (long long)tsc_err);
    expect(c, abs64(err) <= bound_ppm, "%s ran %lld ppm off the %s reference over %llu ms; bound %llu ppm",
           clock, (long long)err, ref->name, (unsigned long long)ref_ns / 1000000,
           (unsigned long long)bound_ppm);
    expect(c, abs64(tsc_err) <= bound_ppm,
           "mul/shift imply a %llu Hz TSC but it ticked at %llu Hz against %s (%lld ppm; bound "
           "%llu ppm)", (unsigned long long)implied, (unsigned long long)tsc_hz, ref->name,
           (long long)tsc_err, (unsigned long long)bound_ppm);
    const char *leaf;
    uint64_t khz = hv_tsc_khz(&leaf);
    if (khz) {
        /* The leaf is in kHz: allow its rounding on top of the bound. */
        int64_t leaf_err = ppm_error(implied, khz * 1000);
        figure(c, "cpuid_tsc_leaf=%s tsc_khz=%llu leaf_error_ppm=%lld", leaf,
               (unsigned long long)khz, (long long)leaf_err);
        expect(c, abs64(leaf_err) <= 1 + mul_div_sat(1000, 1000000, khz * 1000),
               "CPUID %s says %llu kHz but mul/shift imply %llu Hz", leaf,
               (unsigned long long)khz, (unsigned long long)implied);
    }
    return pass(c);
}

void pvclock_check_wall_time(struct check_ctx *c, uint64_t now_s, uint64_t up_ns)
{
    /* 2000-01-01 .. 2100-01-01 */
    expect(c, now_s >= 946684800ull && now_s < 4102444800ull,
           "wall clock says Unix time %llu, not between 2000 and 2100", (unsigned long long)now_s);
    if (pvcheck_options.have_wallclock) {
        /* The host stamps wallclock= before starting the guest, at 1 s
         * resolution; start-up precedes the clock's zero. Allow 10 s for both. */
        uint64_t host = pvcheck_options.wallclock;
        int64_t off = (int64_t)(now_s - host);
        figure(c, "host_wallclock=%llu offset_s=%lld", (unsigned long long)host, (long long)off);
        expect(c, off >= -2 && off <= 10 + (int64_t)(up_ns / 1000000000ull),
               "wall clock %llu s is %lld s from the host's %llu s (allowed -2..+10 s plus uptime)",
               (unsigned long long)now_s, (long long)off, (unsigned long long)host);
    }
}

uint64_t pvclock_tsc_khz(void)
{
    const char *source;
    uint64_t khz = hv_tsc_khz(&source);
    struct pvclock_snapshot s;
    if (!khz && kvmclock_active() &&
        pvclock_read(kvmclock_active(), &s, PVCLOCK_READ_TRIES, 0) == PVCLOCK_READ_OK)
        khz = pvclock_implied_hz(s.mul, s.shift) / 1000;
    return khz;
}

bool pvclock_rebase_at_now(const struct pvclock_snapshot *before,
                           const struct pvclock_snapshot *after, struct pvclock_rebase *r)
{
    return pvclock_rebase_at(before, after, rdtsc_ordered(), r);
}
