/* Suite "migration", only with the migration option: time across a live
 * migration, a snapshot and restore, or a stop, which the host makes while
 * the suite samples; the guest finds the event itself (kvmclock.txt,
 * "Migration": the destination must never return time less than the
 * source did). */
#include "checks/migration/migration_capture.h"
#include "checks/shared/pvclock_checks.h"
#include "iface/kvm.h"
#include "lib/options.h"
#include "lib/report.h"
#include "live/kvmclock.h"
#include "platform/safe.h"

#define KVMCLOCK_MIGRATION "kvmclock.txt, Migration: never return time less than the source did"

/* The capture, or a skip for every check but event when nothing was seen. */
static const struct mig_capture *captured(struct check_ctx *c, enum verdict *early)
{
    const struct mig_capture *m = mig_capture(c);
    *early = VERDICT_PASS;
    if (c->failed)
        *early = pass(c);
    else if (!m->detected)
        *early = skip(c, "no migration was seen (migration.event says why)");
    return *early == VERDICT_PASS ? m : 0;
}

static void stopped_flag_figure(struct check_ctx *c, const struct mig_capture *m)
{
    if (m->stopped_flag_stuck)
        figure(c, "kvmclock's PVCLOCK_GUEST_STOPPED would not clear: not used as a sign");
    else if (m->stopped_flag_seen)
        figure(c, "kvmclock's PVCLOCK_GUEST_STOPPED set at %llu ns (the host's KVM_KVMCLOCK_CTRL, "
                  "which QEMU issues when it continues a stopped VM)",
               (unsigned long long)m->stopped_flag_at_ns);
    else
        figure(c, "kvmclock's PVCLOCK_GUEST_STOPPED never set");
}

static enum verdict check_event(struct check_ctx *c)
{
    const struct mig_capture *m = mig_capture(c);
    if (c->failed)
        return pass(c);
    figure(c, "clock=%s samples=%llu waited_ms=%llu max_gap_ns=%llu", m->clock,
           (unsigned long long)m->samples, (unsigned long long)m->waited_ms,
           (unsigned long long)m->max_gap_ns);
    if (!m->detected)
        return fail(c, "no migration, snapshot or stop seen within migration_wait_s=%u: a "
                       "migration test that did not migrate is not a pass",
                    pvcheck_options.migration_wait_s);
    figure(c, "signal=%s unaccounted_ns=%lld tolerance_ns=%llu (real time the guest clock did "
              "not count: the downtime)", mig_signal_name(m->signal),
           (long long)m->unaccounted_ns, (unsigned long long)m->unaccounted_tol_ns);
    if (m->holes)
        figure(c, "clock holes of 1 s or more with no real time missing (a vCPU not run, or a "
                  "clock carried across): %llu; %s", (unsigned long long)m->holes,
               m->hole_judged ? "nothing else marked an event, so the first is judged as it"
                              : "not taken for the event");
    if (kvmclock_active())
        stopped_flag_figure(c, m);
    figure(c, "window: guest %llu..%llu ns, real %llu..%llu ns, settle_ms=%llu",
           (unsigned long long)m->r0.at_ns, (unsigned long long)m->r1.at_ns,
           (unsigned long long)m->r0.real_ns, (unsigned long long)m->r1.real_ns,
           (unsigned long long)m->settle_ms);
    return pass(c);
}

