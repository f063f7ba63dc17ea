/* Suite "tsc": the guest writes its own TSC, as Linux does at boot and CPU
 * bring-up (IA32_TSC_ADJUST, arch/x86/kernel/tsc_sync.c) and older guests do
 * (IA32_TSC). It runs only when asked (guest option tsc_writes): the writes
 * move the TSC that every paravirtual clock is computed from. Each write is
 * undone; the TSC ends on its first course. */
#include "checks/shared/aps.h"
#include "checks/shared/pvclock_checks.h"
#include "checks/shared/tsc_rate.h"
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

/* Each step moves the TSC by 2^32 cycles (seconds on any TSC): far beyond
 * any read's bracket, so that a write that does not take cannot pass. */
#define STEP_CYCLES (1ll << 32)
/* The TSC's rate as known here against real time: 1000 ppm, twice what
 * the rate checks allow a clock, on a bracket of microseconds. */
#define RATE_TOLERANCE_PPM 1000
#define REBASE_WAIT_TICKS (TIMER_HZ / 10)
#define SDM "Intel SDM Vol. 3B, Time-Stamp Counter Adjustment"

static bool has_tsc_adjust(void)
{
    return hv_get()->max_basic_leaf >= 7 && (cpuid_count(7, 0).ebx & CPUID_7_EBX_TSC_ADJUST);
}

/* Each write check moves the TSC forward, then back to where it was. */
static const struct {
    int64_t delta;
    const char *name;
} dirs[] = { { STEP_CYCLES, "forward" }, { -STEP_CYCLES, "back" } };

/* The real time since start, at most, from the reference when it is fine
 * enough, else from the tick. */
struct real_time {
    uint64_t ref, ticks;
    bool fine;
};

static void real_start(struct real_time *r)
{
    const struct refclock *ref = refclock_get();
    r->fine = !ref->unfit && ref->hz >= 1000000;
    r->ref = r->fine ? refclock_read() : 0;
    r->ticks = timer_ticks();
}

static uint64_t real_max_ns(const struct real_time *r)
{
    if (r->fine)
        return refclock_to_ns(refclock_read() - r->ref) + 2 * (1000000000ull / refclock_get()->hz + 1);
    return (timer_ticks() - r->ticks + 1) * (1000000000ull / TIMER_HZ);
}

/* The TSC against a fine reference over 100 ms; 0 without one. */
static uint64_t measured_khz(void)
{
    uint64_t hz, bound;
    const struct refclock *ref = refclock_get();
    return ref->hz >= 1000000 && tsc_hz_against_reference(ref->hz / 10, &hz, &bound) ? hz / 1000
                                                                                     : 0;
}

/* The TSC's rate, from CPUID, else the APIC timer's calibration, else
 * measured against the reference, else kvmclock's mul/shift: only to bound
 * microseconds, 1000 ppm allowed. */
static uint64_t known_khz(const char **source)
{
    uint64_t khz = hv_tsc_khz(source);
    if (!khz && (khz = timer_lapic_calibration()->tsc_khz))
        *source = timer_lapic_calibration()->source;
    if (!khz && (khz = measured_khz()))
        *source = refclock_get()->name;
    if (!khz && (khz = pvclock_tsc_khz()))
        *source = "kvmclock_mul_shift";
    return khz;
}

/* One WRMSR of msr to its value plus delta (the TSC's from a read right
 * before, TSC_ADJUST's from its read), both MSRs read around it. Returns
 * the value written. */
