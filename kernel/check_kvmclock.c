/* Suite "kvmclock": MSR_KVM_SYSTEM_TIME(_NEW) and MSR_KVM_WALL_CLOCK(_NEW),
 * used through raw wrmsr as a guest OS would, every rule checked without
 * clamping (Documentation/virt/kvm/x86/msr.rst). */
#include "cpu.h"
#include "hv_cpuid.h"
#include "kvm.h"
#include "kvmclock.h"
#include "pvarea.h"
#include "pvcheck.h"
#include "refclock.h"
#include "report.h"
#include "safe.h"
#include "timer.h"

#define AREA_OFFSET 0x40
#define POPULATE_TICKS (TIMER_HZ / 10) /* 100 ms */
#define MONOTONIC_READS 500000u
#define COST_READS 20000u
#define CONTINUITY_ROUNDS 20u
/* Rate allowance on top of the measurement's own uncertainty: a host clock
 * may be slewed by up to 500 ppm (the NTP limit) against its oscillator, and
 * kvmclock and the emulated reference may follow either. */
#define RATE_ALLOWANCE_PPM 500u

static volatile struct pvclock_vcpu_time_info *active;
static enum pv_slot active_slot;

volatile struct pvclock_vcpu_time_info *kvmclock_active(void)
{
    return active;
}

bool kvmclock_read_ns(volatile struct pvclock_vcpu_time_info *area, uint64_t *ns)
{
    struct pvclock_snapshot s;
    bool behind;
    return area && pvclock_read(area, &s, PVCLOCK_READ_TRIES, 0) == PVCLOCK_READ_OK &&
           pvclock_ns_at(&s, rdtsc_ordered(), ns, &behind);
}

bool kvmclock_now(uint64_t *ns)
{
    return kvmclock_read_ns(active, ns);
}

static bool read_snapshot(struct check_ctx *c, volatile struct pvclock_vcpu_time_info *a,
                          struct pvclock_snapshot *s)
{
    switch (pvclock_read(a, s, PVCLOCK_READ_TRIES, 0)) {
    case PVCLOCK_READ_OK:
        return true;
    case PVCLOCK_READ_ODD:
        fail(c, "version stuck odd (0x%x) over %u reads: an update never finished", a->version,
             PVCLOCK_READ_TRIES);
        return false;
    default:
        fail(c, "version changed during each of %u reads", PVCLOCK_READ_TRIES);
        return false;
    }
}

static volatile struct pvclock_vcpu_time_info *register_clock(struct check_ctx *c,
                                                              enum pv_slot slot, unsigned offset,
                                                              uint32_t msr)
{
    volatile struct pvclock_vcpu_time_info *a = pv_area_prepare(slot, offset, sizeof(*a));
    uint64_t value = pv_gpa(a) | 1;
    int vector = wrmsr_safe(msr, value);
    if (vector != NO_FAULT) {
        fail(c, "wrmsr(0x%x, 0x%llx) raised vector %d; expected it to enable kvmclock", msr,
             (unsigned long long)value, vector);
        return 0;
    }
    uint64_t readback = 0;
    vector = rdmsr_safe(msr, &readback);
    figure(c, "msr=0x%x wrote=0x%llx readback=0x%llx%s", msr, (unsigned long long)value,
           (unsigned long long)readback, vector == NO_FAULT ? "" : " (rdmsr faulted)");
    return a;
}

static bool check_canaries(struct check_ctx *c, enum pv_slot slot, unsigned offset, unsigned size)
{
    int bad = pv_area_damaged(slot, offset, size);
    return expect(c, bad < 0,
                  "byte at slot offset %d changed outside the %u-byte area at offset %u: the "
                  "hypervisor wrote outside the structure",
                  bad, size, offset);
}

static bool register_populated(struct check_ctx *c, enum pv_slot slot, uint32_t msr,
                               volatile struct pvclock_vcpu_time_info **out)
{
    volatile struct pvclock_vcpu_time_info *a = register_clock(c, slot, AREA_OFFSET, msr);
    if (!a)
        return false;
    int ticks = PV_WAIT_VERSION(a, POPULATE_TICKS);
    if (ticks < 0)
        return fail(c, "area not populated within 100 ms: version=%u mul=0x%x (a page that is "
                       "never written)", a->version, a->tsc_to_system_mul), false;
    figure(c, "populated_within_ms=%d", ticks * 1000 / TIMER_HZ);
    check_canaries(c, slot, AREA_OFFSET, sizeof(*a));
    *out = a;
    return true;
}

