/* The pvclock layer: the formula against an independent reference, the
 * versioned reader against concurrent correct and faulty writers, and the
 * evaluators on passing and failing samples. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "iface/pvclock.h"
#include "race.h"
#include "unit.h"

static const char *unit_name = "pvclock";

/* Reference in 64-bit pieces (no __int128): (delta scaled by shift) * mul >> 32.
 * Returns 0 on overflow of 64 bits. */
static int reference_scale(uint64_t delta, uint32_t mul, int shift, uint64_t *out)
{
    if (shift < 0) {
        uint64_t d = shift <= -64 ? 0 : delta >> -shift;
        uint64_t hi = (d >> 32) * mul, lo = (d & 0xffffffffu) * mul;
        *out = hi + (lo >> 32);
        return 1;
    }
    /* P = delta * mul = A * 2^32 + B exactly; result = (P << shift) >> 32. */
    uint64_t hi = (delta >> 32) * mul, lo = (delta & 0xffffffffu) * mul;
    uint64_t a = hi + (lo >> 32), b = lo & 0xffffffffu;
    for (int i = 0; i < shift; i++) {
        if (a >> 63)
            return a == 0 && b == 0;
        a = (a << 1) | (b >> 31);
        b = (b << 1) & 0xffffffffu;
    }
    *out = a;
    return 1;
}

static uint64_t rnd64(void)
{
    return ((uint64_t)rand() << 42) ^ ((uint64_t)rand() << 21) ^ (uint64_t)rand();
}

static void formula_matches_reference(void)
{
    static const uint64_t deltas[] = { 0, 1, 2, 0xffffffffu, 0x100000000ull, 1000000000ull,
                                       UINT64_MAX / 2, UINT64_MAX - 1, UINT64_MAX };
    static const uint32_t muls[] = { 0, 1, 0x80000000u, 0xf445e753u, 0xffffffffu };
    int mismatches = 0;
    for (int shift = -70; shift <= 100 && mismatches < 5; shift++)
        for (unsigned i = 0; i < sizeof(deltas) / sizeof(deltas[0]); i++)
            for (unsigned j = 0; j < sizeof(muls) / sizeof(muls[0]); j++) {
                uint64_t got = 0, want = 0;
                int ok_got = pvclock_scale(deltas[i], muls[j], (int8_t)shift, &got);
                int ok_want = reference_scale(deltas[i], muls[j], shift, &want);
                if (ok_got != ok_want || (ok_got && got != want)) {
                    mismatches++;
                    CHECK(0, "delta=%llu mul=0x%x shift=%d: got %d/%llu want %d/%llu",
                          (unsigned long long)deltas[i], muls[j], shift, ok_got,
                          (unsigned long long)got, ok_want, (unsigned long long)want);
                }
            }
    srand(7);
    for (int n = 0; n < 200000 && mismatches < 5; n++) {
        uint64_t delta = rnd64() >> (rand() % 64);
        uint32_t mul = (uint32_t)rnd64();
        int shift = rand() % 80 - 40;
        uint64_t got = 0, want = 0;
        int ok_got = pvclock_scale(delta, mul, (int8_t)shift, &got);
        int ok_want = reference_scale(delta, mul, shift, &want);
        if (ok_got != ok_want || (ok_got && got != want)) {
            mismatches++;
            CHECK(0, "random delta=%llu mul=0x%x shift=%d", (unsigned long long)delta, mul, shift);
        }
    }
}

static void time_at_tsc(void)
{
    struct pvclock_snapshot s = { .version = 2, .tsc_timestamp = 1000, .system_time = 5000,
                                  .mul = 0x80000000u, .shift = 1 }; /* 1 ns per tick */
    uint64_t ns;
    bool behind;
    CHECK(pvclock_ns_at(&s, 1500, &ns, &behind) && ns == 5500, "ns=%llu", (unsigned long long)ns);
    CHECK(!pvclock_ns_at(&s, 999, &ns, &behind) && behind, "TSC behind tsc_timestamp accepted");
    s.system_time = UINT64_MAX - 10;
    CHECK(!pvclock_ns_at(&s, 1500, &ns, &behind) && !behind, "system_time overflow accepted");
    s = (struct pvclock_snapshot){ .version = 2, .mul = 0xffffffffu, .shift = 100 };
    CHECK(!pvclock_ns_at(&s, UINT64_MAX, &ns, &behind), "absurd shift gave a time");
}

/* The re-base budget's edges: 2 ns at a span under 2^30 ns, one more ns
 * per 2^30 ns evaluated; a jump of exactly the budget passes, one more fails,
 * either way round. */
