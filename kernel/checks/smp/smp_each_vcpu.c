/* The smp suite's per-vCPU KVM checks: kvmclock and steal time on every
 * vCPU, each with its own area in its own page. The application processors
 * measure; the boot vCPU reports and decides. */
#include "checks/smp/smp_checks.h"
#include "checks/smp/smp_kvm.h"
#include "iface/kvm.h"
#include "iface/steal.h"
#include "lib/format.h"
#include "lib/options.h"
#include "lib/report.h"
#include "live/kvmclock.h"
#include "live/pvarea.h"
#include "platform/budget.h"
#include "platform/cpu.h"
#include "platform/percpu.h"
#include "platform/safe.h"
#include "platform/smp.h"
#include "platform/timer.h"

/* Fewer reads than this on a vCPU, none of them wrong, is no verdict. */
#define EACH_MIN_READS 1000u
/* A busy spell between steal samples, in TSC cycles. */
#define STEAL_SPIN_CYCLES 2500000u

/* --- kvmclock on every vCPU ------------------------------------------- */

enum verdict check_kvmclock_each_vcpu(struct check_ctx *c)
{
    const char *why = smp_need_aps_and(KVM_FEATURE_CLOCKSOURCE2, "KVM_FEATURE_CLOCKSOURCE2");
    if (why)
        return skip(c, "%s", why);
    if (!smp_kvmclock_on_aps(c))
        return pass(c);
    bool stable = kvm_has(KVM_FEATURE_CLOCKSOURCE_STABLE_BIT);
    unsigned short_cpu = 0;
    uint64_t fewest = ~0ull;
    for (unsigned cpu = 1; cpu < smp_online(); cpu++) {
        struct clock_result *r = &smp_clock_results[cpu];
        char problem[160];
        if (!expect(c, r->vector == NO_FAULT, "vCPU %u: wrmsr(MSR_KVM_SYSTEM_TIME_NEW) raised "
                    "vector %d", cpu, r->vector) ||
            !expect(c, r->populated, "vCPU %u: area not populated within 100 ms", cpu) ||
            !expect(c, r->read == PVCLOCK_READ_OK, "vCPU %u: versioned read failed (%s)", cpu,
                    r->read == PVCLOCK_READ_ODD ? "version stuck odd" : "version unstable"))
            continue;
        const struct pvclock_stream *st = &r->stream;
        figure(c, "cpu=%u version=%u mul=0x%08x shift=%d flags=0x%02x reads=%llu backward=%llu "
                  "max_back_ns=%llu tsc_behind=%llu",
               cpu, r->snap.version, r->snap.mul, r->snap.shift, r->snap.flags,
               (unsigned long long)st->samples, (unsigned long long)st->backward,
               (unsigned long long)st->max_back_ns, (unsigned long long)st->tsc_behind);
        const char *p = pvclock_params_problem(&r->snap, stable, problem, sizeof(problem));
        expect(c, !p, "vCPU %u: %s", cpu, p);
        expect(c, st->backward == 0, "vCPU %u: time went backwards %llu times, by up to %llu ns",
               cpu, (unsigned long long)st->backward, (unsigned long long)st->max_back_ns);
        expect(c, st->tsc_behind == 0 && st->overflow == 0,
               "vCPU %u: TSC behind tsc_timestamp %llu times, overflow %llu times", cpu,
               (unsigned long long)st->tsc_behind, (unsigned long long)st->overflow);
        expect(c, r->damaged_at < 0, "vCPU %u: page byte %d outside the areas was written", cpu,
               r->damaged_at);
        if (st->samples < fewest) {
            fewest = st->samples;
            short_cpu = cpu;
        }
    }
    if (fewest < EACH_MIN_READS)
        skip(c, "vCPU %u took only %llu reads within budget_ms=%u, below the %u a verdict needs: "
                "too slow to judge", short_cpu, (unsigned long long)fewest,
             pvcheck_options.budget_ms, EACH_MIN_READS);
    return pass(c);
}

/* --- steal time on every vCPU ------------------------------------------ */

struct steal_result {
    int vector;
    bool written;
    enum pvclock_read_status read;
    struct steal_snapshot first;
    struct steal_series series;
    bool have_clock;
    uint64_t idle_from, idle_to; /* this vCPU's kvmclock around its idle halt */
    uint64_t idle_ns, idle_steal, load_ns, load_steal;
    int damaged_at;
};

