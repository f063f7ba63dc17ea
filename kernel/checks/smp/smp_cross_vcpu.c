/* The smp suite's cross-vCPU KVM checks: time compared across vCPUs (token
 * passing, one instant, reads of a sibling's area while KVM rewrites it)
 * and steal's preempted flag seen from another vCPU. */
#include "checks/smp/smp_checks.h"
#include "checks/smp/smp_kvm.h"
#include "checks/smp/preempt_watch.h"
#include "iface/kvm.h"
#include "iface/steal.h"
#include "lib/format.h"
#include "lib/options.h"
#include "lib/report.h"
#include "live/kvmclock.h"
#include "live/pvarea.h"
#include "platform/cpu.h"
#include "platform/percpu.h"
#include "platform/safe.h"
#include "platform/smp.h"
#include "platform/timer.h"

#define RING_MS 1000u
#define REMOTE_MS 300u
#define PREEMPT_MS 1000u

/* --- time across vCPUs ------------------------------------------------- */

/* Every vCPU's area has PVCLOCK_TSC_STABLE_BIT and CPUID advertises it. */
struct ring {
    unsigned n;
    uint32_t turn;
    int stop;
    uint64_t last_ns;
    uint64_t read_failures;
    struct pvclock_order order;
};

static struct ring ring;

/* The token holder reads its clock right after seeing the last published
 * time, compares, publishes the later one and passes the token on. */
static void ring_turn(unsigned me)
{
    uint64_t ns, last = __atomic_load_n(&ring.last_ns, __ATOMIC_ACQUIRE);
    if (smp_clock_now(me, &ns))
        last = pvclock_order_add(&ring.order, last, ns);
    else
        ring.read_failures++;
    __atomic_store_n(&ring.last_ns, last, __ATOMIC_RELEASE);
    __atomic_store_n(&ring.turn, (me + 1) % ring.n, __ATOMIC_RELEASE);
}

static void ring_job(void *arg)
{
    (void)arg;
    unsigned me = this_cpu();
    while (!__atomic_load_n(&ring.stop, __ATOMIC_ACQUIRE)) {
        if (__atomic_load_n(&ring.turn, __ATOMIC_ACQUIRE) == me)
            ring_turn(me);
        else
            cpu_relax();
    }
}

enum verdict check_cross_vcpu_monotonic(struct check_ctx *c)
{
    const char *why = smp_need_clocks(c);
    if (why)
        return c->failed ? pass(c) : skip(c, "%s", why);
    ring = (struct ring){ .n = smp_online() };
    for (unsigned cpu = 1; cpu < ring.n; cpu++)
        smp_start(cpu, ring_job, 0);
    uint64_t start = timer_ticks(), end = start + RING_MS * TIMER_HZ / 1000;
    while (timer_ticks() < end) {
        if (__atomic_load_n(&ring.turn, __ATOMIC_ACQUIRE) == 0)
            ring_turn(0);
        else
            cpu_relax();
    }
    __atomic_store_n(&ring.stop, 1, __ATOMIC_RELEASE);
    for (unsigned cpu = 1; cpu < ring.n; cpu++)
        expect(c, smp_wait(cpu, SMP_JOB_TIMEOUT_MS), "vCPU %u did not leave the ring", cpu);
    unsigned unstable;
    bool stable = smp_all_stable(&unstable);
    const struct pvclock_order *o = &ring.order;
    figure(c, "vcpus=%u comparisons=%llu per_second=%llu backward=%llu max_back_ns=%llu "
              "read_failures=%llu tsc_stable=%d",
           ring.n, (unsigned long long)o->comparisons,
           (unsigned long long)(o->comparisons * 1000 / RING_MS), (unsigned long long)o->backward,
           (unsigned long long)o->max_back_ns, (unsigned long long)ring.read_failures, stable);
    expect(c, ring.read_failures == 0, "%llu clock reads failed in the ring",
           (unsigned long long)ring.read_failures);
    expect(c, o->comparisons > ring.n, "the token went round fewer than once");
    if (stable)
        expect(c, o->backward == 0,
               "PVCLOCK_TSC_STABLE_BIT is set, yet a vCPU read a time %llu ns before one "
               "already published by another (%llu times)", (unsigned long long)o->max_back_ns,
               (unsigned long long)o->backward);
    else
        figure(c, "note: no cross-vCPU guarantee without PVCLOCK_TSC_STABLE_BIT (vCPU %u)",
               unstable);
    return pass(c);
}

