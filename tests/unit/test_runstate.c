/* Xen runstate: layout, reader against a concurrent writer that keeps the
 * update-flag protocol, the snapshot rules and the series evaluator, on a
 * correct writer (Xen's accounting) and faulty ones. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "iface/runstate.h"
#include "race.h"
#include "unit.h"

static const char *unit_name = "runstate";

/* Xen's accounting (common/sched/core.c): on a change of state, the time
 * since state_entry_time goes to the old state, and the entry moves on.
 * The offset entry - sum(time) is the creation time and never changes. */
struct writer {
    struct vcpu_runstate_info area;
    uint64_t now;
};

static void writer_init(struct writer *w, uint64_t created)
{
    memset(w, 0, sizeof(*w));
    w->now = created;
    w->area.state = RUNSTATE_OFFLINE;
    w->area.state_entry_time = created;
}

static void writer_switch(struct writer *w, uint64_t after_ns, int32_t state)
{
    w->now += after_ns;
    w->area.time[w->area.state] += w->now - w->area.state_entry_time;
    w->area.state_entry_time = w->now;
    w->area.state = state;
}

static struct runstate_snapshot snap(const struct writer *w)
{
    struct runstate_snapshot s;
    CHECK(runstate_read(&w->area, &s, 4, NULL) == RUNSTATE_READ_OK, "read failed");
    return s;
}

static const char *problem_with(struct runstate_snapshot s, unsigned rules)
{
    static char why[160];
    return runstate_problem(&s, rules, why, sizeof(why));
}

static const char *problem(struct runstate_snapshot s, bool own)
{
    return problem_with(s, own ? RUNSTATE_OWN : 0);
}

static void layout_and_rules(void)
{
    struct writer w;
    writer_init(&w, 5000000);
    writer_switch(&w, 1000, RUNSTATE_RUNNABLE);
    writer_switch(&w, 2000, RUNSTATE_RUNNING);
    struct runstate_snapshot s = snap(&w);
    CHECK(problem(s, true) == NULL, "correct area rejected: %s", problem(s, true));
    CHECK(s.entry - runstate_sum(&s) == 5000000, "offset is the creation time");
    struct runstate_snapshot bad = s;
    bad.state = 7;
    CHECK(problem(bad, false) && strstr(problem(bad, false), "not one of"), "undefined state");
    bad = s;
    bad.state = RUNSTATE_BLOCKED;
    CHECK(problem(bad, false) == NULL, "a remote area may be blocked");
    CHECK(problem(bad, true) && strstr(problem(bad, true), "sees itself blocked"), "own blocked");
    bad = s;
    bad.entry |= XEN_RUNSTATE_UPDATE;
    CHECK(problem(bad, false) && strstr(problem(bad, false), "bit 63"), "flag leaked");
    bad = s;
    bad.time[RUNSTATE_BLOCKED] = s.entry; /* sum beyond the entry */
    CHECK(problem(bad, false) && strstr(problem(bad, false), "beyond"), "sum beyond entry");
    bad = s;
    bad.time[0] = bad.time[1] = UINT64_MAX / 2 + 1; /* sum overflows */
    CHECK(problem(bad, false) && strstr(problem(bad, false), "beyond"), "overflowing sum");
    /* KVM's emulation: offset zero is fine too. */
    struct runstate_snapshot kvm = { RUNSTATE_RUNNING, 3000, { 1000, 500, 1500, 0 } };
    CHECK(problem(kvm, true) == NULL, "zero offset rejected");
    /* VCPUOP_get_runstate_info at 3700: running accrued up to the call, past
     * the entry; only an accrued copy may do that. */
    struct runstate_snapshot accrued = kvm;
    accrued.time[RUNSTATE_RUNNING] += 700;
    CHECK(problem_with(accrued, RUNSTATE_OWN | RUNSTATE_ACCRUED) == NULL,
          "accrued hypercall copy rejected: %s", problem_with(accrued, RUNSTATE_ACCRUED));
    CHECK(problem(accrued, true) && strstr(problem(accrued, true), "beyond"),
          "an area's sum beyond its entry accepted");
    accrued.entry |= XEN_RUNSTATE_UPDATE;
    CHECK(problem_with(accrued, RUNSTATE_ACCRUED) && strstr(problem_with(accrued, RUNSTATE_ACCRUED), "bit 63"),
          "bit 63 in an accrued copy accepted");
}

static void reader_flag(void)
{
    struct writer w;
    writer_init(&w, 100);
    w.area.state_entry_time |= XEN_RUNSTATE_UPDATE;
    struct runstate_snapshot s;
    unsigned seen = 0;
    CHECK(runstate_read(&w.area, &s, 5, &seen) == RUNSTATE_READ_FLAGGED && seen == 5,
          "a stuck flag must not be read as consistent (seen %u)", seen);
}

static void series_add_at(struct runstate_series *st, const struct writer *w)
{
    struct runstate_snapshot s = snap(w);
    runstate_series_add(st, &s, w->now, w->now);
}

