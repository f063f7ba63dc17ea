/* smp.preempted's rule for one sibling: a burst of samples that saw its
 * preempted flag is a real preemption only if its steal grows afterwards
 * (a vCPU really preempted waited for a CPU, and KVM adds that wait to its
 * steal when it next enters). Pure: the host tests feed it readings. */
#ifndef PVCHECK_PREEMPT_WATCH_H
#define PVCHECK_PREEMPT_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "platform/madt.h"

struct preempt_watch {
    uint64_t samples, seen[MADT_MAX_CPUS];
    unsigned marked_bursts, unaccounted, pending;
    uint64_t pending_steal; /* the steal before the first pending mark */
};

/* One burst: steal (if steal_ok) read before its samples, and whether any
 * saw the mark. Growth past the first pending mark's steal accounts for
 * every pending one; a marked burst becomes pending. */
void preempt_watch_burst(struct preempt_watch *w, bool marked, bool steal_ok, uint64_t steal);

/* Once the sibling entered again after the last burst: the marks still
 * pending are unaccounted. */
void preempt_watch_close(struct preempt_watch *w, bool steal_ok, uint64_t steal);

#endif
