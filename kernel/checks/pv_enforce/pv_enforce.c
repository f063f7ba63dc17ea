/* Suite "pv_enforce": does KVM refuse the paravirtual MSRs and hypercalls
 * whose CPUID feature bit it did not advertise? That is KVM's
 * KVM_CAP_ENFORCE_PV_FEATURE_CPUID (QEMU kvm-pv-enforce-cpuid=on). A guest
 * cannot see whether enforcement is on, so without the expect_pv_enforce
 * option an accepted access is reported, not failed. */
#include "iface/kvm.h"
#include "lib/options.h"
#include "lib/report.h"
#include "live/kvmclock.h"
#include "live/pvarea.h"
#include "platform/cpu.h"
#include "platform/safe.h"

struct pv_msr {
    uint32_t msr;
    unsigned feature;
    const char *name;
};

static const struct pv_msr pv_msrs[] = {
    { MSR_KVM_WALL_CLOCK, KVM_FEATURE_CLOCKSOURCE, "MSR_KVM_WALL_CLOCK" },
    { MSR_KVM_SYSTEM_TIME, KVM_FEATURE_CLOCKSOURCE, "MSR_KVM_SYSTEM_TIME" },
    { MSR_KVM_WALL_CLOCK_NEW, KVM_FEATURE_CLOCKSOURCE2, "MSR_KVM_WALL_CLOCK_NEW" },
    { MSR_KVM_SYSTEM_TIME_NEW, KVM_FEATURE_CLOCKSOURCE2, "MSR_KVM_SYSTEM_TIME_NEW" },
    { MSR_KVM_ASYNC_PF_EN, KVM_FEATURE_ASYNC_PF, "MSR_KVM_ASYNC_PF_EN" },
    { MSR_KVM_STEAL_TIME, KVM_FEATURE_STEAL_TIME, "MSR_KVM_STEAL_TIME" },
    { MSR_KVM_PV_EOI_EN, KVM_FEATURE_PV_EOI, "MSR_KVM_PV_EOI_EN" },
    { MSR_KVM_POLL_CONTROL, KVM_FEATURE_POLL_CONTROL, "MSR_KVM_POLL_CONTROL" },
    { MSR_KVM_ASYNC_PF_INT, KVM_FEATURE_ASYNC_PF_INT, "MSR_KVM_ASYNC_PF_INT" },
    { MSR_KVM_ASYNC_PF_ACK, KVM_FEATURE_ASYNC_PF_INT, "MSR_KVM_ASYNC_PF_ACK" },
    { MSR_KVM_MIGRATION_CONTROL, KVM_FEATURE_MIGRATION_CONTROL, "MSR_KVM_MIGRATION_CONTROL" },
};

static const char *describe(int vector)
{
    return vector == NO_FAULT ? "accepted" : vector == VECTOR_GP ? "#GP" : "other fault";
}

static enum verdict check_msrs(struct check_ctx *c)
{
    uint32_t features;
    kvm_present(&features);
    bool enforce = pvcheck_options.expect_pv_enforce;
    unsigned hidden = 0, accepted = 0;
    for (unsigned i = 0; i < ARRAY_SIZE(pv_msrs); i++) {
        const struct pv_msr *m = &pv_msrs[i];
        bool advertised = (features >> m->feature) & 1;
        uint64_t value = 0;
        int rd = rdmsr_safe(m->msr, &value);
        if (advertised) {
            /* An advertised MSR must be readable; writing could disturb the
             * interfaces the other suites use, so it is left alone. */
            figure(c, "%s (0x%x) advertised: rdmsr %s value=0x%llx", m->name, m->msr,
                   describe(rd), (unsigned long long)value);
            expect(c, rd == NO_FAULT, "%s is advertised (feature bit %u) but rdmsr raised "
                   "vector %d", m->name, m->feature, rd);
            continue;
        }
        hidden++;
        /* 0 disables every one of these interfaces: a harmless write. */
        int wr = wrmsr_safe(m->msr, 0);
        figure(c, "%s (0x%x) not advertised (bit %u): rdmsr %s, wrmsr %s", m->name, m->msr,
               m->feature, describe(rd), describe(wr));
        if (rd == NO_FAULT || wr == NO_FAULT)
            accepted++;
        if (enforce) {
            expect(c, rd == VECTOR_GP, "rdmsr(%s) without feature bit %u: expected #GP, got %s",
                   m->name, m->feature, describe(rd));
            expect(c, wr == VECTOR_GP, "wrmsr(%s, 0) without feature bit %u: expected #GP, got %s",
                   m->name, m->feature, describe(wr));
        }
    }
    /* A write of 0 to an accepted legacy clock MSR disables kvmclock: restore it. */
    if (kvmclock_active())
        wrmsr(MSR_KVM_SYSTEM_TIME_NEW, pv_gpa(kvmclock_active()) | 1);
    figure(c, "unadvertised=%u accepted=%u enforcement_expected=%d", hidden, accepted, enforce);
    if (!hidden)
        return skip(c, "every KVM PV MSR's feature bit is advertised: nothing to refuse");
    return pass(c);
}

