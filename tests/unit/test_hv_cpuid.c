/* Hypervisor discovery against synthetic CPUID tables, including the ways a
 * CPU or hypervisor answers leaves it does not implement. */
#include "iface/hv_cpuid.h"
#include "unit.h"

static const char *unit_name = "hv_cpuid";

struct leaf {
    uint32_t leaf;
    struct cpuid_regs r;
};

static const struct leaf *table;
static unsigned table_len;
static int out_of_range_repeats_basic; /* Intel/TCG behaviour */

static uint32_t sig(const char *s, int word)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)(unsigned char)s[word * 4 + i] << (8 * i);
    return v;
}

#define SIG(s) sig(s, 0), sig(s, 1), sig(s, 2)

static struct cpuid_regs fake(uint32_t leaf, uint32_t sub)
{
    (void)sub;
    for (unsigned i = 0; i < table_len; i++)
        if (table[i].leaf == leaf)
            return table[i].r;
    if (out_of_range_repeats_basic)
        return (struct cpuid_regs){ 0xd, 0x756e6547, 0x6c65746e, 0x49656e69 };
    return (struct cpuid_regs){ 0, 0, 0, 0 };
}

static void use(const struct leaf *t, unsigned n, int repeats)
{
    table = t;
    table_len = n;
    out_of_range_repeats_basic = repeats;
}

static void tcg(void)
{
    const struct leaf t[] = {
        { 0, { 0xd, 0, 0, 0 } },
        { 1, { 0, 0, 0x80000000u, 0 } },
        { 0x40000000, { 0x40000001, SIG("TCGTCGTCGTCG") } },
        { 0x40000001, { 0, 0, 0, 0 } },
    };
    use(t, 4, 1);
    struct hv_discovery d;
    hv_discover(fake, &d);
    CHECK(d.hypervisor_bit, "hypervisor bit");
    CHECK(d.n_blocks == 1, "blocks %u (out-of-range leaves mistaken for blocks?)", d.n_blocks);
    CHECK(d.blocks[0].kind == HV_TCG && d.blocks[0].max_leaf_sane, "TCG block");
    CHECK_STR(d.blocks[0].signature, "TCGTCGTCGTCG");
    CHECK(hv_find(&d, HV_KVM) == NULL, "no KVM under TCG");
}

static void hyperv_then_kvm(void)
{
    const struct leaf t[] = {
        { 1, { 0, 0, 0x80000000u, 0 } },
        { 0x40000000, { 0x4000000b, SIG("Microsoft Hv") } },
        { 0x40000100, { 0x40000101, SIG("KVMKVMKVM\0\0\0") } },
        { 0x40000101, { 0x010008fb, 0, 0, 1 } },
    };
    use(t, 4, 0);
    struct hv_discovery d;
    hv_discover(fake, &d);
    CHECK(d.n_blocks == 2, "blocks %u", d.n_blocks);
    const struct hv_block *kvm = hv_find(&d, HV_KVM);
    CHECK(kvm && kvm->base == 0x40000100, "KVM must be found past 0x40000000");
    CHECK(hv_find(&d, HV_HYPERV) && hv_find(&d, HV_HYPERV)->base == 0x40000000, "Hyper-V");
    CHECK(kvm && kvm->signature[9] == '.', "NUL bytes shown as dots: %s", kvm ? kvm->signature : "");
}

static void kvm_zero_max_leaf(void)
{
    const struct leaf t[] = {
        { 0x40000000, { 0, SIG("KVMKVMKVM\0\0\0") } },
    };
    use(t, 1, 0);
    struct hv_discovery d;
    hv_discover(fake, &d);
    CHECK(d.n_blocks == 1 && d.blocks[0].last_leaf == 0x40000001 && d.blocks[0].max_leaf_sane,
          "cpuid.rst: EAX=0 means 0x40000001");
}

static void insane_max_leaf(void)
{
    const struct leaf t[] = {
        { 0x40000000, { 0x40000300, SIG("XenVMMXenVMM") } },
        { 0x40000200, { 0x40000205, SIG("NewHyperVisr") } },
        { 0x40000300, { 0x40000305, 0x01020304, 0x05060708, 0 } },
    };
    use(t, 3, 0);
    struct hv_discovery d;
    hv_discover(fake, &d);
    CHECK(d.n_blocks == 2, "blocks %u", d.n_blocks);
    CHECK(d.blocks[0].kind == HV_XEN && !d.blocks[0].max_leaf_sane, "max leaf past the block");
    CHECK(d.blocks[1].kind == HV_UNKNOWN && d.blocks[1].base == 0x40000200 &&
              d.blocks[1].max_leaf_sane, "unknown printable block");
    /* The block's last leaf may be base+0xff, not base+0x100. */
    const struct leaf edge[] = { { 0x40000000, { 0x400000ff, SIG("XenVMMXenVMM") } } };
    use(edge, 1, 0);
    hv_discover(fake, &d);
    CHECK(d.n_blocks == 1 && d.blocks[0].max_leaf_sane, "last leaf base+0xff called insane");
    const struct leaf past[] = { { 0x40000000, { 0x40000100, SIG("XenVMMXenVMM") } } };
    use(past, 1, 0);
    hv_discover(fake, &d);
    CHECK(d.n_blocks == 1 && !d.blocks[0].max_leaf_sane, "last leaf base+0x100 called sane");
}

static struct cpuid_regs every_block_kvm(uint32_t leaf, uint32_t sub)
{
    (void)sub;
    if ((leaf & 0xff) == 0 && leaf >= 0x40000000)
        return (struct cpuid_regs){ leaf + 1, SIG("KVMKVMKVM\0\0\0") };
    return (struct cpuid_regs){ 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff };
}

static void hostile_all_blocks(void)
{
    struct hv_discovery d;
    hv_discover(every_block_kvm, &d);
    CHECK(d.n_blocks == 16 && d.truncated, "blocks %u truncated %d", d.n_blocks, d.truncated);
}

static void feature_names(void)
{
    CHECK_STR(kvm_feature_name(3), "CLOCKSOURCE2");
    CHECK_STR(kvm_feature_name(5), "STEAL_TIME");
    CHECK_STR(kvm_feature_name(24), "CLOCKSOURCE_STABLE_BIT");
    CHECK(kvm_feature_name(8) == NULL && kvm_feature_name(18) == NULL &&
              kvm_feature_name(31) == NULL && kvm_feature_name(32) == NULL, "undefined bits");
    CHECK(kvm_defined_features() == 0x0103feffu, "defined mask 0x%08x", kvm_defined_features());
    CHECK_STR(kvm_hint_name(0), "REALTIME");
}

int main(void)
{
    RUN(tcg);
    RUN(hyperv_then_kvm);
    RUN(kvm_zero_max_leaf);
    RUN(insane_max_leaf);
    RUN(hostile_all_blocks);
    RUN(feature_names);
    return unit_any_failed;
}
