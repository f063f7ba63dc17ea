/* The boot vCPU's kvmclock registration, shared by the suites that need a
 * clock (steal time measures its growth against kvmclock time). */
#ifndef PVCHECK_KVMCLOCK_H
#define PVCHECK_KVMCLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "checks/pvclock_checks.h"


/* The area kvmclock is registered at now, or NULL. */
volatile struct pvclock_vcpu_time_info *kvmclock_active(void);

/* Raw kvmclock time from that area (no clamping); false if it is NULL or
 * the read failed. */
bool kvmclock_read_ns(volatile struct pvclock_vcpu_time_info *area, uint64_t *ns);

/* Raw kvmclock time from the active area (no clamping); false if there is
 * none or the read failed. */
bool kvmclock_now(uint64_t *ns);

#endif
