/* KVM steal time (MSR_KVM_STEAL_TIME): layout, versioned reader and the
 * evaluators. Pure, shared with the host tests. */
#ifndef PVCHECK_STEAL_H
#define PVCHECK_STEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iface/pvclock.h"

struct kvm_steal_time {
    uint64_t steal;
    uint32_t version;
    uint32_t flags;
    uint8_t preempted;
    uint8_t u8_pad[3];
    uint32_t pad[11];
} __attribute__((packed));
_Static_assert(sizeof(struct kvm_steal_time) == 64, "kvm_steal_time is 64 bytes");
_Static_assert(offsetof(struct kvm_steal_time, version) == 8, "version at 8");
_Static_assert(offsetof(struct kvm_steal_time, preempted) == 16, "preempted at 16");

#define KVM_STEAL_RESERVED_BITS 0x3eull /* bits 1-5 of the MSR value */

struct steal_snapshot {
    uint64_t steal;
    uint32_t version;
    uint32_t flags;
    uint8_t preempted;
    bool padding_zero;
};

enum pvclock_read_status steal_read(const volatile struct kvm_steal_time *area,
                                    struct steal_snapshot *out, unsigned max_tries);

/* steal_read, repeated for up to `ticks` timer ticks (read_within); kernel
 * and host model only. */
enum pvclock_read_status steal_read_within(const volatile struct kvm_steal_time *a,
                                           struct steal_snapshot *s, unsigned ticks);

/* Rules for the vCPU's own area once written, while it runs. NULL, or why not. */
const char *steal_fields_problem(const struct steal_snapshot *s, char *why, size_t len);

/* A series of steal reads, each bracketed by two clock reads (before and
 * after it: the vCPU may be preempted between any two reads). Steal accrued
 * between two steal reads cannot exceed the time from the earlier bracket's
 * start to the later bracket's end, plus 0.1% (host scheduler clock against
 * the guest's clock) and 10 us (clock granularity). */
struct steal_series {
    uint64_t samples;
    uint64_t decreases;
    uint64_t max_decrease;
    uint64_t too_fast;       /* growth beyond the elapsed time and allowance */
    uint64_t max_excess_ns;
    uint64_t total_steal;
    uint64_t total_elapsed;
    bool have_prev;
    uint64_t prev_steal, prev_before_ns, prev_after_ns;
};

#define STEAL_ALLOWANCE_NS 10000u

/* Idle is not steal: halting vCPUs wait for nothing but their timer, so steal
 * accrued while halted is only wake-up latency; 10% of the halted time is
 * far above what an idle host shows and far below what counting idle gives. */
#define IDLE_STEAL_MAX_PERCENT 10u
/* Under a declared load of N busy loops sharing the vCPU's CPU, fair
 * scheduling leaves the vCPU about 1/(N+1) of it: 1% steal is a floor. */
#define LOADED_STEAL_MIN_PERCENT 1u

void steal_series_add(struct steal_series *s, uint64_t steal, uint64_t before_ns,
                      uint64_t after_ns);

#endif
