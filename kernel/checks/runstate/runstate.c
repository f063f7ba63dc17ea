/* Suite "runstate": Xen's vCPU runstate area (public/vcpu.h), registered
 * with VCPUOP_register_runstate_memory_area in a zeroed area with canaries
 * around it; times read against Xen's own clock (vcpu_info time). The
 * boot vCPU's own area is checked here; every vCPU's own area and remote
 * reads in check_runstate_smp.c. */
#include "checks/pvarea.h"
#include "checks/rate.h"
#include "checks/runstate_checks.h"
#include "checks/sampling.h"
#include "checks/smp_checks.h"
#include "checks/steal_time.h"
#include "iface/hv_cpuid.h"
#include "iface/kvm.h"
#include "iface/runstate.h"
#include "iface/steal.h"
#include "iface/xen.h"
#include "lib/options.h"
#include "lib/report.h"
#include "platform/budget.h"
#include "platform/cpu.h"
#include "platform/percpu.h"
#include "platform/smp.h"
#include "platform/timer.h"

#define AREA_OFFSET 0x40
#define SERIES_ROUNDS 200u
/* Fewer rounds (half of them halts), none wrong, is no verdict. */
#define SERIES_MIN_ROUNDS 20u
#define BUSY_MS 500u
#define INFO_ROUNDS 200u
#define INFO_MIN_CALLS 20u

volatile struct vcpu_runstate_info *runstate_boot_area;
bool runstate_flag_enabled;

static bool register_area(struct check_ctx *c, unsigned vcpu,
                          volatile struct vcpu_runstate_info *a)
{
    struct xen_area_handle h = { pv_gpa(a) };
    long rc = xen_vcpu_op(VCPUOP_REGISTER_RUNSTATE_MEMORY_AREA, vcpu, &h);
    return expect(c, rc == 0, "VCPUOP_register_runstate_memory_area(vcpu %u, 0x%llx) returned %ld",
                  vcpu, (unsigned long long)pv_gpa(a), rc);
}

bool runstate_checked_snap(struct check_ctx *c, const volatile struct vcpu_runstate_info *a,
                           struct runstate_snapshot *s, bool own)
{
    unsigned flagged = 0;
    if (runstate_read(a, s, RUNSTATE_CHECK_READ_TRIES, &flagged) != RUNSTATE_READ_OK)
        return fail(c, "no consistent read in %u tries (state_entry_time 0x%llx)", RUNSTATE_CHECK_READ_TRIES,
                    (unsigned long long)a->state_entry_time), false;
    if (!runstate_flag_enabled && !expect(c, flagged == 0,
                                 "state_entry_time carried bit 63 in %u reads, but the guest "
                                 "never enabled VMASST_TYPE_runstate_update_flag", flagged))
        return false;
    char why[160];
    const char *problem = runstate_problem(s, own ? RUNSTATE_OWN : 0, why, sizeof(why));
    return expect(c, !problem, "%s", problem);
}

/* Xen's clock on the boot vCPU: what runstate times are counted in. A
 * read that fails (version never settling) is remembered, so that no
 * measurement runs on a clock stuck at 0. */
static bool clock_lost;

static uint64_t now_ns(void)
{
    uint64_t ns = 0;
    if (!xen_time_now(0, &ns))
        clock_lost = true;
    return ns;
}

static bool expect_clock(struct check_ctx *c)
{
    bool lost = clock_lost;
    clock_lost = false;
    return expect(c, !lost, "Xen's clock (vcpu_info[0].time) could not be read");
}

static void report_snapshot(struct check_ctx *c, const char *what, const struct runstate_snapshot *s)
{
    uint64_t offset = s->entry - runstate_sum(s);
    figure(c, "%s state=%s entry=%llu running=%llu runnable=%llu blocked=%llu offline=%llu "
              "offset=%llu (%s)",
           what, runstate_name(s->state), (unsigned long long)s->entry,
           (unsigned long long)s->time[0], (unsigned long long)s->time[1],
           (unsigned long long)s->time[2], (unsigned long long)s->time[3],
           (unsigned long long)offset,
           offset ? "Xen: the vCPU's creation time" : "zero: KVM's Xen emulation");
}

bool runstate_ensure_area(struct check_ctx *c)
{
    if (runstate_boot_area)
        return true;
    volatile struct vcpu_runstate_info *a = pv_area_prepare(SLOT_RUNSTATE, AREA_OFFSET, 48);
    if (!register_area(c, 0, a))
        return false;
    runstate_boot_area = a;
    return true;
}

