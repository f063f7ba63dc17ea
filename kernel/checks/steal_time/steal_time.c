/* Suite "steal_time": MSR_KVM_STEAL_TIME used through raw wrmsr, every rule
 * of Documentation/virt/kvm/x86/msr.rst checked on the boot vCPU. */
#include "iface/kvm.h"
#include "iface/steal.h"
#include "lib/options.h"
#include "lib/report.h"
#include "live/kvmclock.h"
#include "live/pvarea.h"
#include "live/steal_time.h"
#include "platform/budget.h"
#include "platform/cpu.h"
#include "platform/refclock.h"
#include "platform/safe.h"
#include "platform/timer.h"

#define LOAD_WINDOW_MS 1000u
/* A busy spell between samples, in TSC cycles (a few ms at GHz rates), so
 * that it lasts as long on a hypervisor where instructions are slow. */
#define STEAL_SPIN_CYCLES 10000000u

/* Elapsed-time source: kvmclock when registered, else the reference clock. */
static bool clock_ns(uint64_t *ns, const char **name)
{
    if (kvmclock_now(ns)) {
        *name = "kvmclock";
        return true;
    }
    *name = refclock_get()->name;
    *ns = refclock_to_ns(refclock_read());
    return true;
}

static bool check_canaries(struct check_ctx *c, enum pv_slot slot)
{
    return pv_expect_intact(c, slot, STEAL_AREA_OFFSET, sizeof(struct kvm_steal_time));
}

static const char *steal_unavailable(void)
{
    return kvm_missing(KVM_FEATURE_STEAL_TIME, "KVM_FEATURE_STEAL_TIME");
}

static enum verdict check_registration(struct check_ctx *c)
{
    volatile struct kvm_steal_time *active = steal_time_register_anew(c);
    if (!active)
        return pass(c);
    /* KVM rejects reserved bits 1-5 with #GP; each is tried alone. */
    for (unsigned bit = 1; bit <= 5; bit++) {
        uint64_t value = pv_gpa(active) | 1 | (1ull << bit);
        int vector = wrmsr_safe(MSR_KVM_STEAL_TIME, value);
        expect(c, vector == 13, "wrmsr(MSR_KVM_STEAL_TIME, 0x%llx) with reserved bit %u set: "
               "expected #GP (13), got %s%d", (unsigned long long)value, bit,
               vector == NO_FAULT ? "no fault " : "vector ", vector);
    }
    /* Whatever a reserved-bit write did, register cleanly again. */
    wrmsr(MSR_KVM_STEAL_TIME, pv_gpa(active) | 1);
    check_canaries(c, SLOT_STEAL);
    return pass(c);
}

static enum verdict check_fields(struct check_ctx *c)
{
    struct steal_snapshot s;
    char why[128];
    volatile struct kvm_steal_time *active = steal_time_area(c);
    if (!active || !steal_time_read(c, active, &s))
        return pass(c);
    figure(c, "version=%u steal_ns=%llu flags=0x%x preempted=0x%x padding_zero=%d", s.version,
           (unsigned long long)s.steal, s.flags, s.preempted, s.padding_zero);
    const char *problem = steal_fields_problem(&s, why, sizeof(why));
    expect(c, !problem, "%s", problem);
    check_canaries(c, steal_time_slot());
    return pass(c);
}

/* Samples steal while alternating busy spins and halts. */
static enum verdict check_monotonic(struct check_ctx *c)
{
    volatile struct kvm_steal_time *active = steal_time_area(c);
    if (!active)
        return pass(c);
    struct steal_series series = { 0 };
    const char *clock = "";
    for (unsigned i = 0; i < 40; i++) {
        struct steal_snapshot s;
        uint64_t before, after;
        if (!clock_ns(&before, &clock) || !steal_time_read(c, active, &s) || !clock_ns(&after, &clock))
            return pass(c);
        steal_series_add(&series, s.steal, before, after);
        if (i & 1)
            timer_sleep_ticks(1);
        else
            spin_tsc_cycles(STEAL_SPIN_CYCLES);
    }
    figure(c, "samples=%llu clock=%s elapsed_ns=%llu steal_ns=%llu decreases=%llu "
              "max_decrease_ns=%llu too_fast=%llu max_excess_ns=%llu",
           (unsigned long long)series.samples, clock, (unsigned long long)series.total_elapsed,
           (unsigned long long)series.total_steal, (unsigned long long)series.decreases,
           (unsigned long long)series.max_decrease, (unsigned long long)series.too_fast,
           (unsigned long long)series.max_excess_ns);
    expect(c, series.decreases == 0, "steal decreased %llu times, by up to %llu ns",
           (unsigned long long)series.decreases, (unsigned long long)series.max_decrease);
    expect(c, series.too_fast == 0,
           "steal grew faster than %s time %llu times, by up to %llu ns beyond the elapsed time",
           clock, (unsigned long long)series.too_fast, (unsigned long long)series.max_excess_ns);
    return pass(c);
}

