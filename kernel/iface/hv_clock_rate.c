#include "iface/hv_clock_rate.h"

#include "iface/hv_cpuid.h"
#include "iface/hyperv.h"
#include "iface/kvm.h"
#include "iface/pvclock.h"
#include "lib/format.h"
#include "platform/safe.h"

/* KVM brings the area up to date before the wrmsr's exit returns to the
 * guest; these reads only cover a host that does it from another thread. */
#define POPULATE_READS 1000000u

/* Its own area, not one of the registered slots the kvmclock suite checks:
 * registered for this one read and dropped again. */
static volatile struct pvclock_vcpu_time_info probe_area __attribute__((aligned(64)));

static uint64_t hyperv_khz(char *why, size_t len)
{
    const struct hv_block *b = hv_find(hv_get(), HV_HYPERV);
    if (!b || b->last_leaf < b->base + 3)
        return 0;
    if (!(cpuid(b->base + 3).eax & HV_PRIV_FREQUENCY_MSRS)) {
        format_buf(why, len, "Hyper-V grants no AccessFrequencyRegs");
        return 0;
    }
    uint64_t hz = 0;
    int vector = rdmsr_safe(HV_MSR_TSC_FREQUENCY, &hz);
    if (vector != NO_FAULT || hz < 1000000u) {
        format_buf(why, len, "HV_X64_MSR_TSC_FREQUENCY %s %llu", vector == NO_FAULT ? "reads" :
                   "faults, vector", vector == NO_FAULT ? (unsigned long long)hz :
                   (unsigned long long)vector);
        return 0;
    }
    return hz / 1000;
}

static uint64_t kvmclock_khz(char *why, size_t len)
{
    uint32_t msr = kvm_has(KVM_FEATURE_CLOCKSOURCE2)  ? MSR_KVM_SYSTEM_TIME_NEW
                   : kvm_has(KVM_FEATURE_CLOCKSOURCE) ? MSR_KVM_SYSTEM_TIME
                                                      : 0;
    if (!msr) {
        format_buf(why, len, "no kvmclock");
        return 0;
    }
    probe_area.version = 0;
    uint64_t gpa = (uint64_t)(uintptr_t)&probe_area;
    if (wrmsr_safe(msr, gpa | 1) != NO_FAULT) {
        format_buf(why, len, "registering kvmclock (MSR 0x%x) faulted", msr);
        return 0;
    }
    struct pvclock_snapshot s = { 0 };
    bool written = false;
    for (unsigned i = 0; i < POPULATE_READS && !written; i++) {
        unsigned tries;
        written = pvclock_read(&probe_area, &s, 1, &tries) == PVCLOCK_READ_OK && s.version;
    }
    (void)wrmsr_safe(msr, 0);
    char problem[128];
    if (!written) {
        format_buf(why, len, "kvmclock's area was not written within %u reads", POPULATE_READS);
        return 0;
    }
    if (pvclock_params_problem(&s, true, problem, sizeof(problem))) {
        format_buf(why, len, "kvmclock's parameters are unusable: %s", problem);
        return 0;
    }
    return pvclock_implied_hz(s.mul, s.shift) / 1000;
}

uint64_t hv_clock_tsc_khz(const char **source, char *why, size_t len)
{
    char hv_why[96] = "no Hyper-V";
    uint64_t khz = hyperv_khz(hv_why, sizeof(hv_why));
    if (khz) {
        *source = "hv_tsc_frequency_msr";
        return khz;
    }
    char kvm_why[160];
    khz = kvmclock_khz(kvm_why, sizeof(kvm_why));
    if (khz) {
        *source = "kvmclock_mul_shift";
        return khz;
    }
    format_buf(why, len, "%s; %s", hv_why, kvm_why);
    return 0;
}
