/* Suite "tsc": the guest writes its own TSC, as Linux does at boot and CPU
 * bring-up (IA32_TSC_ADJUST, arch/x86/kernel/tsc_sync.c) and older guests do
 * (IA32_TSC). It runs only when asked (guest option tsc_writes): the writes
 * move the TSC that every paravirtual clock is computed from. Each write is
 * undone; the TSC ends on its first course. */
#include "checks/shared/aps.h"
#include "checks/shared/pvclock_checks.h"
#include "checks/shared/tsc_rate.h"
#include "checks/tsc/tsc_common.h"
#include "checks/tsc/tsc_judge.h"
#include "iface/hv_cpuid.h"
#include "iface/kvm.h"
#include "iface/tsc_msr.h"
#include "lib/options.h"
#include "lib/report.h"
#include "live/kvmclock.h"
#include "platform/cpu.h"
#include "platform/refclock.h"
#include "platform/safe.h"
#include "platform/smp.h"
#include "platform/timer.h"

/* Each write check moves the TSC forward, then back to where it was. */
static const struct {
    int64_t delta;
    const char *name;
} dirs[] = { { STEP_CYCLES, "forward" }, { -STEP_CYCLES, "back" } };

/* One WRMSR of msr to its value plus delta (the TSC's from a read right
 * before, TSC_ADJUST's from its read), both MSRs read around it. Returns
 * the value written. */
static uint64_t step(uint32_t msr, int64_t delta, bool adjust, uint64_t khz, struct tsc_step *s)
{
    struct tsc_real_time r;
    s->adjust_before = adjust ? rdmsr(MSR_IA32_TSC_ADJUST) : 0;
    tsc_real_start(&r);
    s->tsc_before = rdtsc_ordered();
    uint64_t written = (msr == MSR_IA32_TSC ? s->tsc_before : s->adjust_before) + (uint64_t)delta;
    wrmsr(msr, written);
    s->tsc_after = rdtsc_ordered();
    s->elapsed_max_cycles = tsc_cycles_within(tsc_real_max_ns(&r), khz, RATE_TOLERANCE_PPM);
    s->adjust_after = adjust ? rdmsr(MSR_IA32_TSC_ADJUST) : 0;
    return written;
}

static void judge_step(struct check_ctx *c, const char *what, const struct tsc_step *s,
                       bool adjust)
{
    int64_t advance = 0;
    figure(c, "%s tsc=%llu->%llu adjust=%lld->%lld elapsed_max_cycles=%llu", what,
           (unsigned long long)s->tsc_before, (unsigned long long)s->tsc_after,
           (long long)s->adjust_before, (long long)s->adjust_after,
           (unsigned long long)s->elapsed_max_cycles);
    if (!adjust)
        return;
    bool ok = tsc_step_unbroken(s, &advance);
    figure(c, "%s tsc_less_adjust_advance_cycles=%lld", what, (long long)advance);
    expect(c, ok, "%s: TSC less TSC_ADJUST moved by %lld cycles across the write (TSC moved %lld, "
           "TSC_ADJUST %lld); it may only run on, 0 to %llu cycles", what, (long long)advance,
           (long long)(s->tsc_after - s->tsc_before), (long long)(s->adjust_after - s->adjust_before),
           (unsigned long long)s->elapsed_max_cycles);
}

static enum verdict check_adjust_msr(struct check_ctx *c)
{
    uint64_t v = 0;
    int rd = rdmsr_safe(MSR_IA32_TSC_ADJUST, &v);
    if (tsc_has_adjust()) {
        figure(c, "cpuid_7_ebx_tsc_adjust=1 rdmsr=%d value=%lld", rd, (long long)v);
        expect(c, rd == NO_FAULT, "CPUID.7.EBX[1] advertises IA32_TSC_ADJUST but rdmsr(0x3b) "
               "raised vector %d", rd);
        return pass(c);
    }
    int wr = wrmsr_safe(MSR_IA32_TSC_ADJUST, 0);
    figure(c, "cpuid_7_ebx_tsc_adjust=0 rdmsr=%d wrmsr=%d", rd, wr);
    expect(c, rd == VECTOR_GP && wr == VECTOR_GP, "IA32_TSC_ADJUST is not advertised, yet "
           "rdmsr(0x3b) gave %d and wrmsr gave %d (want #GP, vector 13)", rd, wr);
    return pass(c);
}

