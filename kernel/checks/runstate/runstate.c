/* Suite "runstate": Xen's vCPU runstate area (public/vcpu.h), registered
 * with VCPUOP_register_runstate_memory_area in a zeroed area with canaries
 * around it; times read against Xen's own clock (vcpu_info time). The
 * boot vCPU's own area is checked here; every vCPU's own area and remote
 * reads in runstate_smp.c. */
#include "checks/runstate/runstate_checks.h"
#include "checks/shared/rate.h"
#include "checks/shared/sampling.h"
#include "iface/hv_cpuid.h"
#include "iface/kvm.h"
#include "iface/runstate.h"
#include "iface/steal.h"
#include "iface/xen.h"
#include "lib/options.h"
#include "lib/report.h"
#include "live/pvarea.h"
#include "live/steal_time.h"
#include "platform/budget.h"
#include "platform/cpu.h"
#include "platform/percpu.h"
#include "platform/smp.h"
#include "platform/timer.h"

#define SERIES_ROUNDS 200u
/* Fewer rounds (half of them halts), none wrong, is no verdict. */
#define SERIES_MIN_ROUNDS 20u
#define BUSY_MS 500u
#define INFO_ROUNDS 200u
#define INFO_MIN_CALLS 20u

static enum verdict check_registration(struct check_ctx *c)
{
    if (!runstate_register_anew(c))
        return pass(c);
    /* Written by the hypercall itself, before the guest runs again. */
    struct runstate_snapshot s;
    bool written = runstate_area()->state_entry_time != 0;
    if (!expect(c, written, "the area is still zero right after registration (Linux "
                            "5ec3289b31ab: runstate not written at registration)"))
        return pass(c);
    if (runstate_checked_snap(c, runstate_area(), &s, true)) {
        runstate_report_snapshot(c, "registered", &s);
        uint64_t now = runstate_clock_ns();
        if (runstate_expect_clock(c))
            expect(c, s.entry <= now + RUNSTATE_ALLOWANCE_NS,
                   "state_entry_time %llu ns is after Xen's clock %llu ns",
                   (unsigned long long)s.entry, (unsigned long long)now);
    }
    pv_expect_intact(c, SLOT_RUNSTATE, RUNSTATE_AREA_OFFSET, RUNSTATE_AREA_BYTES);
    return pass(c);
}

static enum verdict check_monotonic(struct check_ctx *c)
{
    if (!runstate_ensure_area(c))
        return pass(c);
    struct runstate_series st = { 0 };
    struct runstate_snapshot s;
    struct budget b;
    budget_start(&b, SERIES_ROUNDS, pvcheck_options.budget_ms);
    while (budget_next(&b)) {
        if (!runstate_sample(c, runstate_area(), true, &st, &s))
            return pass(c);
        runstate_halt_or_spin((unsigned)b.taken - 1);
    }
    sampling_report(c, "rounds", &b);
    runstate_report_series(c, &st, true);
    uint64_t total = st.grown[0] + st.grown[1] + st.grown[2] + st.grown[3];
    expect(c, total > 0, "no time grew over %llu samples spanning %llu halts",
           (unsigned long long)b.taken, (unsigned long long)b.taken / 2);
    pv_expect_intact(c, SLOT_RUNSTATE, RUNSTATE_AREA_OFFSET, RUNSTATE_AREA_BYTES);
    sampling_require(c, "rounds", b.taken, SERIES_MIN_ROUNDS, &b);
    return pass(c);
}

/* What the hypervisor may spend running a halted vCPU at one halt and the
 * wake-up after it (a pass through its scheduler and a context switch each
 * way), in CPUID exits timed on the spot: 18 to 28 measured on nested Xen
 * 4.17 (0.6 to 0.95 ms of running, less the guest's own, per 10 ms tick;
 * CPUID 33 us); twice the most. */
#define HALT_WAKE_EXITS 64u

/* Halted through halt_ms of ticks, the vCPU is blocked from each HLT until
 * its tick, but for the hypervisor's work at the halt and the wake-up
 * (HALT_WAKE_EXITS CPUID exits each) and its wait for a CPU after the tick
 * (the runnable time: on an idle host within the idle-steal budget, judged
 * below; on a loaded one runstate.under_load expects it). The time halted
 * is the guest's own measure: the TSC from each HLT to the entry of the tick
 * handler that ended it. */
