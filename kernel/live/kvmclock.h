/* The boot vCPU's kvmclock registration, shared by the suites that need a
 * clock (steal time measures its growth against kvmclock time). */
#ifndef PVCHECK_KVMCLOCK_H
#define PVCHECK_KVMCLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "checks/pvclock_checks.h"


struct check_ctx;

/* Registers the boot vCPU's kvmclock (MSR_KVM_SYSTEM_TIME_NEW) unless an
 * area is already active; false (the check failed, saying why) if it
 * cannot be. */
bool kvmclock_ensure(struct check_ctx *c);

/* The area kvmclock is registered at now, or NULL. */
volatile struct pvclock_vcpu_time_info *kvmclock_active(void);

/* Raw kvmclock time from that area (no clamping); false if it is NULL or
 * the read failed. */
bool kvmclock_read_ns(volatile struct pvclock_vcpu_time_info *area, uint64_t *ns);

/* Raw kvmclock time from the active area (no clamping); false if there is
 * none or the read failed. */
bool kvmclock_now(uint64_t *ns);

#endif
