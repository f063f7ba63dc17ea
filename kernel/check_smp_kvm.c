/* The smp suite's KVM checks: kvmclock and steal time on every vCPU, each
 * with its own area in its own page, and time compared across vCPUs. The
 * application processors measure; the boot vCPU reports and decides. */
#include "cpu.h"
#include "format.h"
#include "kvm.h"
#include "kvmclock.h"
#include "pvarea.h"
#include "pvcheck.h"
#include "report.h"
#include "safe.h"
#include "smp.h"
#include "smp_checks.h"
#include "steal.h"
#include "timer.h"

#define CLOCK_OFFSET 0x40
#define STEAL_OFFSET 0x100
#define EACH_READS 20000u
#define RING_MS 1000u
#define REMOTE_MS 300u
#define PREEMPT_MS 1000u

static volatile struct pvclock_vcpu_time_info *clock_area(unsigned cpu)
{
    if (cpu == 0 && kvmclock_active())
        return kvmclock_active();
    return (volatile struct pvclock_vcpu_time_info *)(smp_page(cpu) + CLOCK_OFFSET);
}

static volatile struct kvm_steal_time *steal_area(unsigned cpu)
{
    return (volatile struct kvm_steal_time *)(smp_page(cpu) + STEAL_OFFSET);
}

static bool clock_now(unsigned cpu, uint64_t *ns)
{
    return kvmclock_read_ns(clock_area(cpu), ns);
}

/* Every byte of the vCPU's page outside its two areas must stay canary. */
static void fill_canaries(uint8_t *page)
{
    for (unsigned i = 0; i < SMP_PAGE_BYTES; i++)
        if (!(i >= CLOCK_OFFSET && i < CLOCK_OFFSET + 32) &&
            !(i >= STEAL_OFFSET && i < STEAL_OFFSET + 64))
            page[i] = PV_CANARY;
}

static int damaged(const volatile uint8_t *page)
{
    for (unsigned i = 0; i < SMP_PAGE_BYTES; i++)
        if (!(i >= CLOCK_OFFSET && i < CLOCK_OFFSET + 32) &&
            !(i >= STEAL_OFFSET && i < STEAL_OFFSET + 64) && page[i] != PV_CANARY)
            return (int)i;
    return -1;
}

#define WAIT_VERSION(a) (PV_WAIT_VERSION((a), TIMER_HZ / 10) >= 0)

/* --- kvmclock on every vCPU ------------------------------------------- */

struct clock_result {
    int vector;
    bool populated;
    enum pvclock_read_status read;
    struct pvclock_snapshot snap;
    struct pvclock_stream stream;
    int damaged_at;
};

static struct clock_result clock_results[SMP_MAX_CPUS];

static void clock_job(void *arg)
{
    unsigned cpu = smp_this_cpu();
    struct clock_result *r = arg;
    uint8_t *page = smp_page(cpu);
    fill_canaries(page);
    volatile struct pvclock_vcpu_time_info *a = clock_area(cpu);
    for (unsigned i = 0; i < 32; i++)
        ((volatile uint8_t *)a)[i] = 0;
    *r = (struct clock_result){ .damaged_at = -1 };
    r->vector = wrmsr_safe(MSR_KVM_SYSTEM_TIME_NEW, pv_gpa(a) | 1);
    if (r->vector != NO_FAULT)
        return;
    r->populated = WAIT_VERSION(a);
    if (!r->populated)
        return;
    r->read = pvclock_read(a, &r->snap, PVCLOCK_READ_TRIES, 0);
    for (unsigned i = 0; i < EACH_READS && r->read == PVCLOCK_READ_OK; i++) {
        struct pvclock_snapshot s;
        r->read = pvclock_read(a, &s, PVCLOCK_READ_TRIES, 0);
        if (r->read == PVCLOCK_READ_OK)
            pvclock_stream_add(&r->stream, &s, rdtsc_ordered());
    }
    r->damaged_at = damaged(page);
}

bool smp_run_on_aps(struct check_ctx *c, void (*job)(void *), void *results, size_t size)
{
    unsigned n = smp_online();
    bool ok = true;
    for (unsigned cpu = 1; cpu < n; cpu++)
        if (!smp_start(cpu, job, (uint8_t *)results + cpu * size))
            ok = expect(c, false, "vCPU %u is still busy with an earlier job", cpu);
    for (unsigned cpu = 1; cpu < n; cpu++)
        if (!smp_wait(cpu, SMP_JOB_TIMEOUT_MS))
            ok = expect(c, false, "vCPU %u (APIC ID %u) did not finish within %u ms", cpu,
                        smp_apic_id(cpu), SMP_JOB_TIMEOUT_MS);
    return ok;
}

static const char *need_aps_and(unsigned feature, const char *name)
{
    const char *why = kvm_missing(feature, name);
    if (why)
        return why;
    smp_init();
    return smp_online() < 2 ? "only one vCPU is online" : 0;
}

