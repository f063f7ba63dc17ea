/* The boot vCPU's runstate area (Xen public/vcpu.h), kept for the runstate
 * suite's checks on one vCPU and across vCPUs. */
#include "live/runstate.h"

#include "iface/xen.h"
#include "lib/report.h"

static volatile struct vcpu_runstate_info *boot_area;
static bool flag_on;

volatile struct vcpu_runstate_info *runstate_area(void)
{
    return boot_area;
}

bool runstate_ensure_area(struct check_ctx *c)
{
    if (boot_area)
        return true;
    volatile struct vcpu_runstate_info *a =
        pv_area_prepare(SLOT_RUNSTATE, RUNSTATE_AREA_OFFSET, RUNSTATE_AREA_BYTES);
    struct xen_area_handle h = { pv_gpa(a) };
    long rc = xen_vcpu_op(VCPUOP_REGISTER_RUNSTATE_MEMORY_AREA, 0, &h);
    if (!expect(c, rc == 0, "VCPUOP_register_runstate_memory_area(vcpu %u, 0x%llx) returned %ld",
                0u, (unsigned long long)pv_gpa(a), rc))
        return false;
    boot_area = a;
    return true;
}

bool runstate_register_anew(struct check_ctx *c)
{
    boot_area = 0;
    return runstate_ensure_area(c);
}

long runstate_enable_update_flag(void)
{
    long rc = xen_hypercall(XEN_HC_VM_ASSIST, VMASST_CMD_ENABLE, VMASST_TYPE_RUNSTATE_UPDATE_FLAG,
                            0, 0, 0);
    if (rc == 0)
        flag_on = true;
    return rc;
}

bool runstate_update_flag_on(void)
{
    return flag_on;
}