static enum verdict check_blocked(struct check_ctx *c)
{
    if (!runstate_ensure_area(c))
        return pass(c);
    uint64_t cpuid_cycles = runstate_cpuid_cycles();
    struct runstate_snapshot a, b;
    struct halt_stats h;
    uint64_t a0 = rdtsc_ordered(), t0 = runstate_clock_ns(), tsc0 = rdtsc_ordered();
    if (!runstate_checked_snap(c, runstate_area(), &a, true))
        return pass(c);
    timer_sleep_ticks_measured((uint64_t)pvcheck_options.halt_ms * TIMER_HZ / 1000, &h);
    if (!runstate_checked_snap(c, runstate_area(), &b, true))
        return pass(c);
    uint64_t a1 = rdtsc_ordered(), t1 = runstate_clock_ns(), tsc1 = rdtsc_ordered(), g[RUNSTATE_COUNT];
    if (!runstate_expect_clock(c) ||
        !expect(c, t1 > t0 && a1 > tsc0, "neither time nor the TSC may stand still over a "
                "halt: %llu ns, %llu cycles", (unsigned long long)(t1 - t0),
                (unsigned long long)(a1 - tsc0)))
        return pass(c);
    runstate_growth(&a, &b, g);
    /* TSC cycles to ns by the clock's rate over the window; each clock
     * reading lies within its TSC bracket, which bounds the error. */
    uint64_t elapsed = t1 - t0, cycles = (a1 + tsc1) / 2 - (a0 + tsc0) / 2;
    uint64_t halted = mul_div_sat(h.halted_cycles, elapsed, cycles);
    uint64_t exit_ns = mul_div_sat(cpuid_cycles, elapsed, cycles);
    uint64_t conversion = mul_div_sat((tsc0 - a0) + (tsc1 - a1), elapsed, cycles) + 2;
    uint64_t hv = mul_div_sat(h.halts, HALT_WAKE_EXITS * exit_ns, 1);
    uint64_t wait = g[RUNSTATE_RUNNABLE];
    figure(c, "halted_ms=%u elapsed_ns=%llu halts=%llu halted_ns=%llu cpuid_exit_ns=%llu "
           "conversion_ns=%llu running=%llu runnable=%llu blocked=%llu offline=%llu",
           pvcheck_options.halt_ms, (unsigned long long)elapsed, (unsigned long long)h.halts,
           (unsigned long long)halted, (unsigned long long)exit_ns,
           (unsigned long long)conversion, (unsigned long long)g[0], (unsigned long long)g[1],
           (unsigned long long)g[2], (unsigned long long)g[3]);
    uint64_t allowed = hv + wait + conversion;
    uint64_t floor = halted > allowed ? halted - allowed : 0;
    expect(c, g[RUNSTATE_BLOCKED] > 0 && g[RUNSTATE_BLOCKED] >= floor,
           "blocked time grew %llu ns over %llu ns halted in %llu halts (expected at least "
           "%llu: %u CPUID exits of %llu ns per halt for the hypervisor, %llu ns runnable, "
           "%llu ns for the clock readings)",
           (unsigned long long)g[RUNSTATE_BLOCKED], (unsigned long long)halted,
           (unsigned long long)h.halts, (unsigned long long)floor, HALT_WAKE_EXITS,
           (unsigned long long)exit_ns, (unsigned long long)wait,
           (unsigned long long)conversion);
    if (!pvcheck_options.host_loaded)
        expect(c, g[RUNSTATE_RUNNABLE] * 100 <= elapsed * IDLE_STEAL_MAX_PERCENT,
               "runnable time grew %llu ns over %llu ns halted on an idle host (over %u%%)",
               (unsigned long long)g[RUNSTATE_RUNNABLE], (unsigned long long)elapsed,
               IDLE_STEAL_MAX_PERCENT);
    return pass(c);
}

/* The area moves only at state changes; the hypercall's copy includes the
 * current state up to now, so it measures a busy window exactly. */
/* Whether the hypervisor lacks VCPUOP_get_runstate_info (-ENOSYS: QEMU 10's
 * Xen emulation on KVM); asked once per check, before any measuring. */
static bool info_missing(void)
{
    struct runstate_snapshot s;
    return xen_runstate_info(0, &s) == -XEN_ENOSYS;
}

