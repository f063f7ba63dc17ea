/* The pvclock ABI shared by kvmclock and Xen's vcpu_time_info: layout, the
 * versioned reader, the documented time formula, and the evaluators the
 * checks decide with. Pure: no wrmsr, no rdtsc; the host tests use it as is. */
#ifndef PVCHECK_PVCLOCK_H
#define PVCHECK_PVCLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iface/versioned.h"

struct pvclock_vcpu_time_info {
    uint32_t version;
    uint32_t pad0;
    uint64_t tsc_timestamp;
    uint64_t system_time;
    uint32_t tsc_to_system_mul;
    int8_t tsc_shift;
    uint8_t flags;
    uint8_t pad[2];
} __attribute__((packed));
_Static_assert(sizeof(struct pvclock_vcpu_time_info) == 32, "pvclock_vcpu_time_info is 32 bytes");
_Static_assert(offsetof(struct pvclock_vcpu_time_info, tsc_to_system_mul) == 24, "mul at 24");
_Static_assert(offsetof(struct pvclock_vcpu_time_info, tsc_shift) == 28, "shift at 28");
_Static_assert(offsetof(struct pvclock_vcpu_time_info, flags) == 29, "flags at 29");

struct pvclock_wall_clock {
    uint32_t version;
    uint32_t sec;
    uint32_t nsec;
} __attribute__((packed));
_Static_assert(sizeof(struct pvclock_wall_clock) == 12, "pvclock_wall_clock is 12 bytes");

#define PVCLOCK_TSC_STABLE_BIT (1u << 0)
#define PVCLOCK_GUEST_STOPPED (1u << 1)
#define PVCLOCK_DEFINED_FLAGS (PVCLOCK_TSC_STABLE_BIT | PVCLOCK_GUEST_STOPPED)

/* A consistent copy of the area's fields. */
struct pvclock_snapshot {
    uint32_t version;
    uint64_t tsc_timestamp;
    uint64_t system_time;
    uint32_t mul;
    int8_t shift;
    uint8_t flags;
};

/* How many times a reader retries a copy whose version moved. */
#define PVCLOCK_READ_TRIES 1000u

/* Versioned read, at most max_tries attempts; *tries gets the count used. */
enum pvclock_read_status pvclock_read(const volatile struct pvclock_vcpu_time_info *area,
                                      struct pvclock_snapshot *out, unsigned max_tries,
                                      unsigned *tries);

enum pvclock_read_status pvclock_wall_read(const volatile struct pvclock_wall_clock *area,
                                           struct pvclock_wall_clock *out, unsigned max_tries);

/* The documented formula, without clamping:
 *   delta = tsc - tsc_timestamp; delta = shift >= 0 ? delta << shift : delta >> -shift;
 *   ns = system_time + (delta * mul) >> 32
 * Returns false (and leaves *ns unset) when the TSC is behind tsc_timestamp or
 * the result does not fit in 64 bits; *behind tells which. */
bool pvclock_ns_at(const struct pvclock_snapshot *s, uint64_t tsc, uint64_t *ns, bool *behind);

/* A re-base, judged at one TSC: how far the parameters after it put that
 * TSC from where those before it did, and the budget for that. */
struct pvclock_rebase {
    uint64_t tsc;
    uint64_t old_ns, new_ns;
    int64_t jump_ns;
    uint64_t budget_ns;
};

/* Evaluates before and after at tsc; false if either cannot be. The budget:
 * 1 ns of truncation per evaluation, plus the multiplier's quantisation
 * (2^-32 relative, each side) over the span evaluated. */
bool pvclock_rebase_at(const struct pvclock_snapshot *before,
                       const struct pvclock_snapshot *after, uint64_t tsc,
                       struct pvclock_rebase *r);

/* Whether a re-base stays within its budget. */
bool pvclock_rebase_within(const struct pvclock_rebase *r);

/* (delta scaled by shift) * mul >> 32 in 128-bit arithmetic; false on overflow. */
bool pvclock_scale(uint64_t delta, uint32_t mul, int8_t shift, uint64_t *out);

/* TSC frequency the parameters imply, in Hz; 0 when mul is 0 or the shift absurd. */
uint64_t pvclock_implied_hz(uint32_t mul, int8_t shift);

/* Field rules for a populated area. Returns NULL, or what is wrong (the
 * message is formatted into why). */
const char *pvclock_params_problem(const struct pvclock_snapshot *s, bool stable_advertised,
                                   char *why, size_t len);

/* Accumulates a run of (snapshot, TSC read after it) samples. */
struct pvclock_stream {
    uint64_t samples;
    uint64_t backward;      /* time lower than the previous sample's */
    uint64_t max_back_ns;
    uint64_t stalls;        /* time equal to the previous sample's */
    uint64_t tsc_behind;    /* TSC read after the fields behind tsc_timestamp */
    uint64_t overflow;      /* formula result out of 64 bits */
    uint64_t version_changes;
    uint64_t max_jump_ns;   /* largest old-vs-new disagreement at one TSC */
    bool have_prev;
    uint64_t prev_ns;
    struct pvclock_snapshot prev;
};

void pvclock_stream_add(struct pvclock_stream *st, const struct pvclock_snapshot *s, uint64_t tsc);

/* Cross-vCPU order: each reading taken right after seeing the latest time
 * another vCPU published must not be earlier than it. */
struct pvclock_order {
    uint64_t comparisons;
    uint64_t backward;
    uint64_t max_back_ns;
};

/* Returns the time to publish next: the later of the two. */
uint64_t pvclock_order_add(struct pvclock_order *o, uint64_t published_ns, uint64_t read_ns);

/* Every vCPU's parameters at one TSC: the spread between the earliest and
 * the latest, and the budget it must stay within (2 ns of truncation plus
 * 2^-30 of the longest span evaluated, for the multipliers' quantisation).
 * Returns false if some snapshot cannot be evaluated at tsc (*bad_cpu). */
struct pvclock_spread {
    uint64_t spread_ns, budget_ns;
    unsigned lo_cpu, hi_cpu, bad_cpu;
    uint64_t lo_ns, hi_ns;
};

bool pvclock_spread_at(const struct pvclock_snapshot *snaps, unsigned n, uint64_t tsc,
                       struct pvclock_spread *out);

/* Raw time from the area at an ordered RDTSC taken after the read (no
 * clamping); false if the read failed or the area holds no clock (version
 * 0, mul 0). Not in the host's pure build: it executes RDTSC. */
bool pvclock_area_now(const volatile struct pvclock_vcpu_time_info *a, uint64_t *ns);

/* pvclock_read and pvclock_wall_read, repeated for up to `ticks` timer
 * ticks (read_within); kernel and host model only. */
enum pvclock_read_status pvclock_read_within(const volatile struct pvclock_vcpu_time_info *a,
                                             struct pvclock_snapshot *s, unsigned ticks);
enum pvclock_read_status pvclock_wall_read_within(const volatile struct pvclock_wall_clock *a,
                                                  struct pvclock_wall_clock *w, unsigned ticks);

#endif