/* The suite's checks share one registration; any check can make it. */
static bool ensure_active(struct check_ctx *c)
{
    if (active)
        return true;
    volatile struct pvclock_vcpu_time_info *a;
    if (!register_populated(c, SLOT_KVMCLOCK, MSR_KVM_SYSTEM_TIME_NEW, &a))
        return false;
    active = a;
    active_slot = SLOT_KVMCLOCK;
    return true;
}

static const char *need_clocksource2(void)
{
    return kvm_missing(KVM_FEATURE_CLOCKSOURCE2, "KVM_FEATURE_CLOCKSOURCE2");
}

static enum verdict check_registration(struct check_ctx *c)
{
    const char *why = need_clocksource2();
    if (why)
        return skip(c, "%s", why);
    active = 0;
    ensure_active(c);
    return pass(c);
}

static bool report_fields(struct check_ctx *c, const struct pvclock_snapshot *s)
{
    char why[160];
    bool stable = kvm_has(KVM_FEATURE_CLOCKSOURCE_STABLE_BIT);
    figure(c, "version=%u tsc_timestamp=%llu system_time=%llu mul=0x%08x shift=%d flags=0x%02x "
              "implied_tsc_hz=%llu stable_advertised=%d",
           s->version, (unsigned long long)s->tsc_timestamp, (unsigned long long)s->system_time,
           s->mul, s->shift, s->flags, (unsigned long long)pvclock_implied_hz(s->mul, s->shift),
           stable);
    const char *problem = pvclock_params_problem(s, stable, why, sizeof(why));
    return expect(c, !problem, "%s", problem);
}

static enum verdict check_fields(struct check_ctx *c)
{
    const char *why = need_clocksource2();
    if (why)
        return skip(c, "%s", why);
    struct pvclock_snapshot s;
    if (!ensure_active(c) || !read_snapshot(c, active, &s))
        return pass(c);
    report_fields(c, &s);
    return pass(c);
}

static enum verdict check_monotonic(struct check_ctx *c)
{
    const char *why = need_clocksource2();
    if (why)
        return skip(c, "%s", why);
    if (!ensure_active(c))
        return pass(c);

    struct pvclock_stream st = { 0 };
    struct pvclock_snapshot s;
    uint64_t first_ns = 0;
    for (unsigned i = 0; i < MONOTONIC_READS; i++) {
        if (!read_snapshot(c, active, &s))
            return pass(c);
        pvclock_stream_add(&st, &s, rdtsc_ordered());
        if (i == 0)
            first_ns = st.prev_ns;
    }
    figure(c, "reads=%llu backward=%llu max_back_ns=%llu stalls=%llu tsc_behind=%llu "
              "overflow=%llu version_changes=%llu",
           (unsigned long long)st.samples, (unsigned long long)st.backward,
           (unsigned long long)st.max_back_ns, (unsigned long long)st.stalls,
           (unsigned long long)st.tsc_behind, (unsigned long long)st.overflow,
           (unsigned long long)st.version_changes);
    expect(c, st.tsc_behind == 0,
           "the TSC read after the fields was behind tsc_timestamp %llu times (time computed "
           "from it would be garbage)", (unsigned long long)st.tsc_behind);
    expect(c, st.overflow == 0, "the formula overflowed 64 bits %llu times",
           (unsigned long long)st.overflow);
    expect(c, st.backward == 0,
           "time went backwards %llu times, by up to %llu ns, on one vCPU",
           (unsigned long long)st.backward, (unsigned long long)st.max_back_ns);
    expect(c, st.have_prev && st.prev_ns > first_ns,
           "time did not advance over %u reads (first %llu ns, last %llu ns)", MONOTONIC_READS,
           (unsigned long long)first_ns, (unsigned long long)st.prev_ns);