static struct steal_result steal_results[SMP_MAX_CPUS];
static volatile int idle_released;
static volatile unsigned idle_halting; /* APs that reached their idle halt */

static bool sample(volatile struct kvm_steal_time *a, struct steal_result *r, unsigned cpu,
                   uint64_t *steal, uint64_t *ns)
{
    struct steal_snapshot s;
    uint64_t before;
    if (!smp_clock_now(cpu, &before))
        return false;
    r->read = steal_read(a, &s, PVCLOCK_READ_TRIES);
    if (r->read != PVCLOCK_READ_OK || !smp_clock_now(cpu, ns))
        return false;
    *steal = s.steal;
    steal_series_add(&r->series, s.steal, before, *ns);
    return true;
}

static void steal_job(void *arg)
{
    unsigned cpu = this_cpu();
    struct steal_result *r = arg;
    volatile struct kvm_steal_time *a = smp_steal_area(cpu);
    for (unsigned i = 0; i < 64; i++)
        ((volatile uint8_t *)a)[i] = 0;
    *r = (struct steal_result){ .damaged_at = -1 };
    r->vector = wrmsr_safe(MSR_KVM_STEAL_TIME, pv_gpa(a) | 1);
    if (r->vector != NO_FAULT)
        return;
    r->written = SMP_WAIT_VERSION(a);
    if (!r->written)
        return;
    r->read = steal_read(a, &r->first, PVCLOCK_READ_TRIES);
    uint64_t s0, t0, s1, t1;
    r->have_clock = smp_clock_now(cpu, &t0);
    if (r->read != PVCLOCK_READ_OK || !r->have_clock)
        return;
    for (unsigned i = 0; i < 20; i++) {
        if (!sample(a, r, cpu, &s0, &t0))
            return;
        spin_tsc_cycles(STEAL_SPIN_CYCLES);
    }
    /* Idle: halt until the boot vCPU releases every AP together. */
    if (!sample(a, r, cpu, &s0, &t0))
        return;
    __atomic_add_fetch(&idle_halting, 1, __ATOMIC_ACQ_REL);
    irq_disable();
    while (!__atomic_load_n(&idle_released, __ATOMIC_ACQUIRE)) {
        safe_halt();
        irq_disable();
    }
    irq_enable();
    if (!sample(a, r, cpu, &s1, &t1))
        return;
    r->idle_from = t0;
    r->idle_to = t1;
    r->idle_ns = t1 - t0;
    r->idle_steal = s1 - s0;
    if (pvcheck_options.host_loaded) {
        s0 = s1;
        t0 = t1;
        do {
            cpu_relax();
        } while (smp_clock_now(cpu, &t1) && t1 - t0 < 1000000000ull);
        if (!sample(a, r, cpu, &s1, &t1))
            return;
        r->load_ns = t1 - t0;
        r->load_steal = s1 - s0;
    }
    r->damaged_at = smp_page_damaged(smp_page(cpu));
}