static void rebase_budget_edges(void)
{
    struct pvclock_snapshot before = { .version = 2, .tsc_timestamp = 1000, .system_time = 5000,
                                       .mul = 0x80000000u, .shift = 1 }; /* 1 ns per tick */
    struct pvclock_snapshot after = before;
    struct pvclock_rebase r;
    after.system_time = 5002;
    CHECK(pvclock_rebase_at(&before, &after, 1500, &r) && r.jump_ns == 2 && r.budget_ns == 2 &&
              pvclock_rebase_within(&r), "jump %lld budget %llu", (long long)r.jump_ns,
          (unsigned long long)r.budget_ns);
    after.system_time = 5003;
    CHECK(pvclock_rebase_at(&before, &after, 1500, &r) && !pvclock_rebase_within(&r),
          "3 ns accepted against 2");
    after.system_time = 4998;
    CHECK(pvclock_rebase_at(&before, &after, 1500, &r) && r.jump_ns == -2 &&
              pvclock_rebase_within(&r), "-2 ns refused");
    after.system_time = 4997;
    CHECK(pvclock_rebase_at(&before, &after, 1500, &r) && !pvclock_rebase_within(&r),
          "-3 ns accepted");
    /* 3.5 us, pvclock_test's figure, 2^31 ns after the stamp: budget 4 ns. */
    after.system_time = 5000 + 3500;
    uint64_t tsc = 1000 + (1ull << 31);
    CHECK(pvclock_rebase_at(&before, &after, tsc, &r) && r.budget_ns == 4 &&
              !pvclock_rebase_within(&r), "budget %llu", (unsigned long long)r.budget_ns);
    after.system_time = 5004;
    CHECK(pvclock_rebase_at(&before, &after, tsc, &r) && pvclock_rebase_within(&r),
          "4 ns refused at 2^31 ns");
    CHECK(!pvclock_rebase_at(&before, &after, 999, &r), "a TSC behind both stamps evaluated");
}

static void implied_frequency(void)
{
    CHECK(pvclock_implied_hz(0x80000000u, 1) == 1000000000ull, "1 GHz: %llu",
          (unsigned long long)pvclock_implied_hz(0x80000000u, 1));
    /* A real KVM area: mul 0xf445e753, shift -1 is a 2.096 GHz TSC. */
    uint64_t hz = pvclock_implied_hz(0xf445e753u, -1);
    CHECK(hz > 2096014000ull && hz < 2096016000ull, "%llu", (unsigned long long)hz);
    CHECK(pvclock_implied_hz(0, 0) == 0, "mul 0");
    CHECK(pvclock_implied_hz(1, 100) == 0, "shift 100");
}

static const char *problem(struct pvclock_snapshot s, bool stable)
{
    static char why[160];
    return pvclock_params_problem(&s, stable, why, sizeof(why));
}

/* The sane range, 1 MHz to 100 GHz, at both ends; and a shift that would
 * wrap 64 bits into a plausible figure (17 GHz) is saturated instead. */
static void implied_frequency_range_edges(void)
{
    struct pvclock_snapshot s = { .version = 2, .mul = 0xfa000000u, .shift = 9 };
    uint64_t hz = pvclock_implied_hz(s.mul, s.shift);
    CHECK(hz == 2000000ull, "2 MHz: %llu", (unsigned long long)hz);
    CHECK(problem(s, false) == NULL, "a 2 MHz TSC refused: %s", problem(s, false));
    s.mul = 3665038759u; /* 150 GHz at shift -7 */
    s.shift = -7;
    hz = pvclock_implied_hz(s.mul, s.shift);
    CHECK(hz > 149999000000ull && hz < 150001000000ull, "150 GHz: %llu", (unsigned long long)hz);
    CHECK(problem(s, false) && strstr(problem(s, false), "outside"), "a 150 GHz TSC accepted");
    s.mul = 3054198966u; /* 90 GHz at shift -6 */
    s.shift = -6;
    CHECK(problem(s, false) == NULL, "a 90 GHz TSC refused: %s", problem(s, false));
    CHECK(pvclock_implied_hz(999999999u, -32) == UINT64_MAX, "wrapped to %llu",
          (unsigned long long)pvclock_implied_hz(999999999u, -32));
}

