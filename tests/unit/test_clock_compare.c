/* Host tests of the pairwise clock comparison and the shared last value. */
#include <pthread.h>
#include <stdint.h>

#include "checks/shared/clock_compare.h"
#include "unit.h"

static const char *unit_name = "clock_compare";

#define HZ 2500000000ull

/* A clock that reads ns = tsc / 2.5 * (1 + ppb / 10^9) + base, read inside
 * a bracket of width cycles starting at tsc. */
static struct clock_reading reading(uint64_t tsc, uint64_t width, int64_t ppb, uint64_t base,
                                    uint64_t quantum)
{
    uint64_t at = tsc + width / 2;
    __int128 ns = (__int128)at * 2 / 5;
    ns += ns * ppb / 1000000000;
    uint64_t v = (uint64_t)ns + base;
    return (struct clock_reading){ v - v % quantum, tsc, tsc + width };
}

static struct clock_track track(int64_t ppb, uint64_t base, uint64_t quantum, uint64_t a_tsc,
                                uint64_t b_tsc, uint64_t width)
{
    return (struct clock_track){ "t", quantum, true, true,
                                 reading(a_tsc, width, ppb, base, quantum),
                                 reading(b_tsc, width, ppb, base, quantum) };
}

static void same_clock_read_at_different_instants_agrees(void)
{
    struct clock_track x = track(0, 0, 1, 1000000, 1000000 + HZ, 200);
    struct clock_track y = track(0, 0, 100, 1003000, 1005000 + HZ, 500);
    struct clock_pair p;
    CHECK(clock_pair_compare(&x, &y, HZ, &p), "comparable");
    CHECK(clock_pair_agrees(&p), "drift %lld budget %llu", (long long)p.drift_ns,
          (unsigned long long)p.budget_ns);
    CHECK(p.offset_ns > -101 && p.offset_ns <= 1, "offset %lld", (long long)p.offset_ns);
}

static void ten_ppm_apart_is_caught_with_its_rate(void)
{
    struct clock_track x = track(0, 0, 1, 1000000, 1000000 + HZ, 200);
    struct clock_track y = track(10000, 0, 100, 1001000, 1001000 + HZ, 200);
    struct clock_pair p;
    CHECK(clock_pair_compare(&x, &y, HZ, &p), "comparable");
    CHECK(!clock_pair_agrees(&p), "10 ppm over 1 s passed: drift %lld budget %llu",
          (long long)p.drift_ns, (unsigned long long)p.budget_ns);
    CHECK(p.rate_ppb > 9900 && p.rate_ppb < 10100, "rate %lld ppb", (long long)p.rate_ppb);
    y = track(-10000, 0, 100, 1001000, 1001000 + HZ, 200);
    CHECK(clock_pair_compare(&x, &y, HZ, &p) && p.rate_ppb < -9900 && !clock_pair_agrees(&p),
          "slow: rate %lld", (long long)p.rate_ppb);
}

/* The budget: a unit each and half of each bracket. One step past it in
 * drift fails, just inside passes. */
static void budget_is_units_and_half_brackets(void)
{
    struct clock_track x = track(0, 0, 1, 0, HZ, 0);
    struct clock_track y = track(0, 0, 100, 0, HZ, 0);
    struct clock_pair p;
    CHECK(clock_pair_compare(&x, &y, HZ, &p), "comparable");
    CHECK(p.budget_ns == 1 + 1 + 100 + 1, "budget %llu", (unsigned long long)p.budget_ns);
    y.b.ns = x.b.ns + (p.budget_ns - 0);
    CHECK(clock_pair_compare(&x, &y, HZ, &p) && clock_pair_agrees(&p), "at the budget");
    y.b.ns += 1;
    CHECK(clock_pair_compare(&x, &y, HZ, &p) && !clock_pair_agrees(&p), "one past");
    x = track(0, 0, 1, 0, HZ, 2500); /* 1 us brackets: 1 us more */
    CHECK(clock_pair_compare(&x, &y, HZ, &p) && p.budget_ns == 1 + 1 + 1000 + 100 + 1,
          "bracketed budget %llu", (unsigned long long)p.budget_ns);
}

static void offset_is_reported(void)
{
    struct clock_track x = track(0, 0, 1, 1000000, 1000000 + HZ, 200);
    struct clock_track y = track(0, 5000000, 1, 2000000, 2000000 + HZ, 200);
    struct clock_pair p;
    CHECK(clock_pair_compare(&x, &y, HZ, &p), "comparable");
    CHECK(p.offset_ns >= 4999999 && p.offset_ns <= 5000001, "offset %lld", (long long)p.offset_ns);
}

