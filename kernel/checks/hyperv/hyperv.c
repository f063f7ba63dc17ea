/* Suite "hyperv": Hyper-V's partition reference counter, reference TSC page
 * and frequency MSRs, used as a guest OS uses them, each rule from the TLFS
 * (Hypervisor Top-Level Functional Specification) section "Timers" and
 * Linux's include/hyperv/hvgdk_mini.h (formerly asm/hyperv-tlfs.h). */
#include "checks/hyperv/hyperv_checks.h"
#include "checks/shared/rate.h"
#include "checks/shared/sampling.h"
#include "checks/shared/tsc_rate.h"
#include "iface/hv_cpuid.h"
#include "iface/hyperv.h"
#include "lib/options.h"
#include "lib/report.h"
#include "lib/str.h"
#include "live/kvmclock.h"
#include "platform/budget.h"
#include "platform/cpu.h"
#include "platform/refclock.h"
#include "platform/safe.h"

#define READ_TRIES HV_READ_TRIES
#define COUNTER_READS 100000u
#define MIN_READS 1000u

static const char *hyperv_unavailable(void)
{
    return hv_find(hv_get(), HV_HYPERV) ? 0
                                        : "no \"Microsoft Hv\" signature in any hypervisor "
                                          "CPUID block";
}

static enum verdict check_discovery(struct check_ctx *c)
{
    struct hv_leaves l = hv_leaves_read();
    char iface[5];
    for (int i = 0; i < 4; i++) {
        char ch = (char)(l.interface >> (8 * i));
        iface[i] = ch >= 0x20 && ch < 0x7f ? ch : '.';
    }
    iface[4] = '\0';
    figure(c, "base=0x%08x max_leaf=0x%08x interface=\"%s\" privileges=0x%08x features_edx=0x%08x",
           l.base, l.last_leaf, iface, l.privileges, l.features_edx);
    figure(c, "AccessPartitionReferenceCounter=%d AccessPartitionReferenceTsc=%d "
              "AccessFrequencyRegs=%d frequency_msrs_available=%d",
           !!(l.privileges & HV_PRIV_TIME_REF_COUNT), !!(l.privileges & HV_PRIV_REFERENCE_TSC),
           !!(l.privileges & HV_PRIV_FREQUENCY_MSRS),
           !!(l.features_edx & HV_FEATURE_FREQUENCY_MSRS));
    expect(c, l.interface == HV_INTERFACE_HV1,
           "CPUID 0x%08x EAX is 0x%08x, not the interface signature \"Hv#1\"", l.base + 1,
           l.interface);
    expect(c, l.last_leaf >= l.base + 5,
           "the Hyper-V block ends at 0x%08x; a hypervisor presenting Hv#1 implements leaves up "
           "to base+5 (0x%08x)", l.last_leaf, l.base + 5);
    return pass(c);
}

static enum verdict check_guest_os_id(struct check_ctx *c)
{
    uint64_t before = 0, counter = 0;
    int vector = rdmsr_safe(HV_MSR_GUEST_OS_ID, &before);
    /* Observations, not verdicts: what the interface does before the guest
     * has identified itself. */
    int counter_vector = rdmsr_safe(HV_MSR_TIME_REF_COUNT, &counter);
    figure(c, "before_write: guest_os_id=0x%llx (vector %d) time_ref_count=%llu (vector %d)",
           (unsigned long long)before, vector, (unsigned long long)counter, counter_vector);
    hv_forget_os_id();
    if (!hv_ensure_os_id(c))
        return pass(c);
    hv_expect_readback(c, HV_MSR_GUEST_OS_ID, "HV_X64_MSR_GUEST_OS_ID", HV_GUEST_OS_ID_PVCHECK);
    return pass(c);
}

/* A reference-counter reading paired with the reference clock: the MSR on
 * both sides of one reference read, the midpoint and half the gap. */
struct counter_point {
    uint64_t ref, units, uncertainty_units, resolution_ns;
};

static bool counter_point(struct check_ctx *c, struct counter_point *p)
{
    uint64_t a, b;
    struct refclock_point r;
    if (!hv_read_counter(c, &a))
        return false;
    if (!refclock_point(&r))
        return fail(c, "the %s reference showed no edge", refclock_get()->name), false;
    p->ref = r.count;
    p->resolution_ns = r.resolution_ns;
    if (!hv_read_counter(c, &b))
        return false;
    p->units = a + (b - a) / 2;
    p->uncertainty_units = (b - a) / 2 + 1;
    return expect(c, b >= a, "TIME_REF_COUNT went from %llu to %llu around one reference read",
                  (unsigned long long)a, (unsigned long long)b);
}

