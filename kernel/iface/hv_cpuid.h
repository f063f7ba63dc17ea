/* Hypervisor discovery through CPUID: every vendor block from 0x40000000 to
 * 0x4000ff00, decoded. Pure: the CPUID source is a parameter, so the host
 * tests feed it synthetic and hostile leaves. */
#ifndef PVCHECK_HV_CPUID_H
#define PVCHECK_HV_CPUID_H

#include <stdbool.h>
#include <stdint.h>

#include "platform/cpu.h"

#define HV_LEAF_FIRST 0x40000000u
#define HV_LEAF_STEP 0x100u
#define HV_MAX_BLOCKS 256

typedef struct cpuid_regs (*cpuid_source)(uint32_t leaf, uint32_t subleaf);

enum hv_kind {
    HV_UNKNOWN,
    HV_KVM,
    HV_XEN,
    HV_HYPERV,
    HV_TCG,
    HV_VMWARE,
    HV_BHYVE,
    HV_ACRN,
    HV_VBOX,
    HV_JAILHOUSE,
};

struct hv_block {
    uint32_t base;
    uint32_t max_leaf;      /* as reported (KVM may report 0) */
    uint32_t last_leaf;     /* usable: max_leaf, or base+1 for KVM's 0 */
    char signature[13];     /* printable copy, '.' for other bytes */
    enum hv_kind kind;
    const char *name;
    bool max_leaf_sane;     /* last_leaf within [base, base+0xff] */
};

struct hv_discovery {
    bool hypervisor_bit;
    uint32_t max_basic_leaf;
    unsigned n_blocks;
    struct hv_block blocks[16];
    bool truncated;         /* more blocks than fit */
};

void hv_discover(cpuid_source src, struct hv_discovery *d);

/* The first block of that kind, or NULL. */
const struct hv_block *hv_find(const struct hv_discovery *d, enum hv_kind kind);

/* KVM feature (CPUID base+1 EAX) and hint (EDX) bit names; NULL when undefined. */
const char *kvm_feature_name(unsigned bit);
const char *kvm_hint_name(unsigned bit);
uint32_t kvm_defined_features(void);
uint32_t kvm_defined_hints(void);

/* The discovery for this boot, from the real CPUID (guest only). */
const struct hv_discovery *hv_get(void);

/* The TSC frequency a hypervisor or the CPU states in CPUID (Xen base+3,
 * KVM/VMware 0x40000010, leaf 0x15), in kHz, and which leaf; 0 if none. */
uint64_t hv_tsc_khz(const char **source);

#endif
