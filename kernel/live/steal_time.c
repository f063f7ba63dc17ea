/* The boot vCPU's steal-time registration (Documentation/virt/kvm/x86/
 * msr.rst, MSR_KVM_STEAL_TIME), kept for every suite that reads steal. */
#include "live/steal_time.h"

#include "iface/kvm.h"
#include "lib/report.h"
#include "platform/cpu.h"
#include "platform/safe.h"
#include "platform/timer.h"

#define UPDATE_TICKS (TIMER_HZ / 10)

static volatile struct kvm_steal_time *active;
static enum pv_slot active_slot;

/* A writer preempted mid-update leaves the version odd for as long as it
 * is off the CPU: only an update that never finishes within a second is a
 * fault, as for kvmclock (pvclock_read_checked); a count of tries passes in
 * microseconds. */
bool steal_time_read(struct check_ctx *c, volatile struct kvm_steal_time *a,
                     struct steal_snapshot *s)
{
    enum pvclock_read_status st = steal_read_within(a, s, TIMER_HZ);
    if (st != PVCLOCK_READ_OK)
        fail(c, "steal area version %s for over a second of reads (version 0x%x)",
             st == PVCLOCK_READ_ODD ? "stuck odd" : "changing", a->version);
    return st == PVCLOCK_READ_OK;
}

/* Halts a tick at a time (each halt is a vCPU put/load on KVM, which
 * schedules a steal update) until the version is non-zero and even. */
static int wait_update(volatile struct kvm_steal_time *a, uint32_t after_version)
{
    for (int ticks = 0; ticks <= UPDATE_TICKS; ticks++) {
        uint32_t v = a->version;
        if (v != after_version && v != 0 && !(v & 1))
            return ticks;
        timer_sleep_ticks(1);
    }
    return -1;
}

static volatile struct kvm_steal_time *register_steal(struct check_ctx *c, enum pv_slot slot)
{
    volatile struct kvm_steal_time *a = pv_area_prepare(slot, STEAL_AREA_OFFSET, sizeof(*a));
    uint64_t value = pv_gpa(a) | 1;
    int vector = wrmsr_safe(MSR_KVM_STEAL_TIME, value);
    if (vector != NO_FAULT) {
        fail(c, "wrmsr(MSR_KVM_STEAL_TIME, 0x%llx) raised vector %d", (unsigned long long)value,
             vector);
        return 0;
    }
    uint64_t readback = 0;
    vector = rdmsr_safe(MSR_KVM_STEAL_TIME, &readback);
    figure(c, "wrote=0x%llx readback=0x%llx%s", (unsigned long long)value,
           (unsigned long long)readback, vector == NO_FAULT ? "" : " (rdmsr faulted)");
    int ticks = wait_update(a, 0);
    if (ticks < 0) {
        fail(c, "steal area not written within 100 ms of registration (version %u)", a->version);
        return 0;
    }
    figure(c, "first_update_within_ms=%d", ticks * 1000 / TIMER_HZ);
    return a;
}

volatile struct kvm_steal_time *steal_time_area(struct check_ctx *c)
{
    if (!active) {
        active = register_steal(c, SLOT_STEAL);
        active_slot = SLOT_STEAL;
    }
    return active;
}

volatile struct kvm_steal_time *steal_time_register_anew(struct check_ctx *c)
{
    active = 0;
    return steal_time_area(c);
}

volatile struct kvm_steal_time *steal_time_move(struct check_ctx *c, enum pv_slot new_slot)
{
    active = register_steal(c, new_slot);
    if (active)
        active_slot = new_slot;
    return active;
}

enum pv_slot steal_time_slot(void)
{
    return active_slot;
}

bool steal_time_now(struct check_ctx *c, uint64_t *steal_ns)
{
    struct steal_snapshot s;
    if (!steal_time_area(c) || !steal_time_read(c, active, &s))
        return false;
    *steal_ns = s.steal;
    return true;
}
