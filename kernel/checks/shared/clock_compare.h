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

/* MSR_KVM_WALL_CLOCK_NEW written once on each vCPU: each answer is the wall
 * time at kvmclock 0 (the epoch), computed by the host inside the write. Two
 * host clocks read at different moments of the write skew an epoch by at
 * most the write's duration, so two epochs may differ by their writes'
 * durations (bracket_ns, read in kvmclock around each) plus 500 ppm of the
 * span of all writes (a host clock slewed meanwhile) plus 1 ns of rounding
 * each. The pair furthest past that allowance, or nearest to it. */
struct wall_epochs {
    unsigned lo, hi;      /* the earlier and later epoch of the worst pair */
    uint64_t spread_ns;   /* epoch[hi] - epoch[lo] */
    uint64_t allowed_ns;  /* that pair's allowance */
};
#define WALL_SLEW_PPM 500u
/* n >= 1; false when the worst pair is past its allowance. */
bool wall_epochs_judge(const uint64_t *epoch_ns, const uint64_t *bracket_ns, unsigned n,
                       uint64_t span_ns, struct wall_epochs *out);
