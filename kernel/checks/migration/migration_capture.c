#include "checks/migration_capture.h"

#include "checks/clocks.h"
#include "checks/hyperv_checks.h"
#include "checks/kvmclock.h"
#include "checks/pvarea.h"
#include "checks/pvclock_checks.h"
#include "checks/steal_time.h"
#include "iface/hyperv.h"
#include "iface/kvm.h"
#include "iface/xen.h"
#include "lib/options.h"
#include "lib/report.h"
#include "platform/cpu.h"
#include "platform/refclock.h"
#include "platform/rtc.h"
#include "platform/safe.h"
#include "platform/timer.h"

#define WALL_OFFSET 0x40
#define WALL_PERIOD_TICKS 2          /* re-read the wall clock every 20 ms */
#define GAP_EVENT_NS 1000000000ull   /* a 1 s hole between two samples */
#define WALL_PERIOD_NS_MAX 100000000ull /* readings 20 ms apart, 100 ms at worst */
#define SETTLE_TICKS (TIMER_HZ)      /* keep sampling 1 s after the event */
#define SETTLE_HALT_EVERY_TICKS 10   /* with a halt (a vCPU re-entry) each 100 ms */
#define EDGE_WAIT_TICKS (TIMER_HZ * 5 / 2) /* and up to 2.5 s for a CMOS edge */
#define WATCHDOG_MARGIN_S 30u

static struct mig_capture cap;
static volatile struct pvclock_wall_clock *wall;
static uint64_t tsc_at_start, g_at_start;

const char *mig_other_name(enum mig_other_clock k)
{
    static const char *const names[MIG_OTHER_COUNT] = { "hv_tsc_page", "hv_time_ref_count",
                                                        "xen_vcpu_time" };
    return k < MIG_OTHER_COUNT ? names[k] : "?";
}

/* The clocks suite's readers, in enum mig_other_clock's order. */
static const enum clock_id other_ids[MIG_OTHER_COUNT] = { HV_PAGE, HV_COUNTER, XEN_TIME };

/* Every other clock once; a read that fails (a page gone invalid) is
 * counted, not judged. */
static void sample_others(void)
{
    for (unsigned k = 0; k < MIG_OTHER_COUNT; k++) {
        struct mig_other *o = &cap.others[k];
        uint64_t ns;
        if (!o->on)
            continue;
        o->reads++;
        if (!clock_read_ns(other_ids[k], &ns)) {
            o->failed_reads++;
            continue;
        }
        if (o->have_last && ns < o->last_ns) {
            o->backwards++;
            if (o->last_ns - ns > o->max_back_ns) {
                o->max_back_ns = o->last_ns - ns;
                o->max_back_from_ns = o->last_ns;
            }
        }
        o->last_ns = ns;
        o->have_last = true;
    }
}

const char *mig_signal_name(enum mig_signal s)
{
    switch (s) {
    case MIG_WALL_EPOCH:
        return "wall_clock_epoch_step";
    case MIG_CMOS_EDGES:
        return "cmos_edges";
    case MIG_CLOCK_GAP:
        return "clock_gap";
    case MIG_CLOCK_BACK:
        return "clock_went_back";
    case MIG_CLOCK_AHEAD:
        return "clock_outran_real_time";
    default:
        return "none";
    }
}

/* A consistent copy of an area. A writer the host preempts mid-update
 * leaves the version odd for a while: millions of reads meet that now and
 * then, so a read gives up only after READ_PATIENCE_TICKS, not a count. */
#define READ_PATIENCE_TICKS 2
static bool settled(struct check_ctx *c, enum pvclock_read_status r, const char *area,
                    uint32_t version)
{
    if (r == PVCLOCK_READ_OK)
        return true;
    return fail(c, "%s version 0x%x never even and stable for %u ms", area, version,
                READ_PATIENCE_TICKS * 1000 / TIMER_HZ), false;
}

