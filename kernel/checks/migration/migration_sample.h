/* The migration capture's state and its readers (migration_sample.c), for
 * the capture's loop in migration_capture.c. */
#ifndef PVCHECK_MIGRATION_SAMPLE_H
#define PVCHECK_MIGRATION_SAMPLE_H

#include <stdbool.h>
#include <stdint.h>

#include "checks/migration/migration_capture.h"

/* What the capture found, filled while it runs; and the wall clock area it
 * re-reads, NULL where there is no KVM wall clock. */
extern struct mig_capture mig_cap;
extern volatile struct pvclock_wall_clock *mig_wall;

/* The guest clock now: kvmclock where it is registered, the reference
 * clock otherwise; false (the check failed) if kvmclock cannot be read. */
bool mig_guest_now(struct check_ctx *c, struct mig_sample *s);

/* The guest clock, every other clock once, and steal from st (if any),
 * bracketed by the guest clock. */
bool mig_take_sample(struct check_ctx *c, struct mig_sample *s, volatile struct kvm_steal_time *st);

/* The wall clock re-read: real time = epoch + kvmclock at the read, off by
 * at most the write's duration; before and at get the samples taken just
 * before and after it (an event between two readings falls after the first
 * one's epoch read, so after its before sample too, and before the second
 * one's at sample). */
bool mig_wall_reading(struct check_ctx *c, struct mig_ref *r, struct mig_sample *before,
                      struct mig_sample *at, volatile struct kvm_steal_time *st);

/* Polls the CMOS seconds; on a change, the edge: real time its second.
 * The change came after the previous poll's read began and before this
 * one's ended, each bracketed by the guest clock (a vCPU the host preempts
 * between a sample and the port read would otherwise date the edge early). */
struct mig_edge_poller {
    bool on;
    uint8_t last_raw;
    uint64_t last_before_ns;
};


/* 1 and the edge's reference on a change, 0 without one, -1 if the guest
 * clock failed. */
int mig_edge_poll(struct check_ctx *c, struct mig_edge_poller *p, struct mig_ref *edge);

#endif