static void field_rules(void)
{
    struct pvclock_snapshot good = { .version = 2, .mul = 0xf445e753u, .shift = -1, .flags = 1 };
    CHECK(problem(good, true) == NULL, "good params rejected: %s", problem(good, true));
    struct pvclock_snapshot never = { 0 };
    CHECK(problem(never, true) && strstr(problem(never, true), "never wrote"), "zero page");
    struct pvclock_snapshot s = good;
    s.version = 3;
    CHECK(problem(s, true) && strstr(problem(s, true), "odd"), "odd version");
    s = good;
    s.mul = 0;
    CHECK(problem(s, true) && strstr(problem(s, true), "mul is 0"), "zero mul");
    s = good;
    s.shift = 100;
    CHECK(problem(s, true) != NULL, "shift 100 accepted");
    s = good;
    s.shift = 31; /* a TSC of 0.5 Hz */
    CHECK(problem(s, true) && strstr(problem(s, true), "outside"), "absurd frequency");
    s = good;
    s.flags = 0x05;
    CHECK(problem(s, true) && strstr(problem(s, true), "undefined"), "undefined flag");
    CHECK(problem(good, false) && strstr(problem(good, false), "STABLE"), "stable not advertised");
    struct pvclock_snapshot ones = { .version = 0xfffffffe, .tsc_timestamp = UINT64_MAX,
                                     .system_time = UINT64_MAX, .mul = 0xffffffffu, .shift = -1,
                                     .flags = 0xff };
    CHECK(problem(ones, true) != NULL, "all-ones page accepted");
}

static void stream_evaluator(void)
{
    struct pvclock_stream st = { 0 };
    struct pvclock_snapshot s = { .version = 2, .tsc_timestamp = 0, .system_time = 0,
                                  .mul = 0x80000000u, .shift = 1 };
    for (uint64_t t = 100; t < 1100; t += 100)
        pvclock_stream_add(&st, &s, t);
    CHECK(st.backward == 0 && st.tsc_behind == 0 && st.version_changes == 0, "clean stream");
    /* A re-base that jumps back 50 ns. */
    struct pvclock_snapshot back = { .version = 4, .tsc_timestamp = 1000, .system_time = 950,
                                     .mul = 0x80000000u, .shift = 1 };
    pvclock_stream_add(&st, &back, 1000);
    CHECK(st.version_changes == 1 && st.max_jump_ns == 50, "jump %llu", (unsigned long long)st.max_jump_ns);
    CHECK(st.backward == 1 && st.max_back_ns == 50, "backward %llu by %llu",
          (unsigned long long)st.backward, (unsigned long long)st.max_back_ns);
    pvclock_stream_add(&st, &back, 999);
    CHECK(st.tsc_behind == 1, "tsc behind not counted");
    pvclock_stream_add(&st, &back, 1000);
    CHECK(st.stalls == 1, "stall not counted");
}

/* --- the versioned reader against a concurrent writer ------------------- */

static struct pvclock_vcpu_time_info shared;
static atomic_int stop;

enum writer_mode { CORRECT, EVEN_VERSION_PUBLISH, STUCK_ODD };

/* Every field is a function of k, so a torn copy shows. */
static void fill(volatile struct pvclock_vcpu_time_info *p, uint64_t k)
{
    p->tsc_timestamp = k;
    p->system_time = k * 3;
    p->tsc_to_system_mul = (uint32_t)(k * 7) | 0x80000000u;
    p->tsc_shift = (int8_t)(k % 3) - 1;
    p->flags = 0;
}

static bool consistent(const struct pvclock_snapshot *s)
{
    uint64_t k = s->tsc_timestamp;
    return s->system_time == k * 3 && s->mul == ((uint32_t)(k * 7) | 0x80000000u) &&
           s->shift == (int8_t)(k % 3) - 1;
}

/* Each version (or faulty state) stays up until the reader has read once
 * after it (race.h). */
static struct race_step step;

static void *writer(void *arg)
{
    enum writer_mode mode = (enum writer_mode)(intptr_t)arg;
    volatile struct pvclock_vcpu_time_info *p = &shared;
    for (uint64_t k = 2; !atomic_load(&stop); k++) {
        if (mode == CORRECT) {
            p->version++;
            atomic_thread_fence(memory_order_release);
            fill(p, k);
            atomic_thread_fence(memory_order_release);
            p->version++;
            race_published(&step, &stop);
        } else if (mode == EVEN_VERSION_PUBLISH) {
            /* Bug #13: the fields change in place under an unchanged even
             * version, the multiplier cleared first. */
            p->tsc_to_system_mul = 0;
            atomic_thread_fence(memory_order_seq_cst);
            race_published(&step, &stop);
            fill(p, k);
        } else {
            p->version |= 1;
            return NULL;
        }
    }
    return NULL;
}