enum verdict check_same_instant(struct check_ctx *c)
{
    const char *why = smp_need_clocks(c);
    if (why)
        return c->failed ? pass(c) : skip(c, "%s", why);
    unsigned unstable;
    if (!smp_all_stable(&unstable))
        return skip(c, "PVCLOCK_TSC_STABLE_BIT not set on every vCPU: no same-instant promise");
    struct pvclock_snapshot s[SMP_MAX_CPUS];
    unsigned n = smp_online();
    for (unsigned cpu = 0; cpu < n; cpu++)
        if (pvclock_read(smp_clock_area(cpu), &s[cpu], PVCLOCK_READ_TRIES, 0) != PVCLOCK_READ_OK)
            return fail(c, "vCPU %u: versioned read failed", cpu);
    uint64_t tsc = rdtsc_ordered();
    struct pvclock_spread sp;
    if (!pvclock_spread_at(s, n, tsc, &sp))
        return fail(c, "vCPU %u's parameters cannot be evaluated at TSC %llu", sp.bad_cpu,
                    (unsigned long long)tsc);
    figure(c, "vcpus=%u tsc=%llu spread_ns=%llu budget_ns=%llu", n, (unsigned long long)tsc,
           (unsigned long long)sp.spread_ns, (unsigned long long)sp.budget_ns);
    expect(c, sp.spread_ns <= sp.budget_ns,
           "at TSC %llu vCPU %u says %llu ns and vCPU %u says %llu ns (budget %llu ns)",
           (unsigned long long)tsc, sp.lo_cpu, (unsigned long long)sp.lo_ns, sp.hi_cpu,
           (unsigned long long)sp.hi_ns, (unsigned long long)sp.budget_ns);
    return pass(c);
}

static volatile int remote_stop;

/* Makes KVM rewrite this vCPU's kvmclock area over and over. */
static void rewrite_job(void *arg)
{
    (void)arg;
    unsigned cpu = this_cpu();
    uint64_t value = pv_gpa(smp_clock_area(cpu)) | 1;
    while (!__atomic_load_n(&remote_stop, __ATOMIC_ACQUIRE))
        wrmsr(MSR_KVM_SYSTEM_TIME_NEW, value);
}