enum verdict check_kvmclock_each_vcpu(struct check_ctx *c)
{
    const char *why = need_aps_and(KVM_FEATURE_CLOCKSOURCE2, "KVM_FEATURE_CLOCKSOURCE2");
    if (why)
        return skip(c, "%s", why);
    if (!smp_run_on_aps(c, clock_job, clock_results, sizeof(clock_results[0])))
        return pass(c);
    bool stable = kvm_has(KVM_FEATURE_CLOCKSOURCE_STABLE_BIT);
    for (unsigned cpu = 1; cpu < smp_online(); cpu++) {
        struct clock_result *r = &clock_results[cpu];
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
    }
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
    if (!clock_now(cpu, &before))
        return false;
    r->read = steal_read(a, &s, PVCLOCK_READ_TRIES);
    if (r->read != PVCLOCK_READ_OK || !clock_now(cpu, ns))
        return false;
    *steal = s.steal;
    steal_series_add(&r->series, s.steal, before, *ns);
    return true;
}

static void steal_job(void *arg)
{
    unsigned cpu = smp_this_cpu();
    struct steal_result *r = arg;
    volatile struct kvm_steal_time *a = steal_area(cpu);
    for (unsigned i = 0; i < 64; i++)
        ((volatile uint8_t *)a)[i] = 0;
    *r = (struct steal_result){ .damaged_at = -1 };
    r->vector = wrmsr_safe(MSR_KVM_STEAL_TIME, pv_gpa(a) | 1);
    if (r->vector != NO_FAULT)
        return;
    r->written = WAIT_VERSION(a);
    if (!r->written)
        return;
    r->read = steal_read(a, &r->first, PVCLOCK_READ_TRIES);
    uint64_t s0, t0, s1, t1;
    r->have_clock = clock_now(cpu, &t0);
    if (r->read != PVCLOCK_READ_OK || !r->have_clock)
        return;
    for (unsigned i = 0; i < 20; i++) {
        if (!sample(a, r, cpu, &s0, &t0))
            return;
        for (unsigned spin = 0; spin < 50000; spin++)
            cpu_relax();
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
    r->idle_ns = t1 - t0;
    r->idle_steal = s1 - s0;
    if (pvcheck_options.host_loaded) {
        s0 = s1;
        t0 = t1;
        do {
            cpu_relax();
        } while (clock_now(cpu, &t1) && t1 - t0 < 1000000000ull);
        if (!sample(a, r, cpu, &s1, &t1))
            return;
        r->load_ns = t1 - t0;
        r->load_steal = s1 - s0;
    }
    r->damaged_at = damaged(smp_page(cpu));
}

enum verdict check_steal_each_vcpu(struct check_ctx *c)
{
    const char *why = need_aps_and(KVM_FEATURE_STEAL_TIME, "KVM_FEATURE_STEAL_TIME");
    if (why)
        return skip(c, "%s", why);
    if (!kvm_has(KVM_FEATURE_CLOCKSOURCE2))
        return skip(c, "needs kvmclock on every vCPU to time steal (KVM_FEATURE_CLOCKSOURCE2)");
    /* Each AP needs its own kvmclock: the per-vCPU kvmclock job makes it. */
    if (!smp_run_on_aps(c, clock_job, clock_results, sizeof(clock_results[0])))
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
    __atomic_store_n(&idle_released, 1, __ATOMIC_RELEASE);
    for (unsigned cpu = 1; cpu < n; cpu++)
        smp_kick(cpu);
    for (unsigned cpu = 1; cpu < n; cpu++)
        expect(c, smp_wait(cpu, SMP_JOB_TIMEOUT_MS), "vCPU %u did not finish the steal job", cpu);
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
        uint64_t idle_permille = r->idle_ns ? r->idle_steal * 1000 / r->idle_ns : 0;
        figure(c, "cpu=%u steal_ns=%llu decreases=%llu too_fast=%llu idle_ns=%llu "
                  "idle_steal_ns=%llu idle_permille=%llu",
               cpu, (unsigned long long)r->first.steal, (unsigned long long)s->decreases,
               (unsigned long long)s->too_fast, (unsigned long long)r->idle_ns,
               (unsigned long long)r->idle_steal, (unsigned long long)idle_permille);
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
                   "vCPU %u: %llu ns steal while halted %llu ns: idle counted as steal", cpu,
                   (unsigned long long)r->idle_steal, (unsigned long long)r->idle_ns);
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

/* --- time across vCPUs ------------------------------------------------- */

/* Every vCPU's area has PVCLOCK_TSC_STABLE_BIT and CPUID advertises it. */
static bool all_stable(unsigned *unstable_cpu)
{
    if (!kvm_has(KVM_FEATURE_CLOCKSOURCE_STABLE_BIT)) {
        *unstable_cpu = 0xffffffff;
        return false;
    }
    for (unsigned cpu = 0; cpu < smp_online(); cpu++) {
        struct pvclock_snapshot s;
        if (pvclock_read(clock_area(cpu), &s, PVCLOCK_READ_TRIES, 0) != PVCLOCK_READ_OK ||
            !(s.flags & PVCLOCK_TSC_STABLE_BIT)) {
            *unstable_cpu = cpu;
            return false;
        }
    }
    return true;
}

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
    if (clock_now(me, &ns))
        last = pvclock_order_add(&ring.order, last, ns);
    else
        ring.read_failures++;
    __atomic_store_n(&ring.last_ns, last, __ATOMIC_RELEASE);
    __atomic_store_n(&ring.turn, (me + 1) % ring.n, __ATOMIC_RELEASE);
}

