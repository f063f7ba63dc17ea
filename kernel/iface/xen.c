#include "iface/xen.h"

#include "iface/hv_cpuid.h"
#include "iface/runstate.h"
#include "lib/report.h"
#include "platform/cpu.h"

static uint8_t hypercall_page[4096] __attribute__((aligned(4096)));
static struct xen_state state;
static bool initialised;

const struct xen_state *xen_init(void)
{
    if (initialised)
        return &state;
    initialised = true;
    const struct hv_block *b = hv_find(hv_get(), HV_XEN);
    if (!b || b->last_leaf < b->base + 2)
        return &state;
    state.present = true;
    state.base = b->base;
    state.version = cpuid(b->base + 1).eax;
    struct cpuid_regs r = cpuid(b->base + 2);
    state.hypercall_pages = r.eax;
    state.hypercall_msr = r.ebx;
    if (!r.eax || !r.ebx)
        return &state;
    /* Xen fills the page with one 32-byte stub per hypercall when the MSR
     * is written; an unwritten page would be all zeroes. */
    wrmsr(r.ebx, (uint64_t)(uintptr_t)hypercall_page);
    for (unsigned i = 0; i < sizeof(hypercall_page); i++)
        if (hypercall_page[i]) {
            state.hypercall_page = true;
            break;
        }
    return &state;
}

bool xen_ready(void)
{
    return xen_init()->hypercall_page;
}

#ifndef PVCHECK_HOST_MODEL /* the model answers hypercalls itself */
long xen_hypercall(unsigned nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                   uint64_t a5)
{
    if (!xen_ready())
        return -XEN_ENOSYS;
    register uint64_t r10 __asm__("r10") = a4;
    register uint64_t r8 __asm__("r8") = a5;
    long ret;
    /* Xen may clobber the argument registers (debug builds do on purpose). */
    __asm__ volatile("call *%[stub]"
                     : "=a"(ret), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8)
                     : [stub] "r"(hypercall_page + 32 * nr)
                     : "rcx", "r9", "r11", "memory");
    return ret;
}
#endif

long xen_runstate_info(unsigned vcpu, struct runstate_snapshot *out)
{
    struct vcpu_runstate_info info = { 0 };
    long rc = xen_vcpu_op(VCPUOP_GET_RUNSTATE_INFO, vcpu, &info);
    *out = (struct runstate_snapshot){ info.state, info.state_entry_time,
                                       { info.time[0], info.time[1], info.time[2], info.time[3] } };
    return rc;
}

void xen_poweroff(void)
{
    if (!xen_ready())
        return;
    report_line(0, "# leaving: Xen SCHEDOP_shutdown(SHUTDOWN_poweroff)");
    uint32_t reason = SHUTDOWN_POWEROFF;
    xen_hypercall(XEN_HC_SCHED_OP, SCHEDOP_SHUTDOWN, (uint64_t)(uintptr_t)&reason, 0, 0, 0);
}

static uint8_t shared_info_page[4096] __attribute__((aligned(4096)));
static long shared_info_err = 1; /* 1: not tried yet */

volatile uint8_t *xen_shared_info(long *err)
{
    if (shared_info_err == 1) {
        struct xen_add_to_physmap a = { DOMID_SELF, 0, XENMAPSPACE_SHARED_INFO, 0,
                                        (uint64_t)(uintptr_t)shared_info_page >> 12 };
        shared_info_err = xen_hypercall(XEN_HC_MEMORY_OP, XENMEM_ADD_TO_PHYSMAP,
                                        (uint64_t)(uintptr_t)&a, 0, 0, 0);
    }
    if (err)
        *err = shared_info_err;
    return shared_info_err == 0 ? shared_info_page : 0;
}

volatile struct pvclock_vcpu_time_info *xen_vcpu_time(unsigned vcpu)
{
    volatile uint8_t *si = xen_shared_info(0);
    if (!si || vcpu >= XEN_LEGACY_MAX_VCPUS)
        return 0;
    return (volatile struct pvclock_vcpu_time_info *)(si + vcpu * XEN_VCPU_INFO_BYTES +
                                                      XEN_VCPU_TIME_OFFSET);
}

bool xen_time_now(unsigned vcpu, uint64_t *ns)
{
    return pvclock_area_now(xen_vcpu_time(vcpu), ns);
}