struct pv_hypercall {
    uint64_t nr;
    unsigned feature;
    const char *name;
    uint64_t args[3];
};

/* Arguments that do nothing: APIC ID 0xfff names no vCPU, the IPI bitmap is empty. */
static const struct pv_hypercall pv_hypercalls[] = {
    { 5, KVM_FEATURE_PV_UNHALT, "KVM_HC_KICK_CPU", { 0, 0xfff, 0 } },
    { 10, KVM_FEATURE_PV_SEND_IPI, "KVM_HC_SEND_IPI", { 0, 0, 0 } },
    { 11, KVM_FEATURE_PV_SCHED_YIELD, "KVM_HC_SCHED_YIELD", { 0xfff, 0, 0 } },
};

static enum verdict check_hypercalls(struct check_ctx *c)
{
    uint32_t features;
    kvm_present(&features);
    bool enforce = pvcheck_options.expect_pv_enforce;
    unsigned hidden = 0;
    for (unsigned i = 0; i < ARRAY_SIZE(pv_hypercalls); i++) {
        const struct pv_hypercall *h = &pv_hypercalls[i];
        if ((features >> h->feature) & 1)
            continue;
        hidden++;
        int64_t ret = 0;
        int vector = kvm_hypercall_safe(h->nr, h->args[0], h->args[1], h->args[2], &ret);
        figure(c, "%s (%llu) not advertised (bit %u): ret=%lld", h->name,
               (unsigned long long)h->nr, h->feature, (long long)ret);
        expect(c, vector == NO_FAULT, "%s raised vector %d: hypercalls never fault under KVM",
               h->name, vector);
        if (enforce)
            expect(c, ret == -KVM_ENOSYS, "%s without feature bit %u: expected -KVM_ENOSYS "
                   "(-1000), got %lld", h->name, h->feature, (long long)ret);
    }
    if (!hidden)
        return skip(c, "PV_UNHALT, PV_SEND_IPI and PV_SCHED_YIELD are all advertised");
    return pass(c);
}

static const char *pv_unavailable(void)
{
    uint32_t f;
    return kvm_present(&f) ? 0 : "no KVM signature in any hypervisor CPUID block";
}

static const struct check pv_checks[] = {
    { "msrs", "Linux Documentation/virt/kvm/api.rst KVM_CAP_ENFORCE_PV_FEATURE_CPUID: with "
              "enforcement, PV MSRs whose CPUID feature bit is clear raise #GP",
      check_msrs },
    { "hypercalls", "api.rst KVM_CAP_ENFORCE_PV_FEATURE_CPUID; hypercalls.rst: a hypercall "
                    "whose feature bit is clear returns -KVM_ENOSYS",
      check_hypercalls },
};

static const struct suite pv_suite = {
    .name = "pv_enforce",
    .order = 30,
    .checks = pv_checks,
    .n_checks = ARRAY_SIZE(pv_checks),
    .unavailable = pv_unavailable,
};
REGISTER_SUITE(pv_suite);