static bool read_clock(struct check_ctx *c, volatile struct pvclock_vcpu_time_info *a,
                       struct pvclock_snapshot *out)
{
    return settled(c, pvclock_read_within(a, out, READ_PATIENCE_TICKS), "kvmclock", a->version);
}

/* The guest clock now, with the kvmclock snapshot it came from. The VM may
 * stop between any two instructions and resume with the area rewritten: if
 * the version moved around the TSC read, the TSC belongs to the new
 * parameters when it is not behind their tsc_timestamp, else to the old. */
static bool guest_now(struct check_ctx *c, struct mig_sample *s)
{
    s->have_clock = false;
    volatile struct pvclock_vcpu_time_info *a = kvmclock_active();
    if (!a) {
        s->tsc = rdtsc_ordered();
        s->g_ns = refclock_to_ns(refclock_read());
        return true;
    }
    struct pvclock_snapshot newer;
    if (!read_clock(c, a, &s->clock))
        return false;
    s->tsc = rdtsc_ordered();
    barrier();
    if (a->version != s->clock.version) {
        if (!read_clock(c, a, &newer))
            return false;
        if (s->tsc >= newer.tsc_timestamp)
            s->clock = newer;
    }
    bool behind = false;
    if (!pvclock_ns_at(&s->clock, s->tsc, &s->g_ns, &behind))
        return fail(c, "kvmclock cannot be evaluated at TSC %llu (%s tsc_timestamp %llu)",
                    (unsigned long long)s->tsc, behind ? "behind" : "overflow past",
                    (unsigned long long)s->clock.tsc_timestamp), false;
    s->have_clock = true;
    return true;
}

static bool take_sample(struct check_ctx *c, struct mig_sample *s, volatile struct kvm_steal_time *st)
{
    if (!guest_now(c, s))
        return false;
    sample_others();
    s->have_steal = false;
    if (st) {
        struct mig_sample after;
        s->steal_before_ns = s->g_ns;
        if (!settled(c, steal_read_within(st, &s->steal, READ_PATIENCE_TICKS), "steal area",
                     st->version))
            return false;
        if (!guest_now(c, &after))
            return false;
        s->steal_after_ns = after.g_ns;
        s->have_steal = true;
        steal_series_add(&cap.steal, s->steal.steal, s->steal_before_ns, s->steal_after_ns);
    }
    return true;
}

/* The wall clock re-read: real time = epoch + kvmclock at the read, off by
 * at most the write's duration (the host reads its two clocks inside it). */
static bool wall_reading(struct check_ctx *c, struct mig_ref *r, struct mig_sample *at,
                         volatile struct kvm_steal_time *st)
{
    struct mig_sample before;
    struct pvclock_wall_clock w;
    if (!guest_now(c, &before))
        return false;
    int vector = wrmsr_safe(MSR_KVM_WALL_CLOCK_NEW, pv_gpa(wall));
    if (vector != NO_FAULT)
        return fail(c, "wrmsr(MSR_KVM_WALL_CLOCK_NEW) raised vector %d", vector), false;
    if (!settled(c, pvclock_wall_read_within(wall, &w, READ_PATIENCE_TICKS), "wall clock",
                 wall->version))
        return false;
    if (!take_sample(c, at, st))
        return false;
    if (w.nsec >= 1000000000u)
        return fail(c, "wall clock nsec=%u is not below 10^9", w.nsec), false;
    uint64_t epoch = (uint64_t)w.sec * 1000000000ull + w.nsec;
    *r = (struct mig_ref){ epoch + at->g_ns, at->g_ns,
                           (at->g_ns > before.g_ns ? at->g_ns - before.g_ns : 0) + 1 };
    return true;
}

/* Polls the CMOS seconds; on a change, the edge: real time its second.
 * The change came after the previous poll's read began and before this
 * one's ended, each bracketed by the guest clock (a vCPU the host preempts
 * between a sample and the port read would otherwise date the edge early). */
