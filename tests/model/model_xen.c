/* The Xen side of the model: CPUID leaves, the hypercall page, the
 * hypercalls pvcheck makes, shared_info's clock and wall clock, the
 * registered time copy, and the runstate area. Runstate accounting is Xen's
 * (a state change adds the time since the last one to the old state), and
 * the area is written only when the vCPU is not running: at registration,
 * when it halts, when it wakes and when a loaded host gives it back its
 * CPU. Under KVM's emulation the times start at zero (offset 0); under Xen
 * at the vCPU's creation. */
#include <stdatomic.h>
#include <string.h>

#include "iface/runstate.h"
#include "iface/xen.h"
#include "model_internal.h"

#define XEN_MSR 0x40000000u
#define XEN_MAJOR_MINOR (4u << 16 | 17u)
#define TSC_KHZ 2500000u
#define CREATED_NS 500000000ull  /* the vCPU's creation, 0.5 s into Xen's uptime */
#define PREEMPT_EVERY_NS 1000000ull /* a loaded host takes half of each ms */
#define XEN_EINVAL 22
#define XEN_ENOENT 2

static uint8_t *hypercall_page;
static volatile uint8_t *shared_info;
static uint8_t *time_copy;
static bool update_flag;
static uint64_t woke_at;

static struct vcpu_runstate_info record; /* Xen's own, never seen torn */
static volatile uint8_t *runstate_area, *runstate_old;
static unsigned publications;
static uint64_t drift_ns;

struct cpuid_regs model_xen_cpuid(uint32_t index, uint32_t subleaf)
{
    switch (index) {
    case 0:
        return (struct cpuid_regs){ 0x40000004, 0x566e6558, 0x65584d4d, 0x4d4d566e };
    case 1:
        return (struct cpuid_regs){ XEN_MAJOR_MINOR, 0, 0, 0 };
    case 2: /* one hypercall page, installed through XEN_MSR */
        return (struct cpuid_regs){ 1, XEN_MSR, 0, 0 };
    case 3: /* subleaf 0: tsc_mode 0, kHz; 1: the scale Xen's clock uses */
        /* Seen on Linux 6.12 + QEMU 10.0: one entry for every sub-leaf,
         * carrying sub-leaf 1's mul and shift and sub-leaf 2's kHz. */
        if (active_fault == FAULT_time_leaf_merged)
            return (struct cpuid_regs){ TSC_KHZ, 0, 0x66666666u, 0xffffffffu };
        if (subleaf == 0)
            return (struct cpuid_regs){ 0, 0, TSC_KHZ, 0 };
        if (subleaf == 1)
            return (struct cpuid_regs){ 0, 0, 0x66666666u, 0 };
        return (struct cpuid_regs){ 0, 0, 0, 0 };
    case 4: /* HVM features: vCPU id valid (bit 3), vCPU 0 */
        return (struct cpuid_regs){ 1u << 3, 0, 0, 0 };
    default:
        return (struct cpuid_regs){ 0, 0, 0, 0 };
    }
}

int model_xen_wrmsr(uint32_t msr, uint64_t value)
{
    if (msr != XEN_MSR)
        return MODEL_NOT_MINE;
    hypercall_page = (uint8_t *)(uintptr_t)(value & ~4095ull);
    if (active_fault == FAULT_no_hypercall_page)
        return -1;
    /* One stub per hypercall: mov $nr, %eax; vmmcall; ret. */
    for (unsigned nr = 0; nr < 128; nr++) {
        uint8_t *stub = hypercall_page + 32 * nr;
        stub[0] = 0xb8;
        memcpy(stub + 1, &nr, 4);
        stub[5] = 0x0f, stub[6] = 0x01, stub[7] = 0xd9, stub[8] = 0xc3;
    }
    return -1;
}

/* --- shared_info and the time copy (the hypervisor thread) ------------- */

static void write_clocks(bool first)
{
    if (!shared_info || active_fault == FAULT_never_written)
        return;
    /* As KVM's Xen emulation did after a pause: the flag in the updates of
     * the millisecond after each wake-up. */
    uint8_t stopped = active_fault == FAULT_guest_stopped && model_now_ns() - woke_at < 1000000
                          ? PVCLOCK_GUEST_STOPPED
                          : 0;
    model_write_pvclock((uint8_t *)shared_info + XEN_VCPU_TIME_OFFSET, first, stopped);
    if (time_copy) {
        model_write_pvclock(time_copy, first, stopped);
        if (active_fault == FAULT_time_area_offset)
            ((volatile struct pvclock_vcpu_time_info *)time_copy)->system_time += 5000;
        if (active_fault == FAULT_time_area_10ns)
            ((volatile struct pvclock_vcpu_time_info *)time_copy)->system_time += 10;
    }
}

void model_xen_update(void)
{
    write_clocks(false);
}

