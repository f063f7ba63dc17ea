/* Xen's guest interface as pvcheck uses it: the hypercall page, installed
 * from 64-bit mode (so Xen treats the guest as 64-bit and uses the 64-bit
 * layouts), and the few hypercalls the checks need. Numbers and layouts are
 * from Xen's public headers (xen.h, vcpu.h, sched.h, memory.h). */
#ifndef PVCHECK_XEN_H
#define PVCHECK_XEN_H

#include <stdbool.h>
#include <stdint.h>

#include "iface/pvclock.h"

#define XEN_HC_MEMORY_OP 12
#define XEN_HC_XEN_VERSION 17
#define XEN_HC_VM_ASSIST 21
#define XEN_HC_VCPU_OP 24
#define XEN_HC_SCHED_OP 29

#define XENVER_VERSION 0
#define VMASST_CMD_ENABLE 0
#define VMASST_TYPE_RUNSTATE_UPDATE_FLAG 5
#define VCPUOP_GET_RUNSTATE_INFO 4
#define VCPUOP_REGISTER_RUNSTATE_MEMORY_AREA 5
#define VCPUOP_REGISTER_VCPU_TIME_MEMORY_AREA 13
#define SCHEDOP_SHUTDOWN 2
#define SHUTDOWN_POWEROFF 0
#define SHUTDOWN_CRASH 3
#define XENMEM_ADD_TO_PHYSMAP 7
#define XENMAPSPACE_SHARED_INFO 0
#define DOMID_SELF 0x7ff0u
#define XEN_LEGACY_MAX_VCPUS 32u

#define XEN_ENOSYS 38

struct xen_state {
    bool present;          /* a Xen CPUID block exists */
    uint32_t base;         /* its first leaf */
    uint32_t version;      /* CPUID base+1 EAX: major << 16 | minor */
    uint32_t hypercall_msr;
    uint32_t hypercall_pages;
    bool hypercall_page;   /* installed and written by Xen */
};

/* Finds Xen and installs the hypercall page (once); the state either way. */
const struct xen_state *xen_init(void);
bool xen_ready(void);

/* Up to five arguments in rdi, rsi, rdx, r10, r8; Xen's result (0 or -errno). */
long xen_hypercall(unsigned nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                   uint64_t a5);

static inline long xen_vcpu_op(unsigned cmd, unsigned vcpu, void *arg)
{
    return xen_hypercall(XEN_HC_VCPU_OP, cmd, vcpu, (uint64_t)(uintptr_t)arg, 0, 0);
}

/* public/memory.h struct xen_add_to_physmap, 64-bit layout. */
struct xen_add_to_physmap {
    uint16_t domid;
    uint16_t size;
    uint32_t space;
    uint64_t idx;
    uint64_t gpfn;
};
_Static_assert(sizeof(struct xen_add_to_physmap) == 24, "xen_add_to_physmap is 24 bytes");

/* The area's guest address: pvcheck maps memory 1:1, so it is also the GPA. */
struct xen_area_handle {
    uint64_t addr;
};

struct runstate_snapshot;
/* VCPUOP_get_runstate_info for that vCPU, as a snapshot; Xen's result. */
long xen_runstate_info(unsigned vcpu, struct runstate_snapshot *out);

/* Powers the domain off (the verdict is in the log); returns on failure. */
void xen_poweroff(void);

/* shared_info (public/xen.h, x86-64): vcpu_info[32] of 64 bytes with the
 * vcpu_time_info at 32, then the event bitmaps, then the wall clock. */
#define XEN_VCPU_INFO_BYTES 64u
#define XEN_VCPU_TIME_OFFSET 32u
#define XEN_WC_OFFSET 3072u      /* wc_version, wc_sec, wc_nsec */
#define XEN_WC_SEC_HI_OFFSET 3084u

/* Maps shared_info (once) into a page of pvcheck's; NULL if Xen refused,
 * with its error in *err. */
volatile uint8_t *xen_shared_info(long *err);

/* vcpu_info[vcpu].time in shared_info, or NULL (not mapped, vcpu >= 32). */
volatile struct pvclock_vcpu_time_info *xen_vcpu_time(unsigned vcpu);

/* Xen system time from that vCPU's vcpu_info (raw formula); false if none. */
bool xen_time_now(unsigned vcpu, uint64_t *ns);

#endif