static enum verdict check_idle_not_steal(struct check_ctx *c)
{
    if (pvcheck_options.host_loaded)
        return skip(c, "host_loaded: on a busy host, wake-up waits are steal");
    volatile struct kvm_steal_time *active = steal_time_area(c);
    if (!active)
        return pass(c);
    struct steal_snapshot s0, s1;
    uint64_t t0, t1;
    const char *clock;
    if (!steal_time_read(c, active, &s0) || !clock_ns(&t0, &clock))
        return pass(c);
    timer_sleep_ticks((uint64_t)pvcheck_options.halt_ms * TIMER_HZ / 1000);
    if (!steal_time_read(c, active, &s1) || !clock_ns(&t1, &clock))
        return pass(c);
    uint64_t halted = t1 - t0, stolen = s1.steal - s0.steal;
    uint64_t permille = halted ? stolen * 1000 / halted : 0;
    figure(c, "halted_ns=%llu steal_ns=%llu steal_permille=%llu limit_percent=%u clock=%s",
           (unsigned long long)halted, (unsigned long long)stolen, (unsigned long long)permille,
           IDLE_STEAL_MAX_PERCENT, clock);
    expect(c, s1.steal >= s0.steal, "steal decreased across the halt");
    expect(c, permille <= IDLE_STEAL_MAX_PERCENT * 10,
           "%llu ns of steal accrued during %llu ns halted (%llu permille): idle time counted "
           "as steal", (unsigned long long)stolen, (unsigned long long)halted,
           (unsigned long long)permille);
    return pass(c);
}

static enum verdict check_under_load(struct check_ctx *c)
{
    if (!pvcheck_options.host_loaded)
        return skip(c, "the host is not declared loaded (guest option host_loaded)");
    volatile struct kvm_steal_time *active = steal_time_area(c);
    if (!active)
        return pass(c);
    struct steal_snapshot s0, s1;
    uint64_t t0, t1, now;
    const char *clock;
    if (!steal_time_read(c, active, &s0) || !clock_ns(&t0, &clock))
        return pass(c);
    /* Busy, so every moment not running is the host's doing; the reference
     * clock bounds the window should the clock stop advancing. Not the
     * tick where a counter is fine enough: KVM's PIT re-injects the ticks a
     * descheduled vCPU missed, in a burst that outruns real time. */
    const struct refclock *ref = refclock_get();
    bool by_ref = !ref->unfit && ref->hz >= 1000000;
    uint64_t ref0 = by_ref ? refclock_read() : 0;
    uint64_t tick_limit = timer_ticks() + 2 * LOAD_WINDOW_MS * TIMER_HZ / 1000;
    do {
        cpu_relax();
        clock_ns(&now, &clock);
        bool over = by_ref ? refclock_to_ns(refclock_read() - ref0) >=
                                 2ull * LOAD_WINDOW_MS * 1000000
                           : timer_ticks() >= tick_limit;
        if (over)
            return fail(c, "%s advanced only %llu ns while the %s counted %u ms", clock,
                        (unsigned long long)(now - t0), by_ref ? ref->name : "timer",
                        2 * LOAD_WINDOW_MS);
    } while (now - t0 < (uint64_t)LOAD_WINDOW_MS * 1000000);
    /* The steal of the last stretch is published at the next entry. */
    timer_sleep_ticks(1);
    if (!steal_time_read(c, active, &s1) || !clock_ns(&t1, &clock))
        return pass(c);
    uint64_t window = t1 - t0, stolen = s1.steal - s0.steal;
    uint64_t permille = window ? stolen * 1000 / window : 0;
    figure(c, "busy_ns=%llu steal_ns=%llu steal_percent=%llu.%llu floor_percent=%u clock=%s",
           (unsigned long long)window, (unsigned long long)stolen,
           (unsigned long long)(permille / 10), (unsigned long long)(permille % 10),
           LOADED_STEAL_MIN_PERCENT, clock);
    expect(c, s1.steal >= s0.steal, "steal decreased under load");
    expect(c, permille >= LOADED_STEAL_MIN_PERCENT * 10,
           "only %llu ns of steal in %llu ns busy on a host declared loaded", 
           (unsigned long long)stolen, (unsigned long long)window);
    return pass(c);
}

