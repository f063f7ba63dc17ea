/* Suite "kvmclock": MSR_KVM_SYSTEM_TIME(_NEW) and MSR_KVM_WALL_CLOCK(_NEW),
 * used through raw wrmsr as a guest OS would, every rule checked without
 * clamping (Documentation/virt/kvm/x86/msr.rst). */
#include "checks/kvmclock/kvmclock_checks.h"
#include "checks/shared/pvclock_checks.h"
#include "checks/shared/sampling.h"
#include "iface/kvm.h"
#include "lib/options.h"
#include "lib/report.h"
#include "live/kvmclock.h"
#include "live/pvarea.h"
#include "platform/budget.h"
#include "platform/cpu.h"
#include "platform/safe.h"
#include "platform/timer.h"

#define WALL_OFFSET 0x40
#define CONTINUITY_ROUNDS 20u

static const char *need_clocksource2(void)
{
    return kvm_missing(KVM_FEATURE_CLOCKSOURCE2, "KVM_FEATURE_CLOCKSOURCE2");
}

static enum verdict check_registration(struct check_ctx *c)
{
    const char *why = need_clocksource2();
    if (why)
        return skip(c, "%s", why);
    kvmclock_register_anew(c);
    return pass(c);
}

static bool report_fields(struct check_ctx *c, const struct pvclock_snapshot *s)
{
    return pvclock_report_fields(c, s, kvm_has(KVM_FEATURE_CLOCKSOURCE_STABLE_BIT));
}

static enum verdict check_fields(struct check_ctx *c)
{
    const char *why = need_clocksource2();
    if (why)
        return skip(c, "%s", why);
    struct pvclock_snapshot s;
    if (!kvmclock_ensure(c) || !pvclock_read_checked(c, kvmclock_active(), &s))
        return pass(c);
    report_fields(c, &s);
    return pass(c);
}

static enum verdict check_monotonic(struct check_ctx *c)
{
    const char *why = need_clocksource2();
    if (why)
        return skip(c, "%s", why);
    if (kvmclock_ensure(c))
        pvclock_check_reads(c, kvmclock_active(), "kvmclock");
    return pass(c);
}

static enum verdict check_continuity(struct check_ctx *c)
{
    const char *why = need_clocksource2();
    if (why)
        return skip(c, "%s", why);
    if (!kvmclock_ensure(c))
        return pass(c);
    volatile struct pvclock_vcpu_time_info *active = kvmclock_active();
    uint64_t max_jump = 0, max_budget = 0;
    unsigned changed = 0;
    struct budget b;
    budget_start(&b, CONTINUITY_ROUNDS, pvcheck_options.budget_ms);
    while (budget_next(&b)) {
        unsigned round = (unsigned)b.taken - 1;
        struct pvclock_snapshot before, after;
        if (!pvclock_read_checked(c, active, &before))
            return pass(c);
        /* Rewriting the MSR makes KVM refresh the area (a clock update). */
        kvmclock_restore();
        if (round & 1)
            timer_sleep_ticks(1);
        if (!pvclock_read_checked(c, active, &after))
            return pass(c);
        if (after.version == before.version)
            continue;
        changed++;
        struct pvclock_rebase r;
        if (!pvclock_rebase_at_now(&before, &after, &r))
            return fail(c, "old or new parameters cannot be evaluated at TSC %llu",
                        (unsigned long long)r.tsc);
        uint64_t jump = r.jump_ns < 0 ? -(uint64_t)r.jump_ns : (uint64_t)r.jump_ns;
        if (jump >= max_jump) {
            max_jump = jump;
            max_budget = r.budget_ns;
        }
        expect(c, pvclock_rebase_within(&r),
               "at TSC %llu the parameters of version %u give %llu ns but version %u gives %llu "
               "ns: a jump of %lld ns (budget %llu ns)", (unsigned long long)r.tsc,
               before.version, (unsigned long long)r.old_ns, after.version,
               (unsigned long long)r.new_ns, (long long)r.jump_ns,
               (unsigned long long)r.budget_ns);
    }
    sampling_report(c, "rounds", &b);
    figure(c, "updates_seen=%u max_jump_ns=%llu budget_ns=%llu", changed,
           (unsigned long long)max_jump, (unsigned long long)max_budget);
    if (!changed && !c->failed)
        return skip(c, "no version change in %llu MSR rewrites: continuity not exercised",
                    (unsigned long long)b.taken);
    return pass(c);
}

