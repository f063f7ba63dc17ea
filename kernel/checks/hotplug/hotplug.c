/* Suite "hotplug", only with the hotplug option: time while the host adds
 * a vCPU, which the suite starts as soon as it is there. Adding a vCPU
 * makes KVM synchronise its TSC with the others (kvm_synchronize_tsc) and
 * may make it update its master clock; the added vCPU must then run in
 * step with the rest, and nobody's time may move. */
#include "checks/hotplug/hotplug_capture.h"
#include "iface/kvm.h"
#include "lib/options.h"
#include "lib/report.h"
#include "platform/safe.h"

#define TSC_SYNC_RULE "Linux tsc_sync.c: no TSC read on one CPU is behind one taken before it on another"
#define CROSS_VCPU_RULE "msr.rst, PVCLOCK_TSC_STABLE_BIT: time measures taken across multiple cpus " \
                        "are guaranteed to be monotonic"

/* The capture with a vCPU added, or the verdict of a check that cannot be
 * judged without one. */
static const struct hp_capture *added(struct check_ctx *c, enum verdict *early)
{
    const struct hp_capture *h = hp_capture(c);
    *early = VERDICT_PASS;
    if (c->failed)
        *early = pass(c);
    else if (h->incomplete)
        *early = skip(c, "the capture stopped early (hotplug.event says why)");
    else if (!h->added)
        *early = skip(c, "no vCPU was added (hotplug.event says why)");
    return *early == VERDICT_PASS ? h : 0;
}

static enum verdict check_event(struct check_ctx *c)
{
    const struct hp_capture *h = hp_capture(c);
    if (c->failed)
        return pass(c);
    figure(c, "absent=%u attempts=%llu waited_ms=%llu", h->absent,
           (unsigned long long)h->attempts, (unsigned long long)h->waited_ms);
    if (!h->absent)
        return fail(c, "the MADT lists no absent processor (enabled flag clear): nothing a host "
                       "could add (QEMU: -smp N,maxcpus=M, M > N, on pc or q35)");
    if (!h->added)
        return fail(c, "no added vCPU came up within hotplug_wait_s=%u: a hotplug test that "
                       "added nothing is not a pass", pvcheck_options.hotplug_wait_s);
    figure(c, "added vCPU %u (APIC ID %u) came up %llu ms after the capture started",
           h->cpu, h->apic_id, (unsigned long long)h->waited_ms);
    return pass(c);
}

/* The added vCPU's reads of one clock against vCPU 0's brackets: label
 * names the figures, clock the failure, unit both. */
static void judge_bracket(struct check_ctx *c, const char *label, const char *clock,
                          const char *unit, unsigned cpu, const struct hp_bracket *b)
{
    figure(c, "%s %s: rounds=%u outside=%u lead_min=%lld lead_max=%lld bracket_max=%llu", label,
           unit, b->rounds, b->outside, (long long)b->lead_min, (long long)b->lead_max,
           (unsigned long long)b->width_max);
    if (b->outside)
        figure(c, "first outside: vCPU 0 read %llu %s, then vCPU %u read %llu %s, then vCPU 0 "
                  "read %llu %s", (unsigned long long)b->first_t0, unit, cpu,
               (unsigned long long)b->first_other, unit, (unsigned long long)b->first_t2, unit);
    expect(c, !b->outside,
           "%u of %u reads of the added vCPU's %s fell outside vCPU 0's bracket, by up to %lld %s",
           b->outside, b->rounds, clock, (long long)(b->lead_max > 0 ? b->lead_max : b->lead_min),
           unit);
}

static enum verdict check_tsc_in_step(struct check_ctx *c)
{
    enum verdict v;
    const struct hp_capture *h = added(c, &v);
    if (!h)
        return v;
    judge_bracket(c, "tsc", "TSC", "cycles", h->cpu, &h->tsc);
    return pass(c);
}

static enum verdict check_kvmclock(struct check_ctx *c)
{
    enum verdict v;
    const struct hp_capture *h = added(c, &v);
    if (!h)
        return v;
    if (!h->have_clock)
        return skip(c, "no kvmclock (no KVM_FEATURE_CLOCKSOURCE2)");
    figure(c, "samples=%llu rewrites=%u rebases=%u over_budget=%u backwards=%llu tsc_behind=%llu "
              "(rewrites: the version moved, the parameters did not)",
           (unsigned long long)h->stream.samples, h->rewrites, h->rebases, h->over,
           (unsigned long long)h->stream.backward, (unsigned long long)h->stream.tsc_behind);
    if (h->rebases && !h->unjudged)
        figure(c, "worst re-base at %llu ms: version %u -> %u, at TSC %llu %llu ns -> %llu ns, "
                  "jump_ns=%lld budget_ns=%llu stable_bit %u -> %u",
               (unsigned long long)h->worst.at_ms, h->worst.before.version,
               h->worst.after.version, (unsigned long long)h->worst.r.tsc,
               (unsigned long long)h->worst.r.old_ns, (unsigned long long)h->worst.r.new_ns,
               (long long)h->worst.r.jump_ns, (unsigned long long)h->worst.r.budget_ns,
               h->worst.before.flags & PVCLOCK_TSC_STABLE_BIT ? 1 : 0,
               h->worst.after.flags & PVCLOCK_TSC_STABLE_BIT ? 1 : 0);
    expect(c, !h->over,
           "%u of %u re-bases moved kvmclock: the first, at %llu ms, version %u -> %u, put TSC "
           "%llu at %llu ns instead of %llu ns, a jump of %lld ns (budget %llu ns)", h->over,
           h->rebases, (unsigned long long)h->first_over.at_ms, h->first_over.before.version,
           h->first_over.after.version, (unsigned long long)h->first_over.r.tsc,
           (unsigned long long)h->first_over.r.new_ns, (unsigned long long)h->first_over.r.old_ns,
           (long long)h->first_over.r.jump_ns, (unsigned long long)h->first_over.r.budget_ns);
    expect(c, !h->unjudged,
           "a re-base at %llu ms (version %u -> %u) cannot be judged: tsc_timestamp %llu -> %llu, "
           "the new one behind the old or the formula out of range",
           (unsigned long long)h->first_unjudged.at_ms, h->first_unjudged.before.version,
           h->first_unjudged.after.version,
           (unsigned long long)h->first_unjudged.before.tsc_timestamp,
           (unsigned long long)h->first_unjudged.after.tsc_timestamp);
    expect(c, !h->stream.backward, "kvmclock went back %llu times, by up to %llu ns (at %llu ms)",
           (unsigned long long)h->stream.backward, (unsigned long long)h->stream.max_back_ns,
           (unsigned long long)h->max_back_at_ms);
    expect(c, !h->stream.tsc_behind, "%llu reads found the TSC behind the area's tsc_timestamp",
           (unsigned long long)h->stream.tsc_behind);
    return pass(c);
}

