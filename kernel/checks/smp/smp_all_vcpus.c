/* The smp suite's checks with every vCPU at once, as kvm-unit-tests'
 * kvmclock test makes them: the wall clock on each vCPU, and all vCPUs
 * reading kvmclock against one shared latest value, with each one's read
 * cost. */
#include "checks/shared/clock_compare.h"
#include "checks/shared/pvclock_checks.h"
#include "checks/smp/smp_checks.h"
#include "checks/smp/smp_kvm.h"
#include "iface/kvm.h"
#include "lib/options.h"
#include "lib/report.h"
#include "platform/budget.h"
#include "platform/cpu.h"
#include "platform/percpu.h"
#include "platform/safe.h"
#include "platform/smp.h"
#include "platform/timer.h"

#define CONTEND_MS 1000u
#define SOLO_READS 10000u
#define SOLO_MS 200u
/* Fewer contended reads than this on a vCPU is no verdict. */
#define MIN_CONTENDED 100u

/* --- the wall clock on every vCPU -------------------------------------- */

struct wall_result {
    int vector;
    enum pvclock_read_status read;
    struct pvclock_wall_clock first, second;
    bool have_clock;
    uint64_t up_ns, write_ns; /* kvmclock after the second write; its duration */
};

static struct {
    struct pvclock_wall_clock w;
} __attribute__((aligned(16))) walls[SMP_MAX_CPUS];
static struct wall_result wall_results[SMP_MAX_CPUS];

/* Two MSR writes (the version must move), the second bracketed by this
 * vCPU's kvmclock: KVM reads its two host clocks somewhere inside it. */
static void wall_job(void *arg)
{
    unsigned cpu = this_cpu();
    struct wall_result *r = arg;
    volatile struct pvclock_wall_clock *w = &walls[cpu].w;
    *r = (struct wall_result){ 0 };
    r->vector = wrmsr_safe(MSR_KVM_WALL_CLOCK_NEW, pv_gpa(w));
    if (r->vector != NO_FAULT)
        return;
    r->read = pvclock_wall_read(w, &r->first, PVCLOCK_READ_TRIES);
    uint64_t before;
    r->have_clock = smp_clock_now(cpu, &before);
    wrmsr(MSR_KVM_WALL_CLOCK_NEW, pv_gpa(w));
    r->have_clock = smp_clock_now(cpu, &r->up_ns) && r->have_clock && r->up_ns >= before;
    r->write_ns = r->have_clock ? r->up_ns - before : 0;
    if (r->read == PVCLOCK_READ_OK)
        r->read = pvclock_wall_read(w, &r->second, PVCLOCK_READ_TRIES);
}

static uint64_t wall_now_ns(const struct wall_result *r)
{
    return (uint64_t)r->second.sec * 1000000000ull + r->second.nsec + r->up_ns;
}

enum verdict check_wall_clock_each_vcpu(struct check_ctx *c)
{
    const char *why = smp_need_clocks(c);
    if (why)
        return c->failed ? pass(c) : skip(c, "%s", why);
    uint64_t t0, t1;
    if (!expect(c, smp_clock_now(0, &t0), "the boot vCPU's kvmclock could not be read"))
        return pass(c);
    if (!smp_run_on_aps(c, wall_job, wall_results, sizeof(wall_results[0])))
        return pass(c);
    wall_job(&wall_results[0]);
    if (!expect(c, smp_clock_now(0, &t1) && t1 >= t0, "the boot vCPU's kvmclock could not be "
                "read, or went back over the writes"))
        return pass(c);
    unsigned n = smp_online();
    /* Each vCPU's epoch: the wall time at kvmclock 0. */
    uint64_t epoch[SMP_MAX_CPUS], write_ns[SMP_MAX_CPUS];
    for (unsigned cpu = 0; cpu < n; cpu++) {
        struct wall_result *r = &wall_results[cpu];
        if (!expect(c, r->vector == NO_FAULT, "vCPU %u: wrmsr(MSR_KVM_WALL_CLOCK_NEW) raised "
                    "vector %d", cpu, r->vector) ||
            !expect(c, r->read == PVCLOCK_READ_OK, "vCPU %u: wall clock version never even and "
                    "stable", cpu) ||
            !expect(c, r->have_clock, "vCPU %u: its kvmclock could not be read", cpu))
            return pass(c);
        figure(c, "cpu=%u version=%u,%u sec=%u nsec=%u kvmclock_ns=%llu write_ns=%llu", cpu,
               r->first.version, r->second.version, r->second.sec, r->second.nsec,
               (unsigned long long)r->up_ns, (unsigned long long)r->write_ns);
        expect(c, r->first.version != 0 && r->second.version > r->first.version,
               "vCPU %u: version %u -> %u over two MSR writes (msr.rst: updated at each write)",
               cpu, r->first.version, r->second.version);
        expect(c, r->second.nsec < 1000000000u, "vCPU %u: nsec=%u is not below 10^9", cpu,
               r->second.nsec);
        epoch[cpu] = (uint64_t)r->second.sec * 1000000000ull + r->second.nsec;
        write_ns[cpu] = r->write_ns;
    }
    struct wall_epochs w;
    bool agree = wall_epochs_judge(epoch, write_ns, n, t1 - t0, &w);
    figure(c, "vcpus=%u span_ns=%llu worst pair: cpu %u to %u epoch_spread_ns=%llu allowed_ns=%llu",
           n, (unsigned long long)(t1 - t0), w.lo, w.hi, (unsigned long long)w.spread_ns,
           (unsigned long long)w.allowed_ns);
    expect(c, agree,
           "vCPU %u's wall clock says kvmclock 0 was %llu ns after vCPU %u's; their writes "
           "lasted %llu and %llu ns (allowed their sum + %u ppm of %llu ns + 2 ns)", w.hi,
           (unsigned long long)w.spread_ns, w.lo, (unsigned long long)write_ns[w.hi],
           (unsigned long long)write_ns[w.lo], WALL_SLEW_PPM, (unsigned long long)(t1 - t0));
    uint64_t now = wall_now_ns(&wall_results[w.hi]);
    pvclock_check_wall_time(c, now / 1000000000ull, wall_results[w.hi].up_ns);
    return pass(c);
}