static uint64_t step(uint32_t msr, int64_t delta, bool adjust, uint64_t khz, struct tsc_step *s)
{
    struct real_time r;
    s->adjust_before = adjust ? rdmsr(MSR_IA32_TSC_ADJUST) : 0;
    real_start(&r);
    s->tsc_before = rdtsc_ordered();
    uint64_t written = (msr == MSR_IA32_TSC ? s->tsc_before : s->adjust_before) + (uint64_t)delta;
    wrmsr(msr, written);
    s->tsc_after = rdtsc_ordered();
    s->elapsed_max_cycles = tsc_cycles_within(real_max_ns(&r), khz, RATE_TOLERANCE_PPM);
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
    if (has_tsc_adjust()) {
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
    uint64_t khz = known_khz(&source);
    if (!khz)
        return skip(c, "no TSC rate known to bound the reads by");
    bool adjust = has_tsc_adjust();
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
    if (!has_tsc_adjust())
        return skip(c, "CPUID.7.EBX[1] does not advertise IA32_TSC_ADJUST");
    const char *source;
    uint64_t khz = known_khz(&source);
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
    uint64_t khz = known_khz(&source);
    if (!khz)
        return skip(c, "no TSC rate known to bound the reads by");
    bool adjust = has_tsc_adjust();
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

/* kvmclock read at a TSC read: false if the TSC is behind the parameters'
 * stamp or the result overflows (*why says which). */
static bool kvmclock_at(const struct pvclock_snapshot *s, uint64_t tsc, uint64_t *ns,
                        const char **why)
{
    bool behind = false;
    if (pvclock_ns_at(s, tsc, ns, &behind))
        return true;
    *why = behind ? "the TSC is behind tsc_timestamp" : "the formula overflows";
    return false;
}

/* kvmclock around one write of msr by delta: read right after it, and
 * again REBASE_WAIT_TICKS later (whether and how soon the host re-based it). */
static void kvmclock_around(struct check_ctx *c, uint32_t msr, int64_t delta, const char *what)
{
    struct pvclock_snapshot s0, s1, s2;
    uint64_t ns0, ns1, ns2;
    const char *why;
    struct real_time r;
    /* Registered anew, so that each write starts from parameters the host
     * has just written, whatever the one before left. */
    if (!kvmclock_register_anew(c))
        return;
    volatile struct pvclock_vcpu_time_info *a = kvmclock_active();
    if (!pvclock_read_checked(c, a, &s0))
        return;
    uint64_t base = msr == MSR_IA32_TSC_ADJUST ? rdmsr(MSR_IA32_TSC_ADJUST) : 0;
    real_start(&r);
    uint64_t tb = rdtsc_ordered();
    wrmsr(msr, (msr == MSR_IA32_TSC ? tb : base) + (uint64_t)delta);
    uint64_t ta = rdtsc_ordered();
    uint64_t real_ns = real_max_ns(&r);
    if (!pvclock_read_checked(c, a, &s1))
        return;
    if (!kvmclock_at(&s0, tb, &ns0, &why)) {
        fail(c, "%s: kvmclock unreadable before the write: %s", what, why);
        return;
    }
    bool readable = kvmclock_at(&s1, ta, &ns1, &why);
    int64_t advance = readable ? (int64_t)(ns1 - ns0) : 0;
    figure(c, "%s version=%u->%u tsc_timestamp=%llu->%llu kvmclock_advance_ns=%lld "
              "real_max_ns=%llu",
           what, s0.version, s1.version, (unsigned long long)s0.tsc_timestamp,
           (unsigned long long)s1.tsc_timestamp, (long long)advance, (unsigned long long)real_ns);
    if (!readable)
        fail(c, "%s: right after a guest write moved the TSC %lld cycles, kvmclock cannot be "
                "read: %s (version %u, parameters not re-based)",
             what, (long long)delta, why, s1.version);
    else
        expect(c, advance >= 0 && (uint64_t)advance <= real_ns + 2,
               "%s: across a guest write that moved the TSC %lld cycles kvmclock moved %lld ns "
               "while at most %llu ns passed (version %u -> %u)", what, (long long)delta,
               (long long)advance, (unsigned long long)real_ns, s0.version, s1.version);
    timer_sleep_ticks(REBASE_WAIT_TICKS);
    uint64_t t2 = rdtsc_ordered();
    uint64_t real2 = real_max_ns(&r);
    if (pvclock_read(a, &s2, PVCLOCK_READ_TRIES, 0) == PVCLOCK_READ_OK &&
        kvmclock_at(&s2, t2, &ns2, &why))
        figure(c, "%s after_%ums version=%u kvmclock_advance_ns=%lld real_max_ns=%llu", what,
               REBASE_WAIT_TICKS * 1000 / TIMER_HZ, s2.version, (long long)(ns2 - ns0),
               (unsigned long long)real2);
    else
        figure(c, "%s after_%ums version=%u still unreadable", what,
               REBASE_WAIT_TICKS * 1000 / TIMER_HZ, s2.version);
}

static enum verdict check_kvmclock_across(struct check_ctx *c)
{
    const char *why = kvm_missing(KVM_FEATURE_CLOCKSOURCE2, "KVM_FEATURE_CLOCKSOURCE2");
    if (why)
        return skip(c, "%s", why);
    const char *source;
    if (!known_khz(&source))
        return skip(c, "no TSC rate known to bound the reads by");
    bool adjust = has_tsc_adjust();
    uint64_t first_adjust = adjust ? rdmsr(MSR_IA32_TSC_ADJUST) : 0;
    /* Every direction, whatever the first showed: each is a figure. */
    kvmclock_around(c, MSR_IA32_TSC, STEP_CYCLES, "tsc_forward");
    kvmclock_around(c, MSR_IA32_TSC, -STEP_CYCLES, "tsc_back");
    if (adjust) {
        kvmclock_around(c, MSR_IA32_TSC_ADJUST, STEP_CYCLES, "adjust_forward");
        kvmclock_around(c, MSR_IA32_TSC_ADJUST, -STEP_CYCLES, "adjust_back");
        wrmsr(MSR_IA32_TSC_ADJUST, first_adjust);
    }
    /* Fresh parameters for whoever reads kvmclock next. */
    kvmclock_register_anew(c);
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
