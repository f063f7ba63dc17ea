#include "checks/migration/migration_capture.h"
#include "checks/migration/migration_sample.h"

#include "checks/shared/pvclock_checks.h"
#include "iface/kvm.h"
#include "lib/options.h"
#include "lib/report.h"
#include "live/clocks.h"
#include "live/kvmclock.h"
#include "live/pvarea.h"
#include "live/steal_time.h"
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

static uint64_t tsc_at_start, g_at_start;

/* A forward hole in the guest clock with no real time missing is what a
 * vCPU the host did not run for a second looks like, as well as a clock
 * carried across an event: the first one is kept, and judged as the event
 * only if nothing else marks one before the wait ends. */
struct hole {
    bool have;
    enum mig_signal signal;
    struct mig_ref r0, r1;
    struct mig_sample s0, s1;
    bool wall_refs;
};

static void keep_hole(struct hole *h, enum mig_signal signal, const struct mig_ref *r0,
                      const struct mig_ref *r1, const struct mig_sample *s0,
                      const struct mig_sample *s1, bool wall_refs)
{
    mig_cap.holes++;
    if (!h->have)
        *h = (struct hole){ true, signal, *r0, *r1, *s0, *s1, wall_refs };
}

static void track_clock(const struct mig_sample *prev, const struct mig_sample *s)
{
    if (s->g_ns < prev->g_ns) {
        mig_cap.backwards++;
        if (prev->g_ns - s->g_ns > mig_cap.max_back_ns) {
            mig_cap.max_back_ns = prev->g_ns - s->g_ns;
            mig_cap.max_back_from_ns = prev->g_ns;
        }
    } else if (s->g_ns - prev->g_ns > mig_cap.max_gap_ns) {
        mig_cap.max_gap_ns = s->g_ns - prev->g_ns;
    }
}

static void choose_tsc_hz(void)
{
    uint64_t khz = pvclock_tsc_khz();
    if (khz) {
        mig_cap.tsc_hz = khz * 1000;
        mig_cap.tsc_hz_source = kvmclock_active() ? "cpuid_or_kvmclock" : "cpuid";
        return;
    }
    /* Measured against the guest clock over the stretch before the event. */
    uint64_t g = mig_cap.s0.g_ns - g_at_start, t = mig_cap.s0.tsc - tsc_at_start;
    if (g > 100000000ull && mig_cap.s0.tsc > tsc_at_start)
        mig_cap.tsc_hz = mig_mul_div(t, 1000000u, g / 1000);
    mig_cap.tsc_hz_source = "measured_before_event";
}

static bool registrations(struct check_ctx *c, volatile struct kvm_steal_time **st)
{
    *st = 0;
    if (kvm_has(KVM_FEATURE_CLOCKSOURCE2)) {
        if (!kvmclock_ensure(c))
            return false;
        /* Written again: other suites may have left the MSR elsewhere. */
        mig_cap.clock_msr_written = pv_gpa(kvmclock_active()) | 1;
        wrmsr(MSR_KVM_SYSTEM_TIME_NEW, mig_cap.clock_msr_written);
        mig_wall = pv_area_prepare(SLOT_WALL_CLOCK, WALL_OFFSET, sizeof(*mig_wall));
    }
    if (kvm_has(KVM_FEATURE_STEAL_TIME)) {
        *st = steal_time_area(c);
        if (!*st)
            return false;
        mig_cap.steal_msr_written = pv_gpa(*st) | 1;
        wrmsr(MSR_KVM_STEAL_TIME, mig_cap.steal_msr_written);
    }
    struct offered_clocks o = clocks_offered(c);
    mig_cap.others[MIG_HV_PAGE].on = o.hv_page;
    mig_cap.others[MIG_HV_COUNTER].on = o.hv_counter;
    mig_cap.others[MIG_XEN_TIME].on = o.xen_time;
    return !c->failed;
}

/* After the event: a second more of samples, halting now and then so the
 * hypervisor re-enters the vCPU (KVM writes steal then), then the MSRs. */
