/* The boot vCPU's KVM steal-time registration: made once, kept, moved or
 * made anew by the steal_time suite, and asked for by every user of steal
 * (runstate reports Xen's steal next to it; migration follows it). */
#ifndef PVCHECK_LIVE_STEAL_TIME_H
#define PVCHECK_LIVE_STEAL_TIME_H

#include <stdbool.h>
#include <stdint.h>

#include "iface/steal.h"
#include "live/pvarea.h"

struct check_ctx;

/* 64-byte aligned inside a page-aligned slot. */
#define STEAL_AREA_OFFSET 0x40

/* The boot vCPU's registered steal area (registering it at its usual slot
 * if no check has), or NULL, the check failed saying why. */
volatile struct kvm_steal_time *steal_time_area(struct check_ctx *c);

/* Drops the area and registers the usual slot again. */
volatile struct kvm_steal_time *steal_time_register_anew(struct check_ctx *c);

/* Registers new_slot in place of the active area, which it becomes; NULL
 * (the check failed, and no area is active) if it cannot be. */
volatile struct kvm_steal_time *steal_time_move(struct check_ctx *c, enum pv_slot new_slot);

/* The slot of the active area. */
enum pv_slot steal_time_slot(void);

/* One versioned read of the area, patient for a second; false (the check
 * failed, saying why) if the version never settles. */
bool steal_time_read(struct check_ctx *c, volatile struct kvm_steal_time *a,
                     struct steal_snapshot *s);

/* KVM steal so far, in ns, registering the area if no check has yet;
 * false (the check failed, saying why) if it cannot be read. */
bool steal_time_now(struct check_ctx *c, uint64_t *steal_ns);

#endif
