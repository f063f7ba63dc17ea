/* The Hyper-V side of the model (hv-time, hv-frequencies): its CPUID block
 * at 0x40000000, the guest OS ID, the partition reference counter, the
 * reference TSC page (rewritten at every update the way KVM does: sequence
 * 0, the fields, a new sequence) and the frequency MSRs, each with its
 * faults. The reference counter is the model's clock in 100 ns units, less
 * half a second (the partition was created after the host booted). */
#include "model_internal.h"

#include <stdatomic.h>

#include "iface/hyperv.h"

#define TSC_HZ 2500000000ull
#define COUNTER_OFFSET_UNITS 5000000ll
#define PRIVILEGES (HV_PRIV_TIME_REF_COUNT | HV_PRIV_REFERENCE_TSC | HV_PRIV_FREQUENCY_MSRS)

static uint64_t guest_os_id, ref_msr;
static volatile struct hv_ref_tsc_page *page, *old_page;
static uint32_t sequence;
static int64_t offset_units;
static volatile int64_t reused_drift; /* hv_seq_reused: units added since enabling */

void model_hyperv_reset(void)
{
    guest_os_id = ref_msr = 0;
    page = old_page = 0;
    sequence = 0;
    reused_drift = 0;
    offset_units = -COUNTER_OFFSET_UNITS;
}

struct cpuid_regs model_hyperv_cpuid(uint32_t index)
{
    switch (index) {
    case 0:
        return (struct cpuid_regs){ 0x40000000 + HYPERV_LEAVES - 1, le32("Micr"), le32("osof"),
                                    le32("t Hv") };
    case 1:
        return (struct cpuid_regs){ HV_INTERFACE_HV1, 0, 0, 0 };
    case 3:
        return (struct cpuid_regs){ PRIVILEGES, 0, 0, HV_FEATURE_FREQUENCY_MSRS };
    default:
        return (struct cpuid_regs){ 0, 0, 0, 0 };
    }
}

/* hv_rate_300ppm: 3 units in 10 000 more. */
static uint64_t fast(uint64_t v)
{
    return active_fault == FAULT_hv_rate_300ppm ? v + v * 3 / 10000 : v;
}

/* The counter follows the page's re-basing, as KVM's does (it reads the
 * page when it is valid): only the sequence gives the fault away. */
static uint64_t counter_now(void)
{
    uint64_t ns = model_now_ns();
    if (active_fault == FAULT_hv_counter_1ns)
        return ns - (uint64_t)COUNTER_OFFSET_UNITS * 100;
    return fast(ns / 100) - (uint64_t)COUNTER_OFFSET_UNITS + (uint64_t)reused_drift;
}

static void write_page(volatile struct hv_ref_tsc_page *p, bool first)
{
    if (active_fault == FAULT_hv_page_invalid) {
        p->tsc_sequence = 0;
        return;
    }
    /* 10^7 * 2^64 / TSC Hz: one 100 ns unit per 250 ticks at 2.5 GHz. */
    uint64_t scale = active_fault == FAULT_hv_wrong_scale    ? UINT64_MAX / 260
                     : active_fault == FAULT_hv_scale_200ghz ? UINT64_MAX / 20000
                                                             : fast(UINT64_MAX / 250);
    if (active_fault == FAULT_hv_offset_jump && !first)
        offset_units -= 10000;
    bool reuse = active_fault == FAULT_hv_seq_reused && !first;
    p->tsc_sequence = 0;
    atomic_thread_fence(memory_order_seq_cst);
    p->tsc_scale = scale;
    /* hv_page_offset: the page 1 ms ahead of the counter, each right. */
    /* The guest's own TSC writes are taken out of the time: KVM's page
     * is computed from the guest's TSC. */
    int64_t rebase = active_fault == FAULT_hv_page_not_rebased
                         ? 0
                         : (int64_t)(((__int128)model_guest_tsc_offset() * (__int128)scale) >> 64);
    p->tsc_offset = offset_units + reused_drift + reuse - rebase +
                    (active_fault == FAULT_hv_page_offset ? 10000 : 0);
    atomic_thread_fence(memory_order_seq_cst);
    if (!reuse)
        sequence = sequence >= 0xfffffffeu ? 1 : sequence + 1;
    p->tsc_sequence = sequence;
    if (reuse)
        reused_drift = reused_drift + 1;
}

/* KVM rewrites the page only when it updates the master clock: rarely. A
 * rewrite at every one of the model's 100 us updates would leave a reader
 * whose RDTSC costs as much no unchanged sequence to read under. */
#define PAGE_UPDATE_EVERY 50

void model_hyperv_update(void)
{
    static unsigned updates;
    if (++updates % PAGE_UPDATE_EVERY)
        return;
    bool enabled = ref_msr & HV_REF_TSC_ENABLE;
    if (page && (enabled || active_fault == FAULT_hv_page_after_disable))
        write_page(page, false);
    if (old_page && active_fault == FAULT_hv_old_page_after_move)
        write_page(old_page, false);
}

void model_hyperv_clock_moved(int64_t ns)
{
    offset_units += ns / 100;
    if (page && (ref_msr & HV_REF_TSC_ENABLE))
        write_page(page, false);
}

void model_hyperv_tsc_written(void)
{
    if (page && (ref_msr & HV_REF_TSC_ENABLE))
        write_page(page, false);
}

int model_hyperv_wrmsr(uint32_t msr, uint64_t value)
{
    switch (msr) {
    case HV_MSR_GUEST_OS_ID:
        guest_os_id = value;
        return -1;
    case HV_MSR_TIME_REF_COUNT:
        return active_fault == FAULT_hv_counter_writable ? -1 : MODEL_GP;
    case HV_MSR_REFERENCE_TSC: {
        volatile struct hv_ref_tsc_page *p = (void *)(uintptr_t)(value & ~0xfffull);
        if (page && p != page)
            old_page = page;
        ref_msr = value;
        page = p;
        if (value & HV_REF_TSC_ENABLE)
            write_page(p, true);
        return -1;
    }
    case HV_MSR_TSC_FREQUENCY:
    case HV_MSR_APIC_FREQUENCY:
        return MODEL_GP;
    default:
        return MODEL_NOT_MINE;
    }
}

int model_hyperv_rdmsr(uint32_t msr, uint64_t *value)
{
    switch (msr) {
    case HV_MSR_GUEST_OS_ID:
        *value = guest_os_id;
        return -1;
    case HV_MSR_TIME_REF_COUNT:
        *value = counter_now();
        return -1;
    case HV_MSR_REFERENCE_TSC:
        *value = ref_msr;
        return -1;
    case HV_MSR_TSC_FREQUENCY:
        *value = active_fault == FAULT_hv_frequency_lie ? 2600000000ull : TSC_HZ;
        return -1;
    case HV_MSR_APIC_FREQUENCY:
        *value = 1000000000ull;
        return -1;
    default:
        return MODEL_NOT_MINE;
    }
}