static void counter_rate(struct check_ctx *c)
{
    const struct refclock *ref = refclock_get();
    if (ref->unfit) {
        figure(c, "rate not judged: no HPET or PM timer: %s", ref->unfit);
        return;
    }
    struct counter_point pa, pb;
    if (!counter_point(c, &pa))
        return;
    refclock_wait(pa.ref, (uint64_t)pvcheck_options.rate_window_ms * ref->hz / 1000);
    if (!counter_point(c, &pb))
        return;
    uint64_t ref_ns = refclock_to_ns(pb.ref - pa.ref);
    uint64_t counter_ns = mul_div_sat(pb.units - pa.units, 100, 1);
    /* A counter read before an edge read and one after it bracket the edge
     * too: its half-gap is the pairing's uncertainty either way. */
    uint64_t uncertainty_ns = (pa.uncertainty_units + pb.uncertainty_units) * 100 +
                              (pa.resolution_ns > pb.resolution_ns ? pa.resolution_ns
                                                                   : pb.resolution_ns);
    uint64_t bound = rate_bound_ppm(uncertainty_ns, ref_ns);
    int64_t err = ppm_error(counter_ns, ref_ns);
    figure(c, "reference=%s window_ns=%llu counter_ns=%llu error_ppm=%lld bound_ppm=%llu",
           ref->name, (unsigned long long)ref_ns, (unsigned long long)counter_ns,
           (long long)err, (unsigned long long)bound);
    expect(c, abs64(err) <= bound,
           "TIME_REF_COUNT (100 ns units) ran %lld ppm off the %s reference over %llu ms; "
           "bound %llu ppm", (long long)err, ref->name, (unsigned long long)ref_ns / 1000000,
           (unsigned long long)bound);
}

static enum verdict check_reference_counter(struct check_ctx *c)
{
    const char *why = hv_needs(HV_PRIV_TIME_REF_COUNT);
    if (why)
        return skip(c, "%s", why);
    if (!hv_ensure_os_id(c))
        return pass(c);
    uint64_t first = 0, prev = 0, v, backward = 0, equal = 0, max_back = 0;
    struct budget b;
    budget_start(&b, COUNTER_READS, pvcheck_options.budget_ms);
    while (budget_next(&b)) {
        if (!hv_read_counter(c, &v))
            return pass(c);
        if (b.taken == 1)
            first = v;
        else if (v < prev) {
            backward++;
            if (prev - v > max_back)
                max_back = prev - v;
        } else if (v == prev) {
            equal++;
        }
        prev = v;
    }
    sampling_report(c, "reads", &b);
    figure(c, "first=%llu last=%llu backward=%llu max_back_units=%llu equal_successive=%llu",
           (unsigned long long)first, (unsigned long long)prev, (unsigned long long)backward,
           (unsigned long long)max_back, (unsigned long long)equal);
    expect(c, backward == 0, "TIME_REF_COUNT decreased %llu times, by up to %llu x 100 ns",
           (unsigned long long)backward, (unsigned long long)max_back);
    expect(c, prev > first, "TIME_REF_COUNT did not advance over %llu reads (stays %llu)",
           (unsigned long long)b.taken, (unsigned long long)first);
    int vector = wrmsr_safe(HV_MSR_TIME_REF_COUNT, 0);
    expect(c, vector == 13, "writing HV_X64_MSR_TIME_REF_COUNT raised vector %d, not #GP",
           vector);
    counter_rate(c);
    sampling_require(c, "reads", b.taken, MIN_READS, &b);
    return pass(c);
}

/* Two statements of one frequency agree to within tolerance_hz. */
static void same_hz(struct check_ctx *c, const char *what, uint64_t stated, const char *other,
                    uint64_t other_hz, uint64_t tolerance_hz)
{
    uint64_t diff = stated > other_hz ? stated - other_hz : other_hz - stated;
    figure(c, "%s=%llu %s=%llu diff_hz=%llu tolerance_hz=%llu", what,
           (unsigned long long)stated, other, (unsigned long long)other_hz,
           (unsigned long long)diff, (unsigned long long)tolerance_hz);
    expect(c, diff <= tolerance_hz, "%s says %llu Hz but %s says %llu Hz (tolerance %llu Hz)",
           what, (unsigned long long)stated, other, (unsigned long long)other_hz,
           (unsigned long long)tolerance_hz);
}

