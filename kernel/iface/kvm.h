/* KVM's paravirtual interface as the guest sees it: MSR numbers
 * (Documentation/virt/kvm/x86/msr.rst) and feature bits (cpuid.rst). */
#ifndef PVCHECK_KVM_H
#define PVCHECK_KVM_H

#include <stdbool.h>
#include <stdint.h>

#define MSR_KVM_WALL_CLOCK 0x11
#define MSR_KVM_SYSTEM_TIME 0x12
#define MSR_KVM_WALL_CLOCK_NEW 0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
#define MSR_KVM_ASYNC_PF_EN 0x4b564d02
#define MSR_KVM_STEAL_TIME 0x4b564d03
#define MSR_KVM_PV_EOI_EN 0x4b564d04
#define MSR_KVM_POLL_CONTROL 0x4b564d05
#define MSR_KVM_ASYNC_PF_INT 0x4b564d06
#define MSR_KVM_ASYNC_PF_ACK 0x4b564d07
#define MSR_KVM_MIGRATION_CONTROL 0x4b564d08

/* Hypercall numbers and the error codes hypercalls return, negated
 * (Documentation/virt/kvm/x86/hypercalls.rst). */
#define KVM_HC_CLOCK_PAIRING 9
#define KVM_ENOSYS 1000
#define KVM_EOPNOTSUPP 95

#define KVM_FEATURE_CLOCKSOURCE 0
#define KVM_FEATURE_CLOCKSOURCE2 3
#define KVM_FEATURE_ASYNC_PF 4
#define KVM_FEATURE_STEAL_TIME 5
#define KVM_FEATURE_PV_EOI 6
#define KVM_FEATURE_PV_UNHALT 7
#define KVM_FEATURE_ASYNC_PF_VMEXIT 10
#define KVM_FEATURE_PV_SEND_IPI 11
#define KVM_FEATURE_POLL_CONTROL 12
#define KVM_FEATURE_PV_SCHED_YIELD 13
#define KVM_FEATURE_ASYNC_PF_INT 14
#define KVM_FEATURE_MIGRATION_CONTROL 17
#define KVM_FEATURE_CLOCKSOURCE_STABLE_BIT 24

/* MSR_KVM_ASYNC_PF_EN: bits 63-6 the 64-byte aligned area, 5-4 reserved,
 * 3 'page ready' as an interrupt (needs KVM_FEATURE_ASYNC_PF_INT), 2 as #PF
 * vmexits to L1 (needs KVM_FEATURE_ASYNC_PF_VMEXIT), 1 also at CPL 0, 0
 * enable. MSR_KVM_ASYNC_PF_INT: bits 7-0 the vector, 63-8 reserved. */
#define KVM_ASYNC_PF_ENABLED (1ull << 0)
#define KVM_ASYNC_PF_SEND_ALWAYS (1ull << 1)
#define KVM_ASYNC_PF_DELIVERY_AS_PF_VMEXIT (1ull << 2)
#define KVM_ASYNC_PF_DELIVERY_AS_INT (1ull << 3)
#define KVM_ASYNC_PF_RESERVED 0x30ull
#define KVM_ASYNC_PF_INT_RESERVED (~0xffull)

struct kvm_vcpu_pv_apf_data {
    uint32_t flags; /* 'page not present', delivered as #PF */
    uint32_t token; /* 'page ready', delivered as an interrupt */
    uint8_t pad[56];
};
_Static_assert(sizeof(struct kvm_vcpu_pv_apf_data) == 64, "kvm_vcpu_pv_apf_data is 64 bytes");

/* MSR_KVM_PV_EOI_EN: bit 0 enable, bit 1 reserved, bits 63-2 a 4-byte
 * aligned address of a 4-byte word whose bit 0 the host sets when the EOI
 * may be skipped. MSR_KVM_POLL_CONTROL: bit 0 host-side HLT polling. */
#define KVM_PV_EOI_ENABLED 1ull
#define KVM_PV_EOI_RESERVED 2ull
#define KVM_POLL_CONTROL_ENABLED 1ull

/* True when a KVM block exists; *features gets CPUID(base+1).EAX. */
bool kvm_present(uint32_t *features);
bool kvm_has(unsigned feature_bit);

/* Why a suite that needs this feature bit cannot run, or NULL. */
const char *kvm_missing(unsigned feature_bit, const char *name);

#endif
