/* Suite "runstate" across vCPUs: every vCPU's own area, and the boot
 * vCPU's area read from a sibling, before and after the update flag.
 * Under Xen PVH the MADT lists the vCPUs in vCPU-id order: pvcheck's CPU
 * index is the Xen vCPU id. Each AP's area sits in its own page, canaries
 * around it. */
#include "checks/runstate/runstate_checks.h"
#include "checks/shared/aps.h"
#include "checks/shared/sampling.h"
#include "iface/runstate.h"
#include "iface/xen.h"
#include "lib/options.h"
#include "lib/report.h"
#include "live/pvarea.h"
#include "platform/budget.h"
#include "platform/cpu.h"
#include "platform/percpu.h"
#include "platform/smp.h"
#include "platform/timer.h"

#define EACH_OFFSET 0x200
#define REMOTE_ROUNDS 400u
/* Fewer remote reads than this, none wrong, is no verdict. */
#define REMOTE_MIN_READS 100u

static volatile struct vcpu_runstate_info *vcpu_area(unsigned cpu)
{
    return (volatile struct vcpu_runstate_info *)(smp_page(cpu) + EACH_OFFSET);
}

/* The canaries: 64 bytes each side of the area (the rest of the page is
 * the smp suite's). */
#define EACH_WINDOW (EACH_OFFSET - 64)
#define EACH_WINDOW_BYTES (64 + 48 + 64)

static int page_damaged(const volatile uint8_t *page)
{
    int bad = pv_canary_damaged(page + EACH_WINDOW, EACH_WINDOW_BYTES, 64, 48);
    return bad < 0 ? -1 : EACH_WINDOW + bad;
}

struct own_result {
    long rc;
    enum runstate_read_status read;
    struct runstate_snapshot snap;
};
static struct own_result own_results[SMP_MAX_CPUS];

static void own_job(void *arg)
{
    unsigned cpu = this_cpu();
    struct own_result *r = arg;
    pv_canary_fill(smp_page(cpu) + EACH_WINDOW, EACH_WINDOW_BYTES, 64, 48);
    struct xen_area_handle h = { pv_gpa(vcpu_area(cpu)) };
    r->rc = xen_vcpu_op(VCPUOP_REGISTER_RUNSTATE_MEMORY_AREA, cpu, &h);
    if (r->rc == 0)
        r->read = runstate_read(vcpu_area(cpu), &r->snap, RUNSTATE_CHECK_READ_TRIES, 0);
}

enum verdict check_runstate_each_vcpu(struct check_ctx *c)
{
    if (smp_init()->online < 2)
        return skip(c, "one vCPU online");
    if (!smp_run_on_aps(c, own_job, own_results, sizeof(own_results[0])))
        return pass(c);
    timer_sleep_ticks(2); /* the APs halt: blocked from here */
    for (unsigned cpu = 1; cpu < smp_online(); cpu++) {
        struct own_result *r = &own_results[cpu];
        char why[160];
        if (!expect(c, r->rc == 0, "vCPU %u: registration returned %ld", cpu, r->rc))
            continue;
        if (!expect(c, r->read == RUNSTATE_READ_OK, "vCPU %u: no consistent read of its own area",
                    cpu))
            continue;
        const char *problem = runstate_problem(&r->snap, RUNSTATE_OWN, why, sizeof(why));
        expect(c, !problem, "vCPU %u reading its own area: %s", cpu, problem);
        struct runstate_snapshot later;
        if (!runstate_checked_snap(c, vcpu_area(cpu), &later, false))
            continue;
        figure(c, "vcpu=%u own_state=%s remote_state=%s offset=%llu", cpu,
               runstate_name(r->snap.state), runstate_name(later.state),
               (unsigned long long)(later.entry - runstate_sum(&later)));
        expect(c, later.state == RUNSTATE_BLOCKED,
               "vCPU %u halted between jobs, but its area says %s", cpu,
               runstate_name(later.state));
        expect(c, later.entry - runstate_sum(&later) == r->snap.entry - runstate_sum(&r->snap),
               "vCPU %u: state_entry_time - sum(time) moved", cpu);
        int bad = page_damaged(smp_page(cpu));
        expect(c, bad < 0, "vCPU %u: byte %d of its page changed outside the area", cpu, bad);
    }
    return pass(c);
}