static enum verdict check_monotonic(struct check_ctx *c)
{
    enum verdict v;
    const struct mig_capture *m = captured(c, &v);
    if (!m)
        return v;
    figure(c, "clock=%s samples=%llu backwards=%llu max_back_ns=%llu (from %llu ns; the event's "
              "window starts at %llu ns)", m->clock, (unsigned long long)m->samples,
           (unsigned long long)m->backwards, (unsigned long long)m->max_back_ns,
           (unsigned long long)m->max_back_from_ns, (unsigned long long)m->r0.at_ns);
    expect(c, m->backwards == 0, "%s went back %llu times, by up to %llu ns: %s", m->clock,
           (unsigned long long)m->backwards, (unsigned long long)m->max_back_ns,
           KVMCLOCK_MIGRATION);
    for (unsigned k = 0; k < MIG_OTHER_COUNT; k++) {
        const struct mig_other *o = &m->others[k];
        const char *name = mig_other_name((enum mig_other_clock)k);
        if (!o->on)
            continue;
        figure(c, "clock=%s reads=%llu failed_reads=%llu backwards=%llu max_back_ns=%llu (from "
                  "%llu ns)", name, (unsigned long long)o->reads,
               (unsigned long long)o->failed_reads, (unsigned long long)o->backwards,
               (unsigned long long)o->max_back_ns, (unsigned long long)o->max_back_from_ns);
        expect(c, o->backwards == 0, "%s went back %llu times, by up to %llu ns across the "
                                     "capture", name, (unsigned long long)o->backwards,
               (unsigned long long)o->max_back_ns);
    }
    return pass(c);
}

static enum verdict check_step(struct check_ctx *c)
{
    enum verdict v;
    const struct mig_capture *m = captured(c, &v);
    if (!m)
        return v;
    if (m->r1.at_ns < m->r0.at_ns) {
        /* No forward step at all: this rule holds; monotonic fails it. */
        figure(c, "%s went back across the event (%llu -> %llu ns): no forward step",
               m->clock, (unsigned long long)m->r0.at_ns, (unsigned long long)m->r1.at_ns);
        return pass(c);
    }
    int64_t excess;
    bool ok = mig_step_within_real(&m->r0, &m->r1, &excess);
    uint64_t real = m->r1.real_ns - m->r0.real_ns, counted = m->r1.at_ns - m->r0.at_ns;
    figure(c, "reference=%s clock=%s counted_ns=%llu real_ns=%llu excess_ns=%lld tolerance_ns=%llu",
           m->refs_are_wall ? "wall_clock_msr" : "cmos", m->clock, (unsigned long long)counted,
           (unsigned long long)real, (long long)excess,
           (unsigned long long)m->unaccounted_tol_ns);
    expect(c, ok,
           "%s stepped %llu ns across the event, %lld ns more than the %llu ns of real time that "
           "passed (tolerance %llu ns: the readings' own durations and 500 ppm): a clock "
           "re-based forward on the destination", m->clock, (unsigned long long)counted,
           (long long)excess, (unsigned long long)real, (unsigned long long)m->unaccounted_tol_ns);
    return pass(c);
}

static enum verdict check_tsc(struct check_ctx *c)
{
    enum verdict v;
    const struct mig_capture *m = captured(c, &v);
    if (!m)
        return v;
    uint64_t tsc_ns, real_ns;
    enum mig_tsc_verdict t =
        mig_judge_tsc(&m->r0, &m->r1, m->s0.tsc, m->s1.tsc, m->tsc_hz, &tsc_ns, &real_ns);
    figure(c, "tsc %llu -> %llu tsc_hz=%llu (%s) tsc_ns=%llu real_ns=%llu",
           (unsigned long long)m->s0.tsc, (unsigned long long)m->s1.tsc,
           (unsigned long long)m->tsc_hz, m->tsc_hz_source, (unsigned long long)tsc_ns,
           (unsigned long long)real_ns);
    switch (t) {
    case MIG_TSC_BACKWARDS:
        return fail(c, "the TSC went back across the event (%llu -> %llu): its offset was not "
                       "carried to the destination", (unsigned long long)m->s0.tsc,
                    (unsigned long long)m->s1.tsc);
    case MIG_TSC_AHEAD:
        return fail(c, "the TSC counted %llu ns across the event but only %llu ns of real time "
                       "passed: its offset was not carried to the destination",
                    (unsigned long long)tsc_ns, (unsigned long long)real_ns);
    case MIG_TSC_UNJUDGED:
        return skip(c, "no TSC rate known to judge it by (tsc_hz=%llu)",
                    (unsigned long long)m->tsc_hz);
    default:
        return pass(c);
    }
}

