/* Hyper-V's time interfaces as KVM offers them (hv-time, hv-frequencies):
 * MSR numbers, the CPUID privilege bits, the reference TSC page and its
 * formula, per Microsoft's Hypervisor Top-Level Functional Specification
 * (TLFS), section "Timers". Pure, shared with the host tests. */
#ifndef PVCHECK_HYPERV_H
#define PVCHECK_HYPERV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HV_MSR_GUEST_OS_ID 0x40000000u
#define HV_MSR_TIME_REF_COUNT 0x40000020u
#define HV_MSR_REFERENCE_TSC 0x40000021u
#define HV_MSR_TSC_FREQUENCY 0x40000022u
#define HV_MSR_APIC_FREQUENCY 0x40000023u

/* CPUID base+1 EAX: the vendor-neutral interface signature "Hv#1". */
#define HV_INTERFACE_HV1 0x31237648u

/* CPUID base+3 EAX, the low half of the partition privilege mask. */
#define HV_PRIV_TIME_REF_COUNT (1u << 1)  /* AccessPartitionReferenceCounter */
#define HV_PRIV_REFERENCE_TSC (1u << 9)   /* AccessPartitionReferenceTsc */
#define HV_PRIV_FREQUENCY_MSRS (1u << 11) /* AccessFrequencyRegs */
/* CPUID base+3 EDX: the frequency MSRs are available. */
#define HV_FEATURE_FREQUENCY_MSRS (1u << 8)

/* HV_X64_MSR_REFERENCE_TSC: bit 0 enable, bits 11:1 RsvdP (preserved),
 * bits 63:12 the page's guest-physical page number. */
#define HV_REF_TSC_ENABLE 1ull
#define HV_REF_TSC_RSVDP 0xffeull

/* The reference TSC page (the rest of its 4 KiB is reserved). */
struct hv_ref_tsc_page {
    uint32_t tsc_sequence;
    uint32_t reserved1;
    uint64_t tsc_scale;
    int64_t tsc_offset;
} __attribute__((packed));
_Static_assert(sizeof(struct hv_ref_tsc_page) == 24, "hv_ref_tsc_page header is 24 bytes");

/* A linux-compatible guest OS ID: vendor 0x8100 (open source), any build. */
#define HV_GUEST_OS_ID_PVCHECK 0x8100000000000001ull

struct hv_ref_snapshot {
    uint32_t sequence;
    uint64_t scale;
    int64_t offset;
};

enum hv_ref_status {
    HV_REF_OK,
    HV_REF_INVALID,   /* sequence 0: the page says "use the MSR" */
    HV_REF_UNSETTLED, /* the sequence changed during every try */
};

/* One copy of the page by the TLFS protocol: sequence, fields, sequence
 * again, equal and non-zero. */
enum hv_ref_status hv_ref_read(const volatile struct hv_ref_tsc_page *p, unsigned max_tries,
                               struct hv_ref_snapshot *out);

/* ((tsc * scale) >> 64) + offset, in 100 ns units (wraps as the TLFS's
 * 64-bit arithmetic does). */
uint64_t hv_ref_time(uint64_t tsc, uint64_t scale, int64_t offset);

/* The TSC frequency a scale implies (10^7 * 2^64 / scale), 0 for scale 0. */
uint64_t hv_ref_implied_hz(uint64_t scale);

/* A re-base of the page judged at one TSC: the time the new TscScale and
 * TscOffset give there less what the old gave, in 100 ns units. TscOffset
 * is a whole number of units, so a line re-based onto the same time may lie
 * one unit from the old one; more is a jump. */
#define HV_REF_REBASE_BUDGET_UNITS 1
int64_t hv_ref_rebase_jump(const struct hv_ref_snapshot *before,
                           const struct hv_ref_snapshot *after, uint64_t tsc);
bool hv_ref_rebase_within(int64_t jump_units);

/* How far, in 100 ns units, a page reading lies outside the MSR readings
 * taken before and after it, one unit of rounding allowed each way; 0 when
 * inside. Positive: ahead of the later MSR; negative: behind the earlier. */
int64_t hv_ref_bracket_excess(uint64_t msr_before, uint64_t page, uint64_t msr_after);

/* Why the privilege mask or interface lacks what a check needs, or NULL. */
const char *hv_missing_privilege(uint32_t interface, uint32_t privileges, uint32_t wanted);

#endif