static void write_wall_clock(void)
{
    if (active_fault == FAULT_never_written)
        return;
    uint64_t boot = model_boot_wall_ns();
    uint64_t sec = boot / 1000000000ull + (active_fault == FAULT_wall_minute ? 60 : 0);
    volatile uint32_t *wc = (volatile uint32_t *)(shared_info + XEN_WC_OFFSET);
    wc[0]++;
    atomic_thread_fence(memory_order_release);
    uint32_t nsec = (uint32_t)(boot % 1000000000ull);
    if (active_fault == FAULT_wall_nsec_1e9) {
        sec--;
        nsec += 1000000000u;
    }
    wc[1] = (uint32_t)sec;
    wc[2] = nsec;
    *(volatile uint32_t *)(shared_info + XEN_WC_SEC_HI_OFFSET) = (uint32_t)(sec >> 32);
    atomic_thread_fence(memory_order_release);
    wc[0]++;
}

/* --- the runstate area (the guest's thread) ---------------------------- */

/* Xen's vcpu_runstate_change: the old state gets the time since its entry. */
static void change_state(int32_t state, uint64_t at)
{
    uint64_t spent = at - record.state_entry_time;
    if (active_fault == FAULT_runstate_too_fast && record.state == RUNSTATE_RUNNING)
        spent *= 2;
    if (active_fault == FAULT_runstate_fast_5permille && record.state == RUNSTATE_RUNNING)
        spent += spent / 200;
    record.time[record.state] += spent;
    record.state_entry_time = at;
    record.state = state;
}

/* The 32-bit layout packs state_entry_time at offset 4 (44 bytes). */
static void write_compat(volatile uint8_t *a, const struct vcpu_runstate_info *v)
{
    memcpy((uint8_t *)a, &v->state, 4);
    memcpy((uint8_t *)a + 4, &v->state_entry_time, 8);
    memcpy((uint8_t *)a + 12, v->time, 32);
}

static void publish_to(volatile uint8_t *where)
{
    volatile struct vcpu_runstate_info *a = (volatile void *)where;
    struct vcpu_runstate_info v = record;
    publications++;
    /* The guest sees only the publications at wake-ups (every other one):
     * one in three published low reaches it between true ones. */
    if (active_fault == FAULT_runstate_decreasing && publications % 3 == 0 &&
        v.time[RUNSTATE_RUNNING] >= 1000000)
        v.time[RUNSTATE_RUNNING] -= 1000000;
    if (active_fault == FAULT_runstate_drift)
        v.time[RUNSTATE_RUNNING] += (drift_ns += 1000);
    if (active_fault == FAULT_runstate_compat_layout)
        return write_compat(where, &v);
    bool flagged = update_flag || active_fault == FAULT_runstate_flag_stuck;
    if (flagged) {
        a->state_entry_time = v.state_entry_time | XEN_RUNSTATE_UPDATE;
        atomic_thread_fence(memory_order_release);
    }
    a->state = v.state;
    for (unsigned i = 0; i < RUNSTATE_COUNT; i++)
        a->time[i] = v.time[i];
    atomic_thread_fence(memory_order_release);
    a->state_entry_time = v.state_entry_time |
                          (active_fault == FAULT_runstate_flag_stuck ? XEN_RUNSTATE_UPDATE : 0);
    if (active_fault == FAULT_runstate_overflow)
        memset((uint8_t *)where + sizeof(*a), 0, 8);
}

static void publish(void)
{
    if (!runstate_area || active_fault == FAULT_never_written)
        return;
    publish_to(runstate_area);
    if (runstate_old && active_fault == FAULT_runstate_old_after_move)
        publish_to(runstate_old);
}

void model_xen_halted(bool halted)
{
    uint64_t now = model_now_ns();
    if (halted) {
        /* Seen on Linux 6.12 + QEMU 10.0: KVM enters blocked only when the
         * VMM says so, and an in-kernel HLT never does. */
        if (active_fault != FAULT_runstate_halt_running)
            change_state(RUNSTATE_BLOCKED, now);
    } else {
        if (active_fault == FAULT_runstate_idle_runnable)
            record.state = RUNSTATE_RUNNABLE;
        if (active_fault == FAULT_runstate_idle_runnable_20 && record.state == RUNSTATE_BLOCKED)
            change_state(RUNSTATE_RUNNABLE, now - (now - record.state_entry_time) / 5);
        change_state(RUNSTATE_RUNNING, now);
        woke_at = now;
        pthread_mutex_lock(&model_lock);
        write_clocks(false); /* Xen updates the vCPU's time as it runs it */
        pthread_mutex_unlock(&model_lock);
    }
    publish();
}

void model_xen_guest_entry(void)
{
    if (!host_loaded || active_fault == FAULT_runstate_no_load ||
        record.state != RUNSTATE_RUNNING)
        return;
    uint64_t now = model_now_ns(), since = now - record.state_entry_time;
    if (since < PREEMPT_EVERY_NS)
        return;
    /* Preempted for the second half of that stretch, and given back the
     * CPU now: Xen writes the area as it switches the vCPU in. */
    change_state(RUNSTATE_RUNNABLE, record.state_entry_time + since / 2);
    change_state(RUNSTATE_RUNNING, now);
    publish();
}