struct edge_poller {
    bool on;
    uint8_t last_raw;
    uint64_t last_before_ns;
};

static int edge_poll(struct check_ctx *c, struct edge_poller *p, struct mig_ref *edge)
{
    if (!p->on)
        return 0;
    struct mig_sample before, after;
    if (!guest_now(c, &before))
        return -1;
    uint8_t raw = rtc_seconds_raw();
    if (!guest_now(c, &after))
        return -1;
    uint64_t since = after.g_ns > p->last_before_ns ? after.g_ns - p->last_before_ns : 0;
    p->last_before_ns = before.g_ns;
    if (raw == p->last_raw)
        return 0;
    p->last_raw = raw;
    uint64_t unix_s;
    if (!rtc_read_unix(&unix_s))
        return 0;
    /* The whole read came within a second of the edge it found. */
    *edge = (struct mig_ref){ unix_s * 1000000000ull, after.g_ns, since + 1 };
    return 1;
}

static void track_clock(const struct mig_sample *prev, const struct mig_sample *s)
{
    if (s->g_ns < prev->g_ns) {
        cap.backwards++;
        if (prev->g_ns - s->g_ns > cap.max_back_ns) {
            cap.max_back_ns = prev->g_ns - s->g_ns;
            cap.max_back_from_ns = prev->g_ns;
        }
    } else if (s->g_ns - prev->g_ns > cap.max_gap_ns) {
        cap.max_gap_ns = s->g_ns - prev->g_ns;
    }
}

static void choose_tsc_hz(void)
{
    uint64_t khz = pvclock_tsc_khz();
    if (khz) {
        cap.tsc_hz = khz * 1000;
        cap.tsc_hz_source = kvmclock_active() ? "cpuid_or_kvmclock" : "cpuid";
        return;
    }
    /* Measured against the guest clock over the stretch before the event. */
    uint64_t g = cap.s0.g_ns - g_at_start, t = cap.s0.tsc - tsc_at_start;
    if (g > 100000000ull && cap.s0.tsc > tsc_at_start)
        cap.tsc_hz = mig_mul_div(t, 1000000u, g / 1000);
    cap.tsc_hz_source = "measured_before_event";
}

static bool registrations(struct check_ctx *c, volatile struct kvm_steal_time **st)
{
    *st = 0;
    if (kvm_has(KVM_FEATURE_CLOCKSOURCE2)) {
        if (!kvmclock_ensure(c))
            return false;
        /* Written again: other suites may have left the MSR elsewhere. */
        cap.clock_msr_written = pv_gpa(kvmclock_active()) | 1;
        wrmsr(MSR_KVM_SYSTEM_TIME_NEW, cap.clock_msr_written);
        wall = pv_area_prepare(SLOT_WALL_CLOCK, WALL_OFFSET, sizeof(*wall));
    }
    if (kvm_has(KVM_FEATURE_STEAL_TIME)) {
        *st = steal_time_area(c);
        if (!*st)
            return false;
        cap.steal_msr_written = pv_gpa(*st) | 1;
        wrmsr(MSR_KVM_STEAL_TIME, cap.steal_msr_written);
    }
    uint64_t ns;
    cap.others[MIG_HV_PAGE].on = hv_page_open(c);
    cap.others[MIG_HV_COUNTER].on = !hv_needs(HV_PRIV_TIME_REF_COUNT) && hv_ensure_os_id(c);
    cap.others[MIG_XEN_TIME].on = xen_ready() && xen_time_now(0, &ns);
    return !c->failed;
}

/* After the event: a second more of samples, halting now and then so the
 * hypervisor re-enters the vCPU (KVM writes steal then), then the MSRs. */