/* --- all vCPUs against one shared latest value ------------------------- */

struct contend_result {
    uint64_t solo_reads, solo_cycles;
    uint64_t read_failures;
    struct warp_count w;
};

static struct shared_last shared;
static volatile int contend_stop;
static struct contend_result contend_results[SMP_MAX_CPUS];

/* Alone first (this vCPU's cost of a raw kvmclock read), then against the
 * shared value: until end_tick on the boot vCPU, until contend_stop on the
 * others. */
static void contend(unsigned me, struct contend_result *r, uint64_t end_tick)
{
    *r = (struct contend_result){ 0 };
    uint64_t ns;
    struct budget b;
    budget_start(&b, SOLO_READS, SOLO_MS);
    uint64_t t0 = rdtsc_ordered();
    while (budget_next(&b))
        r->read_failures += !smp_clock_now(me, &ns);
    r->solo_cycles = rdtsc_ordered() - t0;
    r->solo_reads = b.taken;
    while (end_tick ? timer_ticks() < end_tick
                    : !__atomic_load_n(&contend_stop, __ATOMIC_ACQUIRE)) {
        uint64_t seen = shared_last_seen(&shared);
        if (smp_clock_now(me, &ns))
            shared_last_publish(&shared, seen, ns, &r->w);
        else
            r->read_failures++;
    }
}

static void contend_job(void *arg)
{
    contend(this_cpu(), arg, 0);
}

enum verdict check_shared_last_value(struct check_ctx *c)
{
    const char *why = smp_need_clocks(c);
    if (why)
        return c->failed ? pass(c) : skip(c, "%s", why);
    unsigned n = smp_online();
    unsigned ms = CONTEND_MS < pvcheck_options.budget_ms ? CONTEND_MS : pvcheck_options.budget_ms;
    shared = (struct shared_last){ 0 };
    contend_stop = 0;
    for (unsigned cpu = 1; cpu < n; cpu++)
        expect(c, smp_start(cpu, contend_job, &contend_results[cpu]),
               "vCPU %u is still busy with an earlier job", cpu);
    contend(0, &contend_results[0], timer_ticks() + (uint64_t)(SOLO_MS + ms) * TIMER_HZ / 1000);
    __atomic_store_n(&contend_stop, 1, __ATOMIC_RELEASE);
    for (unsigned cpu = 1; cpu < n; cpu++)
        expect(c, smp_wait(cpu, SMP_JOB_TIMEOUT_MS), "vCPU %u did not stop reading", cpu);
    if (c->failed)
        return pass(c);
    unsigned unstable;
    bool stable = smp_all_stable(&unstable);
    uint64_t warps = 0, stalls = 0, worst = 0, fewest = ~0ull, failures = 0;
    unsigned short_cpu = 0;
    for (unsigned cpu = 0; cpu < n; cpu++) {
        const struct contend_result *r = &contend_results[cpu];
        figure(c, "cpu=%u cycles_per_read=%llu solo_reads=%llu contended_reads=%llu warps=%llu "
                  "max_warp_ns=%llu stalls=%llu",
               cpu, (unsigned long long)(r->solo_reads ? r->solo_cycles / r->solo_reads : 0),
               (unsigned long long)r->solo_reads, (unsigned long long)r->w.reads,
               (unsigned long long)r->w.warps, (unsigned long long)r->w.max_warp_ns,
               (unsigned long long)r->w.stalls);
        warps += r->w.warps;
        stalls += r->w.stalls;
        failures += r->read_failures;
        if (r->w.max_warp_ns > worst)
            worst = r->w.max_warp_ns;
        if (r->w.reads < fewest) {
            fewest = r->w.reads;
            short_cpu = cpu;
        }
    }
    figure(c, "vcpus=%u contend_ms=%u warps=%llu worst_warp_ns=%llu stalls=%llu tsc_stable=%d", n,
           ms, (unsigned long long)warps, (unsigned long long)worst, (unsigned long long)stalls,
           stable);
    expect(c, failures == 0, "%llu kvmclock reads failed", (unsigned long long)failures);
    if (stable)
        expect(c, warps == 0,
               "PVCLOCK_TSC_STABLE_BIT is set, yet %llu reads were earlier than the latest value "
               "another vCPU had already published, by up to %llu ns",
               (unsigned long long)warps, (unsigned long long)worst);
    if (fewest < MIN_CONTENDED)
        skip(c, "vCPU %u took only %llu contended reads in %u ms, below the %u a verdict needs: "
                "too slow to judge", short_cpu, (unsigned long long)fewest, ms, MIN_CONTENDED);
    if (!stable && !c->failed)
        return skip(c, "PVCLOCK_TSC_STABLE_BIT not set on every vCPU (first: %u): warps are "
                       "allowed, figures only", unstable);
    return pass(c);
}