static enum verdict check_areas(struct check_ctx *c)
{
    enum verdict v;
    const struct mig_capture *m = captured(c, &v);
    if (!m)
        return v;
    if (!m->clock_msr_written && !m->steal_msr_written)
        return skip(c, "no kvmclock or steal area registered (no CLOCKSOURCE2, no STEAL_TIME)");
    if (m->clock_msr_written) {
        figure(c, "kvmclock msr wrote=0x%llx after=0x%llx version %u -> %u",
               (unsigned long long)m->clock_msr_written, (unsigned long long)m->clock_msr_after,
               m->s0.clock.version, m->clock_version_end);
        expect(c, m->clock_msr_vector == NO_FAULT && m->clock_msr_after == m->clock_msr_written,
               "MSR_KVM_SYSTEM_TIME_NEW reads 0x%llx after the event (vector %d), not the 0x%llx "
               "the guest wrote: the MSR was not migrated",
               (unsigned long long)m->clock_msr_after, m->clock_msr_vector,
               (unsigned long long)m->clock_msr_written);
        expect(c, m->clock_version_end != m->s0.clock.version,
               "the kvmclock area was not written across the event (version %u before and a "
               "second after): the destination does not update it", m->s0.clock.version);
    }
    if (m->steal_msr_written) {
        figure(c, "steal msr wrote=0x%llx after=0x%llx version %u -> %u over the settling second "
                  "(10 halts)", (unsigned long long)m->steal_msr_written,
               (unsigned long long)m->steal_msr_after, m->steal_version_settle_start,
               m->steal_version_end);
        expect(c, m->steal_msr_vector == NO_FAULT && m->steal_msr_after == m->steal_msr_written,
               "MSR_KVM_STEAL_TIME reads 0x%llx after the event (vector %d), not the 0x%llx the "
               "guest wrote: the MSR was not migrated", (unsigned long long)m->steal_msr_after,
               m->steal_msr_vector, (unsigned long long)m->steal_msr_written);
        expect(c, m->steal_version_end != m->steal_version_settle_start,
               "the steal area was not written in the second after the event, through 10 halts "
               "(version stays %u): the destination does not update it",
               m->steal_version_end);
    }
    return pass(c);
}

static enum verdict check_steal(struct check_ctx *c)
{
    enum verdict v;
    const struct mig_capture *m = captured(c, &v);
    if (!m)
        return v;
    if (!m->s0.have_steal || !m->s1.have_steal)
        return skip(c, "no steal area (no KVM_FEATURE_STEAL_TIME)");
    const struct steal_series *s = &m->steal;
    figure(c, "capture: samples=%llu steal_ns=%llu elapsed_ns=%llu decreases=%llu",
           (unsigned long long)s->samples, (unsigned long long)s->total_steal,
           (unsigned long long)s->total_elapsed, (unsigned long long)s->decreases);
    expect(c, s->decreases == 0, "steal went back %llu times, by up to %llu ns",
           (unsigned long long)s->decreases, (unsigned long long)s->max_decrease);
    uint64_t from = m->s0.steal_before_ns, to = m->s1.steal_after_ns;
    /* Across it, by at most the downtime: the real time the clock missed. */
    uint64_t growth = m->s1.steal.steal >= m->s0.steal.steal
                          ? m->s1.steal.steal - m->s0.steal.steal : 0;
    uint64_t counted = to > from ? to - from : 0;
    uint64_t downtime = m->unaccounted_ns > 0 ? (uint64_t)m->unaccounted_ns : 0;
    uint64_t limit = counted + counted / 1000 + STEAL_ALLOWANCE_NS + downtime +
                     m->unaccounted_tol_ns;
    figure(c, "across the event: steal %llu -> %llu ns (+%llu) over %llu ns of %s and %llu ns "
              "of downtime (limit %llu ns)", (unsigned long long)m->s0.steal.steal,
           (unsigned long long)m->s1.steal.steal, (unsigned long long)growth,
           (unsigned long long)counted, m->clock, (unsigned long long)downtime,
           (unsigned long long)limit);
    expect(c, growth <= limit,
           "steal leapt %llu ns across the event, past the %llu ns the guest's clock counted "
           "plus the %llu ns of downtime (allowance 0.1%% + 10 us and the downtime's "
           "tolerance): the destination counted time from before the migration",
           (unsigned long long)growth, (unsigned long long)counted,
           (unsigned long long)downtime);
    return pass(c);
}

