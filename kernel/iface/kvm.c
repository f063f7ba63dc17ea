#include "iface/kvm.h"

#include "iface/hv_cpuid.h"
#include "lib/format.h"
#include "platform/cpu.h"

bool kvm_present(uint32_t *features)
{
    const struct hv_block *b = hv_find(hv_get(), HV_KVM);
    if (!b || b->last_leaf < b->base + 1)
        return false;
    *features = cpuid(b->base + 1).eax;
    return true;
}

bool kvm_has(unsigned bit)
{
    uint32_t f;
    return kvm_present(&f) && ((f >> bit) & 1);
}

const char *kvm_missing(unsigned bit, const char *name)
{
    static char reason[96];
    uint32_t f;
    if (!kvm_present(&f))
        return "no KVM signature in any hypervisor CPUID block";
    if ((f >> bit) & 1)
        return 0;
    format_buf(reason, sizeof(reason), "KVM does not advertise %s (CPUID base+1 EAX bit %u)",
               name, bit);
    return reason;
}