static enum verdict check_registration(struct check_ctx *c)
{
    runstate_boot_area = 0;
    if (!runstate_ensure_area(c))
        return pass(c);
    /* Written by the hypercall itself, before the guest runs again. */
    struct runstate_snapshot s;
    bool written = runstate_boot_area->state_entry_time != 0;
    if (!expect(c, written, "the area is still zero right after registration (Linux "
                            "5ec3289b31ab: runstate not written at registration)"))
        return pass(c);
    if (runstate_checked_snap(c, runstate_boot_area, &s, true)) {
        report_snapshot(c, "registered", &s);
        uint64_t now = now_ns();
        if (expect_clock(c))
            expect(c, s.entry <= now + RUNSTATE_ALLOWANCE_NS,
                   "state_entry_time %llu ns is after Xen's clock %llu ns",
                   (unsigned long long)s.entry, (unsigned long long)now);
    }
    pv_expect_intact(c, SLOT_RUNSTATE, AREA_OFFSET, 48);
    return pass(c);
}

void runstate_report_series(struct check_ctx *c, const struct runstate_series *st,
                             bool clock_orders)
{
    figure(c, "samples=%llu decreases=%llu too_fast=%llu max_excess_ns=%llu offset_changes=%llu "
              "max_offset_delta=%llu future_entries=%llu",
           (unsigned long long)st->samples, (unsigned long long)st->decreases,
           (unsigned long long)st->too_fast, (unsigned long long)st->max_excess_ns,
           (unsigned long long)st->offset_changes, (unsigned long long)st->max_offset_delta,
           (unsigned long long)st->future_entries);
    figure(c, "grown_running=%llu grown_runnable=%llu grown_blocked=%llu grown_offline=%llu",
           (unsigned long long)st->grown[0], (unsigned long long)st->grown[1],
           (unsigned long long)st->grown[2], (unsigned long long)st->grown[3]);
    expect(c, st->decreases == 0, "a time or state_entry_time decreased %llu times, by up to "
           "%llu ns (Linux 36a85200643e)", (unsigned long long)st->decreases,
           (unsigned long long)st->max_decrease);
    if (!clock_orders)
        figure(c, "too_fast and future_entries were measured with another vCPU's clock, which "
                  "lacks PVCLOCK_TSC_STABLE_BIT: reported, not judged");
    expect(c, !clock_orders || st->too_fast == 0, "the times grew more than Xen's clock advanced "
           "%llu times, by up to %llu ns", (unsigned long long)st->too_fast,
           (unsigned long long)st->max_excess_ns);
    expect(c, st->offset_changes == 0, "state_entry_time - sum(time) moved %llu times, by up to "
           "%llu ns", (unsigned long long)st->offset_changes,
           (unsigned long long)st->max_offset_delta);
    expect(c, !clock_orders || st->future_entries == 0, "state_entry_time was after the clock "
           "read that followed it %llu times, by up to %llu ns", (unsigned long long)st->future_entries,
           (unsigned long long)st->max_future_ns);
}

/* One snapshot between two clock reads, into the series. */
static bool sample(struct check_ctx *c, const volatile struct vcpu_runstate_info *a, bool own,
                   struct runstate_series *st, struct runstate_snapshot *s)
{
    uint64_t before = now_ns();
    if (!runstate_checked_snap(c, a, s, own))
        return false;
    uint64_t after = now_ns();
    if (!expect_clock(c))
        return false;
    runstate_series_add(st, s, before, after);
    return true;
}

/* Odd rounds halt until the next tick (a blocked period, so an update of
 * the area at the wake-up), even rounds spin briefly. */
void runstate_halt_or_spin(unsigned round)
{
    if (round & 1)
        timer_sleep_ticks(1);
    else
        spin_tsc_cycles(100000);
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
        if (!sample(c, runstate_boot_area, true, &st, &s))
            return pass(c);
        runstate_halt_or_spin((unsigned)b.taken - 1);
    }
    sampling_report(c, "rounds", &b);
    runstate_report_series(c, &st, true);
    uint64_t total = st.grown[0] + st.grown[1] + st.grown[2] + st.grown[3];
    expect(c, total > 0, "no time grew over %llu samples spanning %llu halts",
           (unsigned long long)b.taken, (unsigned long long)b.taken / 2);
    pv_expect_intact(c, SLOT_RUNSTATE, AREA_OFFSET, 48);
    sampling_require(c, "rounds", b.taken, SERIES_MIN_ROUNDS, &b);
    return pass(c);
}

