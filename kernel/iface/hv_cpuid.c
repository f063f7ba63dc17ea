#include "iface/hv_cpuid.h"

#include <stddef.h>

struct known_signature {
    const char sig[12];
    enum hv_kind kind;
    const char *name;
};

static const struct known_signature known[] = {
    { "KVMKVMKVM\0\0\0", HV_KVM, "KVM" },
    { "XenVMMXenVMM", HV_XEN, "Xen" },
    { "Microsoft Hv", HV_HYPERV, "Hyper-V" },
    { "TCGTCGTCGTCG", HV_TCG, "QEMU TCG" },
    { "VMwareVMware", HV_VMWARE, "VMware" },
    { "bhyve bhyve ", HV_BHYVE, "bhyve" },
    { "ACRNACRNACRN", HV_ACRN, "ACRN" },
    { "VBoxVBoxVBox", HV_VBOX, "VirtualBox" },
    { "Jailhouse\0\0\0", HV_JAILHOUSE, "Jailhouse" },
};

static const char *const kvm_features[32] = {
    [0] = "CLOCKSOURCE",       [1] = "NOP_IO_DELAY",      [2] = "MMU_OP",
    [3] = "CLOCKSOURCE2",      [4] = "ASYNC_PF",          [5] = "STEAL_TIME",
    [6] = "PV_EOI",            [7] = "PV_UNHALT",         [9] = "PV_TLB_FLUSH",
    [10] = "ASYNC_PF_VMEXIT",  [11] = "PV_SEND_IPI",      [12] = "POLL_CONTROL",
    [13] = "PV_SCHED_YIELD",   [14] = "ASYNC_PF_INT",     [15] = "MSI_EXT_DEST_ID",
    [16] = "HC_MAP_GPA_RANGE", [17] = "MIGRATION_CONTROL", [24] = "CLOCKSOURCE_STABLE_BIT",
};

const char *kvm_feature_name(unsigned bit)
{
    return bit < 32 ? kvm_features[bit] : NULL;
}

const char *kvm_hint_name(unsigned bit)
{
    return bit == 0 ? "REALTIME" : NULL;
}

uint32_t kvm_defined_features(void)
{
    uint32_t mask = 0;
    for (unsigned b = 0; b < 32; b++)
        if (kvm_features[b])
            mask |= 1u << b;
    return mask;
}

uint32_t kvm_defined_hints(void)
{
    return 1u;
}

static bool printable_signature(const uint8_t raw[12])
{
    bool any = false;
    for (int i = 0; i < 12; i++) {
        if (raw[i] == 0)
            continue;
        if (raw[i] < 0x20 || raw[i] > 0x7e)
            return false;
        any = true;
    }
    return any;
}

static bool same12(const uint8_t *a, const char *b)
{
    for (int i = 0; i < 12; i++)
        if (a[i] != (uint8_t)b[i])
            return false;
    return true;
}

static void store32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

void hv_discover(cpuid_source src, struct hv_discovery *d)
{
    *d = (struct hv_discovery){ 0 };
    struct cpuid_regs r = src(0, 0);
    d->max_basic_leaf = r.eax;
    d->hypervisor_bit = (src(1, 0).ecx >> 31) & 1;

    for (uint32_t base = HV_LEAF_FIRST; base <= 0x4000ff00u; base += HV_LEAF_STEP) {
        r = src(base, 0);
        uint8_t raw[12];
        store32(raw, r.ebx);
        store32(raw + 4, r.ecx);
        store32(raw + 8, r.edx);

        const struct known_signature *k = NULL;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            if (same12(raw, known[i].sig))
                k = &known[i];
        bool in_block = r.eax >= base && r.eax <= base + 0xff;
        /* Outside its range, CPUID repeats the highest basic leaf on some
         * CPUs (and under TCG): only a known signature, or an in-range max
         * leaf with a printable signature, marks a real block. */
        if (!k && !(in_block && printable_signature(raw)))
            continue;
        if (d->n_blocks == sizeof(d->blocks) / sizeof(d->blocks[0])) {
            d->truncated = true;
            break;
        }
        struct hv_block *b = &d->blocks[d->n_blocks++];
        b->base = base;
        b->max_leaf = r.eax;
        b->kind = k ? k->kind : HV_UNKNOWN;
        b->name = k ? k->name : "unknown";
        for (int i = 0; i < 12; i++)
            b->signature[i] = raw[i] >= 0x20 && raw[i] <= 0x7e ? (char)raw[i] : '.';
        b->signature[12] = '\0';
        /* cpuid.rst: on old KVM hosts EAX is 0, meaning base+1. */
        b->last_leaf = (b->kind == HV_KVM && r.eax == 0) ? base + 1 : r.eax;
        b->max_leaf_sane = b->last_leaf >= base && b->last_leaf <= base + 0xff;
    }
}

const struct hv_block *hv_find(const struct hv_discovery *d, enum hv_kind kind)
{
    for (unsigned i = 0; i < d->n_blocks; i++)
        if (d->blocks[i].kind == kind)
            return &d->blocks[i];
    return NULL;
}