static enum verdict check_rate(struct check_ctx *c)
{
    enum verdict v;
    const struct mig_capture *m = captured(c, &v);
    if (!m)
        return v;
    if (!kvmclock_active())
        return skip(c, "no kvmclock");
    return pvclock_check_rate(c, kvmclock_active(), "kvmclock after the event");
}

static enum verdict check_wall_clock(struct check_ctx *c)
{
    enum verdict v;
    const struct mig_capture *m = captured(c, &v);
    if (!m)
        return v;
    if (!kvmclock_active())
        return skip(c, "no kvmclock wall clock");
    if (!m->have_e0 || !m->have_e1)
        return skip(c, "no CMOS second edge %s the event to compare the wall clock with",
                    m->have_e0 ? "after" : "before");
    int64_t diff;
    uint64_t tol;
    bool ok = mig_wall_agrees(&m->e0, &m->e1, &m->w0, &m->w1, &diff, &tol);
    figure(c, "cmos %llu -> %llu s, wall clock %llu -> %llu ns, wall-cmos=%lld ns tolerance_ns=%llu",
           (unsigned long long)(m->e0.real_ns / 1000000000ull),
           (unsigned long long)(m->e1.real_ns / 1000000000ull),
           (unsigned long long)m->w0.real_ns, (unsigned long long)m->w1.real_ns, (long long)diff,
           (unsigned long long)tol);
    figure(c, "dating errors: edges %llu and %llu ns, wall readings %llu and %llu ns",
           (unsigned long long)m->e0.err_ns, (unsigned long long)m->e1.err_ns,
           (unsigned long long)m->w0.err_ns, (unsigned long long)m->w1.err_ns);
    expect(c, ok,
           "across the event the wall clock (MSR_KVM_WALL_CLOCK_NEW + kvmclock) counted %lld ns "
           "more than the CMOS clock (tolerance %llu ns: edge and read durations, 500 ppm): the "
           "destination's wall clock is off", (long long)diff, (unsigned long long)tol);
    return pass(c);
}

static const struct check migration_checks[] = {
    { "event", "the host stopped and moved the VM within migration_wait_s", check_event },
    { "monotonic", KVMCLOCK_MIGRATION " (nor Hyper-V's or Xen's clocks, where offered)",
      check_monotonic },
    { "step", "kvmclock.txt, Migration: a forward step no larger than the real time that passed",
      check_step },
    { "tsc", "the TSC (offset migrated) neither goes back nor outruns real time", check_tsc },
    { "areas", "msr.rst: registered areas stay registered and written on the destination",
      check_areas },
    { "steal", "msr.rst, MSR_KVM_STEAL_TIME: steal is time this vCPU did not run; across a "
               "migration it may count the downtime, no more", check_steal },
    { "rate", "the destination's mul/shift agree with the reference clock", check_rate },
    { "wall_clock", "msr.rst, MSR_KVM_WALL_CLOCK_NEW: wall time agrees with the host's",
      check_wall_clock },
};

static bool migration_present(void)
{
    return pvcheck_options.migration;
}

static const struct suite migration_suite = {
    .name = "migration",
    .order = 60,
    .checks = migration_checks,
    .n_checks = ARRAY_SIZE(migration_checks),
    .present = migration_present,
};
REGISTER_SUITE(migration_suite);