    /* Cost of one raw read against one ordered RDTSC, in the same run. */
    uint64_t t0 = rdtsc_ordered(), sink = 0, ns;
    for (unsigned i = 0; i < COST_READS; i++)
        if (kvmclock_now(&ns))
            sink += ns;
    uint64_t t1 = rdtsc_ordered();
    for (unsigned i = 0; i < COST_READS; i++)
        sink += rdtsc_ordered();
    uint64_t t2 = rdtsc_ordered();
    uint64_t read_cycles = (t1 - t0) / COST_READS, tsc_cycles = (t2 - t1) / COST_READS;
    figure(c, "cycles_per_kvmclock_read=%llu cycles_per_rdtsc_ordered=%llu ratio_x100=%llu",
           (unsigned long long)read_cycles, (unsigned long long)tsc_cycles,
           (unsigned long long)(tsc_cycles ? read_cycles * 100 / tsc_cycles : 0));
    barrier();
    (void)sink;
    return pass(c);
}

static enum verdict check_continuity(struct check_ctx *c)
{
    const char *why = need_clocksource2();
    if (why)
        return skip(c, "%s", why);
    if (!ensure_active(c))
        return pass(c);
    uint64_t max_jump = 0, max_budget = 0;
    unsigned changed = 0;
    for (unsigned round = 0; round < CONTINUITY_ROUNDS; round++) {
        struct pvclock_snapshot before, after;
        if (!read_snapshot(c, active, &before))
            return pass(c);
        /* Rewriting the MSR makes KVM refresh the area (a clock update). */
        wrmsr(MSR_KVM_SYSTEM_TIME_NEW, pv_gpa(active) | 1);
        if (round & 1)
            timer_sleep_ticks(1);
        if (!read_snapshot(c, active, &after))
            return pass(c);
        if (after.version == before.version)
            continue;
        changed++;
        uint64_t tsc = rdtsc_ordered(), old_ns, new_ns, since;
        bool behind;
        if (!pvclock_ns_at(&before, tsc, &old_ns, &behind) ||
            !pvclock_ns_at(&after, tsc, &new_ns, &behind))
            return fail(c, "old or new parameters cannot be evaluated at TSC %llu",
                        (unsigned long long)tsc);
        /* Budget: 1 ns truncation per evaluation, plus the multiplier's
         * quantisation (2^-32 relative, each side) over the span evaluated. */
        since = old_ns - before.system_time;
        uint64_t budget = 2 + (since >> 30);
        uint64_t jump = old_ns > new_ns ? old_ns - new_ns : new_ns - old_ns;
        if (jump >= max_jump) {
            max_jump = jump;
            max_budget = budget;
        }
        expect(c, jump <= budget,
               "at TSC %llu the parameters of version %u give %llu ns but version %u gives %llu "
               "ns: a jump of %lld ns (budget %llu ns)", (unsigned long long)tsc, before.version,
               (unsigned long long)old_ns, after.version, (unsigned long long)new_ns,
               (long long)(new_ns - old_ns), (unsigned long long)budget);
    }
    figure(c, "rounds=%u updates_seen=%u max_jump_ns=%llu budget_ns=%llu", CONTINUITY_ROUNDS,
           changed, (unsigned long long)max_jump, (unsigned long long)max_budget);
    if (!changed && !c->failed)
        return skip(c, "no version change in %u MSR rewrites: continuity not exercised",
                    CONTINUITY_ROUNDS);
    return pass(c);
}

/* kvmclock time and TSC at the midpoint of a bracket around one reference
 * read; half the bracket is the uncertainty of pairing them. */
struct rate_point {
    uint64_t ref, ns, tsc, uncertainty_ns;
};

static bool rate_point(struct rate_point *p)
{
    struct pvclock_snapshot s0, s1;
    uint64_t ns0, ns1;
    bool behind;
    if (pvclock_read(active, &s0, PVCLOCK_READ_TRIES, 0) != PVCLOCK_READ_OK)
        return false;
    uint64_t t0 = rdtsc_ordered();
    p->ref = refclock_read();
    uint64_t t1 = rdtsc_ordered();
    if (pvclock_read(active, &s1, PVCLOCK_READ_TRIES, 0) != PVCLOCK_READ_OK ||
        !pvclock_ns_at(&s0, t0, &ns0, &behind) || !pvclock_ns_at(&s1, t1, &ns1, &behind) ||
        ns1 < ns0)
        return false;
    p->ns = ns0 + (ns1 - ns0) / 2;
    p->tsc = t0 + (t1 - t0) / 2;
    p->uncertainty_ns = (ns1 - ns0) / 2 + 1;
    return true;
}

/* a * b / c, saturating: hypervisor-written values can make any of them huge. */
static uint64_t mul_div_sat(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t p;
    if (c == 0 || __builtin_mul_overflow(a, b, &p))
        return UINT64_MAX;
    return p / c;
}