/* What the hypervisor may spend running a halted vCPU at one halt and the
 * wake-up after it (a pass through its scheduler and a context switch each
 * way), in CPUID exits timed on the spot: 18 to 28 measured on nested Xen
 * 4.17 (0.6 to 0.95 ms of running, less the guest's own, per 10 ms tick;
 * CPUID 33 us); twice the most. */
#define HALT_WAKE_EXITS 64u

/* The cheapest of 4 runs of 16 CPUIDs, per CPUID, in TSC cycles. */
static uint64_t cpuid_exit_cycles(void)
{
    uint64_t best = UINT64_MAX;
    for (int round = 0; round < 4; round++) {
        uint64_t t0 = rdtsc_ordered();
        for (int i = 0; i < 16; i++)
            (void)cpuid(0);
        uint64_t d = (rdtsc_ordered() - t0) / 16;
        best = d < best ? d : best;
    }
    return best;
}

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
    uint64_t cpuid_cycles = cpuid_exit_cycles();
    struct runstate_snapshot a, b;
    struct halt_stats h;
    uint64_t a0 = rdtsc_ordered(), t0 = now_ns(), tsc0 = rdtsc_ordered();
    if (!runstate_checked_snap(c, runstate_boot_area, &a, true))
        return pass(c);
    timer_sleep_ticks_measured((uint64_t)pvcheck_options.halt_ms * TIMER_HZ / 1000, &h);
    if (!runstate_checked_snap(c, runstate_boot_area, &b, true))
        return pass(c);
    uint64_t a1 = rdtsc_ordered(), t1 = now_ns(), tsc1 = rdtsc_ordered(), g[RUNSTATE_COUNT];
    if (!expect_clock(c) ||
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
    if (no_info ? !runstate_checked_snap(c, runstate_boot_area, &first, true)
                : !info_now(c, &first))
        return pass(c);
    uint64_t start = now_ns(), end = start + (uint64_t)BUSY_MS * 1000000;
    /* A clock that stops advancing must not hold the run: the timer bounds it. */
    uint64_t tick_limit = timer_ticks() + 2 * BUSY_MS * TIMER_HZ / 1000;
    while (now_ns() < end && expect_clock(c) &&
           expect(c, timer_ticks() < tick_limit, "Xen's clock advanced only %llu ns while "
                  "the timer counted %u ms", (unsigned long long)(now_ns() - start), 2 * BUSY_MS))
        if (!sample(c, runstate_boot_area, true, &st, &s))
            return pass(c);
    if (c->failed)
        return pass(c);
    if (no_info) {
        timer_sleep_ticks(1); /* a state change: the area takes in the busy stretch */
        if (!runstate_checked_snap(c, runstate_boot_area, &last, true))
            return pass(c);
        figure(c, "VCPUOP_get_runstate_info returned -ENOSYS: measured from the area");
    } else if (!info_now(c, &last)) {
        return pass(c);
    }
    uint64_t elapsed = now_ns() - start, g[RUNSTATE_COUNT];
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
        if (!runstate_checked_snap(c, runstate_boot_area, &before, true))
            return pass(c);
        bool called = info_now(c, &s);
        uint64_t t1 = now_ns();
        if (!called || !expect_clock(c))
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
            sample(c, a, true, &st, &s);
            timer_sleep_ticks(1);
        }
        if (!c->failed)
            runstate_report_series(c, &st, true);
        /* Used: its times grow. Which state a halt is accounted to is
         * runstate.blocked's rule, not this one's. */
        uint64_t grown = st.grown[0] + st.grown[1] + st.grown[2] + st.grown[3];
        expect(c, grown > 0, "no time grew in the unaligned area over 20 halts: it is not used");
    }
    pv_expect_intact(c, SLOT_RUNSTATE_CROSSING, offset, 48);
    /* Back to the aligned area; the crossing one must then freeze. */
    runstate_boot_area = 0;
    runstate_ensure_area(c);
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
    long rc = xen_hypercall(XEN_HC_VM_ASSIST, VMASST_CMD_ENABLE, VMASST_TYPE_RUNSTATE_UPDATE_FLAG,
                            0, 0, 0);
    figure(c, "vm_assist(enable, runstate_update_flag)=%ld", rc);
    if (rc)
        return skip(c, "VMASST_TYPE_runstate_update_flag refused (%ld)", rc);
    runstate_flag_enabled = true;
    /* The flag is always cleared again: reads keep finding consistent copies,
     * and the hypercall's copy never carries it. */
    struct runstate_series st = { 0 };
    struct runstate_snapshot s;
    for (unsigned i = 0; i < 40 && !c->failed; i++) {
        sample(c, runstate_boot_area, true, &st, &s);
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