static bool settle(struct check_ctx *c, volatile struct kvm_steal_time *st,
                   struct mig_sample *prev, struct mig_edge_poller *edges)
{
    uint64_t start = timer_ticks(), last_halt = start;
    mig_cap.steal_version_settle_start = st ? st->version : 0;
    for (;;) {
        uint64_t now = timer_ticks();
        bool settled = now - start >= SETTLE_TICKS;
        if (settled && (mig_cap.have_e1 || !edges->on || now - start >= EDGE_WAIT_TICKS))
            break;
        if (!settled && now - last_halt >= SETTLE_HALT_EVERY_TICKS) {
            timer_sleep_ticks(1);
            last_halt = timer_ticks();
        }
        struct mig_sample s;
        if (!mig_take_sample(c, &s, st))
            return false;
        track_clock(prev, &s);
        *prev = s;
        mig_cap.samples++;
        struct mig_ref e;
        /* Edges count once the halts are over: one inside a halt is
         * found only a tick late. */
        int found = mig_edge_poll(c, edges, &e);
        if (found < 0)
            return false;
        if (found && settled && !mig_cap.have_e1 && mig_cap.have_e0) {
            mig_cap.e1 = e;
            mig_cap.have_e1 = true;
            if (mig_wall) {
                struct mig_sample before, at;
                if (!mig_wall_reading(c, &mig_cap.w1, &before, &at, st))
                    return false;
                /* The wall clock's real time at the edge's guest time. */
                mig_cap.w1.real_ns -= at.g_ns - e.at_ns;
                mig_cap.w1.at_ns = e.at_ns;
            }
        }
    }
    mig_cap.settle_ms = (timer_ticks() - start) * 1000 / TIMER_HZ;
    if (kvmclock_active()) {
        mig_cap.clock_msr_vector = rdmsr_safe(MSR_KVM_SYSTEM_TIME_NEW, &mig_cap.clock_msr_after);
        mig_cap.clock_version_end = kvmclock_active()->version;
    }
    if (st) {
        mig_cap.steal_msr_vector = rdmsr_safe(MSR_KVM_STEAL_TIME, &mig_cap.steal_msr_after);
        mig_cap.steal_version_end = st->version;
    }
    return true;
}

/* KVM sets PVCLOCK_GUEST_STOPPED at its first kvmclock update after the
 * host's KVM_KVMCLOCK_CTRL, which QEMU issues whenever it continues a
 * stopped VM, and keeps it until the guest clears it. It marks a stop that
 * a clock carried across the downtime leaves no other sign of. */
static void clear_stopped_flag(void)
{
    volatile struct pvclock_vcpu_time_info *a = kvmclock_active();
    if (a)
        a->flags &= (uint8_t)~PVCLOCK_GUEST_STOPPED;
}

static bool stopped_flag(const struct mig_sample *s)
{
    return s->have_clock && (s->clock.flags & PVCLOCK_GUEST_STOPPED);
}

/* Whether s is the first sample to show the flag (it stays set, so the
 * stop came after every sample checked before). */
static bool newly_flagged(const struct mig_sample *s)
{
    if (mig_cap.stopped_flag_stuck || mig_cap.stopped_flag_seen || !stopped_flag(s))
        return false;
    mig_cap.stopped_flag_seen = true;
    mig_cap.stopped_flag_at_ns = s->g_ns;
    return true;
}

static void close_window(enum mig_signal signal, const struct mig_ref *r0, const struct mig_ref *r1,
                         const struct mig_sample *s0, const struct mig_sample *s1, bool wall_refs)
{
    mig_cap.detected = true;
    mig_cap.signal = signal;
    mig_cap.r0 = *r0;
    mig_cap.r1 = *r1;
    mig_cap.s0 = *s0;
    mig_cap.s1 = *s1;
    mig_cap.refs_are_wall = wall_refs;
    mig_unaccounted(r0, r1, &mig_cap.unaccounted_ns, &mig_cap.unaccounted_tol_ns);
}