static enum verdict check_rate(struct check_ctx *c)
{
    const char *why = need_clocksource2();
    if (why)
        return skip(c, "%s", why);
    if (!kvmclock_ensure(c))
        return pass(c);
    return pvclock_check_rate(c, kvmclock_active(), "kvmclock");
}

static enum verdict check_legacy_registration(struct check_ctx *c)
{
    const char *why = kvm_missing(KVM_FEATURE_CLOCKSOURCE, "KVM_FEATURE_CLOCKSOURCE");
    if (why)
        return skip(c, "%s", why);
    volatile struct pvclock_vcpu_time_info *a;
    struct pvclock_snapshot s;
    if (kvmclock_register_populated(c, SLOT_KVMCLOCK_LEGACY, MSR_KVM_SYSTEM_TIME, &a) &&
        pvclock_read_checked(c, a, &s))
        report_fields(c, &s);
    /* Both MSRs drive one per-vCPU registration: put the main one back. */
    if (!kvmclock_restore())
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
    volatile struct pvclock_wall_clock *w = pv_area_prepare(SLOT_WALL_CLOCK, WALL_OFFSET, sizeof(*w));
    struct pvclock_wall_clock first, second;
    if (!wall_read(c, msr, w, &first) || !wall_read(c, msr, w, &second))
        return pass(c);
    pv_expect_intact(c, SLOT_WALL_CLOCK, WALL_OFFSET, sizeof(*w));
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
    pvclock_check_wall_time(c, now_s, up_ns);
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
    if (!kvmclock_ensure(c))
        return pass(c);
    volatile struct pvclock_vcpu_time_info *old = kvmclock_active();
    enum pv_slot old_slot = kvmclock_active_slot();
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
    volatile struct pvclock_vcpu_time_info *moved;
    if (!kvmclock_move(c, new_slot, &moved))
        return pass(c);
    /* The MSR write has switched areas: the old one is frozen from here. */
    struct pv_copy frozen = pv_copy_take(old, sizeof(*old));
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
    pv_expect_intact(c, old_slot, KVMCLOCK_AREA_OFFSET, sizeof(*old));
    pv_expect_intact(c, new_slot, KVMCLOCK_AREA_OFFSET, sizeof(*moved));
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
    volatile struct pvclock_vcpu_time_info *a =
        kvmclock_register_at(c, SLOT_PAGE_CROSSING, offset, MSR_KVM_SYSTEM_TIME_NEW);
    if (!a)
        return pass(c);
    int ticks = PV_WAIT_VERSION(a, KVMCLOCK_POPULATE_TICKS);
    figure(c, "area=0x%llx crosses a page: %s", (unsigned long long)pv_gpa(a),
           ticks < 0 ? "ignored (not written)" : "used");
    if (ticks >= 0) {
        struct pvclock_snapshot s;
        if (pvclock_read_checked(c, a, &s))
            report_fields(c, &s);
    }
    pv_expect_intact(c, SLOT_PAGE_CROSSING, offset, sizeof(*a));
    kvmclock_restore();
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

#define MSR_RST DOC_KVM_MSR

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
    { "masterclock_update", "a master clock update (the boot vCPU switching between the two "
                            "system-time MSRs, x86.c kvm_write_system_time) re-bases kvmclock "
                            "on the same line: old and new parameters give the same time at the "
                            "same TSC (pvclock_test: 3.5 us off)",
      check_masterclock_update },
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