/* Once it answered, any error later (-ENOSYS included) fails the check. */
static bool info_now(struct check_ctx *c, struct runstate_snapshot *s)
{
    long rc = xen_runstate_info(0, s);
    return expect(c, rc == 0, "VCPUOP_get_runstate_info returned %ld", rc);
}

static enum verdict check_under_load(struct check_ctx *c)
{
    if (!runstate_ensure_area(c))
        return pass(c);
    struct runstate_series st = { 0 };
    struct runstate_snapshot s, first, last;
    /* With KVM's steal time beside Xen's interface (KVM emulating Xen),
     * both measure the same window. */
    bool kvm_steal = kvm_has(KVM_FEATURE_STEAL_TIME), no_info = info_missing();
    uint64_t kvm0 = 0, kvm1 = 0;
    if (kvm_steal && !steal_time_now(c, &kvm0))
        return pass(c);
    /* The hypercall includes the current state up to now; without it, the
     * area (which Xen updates only at state changes) is the measure. */
    if (no_info ? !runstate_checked_snap(c, runstate_area(), &first, true)
                : !info_now(c, &first))
        return pass(c);
    uint64_t start = runstate_clock_ns(), end = start + (uint64_t)BUSY_MS * 1000000;
    /* A clock that stops advancing must not hold the run: the timer bounds it. */
    uint64_t tick_limit = timer_ticks() + 2 * BUSY_MS * TIMER_HZ / 1000;
    while (runstate_clock_ns() < end && runstate_expect_clock(c) &&
           expect(c, timer_ticks() < tick_limit, "Xen's clock advanced only %llu ns while "
                  "the timer counted %u ms", (unsigned long long)(runstate_clock_ns() - start), 2 * BUSY_MS))
        if (!runstate_sample(c, runstate_area(), true, &st, &s))
            return pass(c);
    if (c->failed)
        return pass(c);
    if (no_info) {
        timer_sleep_ticks(1); /* a state change: the area takes in the busy stretch */
        if (!runstate_checked_snap(c, runstate_area(), &last, true))
            return pass(c);
        figure(c, "VCPUOP_get_runstate_info returned -ENOSYS: measured from the area");
    } else if (!info_now(c, &last)) {
        return pass(c);
    }
    uint64_t elapsed = runstate_clock_ns() - start, g[RUNSTATE_COUNT];
    runstate_growth(&first, &last, g);
    uint64_t xen_steal = g[RUNSTATE_RUNNABLE] + g[RUNSTATE_OFFLINE];
    figure(c, "busy_ns=%llu running=%llu xen_steal_ns=%llu (runnable+offline) steal_percent=%llu",
           (unsigned long long)elapsed, (unsigned long long)g[RUNSTATE_RUNNING],
           (unsigned long long)xen_steal,
           (unsigned long long)(elapsed ? xen_steal * 100 / elapsed : 0));
    if (kvm_steal) {
        /* KVM publishes a busy stretch's steal at the next vCPU entry. */
        timer_sleep_ticks(1);
        if (!steal_time_now(c, &kvm1))
            return pass(c);
        figure(c, "kvm_steal_ns=%llu steal_percent=%llu (MSR_KVM_STEAL_TIME, same window)",
               (unsigned long long)(kvm1 - kvm0),
               (unsigned long long)(elapsed ? (kvm1 - kvm0) * 100 / elapsed : 0));
    } else {
        figure(c, "kvm_steal=none (KVM_FEATURE_STEAL_TIME not offered)");
    }
    runstate_report_series(c, &st, true);
    if (!pvcheck_options.host_loaded)
        return c->failed ? pass(c)
                         : skip(c, "the host was not declared loaded (host_loaded): runnable "
                                   "time need not grow");
    expect(c, xen_steal * 100 >= elapsed * LOADED_STEAL_MIN_PERCENT,
           "the host is loaded but runnable+offline grew only %llu ns in %llu ns busy (under %u%%)",
           (unsigned long long)xen_steal, (unsigned long long)elapsed, LOADED_STEAL_MIN_PERCENT);
    return pass(c);
}