static enum verdict check_frequencies(struct check_ctx *c)
{
    const char *why = hv_needs(HV_PRIV_FREQUENCY_MSRS);
    if (why)
        return skip(c, "%s", why);
    if (!hv_ensure_os_id(c))
        return pass(c);
    uint64_t tsc_hz = 0, apic_hz = 0;
    int v1 = rdmsr_safe(HV_MSR_TSC_FREQUENCY, &tsc_hz);
    int v2 = rdmsr_safe(HV_MSR_APIC_FREQUENCY, &apic_hz);
    figure(c, "tsc_frequency=%llu (vector %d) apic_frequency=%llu (vector %d)",
           (unsigned long long)tsc_hz, v1, (unsigned long long)apic_hz, v2);
    if (!expect(c, v1 == NO_FAULT && v2 == NO_FAULT,
                "AccessFrequencyRegs is granted but reading the frequency MSRs faulted"))
        return pass(c);
    expect(c, tsc_hz != 0 && apic_hz != 0, "a frequency MSR reads 0");
    const char *leaf;
    uint64_t khz = hv_tsc_khz(&leaf);
    /* kHz figures round: 1 kHz. Parameters computed from the TSC frequency
     * (mul/shift, TscScale) carry their own quantisation: a ppm. */
    if (khz)
        same_hz(c, "HV_X64_MSR_TSC_FREQUENCY", tsc_hz, leaf, khz * 1000, 1000);
    /* The same leaf's EBX is the APIC timer's (bus) frequency in kHz. */
    if (khz && str_eq(leaf, "leaf_0x40000010") && cpuid(0x40000010).ebx)
        same_hz(c, "HV_X64_MSR_APIC_FREQUENCY", apic_hz, "leaf_0x40000010.ebx",
                (uint64_t)cpuid(0x40000010).ebx * 1000, 1000);
    struct pvclock_snapshot s;
    volatile struct pvclock_vcpu_time_info *k = kvmclock_active();
    if (k && pvclock_read(k, &s, READ_TRIES, 0) == PVCLOCK_READ_OK && s.mul)
        same_hz(c, "HV_X64_MSR_TSC_FREQUENCY", tsc_hz, "kvmclock_mul_shift",
                pvclock_implied_hz(s.mul, s.shift), 1000 + tsc_hz / 1000000);
    uint64_t scale;
    if (hv_page_scale(&scale))
        same_hz(c, "HV_X64_MSR_TSC_FREQUENCY", tsc_hz, "tsc_page_scale", hv_ref_implied_hz(scale),
                1000 + tsc_hz / 1000000);
    uint64_t measured, bound;
    if (tsc_hz_against_reference((uint64_t)pvcheck_options.rate_window_ms *
                                     refclock_get()->hz / 1000, &measured, &bound)) {
        int64_t err = ppm_error(tsc_hz, measured);
        figure(c, "measured_tsc_hz=%llu error_ppm=%lld bound_ppm=%llu reference=%s",
               (unsigned long long)measured, (long long)err, (unsigned long long)bound,
               refclock_get()->name);
        expect(c, abs64(err) <= bound,
               "HV_X64_MSR_TSC_FREQUENCY says %llu Hz but the TSC ticked at %llu Hz against %s "
               "(%lld ppm; bound %llu ppm)", (unsigned long long)tsc_hz,
               (unsigned long long)measured, refclock_get()->name, (long long)err,
               (unsigned long long)bound);
    }
    return pass(c);
}

#define TIMERS "Hyper-V TLFS, Timers"

static const struct check hyperv_checks[] = {
    { "discovery", "TLFS, Hypervisor Discovery: \"Microsoft Hv\", interface \"Hv#1\" at base+1, "
                   "leaves up to base+5, privileges at base+3",
      check_discovery },
    { "guest_os_id", "TLFS, Guest OS Identity: HV_X64_MSR_GUEST_OS_ID holds what the guest wrote",
      check_guest_os_id },
    { "reference_counter", TIMERS ", Partition Reference Counter: 100 ns units, monotonically "
                           "increasing, rate constant; a write #GPs",
      check_reference_counter },
    { "tsc_page", TIMERS ", Reference TSC Page: enabling (bit 0, GPA in 63:12, 11:1 preserved) "
                  "fills the page; TscSequence 0 means invalid",
      hv_check_tsc_page },
    { "tsc_page_monotonic", TIMERS ": ((tsc * TscScale) >> 64) + TscOffset read under an "
                            "unchanged TscSequence is monotonic; the fields never "
                            "change under one TscSequence",
      hv_check_tsc_page_monotonic },
    { "tsc_page_agrees", TIMERS ": the page's time is the partition reference counter's",
      hv_check_tsc_page_agrees },
    { "frequencies", "TLFS, HV_X64_MSR_TSC_FREQUENCY / APIC_FREQUENCY: the TSC and APIC timer "
                     "frequencies in Hz, as CPUID, kvmclock and the TSC itself say",
      check_frequencies },
    { "tsc_page_move", TIMERS ": the MSR names the one page the hypervisor writes; the old page "
                       "is no longer written after a move",
      hv_check_tsc_page_move },
    { "tsc_page_disable", TIMERS ": with bit 0 clear the page is not written",
      hv_check_tsc_page_disable },
};

static const struct suite hyperv_suite = {
    .name = "hyperv",
    .order = 55, /* after the KVM and Xen suites, whose numbers stay */
    .checks = hyperv_checks,
    .n_checks = ARRAY_SIZE(hyperv_checks),
    .unavailable = hyperv_unavailable,
};
REGISTER_SUITE(hyperv_suite);