static void series_rules(void)
{
    struct writer w;
    writer_init(&w, 7000000);
    writer_switch(&w, 0, RUNSTATE_RUNNING);
    struct runstate_series ok = { 0 };
    for (int i = 0; i < 20; i++) {
        writer_switch(&w, 1000000, i & 1 ? RUNSTATE_RUNNING : RUNSTATE_RUNNABLE);
        series_add_at(&ok, &w);
    }
    CHECK(ok.decreases == 0 && ok.too_fast == 0 && ok.offset_changes == 0 &&
              ok.future_entries == 0 && ok.offset == 7000000,
          "correct series flagged: dec=%llu fast=%llu off=%llu fut=%llu offset=%llu",
          (unsigned long long)ok.decreases, (unsigned long long)ok.too_fast,
          (unsigned long long)ok.offset_changes, (unsigned long long)ok.future_entries,
          (unsigned long long)ok.offset);
    CHECK(ok.grown[RUNSTATE_RUNNABLE] == 10000000, "runnable growth %llu",
          (unsigned long long)ok.grown[RUNSTATE_RUNNABLE]);

    /* Times decreasing (Linux 36a85200643e: runstate times went backwards). */
    struct runstate_series back = ok;
    struct writer b = w;
    b.area.time[RUNSTATE_RUNNABLE] -= 5000;
    b.area.state_entry_time -= 5000;
    series_add_at(&back, &b);
    CHECK(back.decreases >= 1 && back.max_decrease == 5000, "decrease not caught");

    /* Sum drifting: time added to a state without moving the entry. */
    struct runstate_series drift = ok;
    struct writer d = w;
    d.area.time[RUNSTATE_BLOCKED] += 3000;
    d.now += 1000000;
    series_add_at(&drift, &d);
    CHECK(drift.offset_changes == 1 && drift.max_offset_delta == 3000, "drift not caught");

    /* Growing faster than time: 3 ms accounted in 1 ms. */
    struct runstate_series fast = ok;
    struct writer f = w;
    f.area.time[RUNSTATE_RUNNABLE] += 3000000;
    f.area.state_entry_time += 3000000;
    f.now += 1000000;
    series_add_at(&fast, &f);
    CHECK(fast.too_fast == 1 && fast.max_excess_ns == 2000000, "too fast not caught");
    CHECK(fast.future_entries == 1, "entry after the clock read not caught");

    /* Exactly the elapsed time plus the allowance is fine. */
    struct runstate_series edge = ok;
    struct writer e = w;
    e.area.time[RUNSTATE_RUNNING] += 1000000 + 1000 + RUNSTATE_ALLOWANCE_NS;
    e.area.state_entry_time += 1000000 + 1000 + RUNSTATE_ALLOWANCE_NS;
    e.now += 1000000;
    struct runstate_snapshot es = snap(&e);
    runstate_series_add(&edge, &es, e.now, e.now + 1000 + RUNSTATE_ALLOWANCE_NS);
    CHECK(edge.too_fast == 0 && edge.future_entries == 0, "allowance edge rejected");

    /* An area never written reads as all zero: state running, times 0;
     * the series sees no growth at all, which the checks fail on. */
    struct runstate_series never = { 0 };
    struct runstate_snapshot zero = { 0 };
    runstate_series_add(&never, &zero, 1000, 1000);
    runstate_series_add(&never, &zero, 2000000, 2000000);
    uint64_t total = 0;
    for (int i = 0; i < RUNSTATE_COUNT; i++)
        total += never.grown[i];
    CHECK(total == 0 && never.offset == 0, "unwritten area shows growth");
}

/* A writer on another thread keeps the flag protocol; the reader must never
 * accept a torn copy: every accepted copy has the constant offset. */
static struct vcpu_runstate_info shared;
static atomic_int stop;
static struct race_step step; /* each update stays up until read after (race.h) */

static void *flag_writer(void *arg)
{
    (void)arg;
    uint64_t now = 1000, t = 0;
    while (!atomic_load(&stop)) {
        uint64_t e = now | XEN_RUNSTATE_UPDATE;
        __atomic_store_n(&shared.state_entry_time, e, __ATOMIC_RELEASE);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        t += 17;
        now += 17;
        __atomic_store_n(&shared.time[t & 3], shared.time[t & 3] + 17, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        __atomic_store_n(&shared.state_entry_time, now, __ATOMIC_RELEASE);
        race_published(&step, &stop);
    }
    return NULL;
}

static void reader_vs_writer(void)
{
    shared = (struct vcpu_runstate_info){ 0 };
    shared.state_entry_time = 1000;
    atomic_store(&stop, 0);
    race_step_reset(&step);
    pthread_t th;
    pthread_create(&th, NULL, flag_writer, NULL);
    unsigned torn = 0, ok = 0, seen = 0, settled = 0, settled_ok = 0;
    uint64_t deadline = race_now_ms() + RACE_LIMIT_MS;
    /* Until the reader read after 2000 updates, each of which met no write
     * and must be accepted; racing the writer or not, none may be torn. */
    while (settled < 2000 && race_now_ms() < deadline) {
        unsigned before = race_before(&step);
        struct runstate_snapshot s;
        bool good = runstate_read(&shared, &s, 1000, &seen) == RUNSTATE_READ_OK;
        if (race_after(&step, before)) {
            settled++;
            settled_ok += good;
        }
        if (!good)
            continue;
        ok++;
        if (s.entry - runstate_sum(&s) != 1000)
            torn++;
    }
    atomic_store(&stop, 1);
    pthread_join(th, NULL);
    CHECK(settled >= 2000 && settled_ok == settled,
          "in %u ms the reader read after %u of 2000 updates, %u of them accepted", RACE_LIMIT_MS,
          settled, settled_ok);
    CHECK(torn == 0, "accepted %u torn copies of %u", torn, ok);
}

int main(void)
{
    RUN(layout_and_rules);
    RUN(reader_flag);
    RUN(series_rules);
    RUN(reader_vs_writer);
    return unit_any_failed;
}