/* VCPUOP_get_runstate_info: Xen's own copy, bracketed by two area reads. */
static enum verdict check_get_info(struct check_ctx *c)
{
    if (!runstate_ensure_area(c))
        return pass(c);
    unsigned accrued = 0;
    if (info_missing())
        return skip(c, "VCPUOP_get_runstate_info returned -ENOSYS: this hypervisor does not "
                       "implement it");
    struct budget b;
    budget_start(&b, INFO_ROUNDS, pvcheck_options.budget_ms);
    while (budget_next(&b)) {
        unsigned i = (unsigned)b.taken - 1;
        struct runstate_snapshot before, s;
        if (!runstate_checked_snap(c, runstate_area(), &before, true))
            return pass(c);
        bool called = info_now(c, &s);
        uint64_t t1 = runstate_clock_ns();
        if (!called || !runstate_expect_clock(c))
            return pass(c);
        if (!expect(c, !(s.entry & XEN_RUNSTATE_UPDATE),
                    "VCPUOP_get_runstate_info returned state_entry_time 0x%llx with bit 63 "
                    "(the update flag leaked into the hypercall's copy)",
                    (unsigned long long)s.entry))
            return pass(c);
        char why[160];
        /* Xen's vcpu_runstate_get adds the time since state_entry_time to
         * the current state, leaving state_entry_time as it was. */
        const char *problem =
            runstate_problem(&s, RUNSTATE_OWN | RUNSTATE_ACCRUED, why, sizeof(why));
        if (!expect(c, !problem, "VCPUOP_get_runstate_info: %s", problem))
            return pass(c);
        uint64_t offset = before.entry - runstate_sum(&before);
        for (unsigned k = 0; k < RUNSTATE_COUNT; k++)
            if (!expect(c, s.time[k] >= before.time[k],
                        "the hypercall's %s time %llu is below the area's %llu read before it",
                        runstate_name((int32_t)k), (unsigned long long)s.time[k],
                        (unsigned long long)before.time[k]))
                return pass(c);
        /* Its times may include the current state up to now: never beyond
         * the clock read after the call. */
        if (!expect(c, runstate_sum(&s) + offset <= t1 + RUNSTATE_ALLOWANCE_NS,
                    "the hypercall's times sum to %llu ns, past the clock %llu ns",
                    (unsigned long long)(runstate_sum(&s) + offset), (unsigned long long)t1))
            return pass(c);
        accrued += s.time[RUNSTATE_RUNNING] > before.time[RUNSTATE_RUNNING];
        if (i % 20 == 19)
            timer_sleep_ticks(1);
    }
    sampling_report(c, "calls", &b);
    figure(c, "accrued_current_state=%u", accrued);
    sampling_require(c, "calls", b.taken, INFO_MIN_CALLS, &b);
    return pass(c);
}

/* Linux 5ec3289b31ab: an area that is unaligned or crosses a page must work
 * (or be refused), and nothing outside its 48 bytes may change. */
static enum verdict check_page_crossing(struct check_ctx *c)
{
    if (!runstate_ensure_area(c))
        return pass(c);
    const unsigned offset = 4096 - 20; /* unaligned, and across the page */
    volatile struct vcpu_runstate_info *a = pv_area_prepare(SLOT_RUNSTATE_CROSSING, offset, 48);
    struct xen_area_handle h = { pv_gpa(a) };
    long rc = xen_vcpu_op(VCPUOP_REGISTER_RUNSTATE_MEMORY_AREA, 0, &h);
    figure(c, "area=0x%llx crosses a page: registration returned %ld",
           (unsigned long long)pv_gpa(a), rc);
    if (rc == 0) {
        struct runstate_series st = { 0 };
        struct runstate_snapshot s;
        expect(c, a->state_entry_time != 0, "the unaligned area is zero right after registration");
        for (unsigned i = 0; i < 20 && !c->failed; i++) {
            runstate_sample(c, a, true, &st, &s);
            timer_sleep_ticks(1);
        }
        /* Used: its times grow. Which state a halt is accounted to is
         * runstate.blocked's rule, not this one's. A sample that broke a
         * rule ended the series early: its growth then proves nothing. */
        if (!c->failed) {
            runstate_report_series(c, &st, true);
            uint64_t grown = st.grown[0] + st.grown[1] + st.grown[2] + st.grown[3];
            expect(c, grown > 0, "no time grew in the unaligned area over 20 halts: it is not "
                   "used");
        }
    }
    pv_expect_intact(c, SLOT_RUNSTATE_CROSSING, offset, 48);
    /* Back to the aligned area; the crossing one must then freeze. */
    runstate_register_anew(c);
    struct pv_copy frozen = pv_copy_take(a, 48);
    timer_sleep_ticks(3);
    expect(c, pv_copy_unchanged(a, &frozen), "the abandoned area was still written after "
           "another area was registered");
    return pass(c);
}