static bool settle(struct check_ctx *c, volatile struct kvm_steal_time *st,
                   struct mig_sample *prev, struct edge_poller *edges)
{
    uint64_t start = timer_ticks(), last_halt = start;
    cap.steal_version_settle_start = st ? st->version : 0;
    for (;;) {
        uint64_t now = timer_ticks();
        bool settled = now - start >= SETTLE_TICKS;
        if (settled && (cap.have_e1 || !edges->on || now - start >= EDGE_WAIT_TICKS))
            break;
        if (!settled && now - last_halt >= SETTLE_HALT_EVERY_TICKS) {
            timer_sleep_ticks(1);
            last_halt = timer_ticks();
        }
        struct mig_sample s;
        if (!take_sample(c, &s, st))
            return false;
        track_clock(prev, &s);
        *prev = s;
        cap.samples++;
        struct mig_ref e;
        /* Edges count once the halts are over: one inside a halt is
         * found only a tick late. */
        int found = edge_poll(c, edges, &e);
        if (found < 0)
            return false;
        if (found && settled && !cap.have_e1 && cap.have_e0) {
            cap.e1 = e;
            cap.have_e1 = true;
            if (wall) {
                struct mig_sample at;
                if (!wall_reading(c, &cap.w1, &at, st))
                    return false;
                /* The wall clock's real time at the edge's guest time. */
                cap.w1.real_ns -= at.g_ns - e.at_ns;
                cap.w1.at_ns = e.at_ns;
            }
        }
    }
    cap.settle_ms = (timer_ticks() - start) * 1000 / TIMER_HZ;
    if (kvmclock_active()) {
        cap.clock_msr_vector = rdmsr_safe(MSR_KVM_SYSTEM_TIME_NEW, &cap.clock_msr_after);
        cap.clock_version_end = kvmclock_active()->version;
    }
    if (st) {
        cap.steal_msr_vector = rdmsr_safe(MSR_KVM_STEAL_TIME, &cap.steal_msr_after);
        cap.steal_version_end = st->version;
    }
    return true;
}

static void close_window(enum mig_signal signal, const struct mig_ref *r0, const struct mig_ref *r1,
                         const struct mig_sample *s0, const struct mig_sample *s1, bool wall_refs)
{
    cap.detected = true;
    cap.signal = signal;
    cap.r0 = *r0;
    cap.r1 = *r1;
    cap.s0 = *s0;
    cap.s1 = *s1;
    cap.refs_are_wall = wall_refs;
    mig_unaccounted(r0, r1, &cap.unaccounted_ns, &cap.unaccounted_tol_ns);
}

