#include "checks/hotplug/hotplug_capture.h"

#include "checks/shared/aps.h"
#include "checks/shared/pvclock_checks.h"
#include "checks/shared/tsc_bracket.h"
#include "iface/kvm.h"
#include "lib/options.h"
#include "lib/report.h"
#include "live/clocks.h"
#include "live/hyperv.h"
#include "live/kvmclock.h"
#include "live/pvarea.h"
#include "platform/cpu.h"
#include "platform/safe.h"
#include "platform/smp.h"
#include "platform/timer.h"

#define WATCHDOG_MARGIN_S 30u
/* vCPU 0 samples this long between two tries to start an added vCPU. */
#define SAMPLE_TICKS (TIMER_HZ / 10)
#define START_WAIT_MS 20u
/* After the vCPU came up: KVM may update its master clock only then. */
#define SETTLE_TICKS TIMER_HZ

static struct hp_capture cap;
static uint64_t start_ticks;
static struct pvclock_snapshot last;
static bool have_last;

static uint64_t since_ms(void)
{
    return (timer_ticks() - start_ticks) * 1000 / TIMER_HZ;
}

static bool same_line(const struct pvclock_snapshot *a, const struct pvclock_snapshot *b)
{
    return a->tsc_timestamp == b->tsc_timestamp && a->system_time == b->system_time &&
           a->mul == b->mul && a->shift == b->shift;
}

static uint64_t magnitude(int64_t v)
{
    return v < 0 ? -(uint64_t)v : (uint64_t)v;
}

/* Judged where the new parameters start: at their own tsc_timestamp. */
static void note_rebase(const struct pvclock_snapshot *before, const struct pvclock_snapshot *after)
{
    struct hp_rebase h = { .before = *before, .after = *after, .at_ms = since_ms() };
    cap.rebases++;
    h.judged = pvclock_rebase_at(before, after, after->tsc_timestamp, &h.r);
    if (!h.judged) {
        if (!cap.unjudged)
            cap.first_unjudged = h;
        cap.unjudged = true;
        return;
    }
    if (cap.rebases == 1 || magnitude(h.r.jump_ns) > magnitude(cap.worst.r.jump_ns))
        cap.worst = h;
    if (!pvclock_rebase_within(&h.r) && !cap.over++)
        cap.first_over = h;
}

/* One reading of vCPU 0's kvmclock: its re-bases, and time going back. */
static bool sample_clock(struct check_ctx *c)
{
    struct pvclock_snapshot s;
    if (!pvclock_read_checked(c, kvmclock_active(), &s))
        return false;
    uint64_t tsc = rdtsc_ordered(), back_before = cap.stream.max_back_ns;
    if (have_last && s.version != last.version) {
        if (same_line(&last, &s))
            cap.rewrites++;
        else
            note_rebase(&last, &s);
    }
    pvclock_stream_add(&cap.stream, &s, tsc);
    if (cap.stream.max_back_ns > back_before)
        cap.max_back_at_ms = since_ms();
    last = s;
    have_last = true;
    return true;
}

static struct hv_ref_snapshot page_last;
static bool page_have_last;
static uint64_t page_last_units;

static void sample_page(void)
{
    struct hp_page_watch *w = &cap.page;
    uint64_t units, tsc;
    struct hv_ref_snapshot s;
    enum hv_ref_status st = hv_page_now(&units, &tsc, &s);
    w->samples++;
    if (st != HV_REF_OK) {
        if (st == HV_REF_INVALID)
            w->invalid++;
        else
            w->unsettled++;
        return;
    }
    if (page_have_last && (s.scale != page_last.scale || s.offset != page_last.offset)) {
        int64_t jump = hv_ref_rebase_jump(&page_last, &s, tsc);
        w->rebases++;
        if (w->rebases == 1 || magnitude(jump) > magnitude(w->worst_jump_units))
            w->worst_jump_units = jump;
        if (!hv_ref_rebase_within(jump) && !w->over++) {
            w->over_before = page_last;
            w->over_after = s;
            w->over_tsc = tsc;
            w->over_at_ms = since_ms();
        }
    }
    if (page_have_last && units < page_last_units) {
        w->backwards++;
        if (page_last_units - units > w->max_back_units)
            w->max_back_units = page_last_units - units;
    }
    page_last = s;
    page_last_units = units;
    page_have_last = true;
}

static bool sample_for(struct check_ctx *c, uint64_t ticks)
{
    uint64_t end = timer_ticks() + ticks;
    while (timer_ticks() < end) {
        if (cap.page.on)
            sample_page();
        if (!cap.have_clock)
            cpu_relax();
        else if (!sample_clock(c))
            return false;
    }
    return true;
}

static void bracket_note(struct hp_bracket *b, uint64_t t0, uint64_t other, uint64_t t2)
{
    int64_t lead = tsc_lead_proven(t0, other, t2);
    if (!b->rounds || lead < b->lead_min)
        b->lead_min = lead;
    if (!b->rounds || lead > b->lead_max)
        b->lead_max = lead;
    if (t2 - t0 > b->width_max)
        b->width_max = t2 - t0;
    b->rounds++;
    if (lead && !b->outside++) {
        b->first_t0 = t0;
        b->first_other = other;
        b->first_t2 = t2;
    }
}