/* Last: VMASST_TYPE_runstate_update_flag cannot be turned off again. */
static enum verdict check_update_flag(struct check_ctx *c)
{
    if (!runstate_ensure_area(c))
        return pass(c);
    long rc = runstate_enable_update_flag();
    figure(c, "vm_assist(enable, runstate_update_flag)=%ld", rc);
    if (rc)
        return skip(c, "VMASST_TYPE_runstate_update_flag refused (%ld)", rc);
    /* The flag is always cleared again: reads keep finding consistent copies,
     * and the hypercall's copy never carries it. */
    struct runstate_series st = { 0 };
    struct runstate_snapshot s;
    for (unsigned i = 0; i < 40 && !c->failed; i++) {
        runstate_sample(c, runstate_area(), true, &st, &s);
        struct runstate_snapshot info;
        long r = xen_runstate_info(0, &info);
        expect(c, r == 0 && !(info.entry & XEN_RUNSTATE_UPDATE),
               "VCPUOP_get_runstate_info returned %ld with state_entry_time 0x%llx (bit 63 "
               "leaked, Xen 2019 fix)", r, (unsigned long long)info.entry);
        timer_sleep_ticks(1);
    }
    if (!c->failed)
        runstate_report_series(c, &st, true);
    if (smp_init()->online >= 2)
        runstate_remote_reads(c);
    return pass(c);
}

static const char *runstate_unavailable(void)
{
    if (!hv_find(hv_get(), HV_XEN))
        return "no XenVMMXenVMM signature in any hypervisor CPUID block";
    if (!xen_ready())
        return "no working Xen hypercall page";
    if (!xen_shared_info(0))
        return "shared_info could not be mapped: no Xen clock to measure against";
    return 0;
}

#define VCPU_H "Xen public/vcpu.h"

static const struct check runstate_checks[] = {
    { "registration", VCPU_H " VCPUOP_register_runstate_memory_area: the area is written at "
                      "registration; the vCPU reading its own area sees itself running",
      check_registration },
    { "monotonic", VCPU_H " vcpu_runstate_info: no time ever decreases; each grows at most as "
                   "Xen's clock; state_entry_time - sum(time) stays constant",
      check_monotonic },
    { "blocked", VCPU_H " RUNSTATE_blocked: a halted vCPU accrues blocked time, not runnable",
      check_blocked },
    { "under_load", VCPU_H " RUNSTATE_runnable: a vCPU waiting for a busy physical CPU accrues "
                    "runnable time (steal = runnable + offline)",
      check_under_load },
    { "get_info", VCPU_H " VCPUOP_get_runstate_info agrees with the area and never shows bit 63 "
                  "(Xen 2019 fix)",
      check_get_info },
    { "page_crossing", "Linux 5ec3289b31ab: an unaligned, page-crossing area is used or refused, "
                       "never written past its 48 bytes; the abandoned area freezes",
      check_page_crossing },
    { "each_vcpu", VCPU_H ": every vCPU registers its own area and sees itself running; a "
                   "halted sibling's area says blocked",
      check_runstate_each_vcpu },
    { "remote_reads", VCPU_H ": a sibling's area read from another vCPU keeps every rule, "
                      "and bit 63 never appears before the guest enables the update flag "
                      "(Linux d8ba8ba4c801)",
      check_runstate_remote_reads },
    { "update_flag", VCPU_H " VMASST_TYPE_runstate_update_flag: bit 63 marks updates, is "
                     "always cleared, readers on other vCPUs get consistent copies",
      check_update_flag },
};

static const struct suite runstate_suite = {
    .name = "runstate",
    .order = 51,
    .checks = runstate_checks,
    .n_checks = ARRAY_SIZE(runstate_checks),
    .unavailable = runstate_unavailable,
};
REGISTER_SUITE(runstate_suite);