/* Halts and busy spells, each of which makes KVM refresh an enabled area. */
static void provoke_updates(void)
{
    for (unsigned i = 0; i < 5; i++) {
        timer_sleep_ticks(2);
        spin_tsc_cycles(STEAL_SPIN_CYCLES / 2);
    }
}

static enum verdict relocate(struct check_ctx *c, bool disable_first)
{
    volatile struct kvm_steal_time *active = steal_time_area(c);
    if (!active)
        return pass(c);
    volatile struct kvm_steal_time *old = active;
    enum pv_slot old_slot = steal_time_slot();
    enum pv_slot new_slot = old_slot == SLOT_STEAL ? SLOT_STEAL_MOVED : SLOT_STEAL;
    if (disable_first) {
        /* msr.rst: bit 0 clear disables the area; from that write on,
         * nothing may touch it. */
        wrmsr(MSR_KVM_STEAL_TIME, pv_gpa(old));
        struct pv_copy disabled = pv_copy_take(old, sizeof(*old));
        provoke_updates();
        expect(c, pv_copy_unchanged(old, &disabled),
               "the steal area at 0x%llx was written after bit 0 was cleared (version now %u)",
               (unsigned long long)pv_gpa(old), old->version);
    }
    active = steal_time_move(c, new_slot);
    if (!active)
        return pass(c);
    /* The MSR write has switched areas: the old one is frozen from here. */
    struct pv_copy frozen = pv_copy_take(old, sizeof(*old));
    uint32_t v0 = active->version;
    provoke_updates();
    uint32_t v1 = active->version;
    figure(c, "old_area=0x%llx old_version=%u new_area=0x%llx new_version=%u->%u",
           (unsigned long long)pv_gpa(old), old->version, (unsigned long long)pv_gpa(active), v0,
           v1);
    expect(c, pv_copy_unchanged(old, &frozen),
           "the %s steal area at 0x%llx kept being written (version now %u); Linux 901d3765fa80",
           disable_first ? "disabled" : "old", (unsigned long long)pv_gpa(old), old->version);
    expect(c, v1 != v0, "the new steal area was not updated after halts (version stays %u)", v1);
    check_canaries(c, old_slot);
    check_canaries(c, new_slot);
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

#define MSR_RST DOC_KVM_MSR " MSR_KVM_STEAL_TIME"

static const struct check steal_checks[] = {
    { "registration", MSR_RST ": 64-byte aligned GPA | 1 enables; bits 1-5 reserved (KVM: #GP)",
      check_registration },
    { "fields", MSR_RST ": version even after an update; 'flags: always zero'; preempted "
                "clear while the vCPU runs; padding untouched",
      check_fields },
    { "monotonic", MSR_RST ": steal is the time the vCPU did not run; it never decreases and "
                   "grows no faster than time",
      check_monotonic },
    { "idle_not_steal", MSR_RST ": steal counts runnable-not-running time, not halted time",
      check_idle_not_steal },
    { "under_load", MSR_RST ": on a loaded host a busy vCPU accrues steal",
      check_under_load },
    { "disable", MSR_RST ": bit 0 clear disables the area; it must not be written after",
      check_disable },
    { "move", "re-registering elsewhere must freeze the old area (Linux 901d3765fa80)",
      check_move },
};

static const struct suite steal_suite = {
    .name = "steal_time",
    .order = 20,
    .checks = steal_checks,
    .n_checks = ARRAY_SIZE(steal_checks),
    .unavailable = steal_unavailable,
};
REGISTER_SUITE(steal_suite);