static void run_capture(struct check_ctx *c)
{
    volatile struct kvm_steal_time *st;
    cap.ran = true;
    if (!registrations(c, &st))
        return;
    cap.clock = kvmclock_active() ? "kvmclock" : refclock_get()->name;
    struct edge_poller edges = { .on = rtc_present() };
    if (edges.on)
        edges.last_raw = rtc_seconds_raw();
    unsigned wait_s = pvcheck_options.migration_wait_s;
    watchdog_arm_check(wait_s + WATCHDOG_MARGIN_S);

    struct mig_sample prev, s, wall_at = { 0 }, edge_at = { 0 };
    struct mig_ref wall_ref = { 0 }, edge_ref = { 0 };
    bool have_edge = false;
    if (!take_sample(c, &prev, st))
        return;
    tsc_at_start = prev.tsc;
    g_at_start = prev.g_ns;
    edges.last_before_ns = prev.g_ns;
    if (wall) {
        if (!wall_reading(c, &wall_ref, &wall_at, st))
            return;
    }
    /* The line a host driver waits for before it migrates the VM. */
    report_line(1, "# migration: capture started (clock=%s cmos=%s wall_clock=%s steal=%s "
                   "wait_s=%u)", cap.clock, edges.on ? "yes" : "no", wall ? "yes" : "no",
                st ? "yes" : "no", wait_s);
    uint64_t start = timer_ticks(), last_wall = start;
    struct mig_ref pend_e = { 0 }, pend_w = { 0 }, gap_r0 = { 0 };
    struct mig_sample gap_s0 = { 0 };
    bool have_pend = false, gap_pending = false;
    while (!cap.detected) {
        uint64_t now = timer_ticks();
        if (now - start >= (uint64_t)wait_s * TIMER_HZ)
            break;
        if (!take_sample(c, &s, st))
            return;
        cap.samples++;
        track_clock(&prev, &s);
        /* A hole in the clock, or a step back (a re-based clock: a fault
         * migration.monotonic names), also marks the event. */
        bool back = s.g_ns < prev.g_ns;
        bool gap = back || (s.g_ns > prev.g_ns && s.g_ns - prev.g_ns >= GAP_EVENT_NS);
        enum mig_signal hole = back ? MIG_CLOCK_BACK : MIG_CLOCK_GAP;
        bool gap_now = false;
        if (gap && !wall && have_edge && !gap_pending) {
            /* No wall clock: the window runs from the edge before the gap
             * to the first edge found after this iteration. */
            gap_pending = gap_now = true;
            cap.signal = hole;
            gap_r0 = edge_ref;
            gap_s0 = edge_at;
        }
        struct mig_ref e;
        int found = edge_poll(c, &edges, &e);
        if (found < 0)
            return;
        if (found) {
            if (!wall && gap_pending && !gap_now)
                close_window(cap.signal, &gap_r0, &e, &gap_s0, &s, false);
            else if (!wall && !gap_pending && have_edge && mig_stopped_between(&edge_ref, &e))
                close_window(MIG_CMOS_EDGES, &edge_ref, &e, &edge_at, &s, false);
            if (wall) {
                /* Kept as the edge before the event once the next wall
                 * reading shows no stop since the one before it. */
                pend_e = e;
                pend_w = (struct mig_ref){ wall_ref.real_ns - wall_ref.at_ns + e.at_ns, e.at_ns,
                                           wall_ref.err_ns };
                have_pend = true;
            }
            edge_ref = e;
            edge_at = s;
            have_edge = true;
        }
        if (wall && (gap || now - last_wall >= WALL_PERIOD_TICKS)) {
            struct mig_ref r;
            struct mig_sample at;
            if (!wall_reading(c, &r, &at, st))
                return;
            /* A reading the event fell inside pairs an old epoch with the
             * new clock, its error the whole hole: take a clean one. */
            if (r.err_ns >= GAP_EVENT_NS && !wall_reading(c, &r, &at, st))
                return;
            /* The event may fall inside the reading itself: judged from
             * the readings, not from the samples around them. */
            if (mig_stopped_between(&wall_ref, &r))
                close_window(MIG_WALL_EPOCH, &wall_ref, &r, &wall_at, &at, true);
            else if (mig_clock_outran(&wall_ref, &r))
                close_window(MIG_CLOCK_AHEAD, &wall_ref, &r, &wall_at, &at, true);
            else if (r.at_ns < wall_ref.at_ns)
                close_window(MIG_CLOCK_BACK, &wall_ref, &r, &wall_at, &at, true);
            else if (gap || r.at_ns - wall_ref.at_ns >= GAP_EVENT_NS + WALL_PERIOD_NS_MAX)
                close_window(hole, &wall_ref, &r, &wall_at, &at, true);
            else if (have_pend) {
                cap.e0 = pend_e;
                cap.w0 = pend_w;
                cap.have_e0 = true;
                have_pend = false;
            }
            wall_ref = r;
            wall_at = at;
            last_wall = timer_ticks();
            track_clock(&s, &at);
            s = at;
        }
        prev = s;
    }
    cap.waited_ms = (timer_ticks() - start) * 1000 / TIMER_HZ;
    if (!cap.detected)
        return;
    choose_tsc_hz();
    settle(c, st, &prev, &edges);
}

const struct mig_capture *mig_capture(struct check_ctx *c)
{
    if (!cap.ran)
        run_capture(c);
    return &cap;
}