/* (measured - reference) in ppm of reference, saturating at +-10^12. */
static int64_t ppm_error(uint64_t measured, uint64_t reference)
{
    uint64_t diff = measured > reference ? measured - reference : reference - measured;
    uint64_t ppm = mul_div_sat(diff, 1000000, reference);
    if (ppm > 1000000000000ull)
        ppm = 1000000000000ull;
    return measured >= reference ? (int64_t)ppm : -(int64_t)ppm;
}

static uint64_t abs64(int64_t v)
{
    return v < 0 ? (uint64_t)-v : (uint64_t)v;
}

/* CPUID 0x40000010 EAX (TSC kHz) under a KVM block at 0x40000000, or 0. */
static uint64_t cpuid_tsc_khz(void)
{
    const struct hv_block *b = hv_find(hv_get(), HV_KVM);
    if (!b || b->base != HV_LEAF_FIRST || b->last_leaf < 0x40000010)
        return 0;
    return cpuid(0x40000010).eax;
}

static enum verdict check_rate(struct check_ctx *c)
{
    const char *why = need_clocksource2();
    if (why)
        return skip(c, "%s", why);
    if (!ensure_active(c))
        return pass(c);
    const struct refclock *ref = refclock_get();
    if (ref->derived)
        return skip(c, "no HPET, ACPI PM timer or PIT: the only reference is the %s count, "
                       "calibrated against the TSC at the hypervisor's stated frequency, so "
                       "not independent of the clock under test", ref->name);
    struct rate_point a, b;
    struct pvclock_snapshot start;
    if (!read_snapshot(c, active, &start))
        return pass(c);
    if (!rate_point(&a))
        return fail(c, "kvmclock could not be read at the start of the window");
    uint64_t window_counts = (uint64_t)pvcheck_options.rate_window_ms * ref->hz / 1000;
    while (refclock_read() - a.ref < window_counts)
        cpu_relax();
    if (!rate_point(&b))
        return fail(c, "kvmclock could not be read at the end of the window");

    uint64_t ref_ns = refclock_to_ns(b.ref - a.ref);
    uint64_t kvm_ns = b.ns - a.ns;
    uint64_t tsc_hz = mul_div_sat(b.tsc - a.tsc, 1000000000ull, ref_ns);
    /* Uncertainty: both brackets plus one reference count, over the window. */
    uint64_t uncertainty_ns = a.uncertainty_ns + b.uncertainty_ns + 1000000000ull / ref->hz + 1;
    uint64_t bound_ppm = mul_div_sat(uncertainty_ns, 1000000, ref_ns);
    bound_ppm = bound_ppm > UINT64_MAX - RATE_ALLOWANCE_PPM ? UINT64_MAX
                                                            : bound_ppm + RATE_ALLOWANCE_PPM;
    int64_t err = ppm_error(kvm_ns, ref_ns);
    struct pvclock_snapshot s;
    if (!read_snapshot(c, active, &s))
        return pass(c);
    uint64_t implied = pvclock_implied_hz(s.mul, s.shift);
    int64_t tsc_err = ppm_error(implied, tsc_hz);
    /* What the start parameters alone predict at the end: differs from the
     * clock read there when updates re-based it within the window. */
    uint64_t predicted = 0;
    bool behind;
    pvclock_ns_at(&start, b.tsc, &predicted, &behind);
    figure(c, "version_start=%u version_end=%u rebase_ns=%lld", start.version, s.version,
           (long long)(b.ns - predicted));

