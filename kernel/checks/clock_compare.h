/* Clocks read at two instants, each reading bracketed by TSC reads, and
 * compared pairwise: the offset between two clocks at the first instant and
 * how far one drifts from the other over the window, against the budget
 * their units and brackets allow. Pure, shared with the host tests. */
#ifndef PVCHECK_CLOCK_COMPARE_H
#define PVCHECK_CLOCK_COMPARE_H

#include <stdbool.h>
#include <stdint.h>

struct clock_reading {
    uint64_t ns;                   /* the clock's value, in ns */
    uint64_t tsc_before, tsc_after; /* ordered TSC reads around it */
};

struct clock_track {
    const char *name;
    uint64_t quantum_ns; /* one unit of the clock (100 for Hyper-V's) */
    bool master;         /* derived from the hypervisor's one guest clock */
    bool ok;             /* both readings taken */
    struct clock_reading a, b;
};

struct clock_pair {
    int64_t offset_ns;  /* y - x at x's first reading */
    int64_t drift_ns;   /* y's elapsed time less x's, over y's span */
    uint64_t budget_ns; /* units plus half of each bracket, both clocks */
    int64_t rate_ppb;   /* drift over x's elapsed time, parts per 10^9 */
};

/* Whether the pair can be compared (both read, spans and elapsed times
 * positive and sane at tsc_hz); fills *out. */
bool clock_pair_compare(const struct clock_track *x, const struct clock_track *y, uint64_t tsc_hz,
                        struct clock_pair *out);

/* Within budget. */
static inline bool clock_pair_agrees(const struct clock_pair *p)
{
    uint64_t d = p->drift_ns < 0 ? (uint64_t)-p->drift_ns : (uint64_t)p->drift_ns;
    return d <= p->budget_ns;
}

/* One latest time all vCPUs publish to, as in kvm-unit-tests' kvmclock
 * test but lock-free: a reader loads it, then reads its clock, which must
 * not be earlier (a warp) and may be equal (a stall), then publishes the
 * later of the two. */
struct shared_last {
    uint64_t last_ns;
};
struct warp_count {
    uint64_t reads, warps, stalls, max_warp_ns;
};
static inline uint64_t shared_last_seen(struct shared_last *s)
{
    return __atomic_load_n(&s->last_ns, __ATOMIC_ACQUIRE);
}
/* ns was read after seen was loaded. */
void shared_last_publish(struct shared_last *s, uint64_t seen, uint64_t ns, struct warp_count *w);

#endif