static void run_capture(struct check_ctx *c)
{
    volatile struct kvm_steal_time *st;
    mig_cap.ran = true;
    if (!registrations(c, &st))
        return;
    mig_cap.clock = kvmclock_active() ? "kvmclock" : refclock_get()->name;
    struct mig_edge_poller edges = { .on = rtc_present() };
    if (edges.on)
        edges.last_raw = rtc_seconds_raw();
    unsigned wait_s = pvcheck_options.migration_wait_s;
    watchdog_arm_check(wait_s + WATCHDOG_MARGIN_S);

    struct mig_sample prev, s, wall_before = { 0 }, edge_at = { 0 };
    struct mig_ref wall_ref = { 0 }, edge_ref = { 0 };
    bool have_edge = false;
    clear_stopped_flag();
    if (!mig_take_sample(c, &prev, st))
        return;
    mig_cap.stopped_flag_stuck = stopped_flag(&prev);
    tsc_at_start = prev.tsc;
    g_at_start = prev.g_ns;
    edges.last_before_ns = prev.g_ns;
    if (mig_wall) {
        struct mig_sample first_at;
        if (!mig_wall_reading(c, &wall_ref, &wall_before, &first_at, st))
            return;
    }
    /* The line a host driver waits for before it migrates the VM. */
    report_line(1, "# migration: capture started (clock=%s cmos=%s wall_clock=%s steal=%s "
                   "wait_s=%u)", mig_cap.clock, edges.on ? "yes" : "no", mig_wall ? "yes" : "no",
                st ? "yes" : "no", wait_s);
    uint64_t start = timer_ticks(), last_wall = start;
    struct mig_ref pend_e = { 0 }, pend_w = { 0 }, gap_r0 = { 0 };
    struct mig_sample gap_s0 = { 0 };
    enum mig_signal gap_signal = MIG_NONE;
    struct hole hole = { 0 };
    bool have_pend = false, gap_pending = false;
    uint64_t hole_since_wall = 0; /* the largest step between samples since the last reading */
    while (!mig_cap.detected) {
        uint64_t now = timer_ticks();
        if (now - start >= (uint64_t)wait_s * TIMER_HZ)
            break;
        if (!mig_take_sample(c, &s, st))
            return;
        mig_cap.samples++;
        track_clock(&prev, &s);
        /* A step back in the clock (a re-based clock: a fault
         * migration.monotonic names) marks the event; a hole may (struct
         * hole). */
        bool back = s.g_ns < prev.g_ns;
        uint64_t step = back ? 0 : s.g_ns - prev.g_ns;
        bool gap = back || step >= GAP_EVENT_NS;
        if (step > hole_since_wall)
            hole_since_wall = step;
        bool flagged = newly_flagged(&s);
        enum mig_signal hole_kind = back      ? MIG_CLOCK_BACK
                                    : flagged ? MIG_GUEST_STOPPED
                                              : MIG_CLOCK_GAP;
        bool gap_now = false;
        if ((gap || flagged) && !mig_wall && have_edge && !gap_pending) {
            /* No wall clock: the window runs from the edge before the gap
             * to the first edge found after this iteration. */
            gap_pending = gap_now = true;
            gap_signal = hole_kind;
            gap_r0 = edge_ref;
            gap_s0 = edge_at;
        }
        struct mig_ref e;
        int found = mig_edge_poll(c, &edges, &e);
        if (found < 0)
            return;
        /* A window opening at an edge starts with the sample before its
         * poll; one closing at an edge ends with a sample after it (s came
         * before the poll, maybe before the event). */
        struct mig_sample before_edge = s;
        if (found && !mig_wall) {
            struct mig_sample after;
            if (!mig_take_sample(c, &after, st))
                return;
            track_clock(&s, &after);
            s = after;
        }
        if (found) {
            if (!mig_wall && have_edge && mig_stopped_between(&edge_ref, &e))
                close_window(MIG_CMOS_EDGES, &edge_ref, &e, &edge_at, &s, false);
            else if (!mig_wall && gap_pending && !gap_now && gap_signal != MIG_CLOCK_GAP)
                close_window(gap_signal, &gap_r0, &e, &gap_s0, &s, false);
            else if (!mig_wall && gap_pending && !gap_now)
                keep_hole(&hole, gap_signal, &gap_r0, &e, &gap_s0, &s, false);
            if (gap_pending && !gap_now)
                gap_pending = false;
            if (mig_wall) {
                /* Kept as the edge before the event once the next wall
                 * reading shows no stop since the one before it. */
                pend_e = e;
                pend_w = (struct mig_ref){ wall_ref.real_ns - wall_ref.at_ns + e.at_ns, e.at_ns,
                                           wall_ref.err_ns };
                have_pend = true;
            }
            edge_ref = e;
            edge_at = before_edge;
            have_edge = true;
        }
        if (mig_wall && (gap || flagged || now - last_wall >= WALL_PERIOD_TICKS)) {
            struct mig_ref r;
            struct mig_sample before, at;
            if (!mig_wall_reading(c, &r, &before, &at, st))
                return;
            /* A reading the event fell inside pairs an old epoch with the
             * new clock, its error the whole hole: take a clean one. */
            if (r.err_ns >= MIG_STOP_HOLE_NS && !mig_wall_reading(c, &r, &before, &at, st))
                return;
            /* The flag set by the reading's end but not at its start: the
             * stop fell between the write and the end, so the reading may
             * pair the old epoch with the new clock: take a clean one. */
            if (!mig_cap.stopped_flag_stuck && !stopped_flag(&before) && stopped_flag(&at) &&
                !mig_wall_reading(c, &r, &before, &at, st))
                return;
            /* The flag, first seen in the reading, dates the stop after
             * the last one. */
            flagged = newly_flagged(&at) || flagged;
            /* The event may fall inside the reading itself: judged from
             * the readings, not from the samples around them. */
            if (mig_stopped_between(&wall_ref, &r) ||
                mig_stopped_across_hole(&wall_ref, &r, hole_since_wall))
                close_window(MIG_WALL_EPOCH, &wall_ref, &r, &wall_before, &at, true);
            else if (mig_clock_outran(&wall_ref, &r))
                close_window(MIG_CLOCK_AHEAD, &wall_ref, &r, &wall_before, &at, true);
            else if (back || r.at_ns < wall_ref.at_ns)
                close_window(MIG_CLOCK_BACK, &wall_ref, &r, &wall_before, &at, true);
            else if (flagged)
                close_window(MIG_GUEST_STOPPED, &wall_ref, &r, &wall_before, &at, true);
            else if (gap || r.at_ns - wall_ref.at_ns >= GAP_EVENT_NS + WALL_PERIOD_NS_MAX)
                keep_hole(&hole, MIG_CLOCK_GAP, &wall_ref, &r, &wall_before, &at, true);
            else if (have_pend) {
                /* The most precisely dated edge: one found after the vCPU
                 * was not run for a while dates the second only that well. */
                if (!mig_cap.have_e0 || pend_e.err_ns <= mig_cap.e0.err_ns) {
                    mig_cap.e0 = pend_e;
                    mig_cap.w0 = pend_w;
                    mig_cap.have_e0 = true;
                }
                have_pend = false;
            }
            wall_ref = r;
            wall_before = before;
            hole_since_wall = 0;
            last_wall = timer_ticks();
            track_clock(&s, &at);
            s = at;
        }
        prev = s;
    }
    mig_cap.waited_ms = (timer_ticks() - start) * 1000 / TIMER_HZ;
    if (!mig_cap.detected && hole.have) {
        close_window(hole.signal, &hole.r0, &hole.r1, &hole.s0, &hole.s1, hole.wall_refs);
        mig_cap.hole_judged = true;
    }
    if (!mig_cap.detected)
        return;
    choose_tsc_hz();
    settle(c, st, &prev, &edges);
}

const struct mig_capture *mig_capture(struct check_ctx *c)
{
    if (!mig_cap.ran)
        run_capture(c);
    return &mig_cap;
}
