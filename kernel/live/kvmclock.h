/* The boot vCPU's kvmclock registration: made once, kept, moved or made
 * anew by the kvmclock suite, and asked for by every user of the clock. */
#ifndef PVCHECK_LIVE_KVMCLOCK_H
#define PVCHECK_LIVE_KVMCLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "iface/pvclock.h"
#include "live/pvarea.h"
#include "platform/timer.h"

struct check_ctx;

/* Where in its slot the area is registered, and how long its first
 * update may take. */
#define KVMCLOCK_AREA_OFFSET 0x40
#define KVMCLOCK_POPULATE_TICKS (TIMER_HZ / 10) /* 100 ms */

/* Registers the boot vCPU's kvmclock (MSR_KVM_SYSTEM_TIME_NEW) unless an
 * area is already active; false (the check failed, saying why) if it
 * cannot be. */
bool kvmclock_ensure(struct check_ctx *c);

/* Drops the active area and registers the first slot again. */
bool kvmclock_register_anew(struct check_ctx *c);

/* The area kvmclock is registered at now, or NULL; and its slot. */
volatile struct pvclock_vcpu_time_info *kvmclock_active(void);
enum pv_slot kvmclock_active_slot(void);

/* Raw kvmclock time from that area (no clamping); false if it is NULL or
 * the read failed. */
bool kvmclock_read_ns(volatile struct pvclock_vcpu_time_info *area, uint64_t *ns);

/* Raw kvmclock time from the active area (no clamping); false if there is
 * none or the read failed. */
bool kvmclock_now(uint64_t *ns);

/* Writes msr with a zeroed area at offset in slot, enabled, and reports the
 * read-back; NULL (the check failed) if the write faults. */
volatile struct pvclock_vcpu_time_info *kvmclock_register_at(struct check_ctx *c,
                                                             enum pv_slot slot, unsigned offset,
                                                             uint32_t msr);

/* The same at KVMCLOCK_AREA_OFFSET, then waits 100 ms for the first
 * update and checks the canaries; false (the check failed) otherwise. */
bool kvmclock_register_populated(struct check_ctx *c, enum pv_slot slot, uint32_t msr,
                                 volatile struct pvclock_vcpu_time_info **out);

/* A vCPU's own kvmclock, registered from a job on that vCPU (no check
 * context runs there): the area zeroed, then MSR_KVM_SYSTEM_TIME_NEW
 * written; the WRMSR's vector, and whether the area was written within
 * KVMCLOCK_POPULATE_TICKS. */
struct kvmclock_own {
    int vector;
    bool populated;
};
void kvmclock_register_here(volatile struct pvclock_vcpu_time_info *area, struct kvmclock_own *out);

/* Stops the kvmclock of the vCPU that runs it. */
void kvmclock_unregister_here(void);

/* Leaves the active area for new_slot: no area is active until the new one
 * is populated, which then becomes the active one. */
bool kvmclock_move(struct check_ctx *c, enum pv_slot new_slot,
                   volatile struct pvclock_vcpu_time_info **moved);

/* Points MSR_KVM_SYSTEM_TIME_NEW at the active area again, after a check
 * registered another one; false if there is none. */
bool kvmclock_restore(void);

#endif