static void ring_job(void *arg)
{
    (void)arg;
    unsigned me = smp_this_cpu();
    while (!__atomic_load_n(&ring.stop, __ATOMIC_ACQUIRE)) {
        if (__atomic_load_n(&ring.turn, __ATOMIC_ACQUIRE) == me)
            ring_turn(me);
        else
            cpu_relax();
    }
}

static const char *need_clocks(struct check_ctx *c)
{
    const char *why = need_aps_and(KVM_FEATURE_CLOCKSOURCE2, "KVM_FEATURE_CLOCKSOURCE2");
    if (why)
        return why;
    if (!kvmclock_active()) {
        /* The boot vCPU's clock comes from the kvmclock suite, or from here. */
        volatile struct pvclock_vcpu_time_info *a = clock_area(0);
        wrmsr(MSR_KVM_SYSTEM_TIME_NEW, pv_gpa(a) | 1);
        (void)WAIT_VERSION(a);
    }
    if (!smp_run_on_aps(c, clock_job, clock_results, sizeof(clock_results[0])))
        return "an AP did not register its kvmclock";
    return 0;
}

enum verdict check_cross_vcpu_monotonic(struct check_ctx *c)
{
    const char *why = need_clocks(c);
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
    bool stable = all_stable(&unstable);
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
    const char *why = need_clocks(c);
    if (why)
        return c->failed ? pass(c) : skip(c, "%s", why);
    unsigned unstable;
    if (!all_stable(&unstable))
        return skip(c, "PVCLOCK_TSC_STABLE_BIT not set on every vCPU: no same-instant promise");
    struct pvclock_snapshot s[SMP_MAX_CPUS];
    unsigned n = smp_online();
    for (unsigned cpu = 0; cpu < n; cpu++)
        if (pvclock_read(clock_area(cpu), &s[cpu], PVCLOCK_READ_TRIES, 0) != PVCLOCK_READ_OK)
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
    unsigned cpu = smp_this_cpu();
    uint64_t value = pv_gpa(clock_area(cpu)) | 1;
    while (!__atomic_load_n(&remote_stop, __ATOMIC_ACQUIRE))
        wrmsr(MSR_KVM_SYSTEM_TIME_NEW, value);
}