static void hostile_readings_are_refused(void)
{
    struct clock_track x = track(0, 0, 1, 1000000, 1000000 + HZ, 200), y = x;
    struct clock_pair p;
    CHECK(!clock_pair_compare(&x, &y, 0, &p), "hz 0");
    y.ok = false;
    CHECK(!clock_pair_compare(&x, &y, HZ, &p), "not read");
    y = x;
    y.b.ns = y.a.ns;
    CHECK(!clock_pair_compare(&x, &y, HZ, &p), "not advanced");
    y = x;
    y.a.tsc_after = y.a.tsc_before - 1;
    CHECK(!clock_pair_compare(&x, &y, HZ, &p), "bracket inverted");
    y = x;
    y.b.tsc_before = y.b.tsc_after = 0;
    CHECK(!clock_pair_compare(&x, &y, HZ, &p), "second before first");
    y = x;
    y.b.ns = UINT64_MAX;
    CHECK(!clock_pair_compare(&x, &y, HZ, &p), "huge elapsed time");
    y = x;
    y.b.tsc_after = UINT64_MAX;
    y.b.tsc_before = UINT64_MAX - 1;
    x.b.ns = UINT64_MAX / 2;
    CHECK(!clock_pair_compare(&x, &y, HZ, &p) || p.budget_ns > 0, "huge span: no crash");
}

static void warps_and_stalls_are_counted(void)
{
    struct shared_last s = { 0 };
    struct warp_count w = { 0 };
    shared_last_publish(&s, shared_last_seen(&s), 100, &w);
    CHECK(s.last_ns == 100 && w.warps == 0 && w.stalls == 0, "first");
    shared_last_publish(&s, shared_last_seen(&s), 100, &w);
    CHECK(w.stalls == 1 && w.warps == 0, "equal is a stall");
    shared_last_publish(&s, shared_last_seen(&s), 60, &w);
    CHECK(w.warps == 1 && w.max_warp_ns == 40 && s.last_ns == 100, "earlier is a warp");
    /* A later value published after the load is not a warp of this one. */
    uint64_t seen = shared_last_seen(&s);
    struct warp_count other = { 0 };
    shared_last_publish(&s, seen, 300, &other);
    shared_last_publish(&s, seen, 200, &w);
    CHECK(w.warps == 1 && s.last_ns == 300, "published meanwhile: last %llu warps %llu",
          (unsigned long long)s.last_ns, (unsigned long long)w.warps);
    CHECK(w.reads == 4, "reads %llu", (unsigned long long)w.reads);
}

/* Many readers of one monotonic clock: never a warp, whatever the
 * interleaving; the last value is the latest read. */
static struct shared_last shared;
static uint64_t clock_now;

static void *reader(void *arg)
{
    struct warp_count *w = arg;
    for (int i = 0; i < 200000; i++) {
        uint64_t seen = shared_last_seen(&shared);
        uint64_t ns = __atomic_add_fetch(&clock_now, 1, __ATOMIC_SEQ_CST);
        shared_last_publish(&shared, seen, ns, w);
    }
    return 0;
}

static void concurrent_readers_of_a_monotonic_clock_never_warp(void)
{
    pthread_t t[4];
    struct warp_count w[4] = { { 0 } };
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], 0, reader, &w[i]);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], 0);
    for (int i = 0; i < 4; i++)
        CHECK(w[i].warps == 0 && w[i].reads == 200000, "reader %d: %llu warps", i,
              (unsigned long long)w[i].warps);
    CHECK(shared.last_ns == clock_now, "last %llu, clock %llu", (unsigned long long)shared.last_ns,
          (unsigned long long)clock_now);
}

/* A vCPU whose clock lags the others by 1 us warps on its first read after
 * theirs, whatever the scheduling. */
static void lagging_reader_warps(void)
{
    struct shared_last s = { 0 };
    struct warp_count ahead = { 0 }, behind = { 0 };
    for (uint64_t t = 1000; t < 2000; t++)
        shared_last_publish(&s, shared_last_seen(&s), t + 1000, &ahead);
    shared_last_publish(&s, shared_last_seen(&s), 2000, &behind);
    CHECK(ahead.warps == 0 && behind.warps == 1 && behind.max_warp_ns == 999,
          "warps %llu by %llu", (unsigned long long)behind.warps,
          (unsigned long long)behind.max_warp_ns);
}

/* --- the wall clock's epoch on every vCPU ------------------------------ */

/* A host answering each write with realtime read at one moment of the write
 * less kvmclock read at another (Linux 6.1's kvm_write_wall_clock): the
 * write lasts [start, start + dur] and realtime is kvmclock + e. */
