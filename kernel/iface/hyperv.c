#include "iface/hyperv.h"

enum hv_ref_status hv_ref_read(const volatile struct hv_ref_tsc_page *p, unsigned max_tries,
                               struct hv_ref_snapshot *out)
{
    for (unsigned i = 0; i < max_tries; i++) {
        uint32_t seq = p->tsc_sequence;
        if (seq == 0)
            return HV_REF_INVALID;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        out->scale = p->tsc_scale;
        out->offset = p->tsc_offset;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (p->tsc_sequence == seq) {
            out->sequence = seq;
            return HV_REF_OK;
        }
    }
    return HV_REF_UNSETTLED;
}

uint64_t hv_ref_time(uint64_t tsc, uint64_t scale, int64_t offset)
{
    /* A 64x64 multiply keeping the high half: no libgcc division needed. */
    uint64_t high = (uint64_t)(((unsigned __int128)tsc * scale) >> 64);
    return high + (uint64_t)offset;
}

int64_t hv_ref_rebase_jump(const struct hv_ref_snapshot *before,
                           const struct hv_ref_snapshot *after, uint64_t tsc)
{
    return (int64_t)(hv_ref_time(tsc, after->scale, after->offset) -
                     hv_ref_time(tsc, before->scale, before->offset));
}

bool hv_ref_rebase_within(int64_t jump_units)
{
    return jump_units >= -HV_REF_REBASE_BUDGET_UNITS && jump_units <= HV_REF_REBASE_BUDGET_UNITS;
}

uint64_t hv_ref_implied_hz(uint64_t scale)
{
    /* 10^7 * 2^64 / scale = (10^7 * 2^40) / (scale / 2^24): 64-bit only, the
     * dropped low bits of scale cost under 2^24 / scale (below 10^-9 for
     * any TSC under 1 THz). */
    uint64_t s = scale >> 24;
    if (s == 0)
        return scale ? UINT64_MAX : 0;
    return (10000000ull << 40) / s;
}

static int64_t clamp63(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

int64_t hv_ref_bracket_excess(uint64_t msr_before, uint64_t page, uint64_t msr_after)
{
    if (msr_before > 0 && page < msr_before - 1)
        return -clamp63(msr_before - 1 - page);
    if (msr_after < UINT64_MAX && page > msr_after + 1)
        return clamp63(page - msr_after - 1);
    return 0;
}

const char *hv_missing_privilege(uint32_t interface, uint32_t privileges, uint32_t wanted)
{
    if (interface != HV_INTERFACE_HV1)
        return "the Hyper-V block does not present interface Hv#1 (CPUID base+1 EAX)";
    if ((wanted & HV_PRIV_TIME_REF_COUNT) && !(privileges & HV_PRIV_TIME_REF_COUNT))
        return "privilege AccessPartitionReferenceCounter (CPUID base+3 EAX bit 1) not granted";
    if ((wanted & HV_PRIV_REFERENCE_TSC) && !(privileges & HV_PRIV_REFERENCE_TSC))
        return "privilege AccessPartitionReferenceTsc (CPUID base+3 EAX bit 9) not granted";
    if ((wanted & HV_PRIV_FREQUENCY_MSRS) && !(privileges & HV_PRIV_FREQUENCY_MSRS))
        return "privilege AccessFrequencyRegs (CPUID base+3 EAX bit 11) not granted";
    return 0;
}