struct race_result {
    unsigned reads, ok, torn, settled, settled_ok, settled_flagged;
    enum pvclock_read_status last;
};

/* Reads until the reader has read after `states` published states, or
 * RACE_LIMIT_MS passed. */
static struct race_result run_writer(enum writer_mode mode, unsigned states)
{
    struct race_result r = { 0 };
    memset(&shared, 0, sizeof(shared));
    shared.version = 2;
    fill(&shared, 1);
    atomic_store(&stop, 0);
    race_step_reset(&step);
    pthread_t t;
    pthread_create(&t, NULL, writer, (void *)(intptr_t)mode);
    if (mode == STUCK_ODD)
        pthread_join(t, NULL); /* the update starts and never finishes */
    uint64_t deadline = race_now_ms() + RACE_LIMIT_MS;
    while ((r.settled < states || r.reads == 0) && race_now_ms() < deadline) {
        unsigned before = race_before(&step);
        struct pvclock_snapshot s;
        char why[128];
        bool ok, flagged = false;
        r.reads++;
        r.last = pvclock_read(&shared, &s, 1000, NULL);
        ok = r.last == PVCLOCK_READ_OK;
        if (ok) {
            r.ok++;
            if (!consistent(&s))
                r.torn++;
            s.flags = 0;
            flagged = pvclock_params_problem(&s, true, why, sizeof(why)) || !consistent(&s);
        }
        if (race_after(&step, before)) {
            r.settled++;
            r.settled_ok += ok;
            r.settled_flagged += flagged;
        }
    }
    atomic_store(&stop, 1);
    if (mode != STUCK_ODD)
        pthread_join(t, NULL);
    CHECK(r.settled >= states, "the reader read after only %u of %u published states in %u ms",
          r.settled, states, RACE_LIMIT_MS);
    return r;
}

/* Racing the writer or not, no copy is torn; a read that met no write is
 * accepted. */
static void reader_never_accepts_torn(void)
{
    struct race_result r = run_writer(CORRECT, 2000);
    CHECK(r.torn == 0, "%u torn snapshots accepted out of %u", r.torn, r.ok);
    CHECK(r.settled_ok == r.settled, "%u of %u reads of a settled area not accepted",
          r.settled - r.settled_ok, r.settled);
}

/* Every read made while a faulty state was up must see it. */
static void even_version_publish_is_caught(void)
{
    struct race_result r = run_writer(EVEN_VERSION_PUBLISH, 200);
    /* The version protocol cannot see this; the field rules must. */
    CHECK(r.settled_flagged == r.settled, "fields published under an even version went "
          "unnoticed in %u of %u reads made while they were up", r.settled - r.settled_flagged,
          r.settled);
}

static void stuck_odd_is_bounded(void)
{
    struct race_result r = run_writer(STUCK_ODD, 0);
    CHECK(r.ok == 0, "%u reads accepted a half-written area", r.ok);
    CHECK(r.last == PVCLOCK_READ_ODD, "a version stuck odd gave status %d", r.last);
}

static void never_written_page(void)
{
    struct pvclock_vcpu_time_info zero = { 0 };
    struct pvclock_snapshot s;
    char why[128];
    CHECK(pvclock_read(&zero, &s, 10, NULL) == PVCLOCK_READ_OK, "zero page read");
    CHECK(pvclock_params_problem(&s, true, why, sizeof(why)) != NULL, "zero page accepted");
}

static void wall_clock_reader(void)
{
    struct pvclock_wall_clock w = { .version = 1, .sec = 5, .nsec = 6 }, out;
    CHECK(pvclock_wall_read(&w, &out, 100) == PVCLOCK_READ_ODD, "odd wall clock accepted");
    w.version = 2;
    CHECK(pvclock_wall_read(&w, &out, 100) == PVCLOCK_READ_OK && out.sec == 5 && out.nsec == 6,
          "wall clock read");
}

int main(void)
{
    RUN(formula_matches_reference);
    RUN(time_at_tsc);
    RUN(rebase_budget_edges);
    RUN(implied_frequency);
    RUN(implied_frequency_range_edges);
    RUN(field_rules);
    RUN(stream_evaluator);
    RUN(reader_never_accepts_torn);
    RUN(even_version_publish_is_caught);
    RUN(stuck_odd_is_bounded);
    RUN(never_written_page);
    RUN(wall_clock_reader);
    return unit_any_failed;
}
