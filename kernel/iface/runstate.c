#include "iface/runstate.h"

#include "lib/format.h"

const char *runstate_name(int32_t state)
{
    static const char *const names[RUNSTATE_COUNT] = { "running", "runnable", "blocked",
                                                       "offline" };
    return state >= 0 && state < RUNSTATE_COUNT ? names[state] : "undefined";
}

uint64_t runstate_sum(const struct runstate_snapshot *s)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < RUNSTATE_COUNT; i++)
        if (__builtin_add_overflow(sum, s->time[i], &sum))
            return UINT64_MAX; /* hostile times: beyond any state_entry_time */
    return sum;
}

enum runstate_read_status runstate_read(const volatile struct vcpu_runstate_info *a,
                                        struct runstate_snapshot *out, unsigned max_tries,
                                        unsigned *flag_seen)
{
    bool flagged = false;
    for (unsigned t = 0; t < max_tries; t++) {
        uint64_t e1 = a->state_entry_time;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (e1 & XEN_RUNSTATE_UPDATE) {
            flagged = true;
            if (flag_seen)
                (*flag_seen)++;
            continue;
        }
        out->state = a->state;
        for (unsigned i = 0; i < RUNSTATE_COUNT; i++)
            out->time[i] = a->time[i];
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        uint64_t e2 = a->state_entry_time;
        if (e1 == e2) {
            out->entry = e1;
            return RUNSTATE_READ_OK;
        }
        flagged = false;
    }
    return flagged ? RUNSTATE_READ_FLAGGED : RUNSTATE_READ_UNSTABLE;
}

const char *runstate_problem(const struct runstate_snapshot *s, unsigned rules, char *why,
                             size_t len)
{
    uint64_t sum = runstate_sum(s);
    if (s->state < 0 || s->state >= RUNSTATE_COUNT)
        format_buf(why, len, "state %d is not one of running/runnable/blocked/offline (0-3)",
                   s->state);
    else if (s->entry & XEN_RUNSTATE_UPDATE)
        format_buf(why, len, "state_entry_time 0x%llx carries the update flag (bit 63)",
                   (unsigned long long)s->entry);
    else if (sum > s->entry && !(rules & RUNSTATE_ACCRUED))
        format_buf(why, len, "the times sum to %llu ns, beyond state_entry_time %llu ns",
                   (unsigned long long)sum, (unsigned long long)s->entry);
    else if ((rules & RUNSTATE_OWN) && s->state != RUNSTATE_RUNNING)
        format_buf(why, len, "the vCPU reading its own area sees itself %s",
                   runstate_name(s->state));
    else
        return NULL;
    return why;
}

void runstate_growth(const struct runstate_snapshot *a, const struct runstate_snapshot *b,
                     uint64_t out[RUNSTATE_COUNT])
{
    for (unsigned i = 0; i < RUNSTATE_COUNT; i++)
        out[i] = b->time[i] > a->time[i] ? b->time[i] - a->time[i] : 0;
}

static void note_decrease(struct runstate_series *s, uint64_t before, uint64_t now)
{
    if (now >= before)
        return;
    s->decreases++;
    if (before - now > s->max_decrease)
        s->max_decrease = before - now;
}

void runstate_series_add(struct runstate_series *s, const struct runstate_snapshot *snap,
                         uint64_t before_ns, uint64_t after_ns)
{
    uint64_t sum = runstate_sum(snap);
    uint64_t offset = snap->entry - sum;
    s->samples++;
    if (snap->entry > after_ns + RUNSTATE_ALLOWANCE_NS) {
        s->future_entries++;
        if (snap->entry - after_ns > s->max_future_ns)
            s->max_future_ns = snap->entry - after_ns;
    }
    if (!s->have_prev) {
        s->offset = offset;
    } else {
        const struct runstate_snapshot *p = &s->prev;
        note_decrease(s, p->entry, snap->entry);
        for (unsigned i = 0; i < RUNSTATE_COUNT; i++)
            note_decrease(s, p->time[i], snap->time[i]);
        uint64_t g[RUNSTATE_COUNT], growth = 0;
        runstate_growth(p, snap, g);
        for (unsigned i = 0; i < RUNSTATE_COUNT; i++) {
            s->grown[i] += g[i];
            growth += g[i];
        }
        /* The area moves only when the state changes, accounting the whole
         * period since the previous state entry: that, not the time since the
         * previous read, bounds the growth. A hostile entry beyond the clock
         * counts as no time at all. */
        uint64_t window = after_ns > p->entry ? after_ns - p->entry : 0;
        uint64_t limit = window + window / 1000 + RUNSTATE_ALLOWANCE_NS;
        if (growth > limit) {
            s->too_fast++;
            if (growth - window > s->max_excess_ns)
                s->max_excess_ns = growth - window;
        }
        if (offset != s->offset) {
            s->offset_changes++;
            uint64_t d = offset > s->offset ? offset - s->offset : s->offset - offset;
            if (d > s->max_offset_delta)
                s->max_offset_delta = d;
        }
    }
    s->have_prev = true;
    s->prev = *snap;
    (void)before_ns;
}