/* --- hypercalls -------------------------------------------------------- */

static long register_runstate(unsigned vcpu, const struct xen_area_handle *h)
{
    if (vcpu != 0)
        return -XEN_ENOENT;
    volatile uint8_t *area = (volatile uint8_t *)(uintptr_t)h->addr;
    if (!area)
        return -XEN_EINVAL;
    if (runstate_area && runstate_area != area)
        runstate_old = runstate_area;
    runstate_area = area;
    /* KVM's emulation brings the times up to now when the area is set. */
    if (active_hv == MODEL_KVM_XEN)
        change_state(record.state, model_now_ns());
    /* Xen writes the area for the vCPU that registers it, there and then. */
    if (active_fault != FAULT_runstate_not_at_registration)
        publish();
    return 0;
}

static long runstate_info(unsigned vcpu, struct vcpu_runstate_info *out)
{
    if (vcpu != 0)
        return -XEN_ENOENT;
    /* Xen's vcpu_runstate_get: the current state up to now. */
    *out = record;
    out->time[out->state] += model_now_ns() - out->state_entry_time;
    if (active_fault == FAULT_runstate_info_stale && out->time[RUNSTATE_RUNNING] >= 1000000)
        out->time[RUNSTATE_RUNNING] = record.time[RUNSTATE_RUNNING] - 1000000;
    if (active_fault == FAULT_runstate_info_ahead)
        out->time[out->state] += 1000000;
    if (active_fault == FAULT_runstate_info_flag && update_flag)
        out->state_entry_time |= XEN_RUNSTATE_UPDATE;
    return 0;
}

static long vcpu_op(uint64_t cmd, uint64_t vcpu, uint64_t arg)
{
    void *p = (void *)(uintptr_t)arg;
    switch (cmd) {
    case VCPUOP_GET_RUNSTATE_INFO:
        if (active_fault == FAULT_runstate_info_enosys)
            return -XEN_ENOSYS;
        return runstate_info((unsigned)vcpu, p);
    case VCPUOP_REGISTER_RUNSTATE_MEMORY_AREA:
        return register_runstate((unsigned)vcpu, p);
    case VCPUOP_REGISTER_VCPU_TIME_MEMORY_AREA: {
        const struct xen_area_handle *h = p;
        if (vcpu != 0)
            return -XEN_ENOENT;
        pthread_mutex_lock(&model_lock);
        time_copy = (uint8_t *)(uintptr_t)h->addr;
        write_clocks(true);
        pthread_mutex_unlock(&model_lock);
        return 0;
    }
    default:
        return -XEN_ENOSYS;
    }
}

static long memory_op(uint64_t cmd, uint64_t arg)
{
    const struct xen_add_to_physmap *a = (void *)(uintptr_t)arg;
    if (cmd != XENMEM_ADD_TO_PHYSMAP)
        return -XEN_ENOSYS;
    if (a->domid != DOMID_SELF || a->space != XENMAPSPACE_SHARED_INFO || a->idx != 0)
        return -XEN_EINVAL;
    pthread_mutex_lock(&model_lock);
    shared_info = (volatile uint8_t *)(uintptr_t)(a->gpfn << 12);
    write_clocks(true);
    write_wall_clock();
    pthread_mutex_unlock(&model_lock);
    return 0;
}

long xen_hypercall(unsigned nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
    (void)a3, (void)a4, (void)a5;
    if (!xen_ready())
        return -XEN_ENOSYS;
    model_exit();
    switch (nr) {
    case XEN_HC_XEN_VERSION:
        if (a1 != XENVER_VERSION)
            return -XEN_ENOSYS;
        return active_fault == FAULT_version_mismatch ? (4 << 16 | 16) : XEN_MAJOR_MINOR;
    case XEN_HC_MEMORY_OP:
        return memory_op(a1, a2);
    case XEN_HC_VCPU_OP:
        return vcpu_op(a1, a2, a3);
    case XEN_HC_VM_ASSIST:
        if (active_fault == FAULT_runstate_info_enosys)
            return -XEN_ENOSYS;
        if (a1 != VMASST_CMD_ENABLE || a2 != VMASST_TYPE_RUNSTATE_UPDATE_FLAG)
            return -XEN_EINVAL;
        update_flag = true;
        return 0;
    default:
        return -XEN_ENOSYS;
    }
}

void model_xen_reset(void)
{
    hypercall_page = 0;
    shared_info = 0;
    time_copy = 0;
    update_flag = false;
    publications = 0;
    woke_at = 0;
    drift_ns = 0;
    runstate_area = runstate_old = 0;
    uint64_t created = active_hv == MODEL_KVM_XEN ? 0 : CREATED_NS;
    record = (struct vcpu_runstate_info){ .state = RUNSTATE_RUNNING, .state_entry_time = created };
}
