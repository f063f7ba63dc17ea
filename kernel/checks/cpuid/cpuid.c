/* Suite "cpuid": hypervisor discovery as a guest OS does it. */
#include "iface/hv_cpuid.h"
#include "lib/report.h"
#include "platform/cpu.h"

static enum verdict check_hypervisor_bit(struct check_ctx *c)
{
    const struct hv_discovery *d = hv_get();
    figure(c, "hypervisor_bit=%u max_basic_leaf=0x%x", d->hypervisor_bit, d->max_basic_leaf);
    if (d->hypervisor_bit)
        return pass(c);
    if (d->n_blocks)
        return fail(c, "expected CPUID.1:ECX[31]=1 since a block with signature '%s' is at "
                       "0x%x, saw 0: guests that test the bit first will not find it",
                    d->blocks[0].signature, d->blocks[0].base);
    return skip(c, "CPUID.1:ECX[31] clear and no hypervisor leaves: not virtualised");
}

static enum verdict check_hypervisor_blocks(struct check_ctx *c)
{
    const struct hv_discovery *d = hv_get();
    for (unsigned i = 0; i < d->n_blocks; i++) {
        const struct hv_block *b = &d->blocks[i];
        figure(c, "block=0x%08x signature=\"%s\" name=%s max_leaf=0x%08x", b->base,
               b->signature, b->name, b->max_leaf);
        expect(c, b->max_leaf_sane,
               "block 0x%08x: expected max leaf in [0x%08x, 0x%08x], saw 0x%08x", b->base,
               b->base, b->base + 0xff, b->max_leaf);
    }
    figure(c, "blocks=%u", d->n_blocks);
    expect(c, !d->truncated, "more than %u hypervisor blocks; the rest were not examined",
           (unsigned)(sizeof(d->blocks) / sizeof(d->blocks[0])));
    if (d->n_blocks == 0)
        return skip(c, "no hypervisor CPUID block between 0x40000000 and 0x4000ff00");
    return pass(c);
}

static void list_bits(struct check_ctx *c, const char *what, uint32_t value,
                      const char *(*name)(unsigned))
{
    for (unsigned b = 0; b < 32; b++)
        if ((value >> b) & 1)
            figure(c, "%s bit %u %s", what, b, name(b) ? name(b) : "(undefined)");
}

static enum verdict check_kvm_features(struct check_ctx *c)
{
    const struct hv_block *kvm = hv_find(hv_get(), HV_KVM);
    if (!kvm)
        return skip(c, "no KVMKVMKVM signature in any hypervisor block");
    if (kvm->last_leaf < kvm->base + 1)
        return fail(c, "KVM block at 0x%08x has no features leaf (max leaf 0x%08x)", kvm->base,
                    kvm->max_leaf);
    struct cpuid_regs r = cpuid(kvm->base + 1);
    figure(c, "kvm_base=0x%08x features=0x%08x hints=0x%08x", kvm->base, r.eax, r.edx);
    list_bits(c, "feature", r.eax, kvm_feature_name);
    list_bits(c, "hint", r.edx, kvm_hint_name);
    /* Bits cpuid.rst does not define are reported, not failed: a newer KVM
     * may define them. */
    uint32_t undefined_features = r.eax & ~kvm_defined_features();
    uint32_t undefined_hints = r.edx & ~kvm_defined_hints();
    figure(c, "undefined_features=0x%08x undefined_hints=0x%08x", undefined_features,
           undefined_hints);
    return pass(c);
}

/* kHz, or 0 when that source does not enumerate a frequency. */
struct tsc_source {
    const char *name;
    uint64_t khz;
};

static enum verdict check_tsc_frequency_leaves(struct check_ctx *c)
{
    const struct hv_discovery *d = hv_get();
    struct tsc_source src[3] = { { "leaf_0x15", 0 }, { "leaf_0x40000010", 0 }, { "xen_base+3", 0 } };
    unsigned present = 0;

