/* What the runstate suite's checks share: the checked read against every
 * rule of Xen's public/vcpu.h, Xen's clock on the boot vCPU, and the
 * series of snapshots with its verdicts. */
#include "checks/runstate/runstate_checks.h"

#include "iface/xen.h"
#include "lib/report.h"
#include "platform/budget.h"
#include "platform/cpu.h"
#include "platform/timer.h"

bool runstate_checked_snap(struct check_ctx *c, const volatile struct vcpu_runstate_info *a,
                           struct runstate_snapshot *s, bool own)
{
    unsigned flagged = 0;
    if (runstate_read(a, s, RUNSTATE_CHECK_READ_TRIES, &flagged) != RUNSTATE_READ_OK)
        return fail(c, "no consistent read in %u tries (state_entry_time 0x%llx)", RUNSTATE_CHECK_READ_TRIES,
                    (unsigned long long)a->state_entry_time), false;
    if (!runstate_update_flag_on() && !expect(c, flagged == 0,
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

uint64_t runstate_clock_ns(void)
{
    uint64_t ns = 0;
    if (!xen_time_now(0, &ns))
        clock_lost = true;
    return ns;
}

bool runstate_expect_clock(struct check_ctx *c)
{
    bool lost = clock_lost;
    clock_lost = false;
    return expect(c, !lost, "Xen's clock (vcpu_info[0].time) could not be read");
}

void runstate_report_snapshot(struct check_ctx *c, const char *what, const struct runstate_snapshot *s)
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
bool runstate_sample(struct check_ctx *c, const volatile struct vcpu_runstate_info *a, bool own,
                   struct runstate_series *st, struct runstate_snapshot *s)
{
    uint64_t before = runstate_clock_ns();
    if (!runstate_checked_snap(c, a, s, own))
        return false;
    uint64_t after = runstate_clock_ns();
    if (!runstate_expect_clock(c))
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

uint64_t runstate_cpuid_cycles(void)
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