static uint64_t host_epoch(uint64_t e, uint64_t start, uint64_t dur, uint64_t real_at,
                           uint64_t clock_at)
{
    uint64_t r = start + real_at % (dur + 1), k = start + clock_at % (dur + 1);
    return e + r - k;
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Whatever moments of each write the host reads its clocks at, and however
 * long each write lasts, a correct host is within the allowance. */
static void host_reading_inside_each_write_passes(void)
{
    uint64_t s = 88172645463325252ull;
    for (int trial = 0; trial < 20000; trial++) {
        uint64_t epoch[8], bracket[8], t = 1000000000ull + rnd(&s) % 1000000;
        unsigned n = 1 + (unsigned)(rnd(&s) % 8);
        for (unsigned i = 0; i < n; i++) {
            bracket[i] = rnd(&s) % 400000;
            epoch[i] = host_epoch(1700000000000000000ull, t, bracket[i], rnd(&s), rnd(&s));
            t += bracket[i] + rnd(&s) % 50000;
        }
        struct wall_epochs w;
        if (!wall_epochs_judge(epoch, bracket, n, t - 1000000000ull, &w)) {
            CHECK(false, "trial %d: spread %llu allowed %llu (vCPUs %u, %u)", trial,
                  (unsigned long long)w.spread_ns, (unsigned long long)w.allowed_ns, w.lo, w.hi);
            return;
        }
    }
}

/* The allowance exactly: the two brackets, 500 ppm of the span and 2 ns;
 * one ns more fails and names the pair. */
static void epoch_one_ns_past_the_allowance_fails(void)
{
    uint64_t bracket[3] = { 20000, 30000, 10000 }, span = 4000000; /* 2000 ns at 500 ppm */
    uint64_t allowed = 30000 + 10000 + 2000 + 2, e = 1700000000000000000ull;
    uint64_t epoch[3] = { e, e + 15000, e + 15000 - allowed };
    struct wall_epochs w;
    CHECK(wall_epochs_judge(epoch, bracket, 3, span, &w), "at the allowance: spread %llu "
          "allowed %llu", (unsigned long long)w.spread_ns, (unsigned long long)w.allowed_ns);
    epoch[2]--;
    CHECK(!wall_epochs_judge(epoch, bracket, 3, span, &w) && w.lo == 2 && w.hi == 1 &&
              w.spread_ns == allowed + 1 && w.allowed_ns == allowed,
          "one past: lo %u hi %u spread %llu allowed %llu", w.lo, w.hi,
          (unsigned long long)w.spread_ns, (unsigned long long)w.allowed_ns);
}

/* A host whose epoch is off on one vCPU by more than the writes can
 * explain (a stale kvmclock offset there) is caught, even when another
 * pair is further apart but had long writes. */
static void skewed_vcpu_caught_among_long_writes(void)
{
    uint64_t e = 1700000000000000000ull;
    uint64_t epoch[4] = { e, e + 900000, e + 50000, e + 1000 };
    uint64_t bracket[4] = { 1000, 1000000, 1000, 1000 };
    struct wall_epochs w;
    CHECK(!wall_epochs_judge(epoch, bracket, 4, 10000000, &w) && w.lo == 0 && w.hi == 2,
          "lo %u hi %u spread %llu allowed %llu", w.lo, w.hi, (unsigned long long)w.spread_ns,
          (unsigned long long)w.allowed_ns);
}

/* A host clock slewed 500 ppm against kvmclock passes over the span; 600
 * ppm over a long span with short writes does not. */
static void slew_allowance_is_500_ppm_of_the_span(void)
{
    uint64_t e = 1700000000000000000ull, span = 100000000; /* 100 ms */
    uint64_t bracket[2] = { 100, 100 };
    uint64_t epoch[2] = { e, e + span * 500 / 1000000 };
    struct wall_epochs w;
    CHECK(wall_epochs_judge(epoch, bracket, 2, span, &w), "500 ppm: %llu > %llu",
          (unsigned long long)w.spread_ns, (unsigned long long)w.allowed_ns);
    epoch[1] = e + span * 600 / 1000000;
    CHECK(!wall_epochs_judge(epoch, bracket, 2, span, &w), "600 ppm passed");
}

static void hostile_epochs_do_not_overflow(void)
{
    uint64_t epoch[3] = { UINT64_MAX, 0, UINT64_MAX - 1 };
    uint64_t bracket[3] = { UINT64_MAX, UINT64_MAX, 0 };
    struct wall_epochs w;
    CHECK(!wall_epochs_judge(epoch, bracket, 3, UINT64_MAX, &w), "2^62 apart passed");
    uint64_t one = 5;
    CHECK(wall_epochs_judge(&one, bracket, 1, 0, &w) && w.spread_ns == 0, "one vCPU");
}

int main(void)
{
    RUN(same_clock_read_at_different_instants_agrees);
    RUN(ten_ppm_apart_is_caught_with_its_rate);
    RUN(budget_is_units_and_half_brackets);
    RUN(offset_is_reported);
    RUN(hostile_readings_are_refused);
    RUN(warps_and_stalls_are_counted);
    RUN(concurrent_readers_of_a_monotonic_clock_never_warp);
    RUN(lagging_reader_warps);
    RUN(host_reading_inside_each_write_passes);
    RUN(epoch_one_ns_past_the_allowance_fails);
    RUN(skewed_vcpu_caught_among_long_writes);
    RUN(slew_allowance_is_500_ppm_of_the_span);
    RUN(hostile_epochs_do_not_overflow);
    return unit_any_failed;
}