enum verdict check_remote_reads(struct check_ctx *c)
{
    const char *why = smp_need_clocks(c);
    if (why)
        return c->failed ? pass(c) : skip(c, "%s", why);
    unsigned n = smp_online();
    bool stable = kvm_has(KVM_FEATURE_CLOCKSOURCE_STABLE_BIT);
    __atomic_store_n(&remote_stop, 0, __ATOMIC_RELEASE);
    for (unsigned cpu = 1; cpu < n; cpu++)
        smp_start(cpu, rewrite_job, 0);
    uint64_t reads = 0, retried = 0, bad = 0, failed_reads = 0, longest_ticks = 0;
    uint64_t stuck_since[SMP_MAX_CPUS] = { 0 }; /* tick + 1 of a stretch's first failed read */
    char problem[160];
    uint64_t end = timer_ticks() + REMOTE_MS * TIMER_HZ / 1000;
    while (timer_ticks() < end) {
        for (unsigned cpu = 1; cpu < n; cpu++) {
            struct pvclock_snapshot s;
            unsigned tries = 0;
            if (pvclock_read(smp_clock_area(cpu), &s, PVCLOCK_READ_TRIES, &tries) != PVCLOCK_READ_OK) {
                /* A writer whose CPU the host descheduled mid-update holds
                 * the version odd meanwhile: only a stretch without any
                 * stable read that lasts a second is an update that never
                 * finished. */
                failed_reads++;
                uint64_t now = timer_ticks();
                if (!stuck_since[cpu])
                    stuck_since[cpu] = now + 1;
                if (now + 1 - stuck_since[cpu] > longest_ticks)
                    longest_ticks = now + 1 - stuck_since[cpu];
                continue;
            }
            stuck_since[cpu] = 0;
            reads++;
            retried += tries > 1;
            if (pvclock_params_problem(&s, stable, problem, sizeof(problem))) {
                if (!bad++)
                    figure(c, "first bad snapshot, vCPU %u: %s", cpu, problem);
            }
        }
    }
    __atomic_store_n(&remote_stop, 1, __ATOMIC_RELEASE);
    for (unsigned cpu = 1; cpu < n; cpu++)
        expect(c, smp_wait(cpu, SMP_JOB_TIMEOUT_MS), "vCPU %u did not stop rewriting", cpu);
    figure(c, "remote_reads=%llu retried=%llu bad=%llu", (unsigned long long)reads,
           (unsigned long long)retried, (unsigned long long)bad);
    expect(c, reads > 0, "no remote read succeeded");
    expect(c, bad == 0, "%llu accepted snapshots of siblings' areas broke the field rules "
           "(fields published under an even version)", (unsigned long long)bad);
    figure(c, "reads_without_stable_version=%llu longest_stretch_ms=%llu",
           (unsigned long long)failed_reads,
           (unsigned long long)(longest_ticks * 1000 / TIMER_HZ));
    expect(c, longest_ticks <= TIMER_HZ, "a sibling's version stayed odd or changing for %llu ms "
           "of reads: an update that never finished", (unsigned long long)(longest_ticks * 1000 / TIMER_HZ));
    return pass(c);
}

/* --- preempted -------------------------------------------------------- */

static volatile int preempt_stop;

static void busy_job(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&preempt_stop, __ATOMIC_ACQUIRE))
        cpu_relax();
}

/* Each OUT to port 0x80 is an exit to the VMM's user space, not a preemption. */
static void port_io_job(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&preempt_stop, __ATOMIC_ACQUIRE))
        outb(0x80, 0);
}

static void steal_register_job(void *arg)
{
    volatile struct kvm_steal_time *a = smp_steal_area(this_cpu());
    for (unsigned i = 0; i < 64; i++)
        ((volatile uint8_t *)a)[i] = 0;
    *(int *)arg = wrmsr_safe(MSR_KVM_STEAL_TIME, pv_gpa(a) | 1);
    (void)SMP_WAIT_VERSION(a);
}

static void register_steal_on_aps(struct check_ctx *c)
{
    static int vectors[SMP_MAX_CPUS];
    if (!smp_run_on_aps(c, steal_register_job, vectors, sizeof(vectors[0])))
        return;
    for (unsigned cpu = 1; cpu < smp_online(); cpu++)
        expect(c, vectors[cpu] == NO_FAULT && smp_steal_area(cpu)->version != 0,
               "vCPU %u: steal area not registered (vector %d, version %u)", cpu, vectors[cpu],
               smp_steal_area(cpu)->version);
}

/* vCPU 1's steal now; false if no consistent read. */
static bool ap_steal(uint64_t *steal)
{
    struct steal_snapshot s;
    if (steal_read(smp_steal_area(1), &s, PVCLOCK_READ_TRIES) != PVCLOCK_READ_OK)
        return false;
    *steal = s.steal;
    return true;
}

/* Runs job on the siblings (all, or only vCPU 1) for PREEMPT_MS while the
 * boot vCPU samples their preempted bytes in bursts, one a tick. */
static void sample_preempted(void (*job)(void *), bool all, struct preempt_watch *w)
{
    unsigned n = smp_online();
    __atomic_store_n(&preempt_stop, 0, __ATOMIC_RELEASE);
    for (unsigned cpu = 1; cpu < n; cpu++)
        if (all || cpu == 1)
            smp_start(cpu, job, 0);
    uint64_t end = timer_ticks() + PREEMPT_MS * TIMER_HZ / 1000;
    while (timer_ticks() < end) {
        uint64_t steal = 0;
        bool steal_ok = ap_steal(&steal), marked = false;
        for (unsigned burst = 0; burst < 64; burst++)
            for (unsigned cpu = 1; cpu < (all ? n : 2); cpu++) {
                w->samples++;
                if (smp_steal_area(cpu)->preempted & 1) {
                    w->seen[cpu]++;
                    marked |= cpu == 1;
                }
            }
        preempt_watch_burst(w, marked, steal_ok, steal);
        /* Halting leaves the host's CPUs to the siblings. */
        timer_sleep_ticks(1);
    }
    __atomic_store_n(&preempt_stop, 1, __ATOMIC_RELEASE);
}