enum verdict check_steal_each_vcpu(struct check_ctx *c)
{
    const char *why = smp_need_aps_and(KVM_FEATURE_STEAL_TIME, "KVM_FEATURE_STEAL_TIME");
    if (why)
        return skip(c, "%s", why);
    if (!kvm_has(KVM_FEATURE_CLOCKSOURCE2))
        return skip(c, "needs kvmclock on every vCPU to time steal (KVM_FEATURE_CLOCKSOURCE2)");
    /* Each AP needs its own kvmclock: the per-vCPU kvmclock job makes it. */
    if (!smp_kvmclock_on_aps(c))
        return pass(c);
    __atomic_store_n(&idle_released, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&idle_halting, 0, __ATOMIC_RELEASE);
    unsigned n = smp_online();
    for (unsigned cpu = 1; cpu < n; cpu++)
        expect(c, smp_start(cpu, steal_job, &steal_results[cpu]), "vCPU %u busy", cpu);
    /* Wait for every AP to reach its halt, keep them halted, release them. */
    uint64_t deadline = timer_ticks() + (uint64_t)SMP_JOB_TIMEOUT_MS * TIMER_HZ / 1000;
    while (__atomic_load_n(&idle_halting, __ATOMIC_ACQUIRE) < n - 1 && timer_ticks() < deadline)
        timer_sleep_ticks(1);
    unsigned halting = __atomic_load_n(&idle_halting, __ATOMIC_ACQUIRE);
    timer_sleep_ticks((uint64_t)pvcheck_options.halt_ms * TIMER_HZ / 1000);
    /* From the release on an AP is runnable: waiting for a host CPU then is
     * steal. With one clock across vCPUs that part of its window is timed. */
    uint64_t kick_ns;
    unsigned unstable;
    bool kick_timed = smp_clock_now(0, &kick_ns) && smp_all_stable(&unstable);
    __atomic_store_n(&idle_released, 1, __ATOMIC_RELEASE);
    for (unsigned cpu = 1; cpu < n; cpu++)
        smp_kick(cpu);
    for (unsigned cpu = 1; cpu < n; cpu++)
        expect(c, smp_wait(cpu, SMP_JOB_TIMEOUT_MS), "vCPU %u did not finish the steal job: %s",
               cpu, smp_late_reason(cpu));
    figure(c, "halt_ms=%u aps_halted=%u of %u", pvcheck_options.halt_ms, halting, n - 1);
    for (unsigned cpu = 1; cpu < n; cpu++) {
        struct steal_result *r = &steal_results[cpu];
        char problem[128];
        if (!expect(c, r->vector == NO_FAULT, "vCPU %u: wrmsr(MSR_KVM_STEAL_TIME) raised vector "
                    "%d", cpu, r->vector) ||
            !expect(c, r->written, "vCPU %u: steal area not written within 100 ms", cpu) ||
            !expect(c, r->read == PVCLOCK_READ_OK, "vCPU %u: versioned read of steal failed", cpu) ||
            !expect(c, r->have_clock, "vCPU %u: no kvmclock to time steal", cpu))
            continue;
        const struct steal_series *s = &r->series;
        bool in_window = kick_timed && kick_ns > r->idle_from && kick_ns < r->idle_to;
        uint64_t woken_ns = in_window ? r->idle_to - kick_ns : 0;
        uint64_t halted_ns = r->idle_ns - woken_ns;
        uint64_t beyond = r->idle_steal > woken_ns ? r->idle_steal - woken_ns : 0;
        uint64_t idle_permille = halted_ns ? beyond * 1000 / halted_ns : 0;
        figure(c, "cpu=%u steal_ns=%llu decreases=%llu too_fast=%llu idle_ns=%llu "
                  "idle_steal_ns=%llu woken_ns=%llu idle_permille=%llu",
               cpu, (unsigned long long)r->first.steal, (unsigned long long)s->decreases,
               (unsigned long long)s->too_fast, (unsigned long long)r->idle_ns,
               (unsigned long long)r->idle_steal, (unsigned long long)woken_ns,
               (unsigned long long)idle_permille);
        const char *p = steal_fields_problem(&r->first, problem, sizeof(problem));
        expect(c, !p, "vCPU %u: %s", cpu, p);
        expect(c, s->decreases == 0, "vCPU %u: steal decreased %llu times", cpu,
               (unsigned long long)s->decreases);
        expect(c, s->too_fast == 0, "vCPU %u: steal outgrew time by up to %llu ns", cpu,
               (unsigned long long)s->max_excess_ns);
        expect(c, r->damaged_at < 0, "vCPU %u: page byte %d outside the areas was written", cpu,
               r->damaged_at);
        if (!pvcheck_options.host_loaded) {
            expect(c, idle_permille <= IDLE_STEAL_MAX_PERCENT * 10,
                   "vCPU %u: %llu ns steal in %llu ns halted and %llu ns from its release: idle "
                   "counted as steal", cpu, (unsigned long long)r->idle_steal,
                   (unsigned long long)halted_ns, (unsigned long long)woken_ns);
        } else {
            uint64_t load_permille = r->load_ns ? r->load_steal * 1000 / r->load_ns : 0;
            figure(c, "cpu=%u busy_ns=%llu busy_steal_ns=%llu busy_permille=%llu", cpu,
                   (unsigned long long)r->load_ns, (unsigned long long)r->load_steal,
                   (unsigned long long)load_permille);
            expect(c, load_permille >= LOADED_STEAL_MIN_PERCENT * 10,
                   "vCPU %u: only %llu ns steal in %llu ns busy on a loaded host", cpu,
                   (unsigned long long)r->load_steal, (unsigned long long)r->load_ns);
        }
    }
    return pass(c);
}