/* An AP reads the boot vCPU's area while the boot vCPU halts and wakes. */
/* A writer paused mid-update (its CPU descheduled, by Xen or by an
 * emulator) holds the flag for a while; one stuck for a second has leaked. */
#define FLAG_STUCK_MAX_NS 1000000000ull

struct remote_result {
    volatile bool stop;
    unsigned flag_seen, failed_reads, bad;
    uint64_t stuck_since, max_stuck_ns;
    struct runstate_series series;
    struct runstate_snapshot worst;
};
static struct remote_result remote;

static void remote_job(void *arg)
{
    struct remote_result *r = arg;
    while (!r->stop) {
        struct runstate_snapshot s;
        uint64_t before = 0, after = 0;
        xen_time_now(0, &before);
        if (runstate_read(runstate_area(), &s, RUNSTATE_CHECK_READ_TRIES, &r->flag_seen) != RUNSTATE_READ_OK) {
            r->failed_reads++;
            xen_time_now(0, &after);
            if (!r->stuck_since)
                r->stuck_since = before;
            if (after - r->stuck_since > r->max_stuck_ns)
                r->max_stuck_ns = after - r->stuck_since;
            continue;
        }
        r->stuck_since = 0;
        xen_time_now(0, &after);
        char why[8];
        if (runstate_problem(&s, 0, why, sizeof(why)) && !r->bad++)
            r->worst = s;
        runstate_series_add(&r->series, &s, before, after);
    }
}

void runstate_remote_reads(struct check_ctx *c)
{
    remote = (struct remote_result){ 0 };
    if (!smp_start(1, remote_job, &remote))
        return (void)expect(c, false, "vCPU 1 is busy");
    struct budget b;
    budget_start(&b, REMOTE_ROUNDS, pvcheck_options.budget_ms);
    while (budget_next(&b))
        runstate_halt_or_spin((unsigned)b.taken - 1);
    remote.stop = true;
    if (!expect(c, smp_wait(1, SMP_JOB_TIMEOUT_MS), "vCPU 1 did not stop reading"))
        return;
    sampling_report(c, "rounds", &b);
    figure(c, "remote_reads=%llu flag_seen=%u failed_reads=%u bad=%u",
           (unsigned long long)remote.series.samples, remote.flag_seen, remote.failed_reads,
           remote.bad);
    sampling_require(c, "remote reads", remote.series.samples, REMOTE_MIN_READS, &b);
    if (!runstate_update_flag_on()) {
        /* Without the flag Xen copies the area in place: a remote reader may
         * get a torn copy, which is why the flag exists. Only bit 63 is a rule. */
        figure(c, "without the update flag: torn_copies=%u offset_changes=%llu (not failures)",
               remote.bad, (unsigned long long)remote.series.offset_changes);
        expect(c, remote.flag_seen == 0, "a remote reader saw bit 63 %u times before the guest "
               "enabled VMASST_TYPE_runstate_update_flag (Linux d8ba8ba4c801)", remote.flag_seen);
        return;
    }
    struct pvclock_snapshot clock;
    volatile struct pvclock_vcpu_time_info *t = xen_vcpu_time(0);
    bool stable = t && pvclock_read(t, &clock, PVCLOCK_READ_TRIES, 0) == PVCLOCK_READ_OK &&
                  (clock.flags & PVCLOCK_TSC_STABLE_BIT);
    runstate_report_series(c, &remote.series, stable);
    figure(c, "reads_without_consistent_copy=%u longest_ns=%llu", remote.failed_reads,
           (unsigned long long)remote.max_stuck_ns);
    expect(c, remote.max_stuck_ns <= FLAG_STUCK_MAX_NS, "no consistent copy for %llu ns: the "
           "update flag or state_entry_time never settled", (unsigned long long)remote.max_stuck_ns);
    expect(c, remote.bad == 0, "%u remote reads broke a snapshot rule (state %d entry 0x%llx)",
           remote.bad, remote.worst.state, (unsigned long long)remote.worst.entry);
}

enum verdict check_runstate_remote_reads(struct check_ctx *c)
{
    if (smp_init()->online < 2)
        return skip(c, "one vCPU online");
    if (runstate_ensure_area(c))
        runstate_remote_reads(c);
    return pass(c);
}

