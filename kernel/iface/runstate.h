/* Xen's vCPU runstate area (public/vcpu.h, 64-bit layout): layout, the
 * reader, and the evaluators. Pure, shared with the host tests. */
#ifndef PVCHECK_RUNSTATE_H
#define PVCHECK_RUNSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vcpu_runstate_info {
    int32_t state;
    uint32_t pad;
    uint64_t state_entry_time;
    uint64_t time[4];
} __attribute__((packed));
_Static_assert(sizeof(struct vcpu_runstate_info) == 48, "vcpu_runstate_info is 48 bytes");
_Static_assert(offsetof(struct vcpu_runstate_info, state_entry_time) == 8, "entry at 8");
_Static_assert(offsetof(struct vcpu_runstate_info, time) == 16, "time at 16");

#define RUNSTATE_RUNNING 0
#define RUNSTATE_RUNNABLE 1
#define RUNSTATE_BLOCKED 2
#define RUNSTATE_OFFLINE 3
#define RUNSTATE_COUNT 4
/* Set in state_entry_time while the area is being written, only once the
 * guest enabled VMASST_TYPE_runstate_update_flag. */
#define XEN_RUNSTATE_UPDATE (1ull << 63)
/* Runstate times and the clock that brackets their reads are both the
 * hypervisor's system time, read on possibly different pCPUs: 0.1% and
 * 10 us cover the pCPUs' disagreement and the clock's granularity. */
#define RUNSTATE_ALLOWANCE_NS 10000u

struct runstate_snapshot {
    int32_t state;
    uint64_t entry;
    uint64_t time[RUNSTATE_COUNT];
};

const char *runstate_name(int32_t state);
uint64_t runstate_sum(const struct runstate_snapshot *s);

enum runstate_read_status {
    RUNSTATE_READ_OK,
    RUNSTATE_READ_FLAGGED,  /* every try saw XEN_RUNSTATE_UPDATE */
    RUNSTATE_READ_UNSTABLE, /* state_entry_time kept changing */
};

/* Copies the area between two reads of state_entry_time, retrying while it
 * changed or carried XEN_RUNSTATE_UPDATE; *flag_seen (may be NULL) counts the
 * reads that saw the flag. */
enum runstate_read_status runstate_read(const volatile struct vcpu_runstate_info *a,
                                        struct runstate_snapshot *out, unsigned max_tries,
                                        unsigned *flag_seen);

/* Which rules apply to a snapshot beyond the ones every copy keeps. */
#define RUNSTATE_OWN 1u     /* read by the vCPU it describes: it is running */
#define RUNSTATE_ACCRUED 2u /* VCPUOP_get_runstate_info's copy: the current state's
                               time runs up to the call, past state_entry_time */

/* Rules for one consistent snapshot: a defined state, no update flag, the
 * times' sum not beyond state_entry_time (not for an ACCRUED copy), and
 * (OWN) the reader running. NULL, or what is wrong formatted into why. */
const char *runstate_problem(const struct runstate_snapshot *s, unsigned rules, char *why,
                             size_t len);

/* A series of snapshots, each read between two readings of the hypervisor's
 * clock (before_ns, after_ns). Growth from one snapshot to the next is
 * bounded by the time from the earlier one's state_entry_time to after_ns. */
struct runstate_series {
    uint64_t samples;
    uint64_t decreases;        /* a time or state_entry_time lower than before */
    uint64_t max_decrease;
    uint64_t too_fast;         /* times grew more than the time since the last entry */
    uint64_t max_excess_ns;
    uint64_t offset_changes;   /* state_entry_time - sum(time) moved */
    uint64_t max_offset_delta;
    uint64_t future_entries;   /* entered its state after the reader's clock read */
    uint64_t max_future_ns;
    uint64_t offset;           /* the first sample's state_entry_time - sum(time) */
    uint64_t grown[RUNSTATE_COUNT];
    bool have_prev;
    struct runstate_snapshot prev;
};

void runstate_series_add(struct runstate_series *s, const struct runstate_snapshot *snap,
                         uint64_t before_ns, uint64_t after_ns);

/* Growth of each time from a to b, 0 where it shrank. */
void runstate_growth(const struct runstate_snapshot *a, const struct runstate_snapshot *b,
                     uint64_t out[RUNSTATE_COUNT]);

#endif
