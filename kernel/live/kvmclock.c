/* The boot vCPU's kvmclock registration (Documentation/virt/kvm/x86/msr.rst,
 * MSR_KVM_SYSTEM_TIME_NEW), kept for every suite that reads the clock. */
#include "live/kvmclock.h"

#include "iface/kvm.h"
#include "lib/report.h"
#include "platform/cpu.h"
#include "platform/safe.h"
#include "platform/timer.h"


static volatile struct pvclock_vcpu_time_info *active;
static enum pv_slot active_slot;

volatile struct pvclock_vcpu_time_info *kvmclock_active(void)
{
    return active;
}

enum pv_slot kvmclock_active_slot(void)
{
    return active_slot;
}

bool kvmclock_read_ns(volatile struct pvclock_vcpu_time_info *area, uint64_t *ns)
{
    return pvclock_area_now(area, ns);
}

bool kvmclock_now(uint64_t *ns)
{
    return kvmclock_read_ns(active, ns);
}

volatile struct pvclock_vcpu_time_info *kvmclock_register_at(struct check_ctx *c,
                                                             enum pv_slot slot, unsigned offset,
                                                             uint32_t msr)
{
    volatile struct pvclock_vcpu_time_info *a = pv_area_prepare(slot, offset, sizeof(*a));
    uint64_t value = pv_gpa(a) | 1;
    int vector = wrmsr_safe(msr, value);
    if (vector != NO_FAULT) {
        fail(c, "wrmsr(0x%x, 0x%llx) raised vector %d; expected it to enable kvmclock", msr,
             (unsigned long long)value, vector);
        return 0;
    }
    uint64_t readback = 0;
    vector = rdmsr_safe(msr, &readback);
    figure(c, "msr=0x%x wrote=0x%llx readback=0x%llx%s", msr, (unsigned long long)value,
           (unsigned long long)readback, vector == NO_FAULT ? "" : " (rdmsr faulted)");
    return a;
}

void kvmclock_register_here(volatile struct pvclock_vcpu_time_info *area, struct kvmclock_own *out)
{
    for (unsigned i = 0; i < sizeof(*area); i++)
        ((volatile uint8_t *)area)[i] = 0;
    out->vector = wrmsr_safe(MSR_KVM_SYSTEM_TIME_NEW, pv_gpa(area) | 1);
    out->populated = out->vector == NO_FAULT && PV_WAIT_VERSION(area, KVMCLOCK_POPULATE_TICKS) >= 0;
}

void kvmclock_unregister_here(void)
{
    wrmsr(MSR_KVM_SYSTEM_TIME_NEW, 0);
}

bool kvmclock_register_populated(struct check_ctx *c, enum pv_slot slot, uint32_t msr,
                                 volatile struct pvclock_vcpu_time_info **out)
{
    volatile struct pvclock_vcpu_time_info *a =
        kvmclock_register_at(c, slot, KVMCLOCK_AREA_OFFSET, msr);
    if (!a)
        return false;
    int ticks = PV_WAIT_VERSION(a, KVMCLOCK_POPULATE_TICKS);
    if (ticks < 0)
        return fail(c, "area not populated within 100 ms: version=%u mul=0x%x (a page that is "
                       "never written)", a->version, a->tsc_to_system_mul), false;
    figure(c, "populated_within_ms=%d", ticks * 1000 / TIMER_HZ);
    pv_expect_intact(c, slot, KVMCLOCK_AREA_OFFSET, sizeof(*a));
    *out = a;
    return true;
}

bool kvmclock_ensure(struct check_ctx *c)
{
    if (active)
        return true;
    volatile struct pvclock_vcpu_time_info *a;
    if (!kvmclock_register_populated(c, SLOT_KVMCLOCK, MSR_KVM_SYSTEM_TIME_NEW, &a))
        return false;
    active = a;
    active_slot = SLOT_KVMCLOCK;
    return true;
}

bool kvmclock_register_anew(struct check_ctx *c)
{
    active = 0;
    return kvmclock_ensure(c);
}

bool kvmclock_move(struct check_ctx *c, enum pv_slot new_slot,
                   volatile struct pvclock_vcpu_time_info **moved)
{
    active = 0;
    if (!kvmclock_register_populated(c, new_slot, MSR_KVM_SYSTEM_TIME_NEW, moved))
        return false;
    active = *moved;
    active_slot = new_slot;
    return true;
}

bool kvmclock_restore(void)
{
    if (!active)
        return false;
    wrmsr(MSR_KVM_SYSTEM_TIME_NEW, pv_gpa(active) | 1);
    return true;
}