static enum verdict check_tsc_write(struct check_ctx *c)
{
    const char *source;
    uint64_t khz = tsc_known_khz(&source);
    if (!khz)
        return skip(c, "no TSC rate known to bound the reads by");
    bool adjust = tsc_has_adjust();
    uint64_t first_adjust = adjust ? rdmsr(MSR_IA32_TSC_ADJUST) : 0;
    figure(c, "tsc_khz=%llu (%s) step_cycles=%lld", (unsigned long long)khz, source,
           (long long)STEP_CYCLES);
    for (unsigned i = 0; i < ARRAY_SIZE(dirs); i++) {
        struct tsc_step s;
        uint64_t written = step(MSR_IA32_TSC, dirs[i].delta, adjust, khz, &s);
        int64_t off;
        bool landed = tsc_step_landed(&s, written, &off); /* before off is read below */
        expect(c, landed, "%s: wrote %llu to IA32_TSC, then read %llu (off by %lld cycles; "
               "want 0 to %llu)", dirs[i].name, (unsigned long long)written,
               (unsigned long long)s.tsc_after, (long long)off,
               (unsigned long long)s.elapsed_max_cycles);
        judge_step(c, dirs[i].name, &s, adjust);
    }
    if (adjust)
        wrmsr(MSR_IA32_TSC_ADJUST, first_adjust); /* the TSC back on its first course */
    return pass(c);
}

static enum verdict check_adjust_write(struct check_ctx *c)
{
    if (!tsc_has_adjust())
        return skip(c, "CPUID.7.EBX[1] does not advertise IA32_TSC_ADJUST");
    const char *source;
    uint64_t khz = tsc_known_khz(&source);
    if (!khz)
        return skip(c, "no TSC rate known to bound the reads by");
    for (unsigned i = 0; i < ARRAY_SIZE(dirs); i++) {
        struct tsc_step s;
        uint64_t written = step(MSR_IA32_TSC_ADJUST, dirs[i].delta, true, khz, &s);
        expect(c, s.adjust_after == written, "%s: wrote %lld to IA32_TSC_ADJUST, read back %lld",
               dirs[i].name, (long long)written, (long long)s.adjust_after);
        judge_step(c, dirs[i].name, &s, true);
    }
    return pass(c);
}

/* What one vCPU saw of its own writes: IA32_TSC forward and back, then
 * IA32_TSC_ADJUST forward and back (where advertised). */
#define STEPS_PER_VCPU 4
struct vcpu_steps {
    uint64_t khz;
    bool adjust, done;
    struct tsc_step s[STEPS_PER_VCPU];
    uint64_t written[STEPS_PER_VCPU];
};
static struct vcpu_steps vcpu_steps[SMP_MAX_CPUS];

static void steps_job(void *arg)
{
    struct vcpu_steps *v = arg;
    uint64_t first_adjust = v->adjust ? rdmsr(MSR_IA32_TSC_ADJUST) : 0;
    for (unsigned i = 0; i < ARRAY_SIZE(dirs); i++)
        v->written[i] = step(MSR_IA32_TSC, dirs[i].delta, v->adjust, v->khz, &v->s[i]);
    if (v->adjust) {
        for (unsigned i = 0; i < ARRAY_SIZE(dirs); i++)
            v->written[2 + i] =
                step(MSR_IA32_TSC_ADJUST, dirs[i].delta, true, v->khz, &v->s[2 + i]);
        wrmsr(MSR_IA32_TSC_ADJUST, first_adjust);
    }
    v->done = true;
}