    figure(c, "reference=%s reference_hz=%llu window_ns=%llu kvmclock_ns=%llu error_ppm=%lld "
              "bound_ppm=%llu",
           ref->name, (unsigned long long)ref->hz, (unsigned long long)ref_ns,
           (unsigned long long)kvm_ns, (long long)err, (unsigned long long)bound_ppm);
    figure(c, "measured_tsc_hz=%llu implied_tsc_hz=%llu tsc_error_ppm=%lld",
           (unsigned long long)tsc_hz, (unsigned long long)implied, (long long)tsc_err);
    expect(c, abs64(err) <= bound_ppm,
           "kvmclock ran %lld ppm off the %s reference over %llu ms; bound %llu ppm", (long long)err,
           ref->name, (unsigned long long)ref_ns / 1000000, (unsigned long long)bound_ppm);
    expect(c, abs64(tsc_err) <= bound_ppm,
           "mul/shift imply a %llu Hz TSC but it ticked at %llu Hz against %s (%lld ppm; bound "
           "%llu ppm)", (unsigned long long)implied, (unsigned long long)tsc_hz, ref->name,
           (long long)tsc_err, (unsigned long long)bound_ppm);
    uint64_t khz = cpuid_tsc_khz();
    if (khz) {
        /* The leaf is in kHz: allow its rounding on top of the bound. */
        int64_t leaf_err = ppm_error(implied, khz * 1000);
        figure(c, "cpuid_0x40000010_tsc_khz=%llu leaf_error_ppm=%lld", (unsigned long long)khz,
               (long long)leaf_err);
        expect(c, abs64(leaf_err) <= 1 + mul_div_sat(1000, 1000000, khz * 1000),
               "CPUID 0x40000010 says %llu kHz but mul/shift imply %llu Hz", (unsigned long long)khz,
               (unsigned long long)implied);
    }
    return pass(c);
}

static enum verdict check_legacy_registration(struct check_ctx *c)
{
    const char *why = kvm_missing(KVM_FEATURE_CLOCKSOURCE, "KVM_FEATURE_CLOCKSOURCE");
    if (why)
        return skip(c, "%s", why);
    volatile struct pvclock_vcpu_time_info *a;
    struct pvclock_snapshot s;
    if (register_populated(c, SLOT_KVMCLOCK_LEGACY, MSR_KVM_SYSTEM_TIME, &a) &&
        read_snapshot(c, a, &s))
        report_fields(c, &s);
    /* Both MSRs drive one per-vCPU registration: put the main one back. */
    if (active)
        wrmsr(MSR_KVM_SYSTEM_TIME_NEW, pv_gpa(active) | 1);
    else
        wrmsr(MSR_KVM_SYSTEM_TIME, 0);
    return pass(c);
}

static bool wall_read(struct check_ctx *c, uint32_t msr, volatile struct pvclock_wall_clock *w,
                      struct pvclock_wall_clock *out)
{
    int vector = wrmsr_safe(msr, pv_gpa(w));
    if (vector != NO_FAULT)
        return fail(c, "wrmsr(0x%x) raised vector %d", msr, vector), false;
    switch (pvclock_wall_read(w, out, PVCLOCK_READ_TRIES)) {
    case PVCLOCK_READ_OK:
        return true;
    default:
        return fail(c, "wall clock version 0x%x never even and stable", w->version), false;
    }
}

static enum verdict wall_clock(struct check_ctx *c, uint32_t msr)
{
    volatile struct pvclock_wall_clock *w = pv_area_prepare(SLOT_WALL_CLOCK, AREA_OFFSET, sizeof(*w));
    struct pvclock_wall_clock first, second;
    if (!wall_read(c, msr, w, &first) || !wall_read(c, msr, w, &second))
        return pass(c);
    check_canaries(c, SLOT_WALL_CLOCK, AREA_OFFSET, sizeof(*w));
    uint64_t up_ns = 0;
    bool have_clock = kvmclock_now(&up_ns);
    uint64_t now_s = second.sec + (second.nsec + up_ns) / 1000000000ull;
    figure(c, "msr=0x%x version=%u,%u sec=%u nsec=%u kvmclock_s=%llu now_unix=%llu%s", msr,
           first.version, second.version, second.sec, second.nsec,
           (unsigned long long)(up_ns / 1000000000ull), (unsigned long long)now_s,
           have_clock ? "" : " (no kvmclock: boot time only)");
    expect(c, first.version != 0, "version 0 after the MSR write: nothing was written");
    expect(c, second.version > first.version,
           "msr.rst: the hypervisor updates the area at each MSR write, but the version went "
           "%u -> %u", first.version, second.version);
    expect(c, second.nsec < 1000000000u, "nsec=%u is not below 10^9", second.nsec);
    /* 2000-01-01 .. 2100-01-01 */
    expect(c, now_s >= 946684800ull && now_s < 4102444800ull,
           "wall clock says Unix time %llu, not between 2000 and 2100", (unsigned long long)now_s);
    if (pvcheck_options.have_wallclock) {
        /* The host stamps wallclock= before starting QEMU, at 1 s resolution;
         * QEMU's start-up precedes kvmclock's zero. Allow 10 s for both. */
        uint64_t host = pvcheck_options.wallclock;
        int64_t off = (int64_t)(now_s - host);
        figure(c, "host_wallclock=%llu offset_s=%lld", (unsigned long long)host, (long long)off);
        expect(c, off >= -2 && off <= 10 + (int64_t)(up_ns / 1000000000ull),
               "wall clock %llu s is %lld s from the host's %llu s (allowed -2..+10 s plus uptime)",
               (unsigned long long)now_s, (long long)off, (unsigned long long)host);
    }
    return pass(c);
}