static void tsc_job(void *arg)
{
    *(volatile uint64_t *)arg = rdtsc_ordered();
}

static bool compare_tsc(struct check_ctx *c, unsigned rounds)
{
    for (unsigned i = 0; i < rounds; i++) {
        uint64_t other = 0, t0 = rdtsc_ordered();
        if (!smp_run_on(c, cap.cpu, tsc_job, &other))
            return false;
        bracket_note(&cap.tsc, t0, other, rdtsc_ordered());
    }
    return true;
}

/* The added vCPU's own kvmclock area. */
static volatile struct pvclock_vcpu_time_info ap_clock __attribute__((aligned(64)));

static void register_job(void *arg)
{
    (void)arg;
    kvmclock_register_here(&ap_clock, &cap.ap_clock);
}

static void unregister_job(void *arg)
{
    (void)arg;
    kvmclock_unregister_here();
}

struct clock_read {
    enum pvclock_read_status status;
    struct pvclock_snapshot s;
    uint64_t ns;
    bool ok;
};

static void read_clock(const volatile struct pvclock_vcpu_time_info *a, struct clock_read *r)
{
    bool behind;
    r->status = pvclock_read(a, &r->s, PVCLOCK_READ_TRIES, 0);
    uint64_t tsc = rdtsc_ordered();
    r->ok = r->status == PVCLOCK_READ_OK && pvclock_ns_at(&r->s, tsc, &r->ns, &behind);
}

static void clock_job(void *arg)
{
    read_clock(&ap_clock, arg);
}

/* msr.rst promises time monotonic across vCPUs only with the stable bit:
 * rounds without it on both areas are counted, not judged. */
static bool compare_clock(struct check_ctx *c)
{
    for (unsigned i = 0; i < HP_ROUNDS; i++) {
        struct clock_read k0, ap = { 0 }, k2;
        read_clock(kvmclock_active(), &k0);
        if (!smp_run_on(c, cap.cpu, clock_job, &ap))
            return false;
        read_clock(kvmclock_active(), &k2);
        if (!k0.ok || !k2.ok || !ap.ok)
            return expect(c, false, "a kvmclock read failed in round %u (vCPU 0 status %d, "
                                    "vCPU %u status %d)", i, (int)k0.status, cap.cpu,
                          (int)ap.status);
        cap.own_flags = k2.s.flags;
        cap.ap_flags = ap.s.flags;
        if (!(k0.s.flags & k2.s.flags & ap.s.flags & PVCLOCK_TSC_STABLE_BIT)) {
            cap.clock_rounds_unstable++;
            continue;
        }
        bracket_note(&cap.clock, k0.ns, ap.ns, k2.ns);
    }
    return true;
}

static bool measure_added(struct check_ctx *c)
{
    if (!compare_tsc(c, HP_ROUNDS / 2))
        return false;
    if (cap.have_clock) {
        if (!smp_run_on(c, cap.cpu, register_job, 0))
            return false;
    }
    uint64_t settle_start = timer_ticks();
    if (!sample_for(c, SETTLE_TICKS))
        return false;
    cap.settle_ms = (timer_ticks() - settle_start) * 1000 / TIMER_HZ;
    if (!compare_tsc(c, HP_ROUNDS / 2))
        return false;
    if (!cap.ap_clock.populated)
        return true;
    bool ok = compare_clock(c);
    return smp_run_on(c, cap.cpu, unregister_job, 0) && ok;
}

static void run_capture(struct check_ctx *c)
{
    cap.ran = true;
    smp_init();
    cap.absent = smp_absent();
    cap.have_clock = kvm_has(KVM_FEATURE_CLOCKSOURCE2);
    if (cap.have_clock && !kvmclock_ensure(c))
        return;
    cap.page.on = clocks_offered(c).hv_page;
    if (c->failed)
        return;
    unsigned wait_s = pvcheck_options.hotplug_wait_s;
    watchdog_arm_check(wait_s + WATCHDOG_MARGIN_S);
    /* The line a host driver waits for before it adds the vCPU. */
    report_line(1, "# hotplug: capture started (clock=%s hv_page=%s absent=%u online=%u "
                   "wait_s=%u)", cap.have_clock ? "kvmclock" : "none",
                cap.page.on ? "yes" : "no", cap.absent, smp_online(), wait_s);
    start_ticks = timer_ticks();
    uint64_t deadline = start_ticks + (uint64_t)wait_s * TIMER_HZ;
    while (cap.absent && timer_ticks() < deadline) {
        if (!sample_for(c, SAMPLE_TICKS))
            return;
        cap.attempts++;
        unsigned n = smp_start_added(START_WAIT_MS);
        if (n) {
            cap.added = true;
            cap.cpu = n;
            cap.apic_id = smp_apic_id(n);
            break;
        }
    }
    cap.waited_ms = since_ms();
    if (cap.added)
        measure_added(c);
}

const struct hp_capture *hp_capture(struct check_ctx *c)
{
    if (!cap.ran) {
        run_capture(c);
        cap.incomplete = c->failed;
    }
    return &cap;
}