enum verdict check_remote_reads(struct check_ctx *c)
{
    const char *why = need_clocks(c);
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
            if (pvclock_read(clock_area(cpu), &s, PVCLOCK_READ_TRIES, &tries) != PVCLOCK_READ_OK) {
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
    volatile struct kvm_steal_time *a = steal_area(smp_this_cpu());
    for (unsigned i = 0; i < 64; i++)
        ((volatile uint8_t *)a)[i] = 0;
    *(int *)arg = wrmsr_safe(MSR_KVM_STEAL_TIME, pv_gpa(a) | 1);
    (void)WAIT_VERSION(a);
}

static void register_steal_on_aps(struct check_ctx *c)
{
    static int vectors[SMP_MAX_CPUS];
    if (!smp_run_on_aps(c, steal_register_job, vectors, sizeof(vectors[0])))
        return;
    for (unsigned cpu = 1; cpu < smp_online(); cpu++)
        expect(c, vectors[cpu] == NO_FAULT && steal_area(cpu)->version != 0,
               "vCPU %u: steal area not registered (vector %d, version %u)", cpu, vectors[cpu],
               steal_area(cpu)->version);
}

/* Runs job on the siblings (all, or only vCPU 1) for PREEMPT_MS while the
 * boot vCPU samples their preempted bytes; returns samples, counts in seen. */
static uint64_t sample_preempted(void (*job)(void *), bool all, uint64_t *seen)
{
    unsigned n = smp_online();
    __atomic_store_n(&preempt_stop, 0, __ATOMIC_RELEASE);
    for (unsigned cpu = 1; cpu < n; cpu++)
        if (all || cpu == 1)
            smp_start(cpu, job, 0);
    uint64_t samples = 0;
    uint64_t end = timer_ticks() + PREEMPT_MS * TIMER_HZ / 1000;
    while (timer_ticks() < end) {
        for (unsigned burst = 0; burst < 64; burst++)
            for (unsigned cpu = 1; cpu < (all ? n : 2); cpu++) {
                samples++;
                if (steal_area(cpu)->preempted & 1)
                    seen[cpu]++;
            }
        /* Halting leaves the host's CPUs to the siblings. */
        timer_sleep_ticks(1);
    }
    __atomic_store_n(&preempt_stop, 1, __ATOMIC_RELEASE);
    return samples;
}

enum verdict check_preempted(struct check_ctx *c)
{
    const char *why = need_aps_and(KVM_FEATURE_STEAL_TIME, "KVM_FEATURE_STEAL_TIME");
    if (why)
        return skip(c, "%s", why);
    register_steal_on_aps(c);
    if (c->failed)
        return pass(c);
    unsigned n = smp_online();
    uint64_t seen[SMP_MAX_CPUS] = { 0 };
    if (pvcheck_options.host_loaded) {
        uint64_t samples = sample_preempted(busy_job, true, seen);
        uint64_t total = 0;
        for (unsigned cpu = 1; cpu < n; cpu++) {
            expect(c, smp_wait(cpu, SMP_JOB_TIMEOUT_MS), "vCPU %u did not stop", cpu);
            total += seen[cpu];
        }
        figure(c, "host_loaded=1 samples=%llu preempted_seen=%llu sibling_job=busy loop",
               (unsigned long long)samples, (unsigned long long)total);
        expect(c, total > 0, "busy siblings on a loaded host were never marked preempted in "
               "%llu samples", (unsigned long long)samples);
        return pass(c);
    }
    /* Idle host: vCPU 1 first busy-loops (the host's background preemption),
     * then does port I/O, each OUT an exit to the VMM's user space. */
    uint64_t busy_samples = sample_preempted(busy_job, false, seen);
    expect(c, smp_wait(1, SMP_JOB_TIMEOUT_MS), "vCPU 1 did not stop its busy loop");
    uint64_t busy_seen = seen[1];
    seen[1] = 0;
    struct steal_snapshot before, after;
    bool steal_ok = steal_read(steal_area(1), &before, PVCLOCK_READ_TRIES) == PVCLOCK_READ_OK;
    uint64_t io_samples = sample_preempted(port_io_job, false, seen);
    expect(c, smp_wait(1, SMP_JOB_TIMEOUT_MS), "vCPU 1 did not stop its port I/O");
    steal_ok = steal_ok && steal_read(steal_area(1), &after, PVCLOCK_READ_TRIES) == PVCLOCK_READ_OK;
    uint64_t io_seen = seen[1], io_steal = steal_ok ? after.steal - before.steal : 0;
    /* Budget: the port-I/O phase may show up to twice the busy phase's rate
     * plus 1% of its samples (background preemption varies between phases);
     * marking every exit to user space shows at the share of time the vCPU
     * spends in its VMM, tens of percent. */
    uint64_t allowed = (busy_samples ? 2 * busy_seen * io_samples / busy_samples : 0) +
                       io_samples / 100;
    /* A vCPU really preempted waited for a CPU: its steal grew. Marked
     * preempted without waiting is the bug. Seen in a share of the samples,
     * it waited about that share of the phase; a quarter of it is required
     * (the samples come in bursts, once a tick). */
    uint64_t phase_ns = (uint64_t)PREEMPT_MS * 1000000;
    uint64_t steal_needed = io_samples ? io_seen * (phase_ns / 4) / io_samples : 0;
    figure(c, "host_loaded=0 busy_samples=%llu busy_preempted=%llu io_samples=%llu "
              "io_preempted=%llu allowed=%llu io_steal_ns=%llu",
           (unsigned long long)busy_samples, (unsigned long long)busy_seen,
           (unsigned long long)io_samples, (unsigned long long)io_seen,
           (unsigned long long)allowed, (unsigned long long)io_steal);
    expect(c, steal_ok, "vCPU 1's steal area could not be read around the port-I/O phase");
    if (io_seen > allowed)
        figure(c, "note: more than allowed; real preemption needs >= %llu ns of steal",
               (unsigned long long)steal_needed);
    expect(c, io_seen <= allowed || io_steal >= steal_needed,
           "vCPU 1, doing port I/O on an idle host, was marked preempted in %llu of %llu samples "
           "(busy-looping: %llu of %llu) with only %llu ns of steal: exits to user space "
           "counted as preemption (Linux 54aa83c90198)", (unsigned long long)io_seen,
           (unsigned long long)io_samples, (unsigned long long)busy_seen,
           (unsigned long long)busy_samples, (unsigned long long)io_steal);
    return pass(c);
}