/* After vCPU 1 finished its job (it entered again to finish it): marks
 * still pending are ones no steal followed. */
static void close_watch(struct preempt_watch *w)
{
    uint64_t steal = 0;
    bool steal_ok = ap_steal(&steal);
    preempt_watch_close(w, steal_ok, steal);
}

enum verdict check_preempted(struct check_ctx *c)
{
    const char *why = smp_need_aps_and(KVM_FEATURE_STEAL_TIME, "KVM_FEATURE_STEAL_TIME");
    if (why)
        return skip(c, "%s", why);
    register_steal_on_aps(c);
    if (c->failed)
        return pass(c);
    unsigned n = smp_online();
    if (pvcheck_options.host_loaded) {
        struct preempt_watch w = { 0 };
        sample_preempted(busy_job, true, &w);
        uint64_t total = 0;
        for (unsigned cpu = 1; cpu < n; cpu++) {
            expect(c, smp_wait(cpu, SMP_JOB_TIMEOUT_MS), "vCPU %u did not stop", cpu);
            total += w.seen[cpu];
        }
        figure(c, "host_loaded=1 samples=%llu preempted_seen=%llu sibling_job=busy loop",
               (unsigned long long)w.samples, (unsigned long long)total);
        expect(c, total > 0, "busy siblings on a loaded host were never marked preempted in "
               "%llu samples", (unsigned long long)w.samples);
        return pass(c);
    }
    /* Idle host: vCPU 1 first busy-loops (the host's background preemption),
     * then does port I/O, each OUT an exit to the VMM's user space. */
    struct preempt_watch busy = { 0 }, io = { 0 };
    sample_preempted(busy_job, false, &busy);
    expect(c, smp_wait(1, SMP_JOB_TIMEOUT_MS), "vCPU 1 did not stop its busy loop");
    sample_preempted(port_io_job, false, &io);
    expect(c, smp_wait(1, SMP_JOB_TIMEOUT_MS), "vCPU 1 did not stop its port I/O");
    close_watch(&io);
    uint64_t busy_seen = busy.seen[1], io_seen = io.seen[1];
    /* Budget: the port-I/O phase may show up to twice the busy phase's rate
     * plus 1% of its samples (background preemption varies between phases);
     * marking every exit to user space shows at the share of time the vCPU
     * spends in its VMM, tens of percent. */
    uint64_t allowed = (busy.samples ? 2 * busy_seen * io.samples / busy.samples : 0) +
                       io.samples / 100;
    figure(c, "host_loaded=0 busy_samples=%llu busy_preempted=%llu io_samples=%llu "
              "io_preempted=%llu allowed=%llu io_marked_bursts=%u io_bursts_without_steal=%u",
           (unsigned long long)busy.samples, (unsigned long long)busy_seen,
           (unsigned long long)io.samples, (unsigned long long)io_seen,
           (unsigned long long)allowed, io.marked_bursts, io.unaccounted);
    /* More marks than allowed are real preemptions only if each was
     * followed by steal. */
    expect(c, io_seen <= allowed || io.unaccounted == 0,
           "vCPU 1, doing port I/O on an idle host, was marked preempted in %llu of %llu samples "
           "(busy-looping: %llu of %llu), and no growth of its steal followed %u of the %u "
           "bursts that saw the mark: exits to user space counted as preemption (Linux "
           "54aa83c90198)", (unsigned long long)io_seen, (unsigned long long)io.samples,
           (unsigned long long)busy_seen, (unsigned long long)busy.samples, io.unaccounted,
           io.marked_bursts);
    return pass(c);
}
