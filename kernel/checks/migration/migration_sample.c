/* How the migration capture reads each clock: the guest clock with the
 * kvmclock snapshot it came from, steal, the other clocks, the wall clock
 * and the CMOS seconds' edges, each read patient for a preempted writer. */
#include "checks/migration/migration_sample.h"

#include "iface/kvm.h"
#include "iface/xen.h"
#include "lib/report.h"
#include "live/clocks.h"
#include "live/kvmclock.h"
#include "platform/cpu.h"
#include "platform/refclock.h"
#include "platform/rtc.h"
#include "platform/safe.h"
#include "platform/timer.h"

struct mig_capture mig_cap;
volatile struct pvclock_wall_clock *mig_wall;

const char *mig_other_name(enum mig_other_clock k)
{
    static const char *const names[MIG_OTHER_COUNT] = { "hv_tsc_page", "hv_time_ref_count",
                                                        "xen_vcpu_time" };
    return k < MIG_OTHER_COUNT ? names[k] : "?";
}

/* The live clocks' ids, in enum mig_other_clock's order. */
static const enum clock_id other_ids[MIG_OTHER_COUNT] = { HV_PAGE, HV_COUNTER, XEN_TIME };

/* Every other clock once; a read that fails (a page gone invalid) is
 * counted, not judged. */
static void sample_others(void)
{
    for (unsigned k = 0; k < MIG_OTHER_COUNT; k++) {
        struct mig_other *o = &mig_cap.others[k];
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
    case MIG_GUEST_STOPPED:
        return "kvmclock_guest_stopped_flag";
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
bool mig_guest_now(struct check_ctx *c, struct mig_sample *s)
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

bool mig_take_sample(struct check_ctx *c, struct mig_sample *s, volatile struct kvm_steal_time *st)
{
    if (!mig_guest_now(c, s))
        return false;
    sample_others();
    s->have_steal = false;
    if (st) {
        struct mig_sample after;
        s->steal_before_ns = s->g_ns;
        if (!settled(c, steal_read_within(st, &s->steal, READ_PATIENCE_TICKS), "steal area",
                     st->version))
            return false;
        if (!mig_guest_now(c, &after))
            return false;
        s->steal_after_ns = after.g_ns;
        s->have_steal = true;
        steal_series_add(&mig_cap.steal, s->steal.steal, s->steal_before_ns, s->steal_after_ns);
    }
    return true;
}

/* The wall clock re-read: real time = epoch + kvmclock at the read, off by
 * at most the write's duration (the host reads its two clocks inside it). */
bool mig_wall_reading(struct check_ctx *c, struct mig_ref *r, struct mig_sample *before,
                      struct mig_sample *at, volatile struct kvm_steal_time *st)
{
    struct pvclock_wall_clock w;
    if (!mig_take_sample(c, before, st))
        return false;
    int vector = wrmsr_safe(MSR_KVM_WALL_CLOCK_NEW, pv_gpa(mig_wall));
    if (vector != NO_FAULT)
        return fail(c, "wrmsr(MSR_KVM_WALL_CLOCK_NEW) raised vector %d", vector), false;
    if (!settled(c, pvclock_wall_read_within(mig_wall, &w, READ_PATIENCE_TICKS), "wall clock",
                 mig_wall->version))
        return false;
    if (!mig_take_sample(c, at, st))
        return false;
    if (w.nsec >= 1000000000u)
        return fail(c, "wall clock nsec=%u is not below 10^9", w.nsec), false;
    uint64_t epoch = (uint64_t)w.sec * 1000000000ull + w.nsec;
    *r = (struct mig_ref){ epoch + at->g_ns, at->g_ns,
                           (at->g_ns > before->g_ns ? at->g_ns - before->g_ns : 0) + 1 };
    return true;
}

int mig_edge_poll(struct check_ctx *c, struct mig_edge_poller *p, struct mig_ref *edge)
{
    if (!p->on)
        return 0;
    struct mig_sample before, after;
    if (!mig_guest_now(c, &before))
        return -1;
    uint8_t raw = rtc_seconds_raw();
    if (!mig_guest_now(c, &after))
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