static enum verdict check_kvmclock_in_step(struct check_ctx *c)
{
    enum verdict v;
    const struct hp_capture *h = added(c, &v);
    if (!h)
        return v;
    if (!h->have_clock)
        return skip(c, "no kvmclock (no KVM_FEATURE_CLOCKSOURCE2)");
    if (h->ap_clock.vector != NO_FAULT)
        return fail(c, "the added vCPU's write of MSR_KVM_SYSTEM_TIME_NEW faulted (vector %d)",
                    h->ap_clock.vector);
    if (!h->ap_clock.populated)
        return fail(c, "the added vCPU's kvmclock area was not written within 100 ms of its "
                       "registration");
    figure(c, "flags: vCPU 0 0x%x, vCPU %u 0x%x; rounds without the stable bit on both: %u",
           h->own_flags, h->cpu, h->ap_flags, h->clock_rounds_unstable);
    if (!h->clock.rounds)
        return skip(c, "no round had PVCLOCK_TSC_STABLE_BIT on both areas: msr.rst promises "
                       "nothing across vCPUs without it");
    judge_bracket(c, "kvmclock", "kvmclock", "ns", h->cpu, &h->clock);
    return pass(c);
}

static enum verdict check_hyperv_page(struct check_ctx *c)
{
    enum verdict v;
    const struct hp_capture *h = added(c, &v);
    if (!h)
        return v;
    const struct hp_page_watch *w = &h->page;
    if (!w->on)
        return skip(c, "no Hyper-V reference TSC page offered");
    figure(c, "samples=%llu invalid=%llu unsettled=%llu rebases=%u over_budget=%u "
              "worst_jump_units=%lld backwards=%llu max_back_units=%llu",
           (unsigned long long)w->samples, (unsigned long long)w->invalid,
           (unsigned long long)w->unsettled, w->rebases, w->over, (long long)w->worst_jump_units,
           (unsigned long long)w->backwards, (unsigned long long)w->max_back_units);
    if (w->over)
        figure(c, "first over budget at %llu ms, TSC %llu: scale 0x%llx offset %lld (sequence %u) "
                  "-> scale 0x%llx offset %lld (sequence %u)", (unsigned long long)w->over_at_ms,
               (unsigned long long)w->over_tsc, (unsigned long long)w->over_before.scale,
               (long long)w->over_before.offset, w->over_before.sequence,
               (unsigned long long)w->over_after.scale, (long long)w->over_after.offset,
               w->over_after.sequence);
    expect(c, !w->over, "%u of %u changes of TscScale/TscOffset moved the reference time at one "
                        "TSC by more than 1 unit of 100 ns; the worst %lld units", w->over,
           w->rebases, (long long)w->worst_jump_units);
    expect(c, !w->backwards, "the reference time went back %llu times, by up to %llu units",
           (unsigned long long)w->backwards, (unsigned long long)w->max_back_units);
    return pass(c);
}

static const struct check hotplug_checks[] = {
    { "event", "the host added a vCPU within hotplug_wait_s and it came up", check_event },
    { "tsc_in_step", TSC_SYNC_RULE, check_tsc_in_step },
    { "kvmclock", "kvmclock neither moves nor goes back while the host adds a vCPU (a master "
                  "clock update re-bases it onto the same line)", check_kvmclock },
    { "kvmclock_in_step", CROSS_VCPU_RULE, check_kvmclock_in_step },
    { "hyperv_page", "TLFS 'Reference Counter': the reference time is strictly monotonic; a new "
                     "TscScale/TscOffset gives the time the old gave at the same TSC",
      check_hyperv_page },
};

static bool hotplug_present(void)
{
    return pvcheck_options.hotplug;
}

static const struct suite hotplug_suite = {
    .name = "hotplug",
    .order = 61, /* last: the vCPU it adds stays online */
    .checks = hotplug_checks,
    .n_checks = ARRAY_SIZE(hotplug_checks),
    .present = hotplug_present,
};
REGISTER_SUITE(hotplug_suite);