static enum verdict check_wall_clock(struct check_ctx *c)
{
    const char *why = need_clocksource2();
    if (why)
        return skip(c, "%s", why);
    return wall_clock(c, MSR_KVM_WALL_CLOCK_NEW);
}

static enum verdict check_wall_clock_legacy(struct check_ctx *c)
{
    const char *why = kvm_missing(KVM_FEATURE_CLOCKSOURCE, "KVM_FEATURE_CLOCKSOURCE");
    if (why)
        return skip(c, "%s", why);
    return wall_clock(c, MSR_KVM_WALL_CLOCK);
}

/* Leaves the old area (after disabling it first, or not), registers the
 * other slot, provokes clock updates, and checks that only the new area moves. */
static enum verdict relocate(struct check_ctx *c, bool disable_first)
{
    const char *why = need_clocksource2();
    if (why)
        return skip(c, "%s", why);
    if (!ensure_active(c))
        return pass(c);
    volatile struct pvclock_vcpu_time_info *old = active;
    enum pv_slot old_slot = active_slot;
    enum pv_slot new_slot = old_slot == SLOT_KVMCLOCK ? SLOT_KVMCLOCK_MOVED : SLOT_KVMCLOCK;

    if (disable_first) {
        /* msr.rst: a value with bit 0 clear stops the updates; from that
         * write on, nothing may touch the area, whatever else happens. */
        wrmsr(MSR_KVM_SYSTEM_TIME_NEW, pv_gpa(old));
        struct pv_copy disabled = pv_copy_take(old, sizeof(*old));
        timer_sleep_ticks(2);
        wrmsr(MSR_KVM_SYSTEM_TIME_NEW, pv_gpa(old));
        timer_sleep_ticks(2);
        expect(c, pv_copy_unchanged(old, &disabled),
               "the area at 0x%llx was written after bit 0 was cleared (version now %u)",
               (unsigned long long)pv_gpa(old), old->version);
    }
    active = 0;
    volatile struct pvclock_vcpu_time_info *moved;
    if (!register_populated(c, new_slot, MSR_KVM_SYSTEM_TIME_NEW, &moved))
        return pass(c);
    /* The MSR write has switched areas: the old one is frozen from here. */
    struct pv_copy frozen = pv_copy_take(old, sizeof(*old));
    active = moved;
    active_slot = new_slot;
    uint32_t v0 = moved->version;
    /* Updates the hypervisor makes: after halts, and on each MSR write. */
    for (unsigned i = 0; i < 3; i++) {
        timer_sleep_ticks(2);
        wrmsr(MSR_KVM_SYSTEM_TIME_NEW, pv_gpa(moved) | 1);
    }
    timer_sleep_ticks(2);
    uint32_t v1 = moved->version;
    figure(c, "old_area=0x%llx new_area=0x%llx new_version=%u->%u old_version=%u",
           (unsigned long long)pv_gpa(old), (unsigned long long)pv_gpa(moved), v0, v1,
           old->version);
    expect(c, pv_copy_unchanged(old, &frozen),
           "the %s area at 0x%llx was written after the guest %s (version now %u)",
           disable_first ? "disabled" : "old", (unsigned long long)pv_gpa(old),
           disable_first ? "cleared bit 0 and enabled another area" : "registered another area",
           old->version);
    expect(c, v1 != v0, "the new area was not updated by MSR rewrites (version stays %u)", v1);
    check_canaries(c, old_slot, AREA_OFFSET, sizeof(*old));
    check_canaries(c, new_slot, AREA_OFFSET, sizeof(*moved));
    return pass(c);
}

static enum verdict check_disable(struct check_ctx *c)
{
    return relocate(c, true);
}

static enum verdict check_move(struct check_ctx *c)
{
    return relocate(c, false);
}