    if (d->max_basic_leaf >= 0x15) {
        struct cpuid_regs r = cpuid(0x15);
        figure(c, "leaf_0x15 denominator=%u numerator=%u crystal_hz=%u", r.eax, r.ebx, r.ecx);
        /* SDM: EBX=0 means the ratio is not enumerated; ECX=0 the crystal. */
        if (r.eax && r.ebx && r.ecx)
            src[0].khz = (uint64_t)r.ecx * r.ebx / r.eax / 1000;
        present++;
    }
    if (d->max_basic_leaf >= 0x16) {
        struct cpuid_regs r = cpuid(0x16);
        figure(c, "leaf_0x16 base_mhz=%u max_mhz=%u bus_mhz=%u", r.eax & 0xffff,
               r.ebx & 0xffff, r.ecx & 0xffff);
        present++;
    }
    const struct hv_block *first = d->n_blocks ? &d->blocks[0] : 0;
    /* 0x40000010 is a VMware convention that KVM/QEMU follow; under another
     * vendor's block (Hyper-V) that leaf means something else. */
    bool vmware_convention = first && (first->kind == HV_KVM || first->kind == HV_VMWARE);
    if (vmware_convention && first->base == HV_LEAF_FIRST && first->last_leaf >= 0x40000010) {
        struct cpuid_regs r = cpuid(0x40000010);
        figure(c, "leaf_0x40000010 tsc_khz=%u bus_khz=%u", r.eax, r.ebx);
        src[1].khz = r.eax;
        present++;
    }
    const struct hv_block *xen = hv_find(d, HV_XEN);
    if (xen && xen->last_leaf >= xen->base + 3) {
        struct cpuid_regs r0 = cpuid_count(xen->base + 3, 0);
        struct cpuid_regs r1 = cpuid_count(xen->base + 3, 1);
        struct cpuid_regs r2 = cpuid_count(xen->base + 3, 2);
        figure(c, "xen_leaf=0x%08x tsc_mode=%u tsc_khz=%u mul=0x%08x shift=%d", xen->base + 3,
               r0.ebx, r0.ecx, r1.ecx, (int)(int8_t)r1.edx);
        /* Xen arch-x86/cpuid.h: sub-leaf 0 ECX is the guest TSC kHz, sub-leaf
         * 1 ECX:EDX mul and shift, sub-leaf 2 EAX the host TSC kHz; the raw
         * words show a leaf whose sub-leaves are not told apart. */
        figure(c, "xen_leaf_raw sub0=%08x:%08x:%08x:%08x sub1=%08x:%08x:%08x:%08x "
                  "sub2=%08x:%08x:%08x:%08x", r0.eax, r0.ebx, r0.ecx, r0.edx, r1.eax, r1.ebx,
               r1.ecx, r1.edx, r2.eax, r2.ebx, r2.ecx, r2.edx);
        src[2].khz = r0.ecx;
        present++;
    }
    if (!present)
        return skip(c, "no TSC frequency leaf (0x15, 0x16, 0x40000010, Xen base+3) present");

    /* Exact sources describe the same TSC: they may differ only by the kHz
     * rounding of each (1 kHz each way). */
    for (unsigned i = 0; i < 3; i++)
        for (unsigned j = i + 1; j < 3; j++) {
            if (!src[i].khz || !src[j].khz)
                continue;
            uint64_t a = src[i].khz, b = src[j].khz;
            uint64_t diff = a > b ? a - b : b - a;
            expect(c, diff <= 2, "%s says %llu kHz but %s says %llu kHz", src[i].name,
                   (unsigned long long)a, src[j].name, (unsigned long long)b);
        }
    return pass(c);
}

static const struct check cpuid_checks[] = {
    { "hypervisor_bit",
      "CPUID.1:ECX[31] is set by hypervisors that offer leaves at 0x40000000 (Linux "
      "Documentation/virt/kvm/x86/cpuid.rst; Intel SDM 'reserved for use by hypervisor')",
      check_hypervisor_bit },
    { "hypervisor_blocks",
      "CPUID 0x40000000+k*0x100: EAX is the highest leaf of the block; KVM cpuid.rst: EAX=0 "
      "means base+1",
      check_hypervisor_blocks },
    { "kvm_features", "Linux Documentation/virt/kvm/x86/cpuid.rst: features in base+1 EAX, hints "
                      "in EDX",
      check_kvm_features },
    { "tsc_frequency_leaves",
      "Intel SDM CPUID 0x15/0x16; VMware/QEMU 0x40000010 EAX=TSC kHz; Xen public/arch-x86/cpuid.h "
      "base+3 ECX=TSC kHz: every leaf that enumerates the TSC frequency names the same one",
      check_tsc_frequency_leaves },
};

static const struct suite cpuid_suite = {
    .name = "cpuid",
    .order = 0,
    .checks = cpuid_checks,
    .n_checks = ARRAY_SIZE(cpuid_checks),
};
REGISTER_SUITE(cpuid_suite);
