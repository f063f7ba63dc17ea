/* The boot vCPU's Xen runstate area (public/vcpu.h): registered once with
 * VCPUOP_register_runstate_memory_area, kept, registered anew by the
 * runstate suite, and whether the guest turned the update flag on. */
#ifndef PVCHECK_LIVE_RUNSTATE_H
#define PVCHECK_LIVE_RUNSTATE_H

#include <stdbool.h>

#include "iface/runstate.h"
#include "live/pvarea.h"

struct check_ctx;

#define RUNSTATE_AREA_OFFSET 0x40
#define RUNSTATE_AREA_BYTES 48u

/* The registered area, or NULL. */
volatile struct vcpu_runstate_info *runstate_area(void);

/* Registers the boot vCPU's area unless it is; false, the check failed. */
bool runstate_ensure_area(struct check_ctx *c);

/* Registers the usual area again (after a check registered another). */
bool runstate_register_anew(struct check_ctx *c);

/* VMASST_TYPE_runstate_update_flag: the hypercall's result; once it
 * succeeded, runstate_update_flag_on is true for good (it cannot be
 * turned off). */
long runstate_enable_update_flag(void);
bool runstate_update_flag_on(void);

#endif
