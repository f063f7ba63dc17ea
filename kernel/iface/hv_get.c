/* The discovery for this boot, made once from the real CPUID. */
#include "iface/hv_cpuid.h"

static struct hv_discovery discovery;
static bool done;

const struct hv_discovery *hv_get(void)
{
    if (!done) {
        hv_discover(cpuid_count, &discovery);
        done = true;
    }
    return &discovery;
}

uint64_t hv_tsc_khz(const char **source)
{
    const struct hv_discovery *d = hv_get();
    const struct hv_block *b = hv_find(d, HV_XEN);
    uint32_t khz = b && b->last_leaf >= b->base + 3 ? cpuid_count(b->base + 3, 0).ecx : 0;
    if (khz) {
        *source = "xen_base+3";
        return khz;
    }
    b = d->n_blocks ? &d->blocks[0] : 0;
    khz = b && (b->kind == HV_KVM || b->kind == HV_VMWARE) && b->base == HV_LEAF_FIRST &&
                  b->last_leaf >= 0x40000010
              ? cpuid(0x40000010).eax
              : 0;
    if (khz) {
        *source = "leaf_0x40000010";
        return khz;
    }
    if (d->max_basic_leaf >= 0x15) {
        struct cpuid_regs r = cpuid(0x15);
        if (r.eax && r.ebx && r.ecx) {
            *source = "leaf_0x15";
            return (uint64_t)r.ecx * r.ebx / r.eax / 1000;
        }
    }
    *source = "none";
    return 0;
}