static enum verdict check_each_vcpu(struct check_ctx *c)
{
    unsigned n = smp_init()->online;
    if (n < 2)
        return skip(c, "one vCPU online: the other checks cover it");
    const char *source;
    uint64_t khz = tsc_known_khz(&source);
    if (!khz)
        return skip(c, "no TSC rate known to bound the reads by");
    bool adjust = tsc_has_adjust();
    unsigned judged = 0;
    for (unsigned cpu = 1; cpu < n; cpu++)
        vcpu_steps[cpu] = (struct vcpu_steps){ .khz = khz, .adjust = adjust };
    smp_run_on_aps(c, steps_job, vcpu_steps, sizeof(vcpu_steps[0]));
    for (unsigned cpu = 1; cpu < n; cpu++) {
        const struct vcpu_steps *v = &vcpu_steps[cpu];
        if (!v->done)
            continue; /* smp_run_on_aps failed the check, saying why */
        for (unsigned i = 0; i < (adjust ? STEPS_PER_VCPU : 2); i++) {
            int64_t advance = 0, off = 0;
            const struct tsc_step *s = &v->s[i];
            bool tsc_msr = i < 2;
            bool landed = !tsc_msr || tsc_step_landed(s, v->written[i], &off);
            bool unbroken = !adjust || tsc_step_unbroken(s, &advance);
            bool read_back = tsc_msr || s->adjust_after == v->written[i];
            figure(c, "vcpu=%u %s_%s tsc_less_adjust_advance_cycles=%lld off=%lld "
                      "elapsed_max_cycles=%llu", cpu, tsc_msr ? "tsc" : "adjust",
                   dirs[i % 2].name, (long long)advance, (long long)off,
                   (unsigned long long)s->elapsed_max_cycles);
            expect(c, landed && unbroken && read_back,
                   "vCPU %u, %s %s: TSC less TSC_ADJUST moved %lld cycles (0 to %llu allowed), "
                   "the TSC %lld cycles from what was written, TSC_ADJUST read back %s", cpu,
                   tsc_msr ? "IA32_TSC" : "IA32_TSC_ADJUST", dirs[i % 2].name,
                   (long long)advance, (unsigned long long)s->elapsed_max_cycles,
                   (long long)off, read_back ? "as written" : "otherwise");
            judged++;
        }
    }
    figure(c, "vcpus=%u steps_judged=%u tsc_khz=%llu (%s)", n, judged, (unsigned long long)khz,
           source);
    return pass(c);
}

static const struct check tsc_checks[] = {
    { "adjust_msr", SDM ": IA32_TSC_ADJUST (MSR 0x3b) exists where CPUID.(EAX=7,ECX=0):EBX[1] "
                    "says; without it, rdmsr and wrmsr #GP", check_adjust_msr },
    { "tsc_write", SDM ": a WRMSR to IA32_TIME_STAMP_COUNTER that moves the TSC by X also "
                   "moves IA32_TSC_ADJUST by X", check_tsc_write },
    { "adjust_write", SDM ": a WRMSR to IA32_TSC_ADJUST that moves it by X moves the TSC by X",
      check_adjust_write },
    { "each_vcpu", SDM ": the MSRs are kept per logical processor; both rules on every other "
                   "vCPU, each writing its own", check_each_vcpu },
    { "kvmclock_across", "kvmclock is time: across a guest write of IA32_TSC or "
                         "IA32_TSC_ADJUST it keeps counting real time, its parameters re-based at "
                         "once (msr.rst says nothing of guest TSC writes)", check_kvmclock_across },
    { "clocks_across", "TLFS 'Reference Counter': strictly monotonic as every vCPU sees it, "
                       "rate constant; so the reference page, unless TscSequence 0 sends the "
                       "guest to the MSR; Xen's vcpu_time_info likewise (its headers are silent "
                       "on guest TSC writes): across the same writes, each counts real time",
      check_clocks_across },
    { "stable_bit", DOC_KVM_MSR " flags bit 0 (with CPUID bit 24): time across vCPUs "
                    "monotonic, which Linux's vDSO reads as 'all vCPUs have matching pvti and "
                    "the TSC is synced': no vCPU's area keeps it once a guest write puts vCPU 1's "
                    "TSC 2^31 cycles and more from vCPU 0's; while both keep it, vCPU 0's "
                    "parameters give vCPU 1's time at its TSC",
      check_stable_bit },
};

static bool tsc_present(void)
{
    return pvcheck_options.tsc_writes;
}

static const struct suite tsc_suite = {
    .name = "tsc",
    .order = 58, /* after every suite that reads a clock but migration */
    .checks = tsc_checks,
    .n_checks = ARRAY_SIZE(tsc_checks),
    .present = tsc_present,
};
REGISTER_SUITE(tsc_suite);