/* CVE-2013-1796: an area crossing a page once overflowed a host buffer.
 * Ignoring it and using it are both acceptable; writing outside is not. */
static enum verdict check_page_crossing(struct check_ctx *c)
{
    const char *why = need_clocksource2();
    if (why)
        return skip(c, "%s", why);
    const unsigned offset = 4096 - 16;
    volatile struct pvclock_vcpu_time_info *a = register_clock(c, SLOT_PAGE_CROSSING, offset,
                                                               MSR_KVM_SYSTEM_TIME_NEW);
    if (!a)
        return pass(c);
    int ticks = PV_WAIT_VERSION(a, POPULATE_TICKS);
    figure(c, "area=0x%llx crosses a page: %s", (unsigned long long)pv_gpa(a),
           ticks < 0 ? "ignored (not written)" : "used");
    if (ticks >= 0) {
        struct pvclock_snapshot s;
        if (read_snapshot(c, a, &s))
            report_fields(c, &s);
    }
    check_canaries(c, SLOT_PAGE_CROSSING, offset, sizeof(*a));
    if (active)
        wrmsr(MSR_KVM_SYSTEM_TIME_NEW, pv_gpa(active) | 1);
    return pass(c);
}

static const char *kvmclock_unavailable(void)
{
    uint32_t f;
    if (!kvm_present(&f))
        return "no KVM signature in any hypervisor CPUID block";
    if (!(f & ((1u << KVM_FEATURE_CLOCKSOURCE) | (1u << KVM_FEATURE_CLOCKSOURCE2))))
        return "KVM advertises neither KVM_FEATURE_CLOCKSOURCE nor KVM_FEATURE_CLOCKSOURCE2";
    return 0;
}

#define MSR_RST "Linux Documentation/virt/kvm/x86/msr.rst"

static const struct check kvmclock_checks[] = {
    { "registration", MSR_RST " MSR_KVM_SYSTEM_TIME_NEW: 4-byte aligned GPA | 1 enables the "
                      "area, which the hypervisor fills in",
      check_registration },
    { "fields", MSR_RST " pvclock_vcpu_time_info: version even when not updating; "
                "tsc_to_system_mul and tsc_shift scale TSC deltas to ns; flags bit 0 "
                "PVCLOCK_TSC_STABLE_BIT only with KVM_FEATURE_CLOCKSOURCE_STABLE_BIT (cpuid.rst)",
      check_fields },
    { "monotonic", MSR_RST " time = system_time + ((tsc - tsc_timestamp) << shift) * mul >> 32, "
                   "with tsc never behind tsc_timestamp; one vCPU's clock never runs backwards",
      check_monotonic },
    { "continuity", "kvmclock updates re-base system_time/tsc_timestamp: old and new parameters "
                    "must give the same time at the same TSC (Linux 53fafdbb8b21, c52ffadc65e2)",
      check_continuity },
    { "rate", "kvmclock counts nanoseconds: its rate, and the TSC rate mul/shift imply, agree "
              "with an independent clock (Linux 451a707813ae: 3.2% off)",
      check_rate },
    { "legacy_registration", MSR_RST " MSR_KVM_SYSTEM_TIME (0x12), with KVM_FEATURE_CLOCKSOURCE",
      check_legacy_registration },
    { "wall_clock", MSR_RST " MSR_KVM_WALL_CLOCK_NEW: version even, sec/nsec the wall time at "
                    "kvmclock zero, updated at each MSR write",
      check_wall_clock },
    { "wall_clock_legacy", MSR_RST " MSR_KVM_WALL_CLOCK (0x11), with KVM_FEATURE_CLOCKSOURCE",
      check_wall_clock_legacy },
    { "disable", MSR_RST ": writing the MSR with bit 0 clear stops updates to the area",
      check_disable },
    { "move", "kvmclock.txt: the hypervisor writes the registered area until it is disabled or "
              "moved; the old area must freeze",
      check_move },
    { "page_crossing", "CVE-2013-1796: an area crossing a page is ignored or used, never "
                       "written past its 32 bytes",
      check_page_crossing },
};

static const struct suite kvmclock_suite = {
    .name = "kvmclock",
    .order = 10,
    .checks = kvmclock_checks,
    .n_checks = ARRAY_SIZE(kvmclock_checks),
    .unavailable = kvmclock_unavailable,
};
REGISTER_SUITE(kvmclock_suite);
