/* Steal time: layout, reader against concurrent writers, field rules and the
 * series evaluator, on correct and faulty data. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "iface/steal.h"
#include "race.h"
#include "unit.h"

static const char *unit_name = "steal";

static const char *problem(struct steal_snapshot s)
{
    static char why[128];
    return steal_fields_problem(&s, why, sizeof(why));
}

static void field_rules(void)
{
    struct steal_snapshot good = { .steal = 5, .version = 4, .padding_zero = true };
    CHECK(problem(good) == NULL, "good area rejected: %s", problem(good));
    struct steal_snapshot s = good;
    s.version = 0;
    CHECK(problem(s) && strstr(problem(s), "never written"), "never written");
    s = good;
    s.version = 5;
    CHECK(problem(s) && strstr(problem(s), "odd"), "odd");
    s = good;
    s.flags = 1;
    CHECK(problem(s) && strstr(problem(s), "always zero"), "flags");
    s = good;
    s.preempted = 1;
    CHECK(problem(s) && strstr(problem(s), "preempted"), "preempted");
    s = good;
    s.padding_zero = false;
    CHECK(problem(s) && strstr(problem(s), "padding"), "padding");
}

static void series_evaluator(void)
{
    struct steal_series ok = { 0 };
    for (uint64_t t = 0; t <= 10; t++)
        steal_series_add(&ok, t * 1000, t * 1000000, t * 1000000); /* 0.1% steal */
    CHECK(ok.decreases == 0 && ok.too_fast == 0 && ok.total_steal == 10000, "clean series");

    struct steal_series back = { 0 };
    steal_series_add(&back, 5000, 0, 0);
    steal_series_add(&back, 4000, 1000000, 1000000);
    CHECK(back.decreases == 1 && back.max_decrease == 1000, "decrease not caught");

    struct steal_series fast = { 0 };
    steal_series_add(&fast, 0, 0, 0);
    steal_series_add(&fast, 2000000, 1000000, 1000000); /* 2 ms of steal in 1 ms */
    CHECK(fast.too_fast == 1 && fast.max_excess_ns == 1000000, "too fast not caught");

    /* Exactly the elapsed time plus the allowance is still fine. */
    struct steal_series edge = { 0 };
    steal_series_add(&edge, 0, 0, 0);
    steal_series_add(&edge, 1000000 + 1000 + STEAL_ALLOWANCE_NS, 1000000, 1000000);
    CHECK(edge.too_fast == 0, "allowance edge rejected");
    steal_series_add(&edge, 2000000 + 2000 + 2 * STEAL_ALLOWANCE_NS + 1, 2000000, 2000000);
    CHECK(edge.too_fast == 1, "past the allowance accepted");

    /* A clock going backwards (hostile) counts as zero elapsed, never wraps. */
    struct steal_series hostile = { 0 };
    steal_series_add(&hostile, 0, 5000000, 5000000);
    steal_series_add(&hostile, 100000, 1000, 1000);
    CHECK(hostile.too_fast == 1 && hostile.total_elapsed == 0, "backward clock");

    /* Preempted between the steal read and the clock read after it: the
     * bracket covers the 15 ms stolen there, so it is no excess. */
    struct steal_series bracket = { 0 };
    steal_series_add(&bracket, 0, 0, 15000000);          /* read steal, then 15 ms away */
    steal_series_add(&bracket, 15000000, 16000000, 16000000);
    CHECK(bracket.too_fast == 0, "steal within the bracketed window flagged");
    steal_series_add(&bracket, 15000000 + 3000000, 17000000, 17000000);
    CHECK(bracket.too_fast == 1, "3 ms of steal in a 1 ms window accepted");
}

static struct kvm_steal_time area;
static atomic_int stop;
static struct race_step step;
enum mode { CORRECT, BACKWARDS };

static void publish(uint64_t v)
{
    volatile struct kvm_steal_time *p = &area;
    p->version++;
    atomic_thread_fence(memory_order_release);
    p->steal = v;
    atomic_thread_fence(memory_order_release);
    p->version++;
}

/* Each value stays up until the reader has read once after it (race.h). */
static void *writer(void *arg)
{
    enum mode m = (enum mode)(intptr_t)arg;
    for (uint64_t k = 1; !atomic_load(&stop); k++) {
        /* The steal value encodes k twice, so a torn read shows. */
        uint64_t v = m == CORRECT ? k : (k % 1000);
        publish((v << 32) | v);
        race_published(&step, &stop);
    }
    return NULL;
}

/* Reads until the reader has read after SETTLED published values, or
 * RACE_LIMIT_MS passed; a read that met no write must be accepted. */
#define SETTLED 2000u
static void run(enum mode m, unsigned *torn, struct steal_series *series)
{
    memset(&area, 0, sizeof(area));
    atomic_store(&stop, 0);
    race_step_reset(&step);
    pthread_t t;
    pthread_create(&t, NULL, writer, (void *)(intptr_t)m);
    *torn = 0;
    *series = (struct steal_series){ 0 };
    unsigned settled = 0, settled_ok = 0;
    uint64_t deadline = race_now_ms() + RACE_LIMIT_MS;
    for (uint64_t i = 0; settled < SETTLED && race_now_ms() < deadline; i++) {
        unsigned before = race_before(&step);
        struct steal_snapshot s;
        bool ok = steal_read(&area, &s, 1000) == PVCLOCK_READ_OK;
        if (race_after(&step, before)) {
            settled++;
            settled_ok += ok;
        }
        if (!ok)
            continue;
        if ((s.steal >> 32) != (s.steal & 0xffffffffu))
            (*torn)++;
        /* Time advances faster than steal ever can in this model. */
        steal_series_add(series, s.steal & 0xffffffffu, i * 1000000000ull, i * 1000000000ull);
    }
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    CHECK(settled >= SETTLED && settled_ok == settled,
          "in %u ms the reader read after %u of %u published values, %u of them accepted",
          RACE_LIMIT_MS, settled, SETTLED, settled_ok);
}

/* Deterministic: each value stays up until the reader has read once after
 * it (race.h), so the reader sees every step whatever the scheduler does.
 * The faulty writer's every second step goes back. */
#define STEPS 200

static void *stepping_writer(void *arg)
{
    enum mode m = (enum mode)(intptr_t)arg;
    for (unsigned i = 1; i <= STEPS && !atomic_load(&stop); i++) {
        publish(m == CORRECT || i % 2 ? 1000ull * i : 1000ull * i - 1500);
        race_published(&step, &stop);
    }
    return NULL;
}

/* Reads until every step was read after, or RACE_LIMIT_MS passed. */
static unsigned stepped_run(enum mode m, struct steal_series *series)
{
    memset(&area, 0, sizeof(area));
    atomic_store(&stop, 0);
    race_step_reset(&step);
    *series = (struct steal_series){ 0 };
    pthread_t t;
    pthread_create(&t, NULL, stepping_writer, (void *)(intptr_t)m);
    uint64_t end = race_now_ms() + RACE_LIMIT_MS, clock = 0;
    unsigned seen = 0;
    while (seen < STEPS && race_now_ms() < end) {
        unsigned before = race_before(&step);
        struct steal_snapshot s;
        bool ok = steal_read(&area, &s, 1000) == PVCLOCK_READ_OK;
        if (!race_after(&step, before))
            continue;
        if (!ok)
            break; /* a read that met no write refused: short of STEPS */
        seen++;
        clock += 1000000000ull;
        steal_series_add(series, s.steal, clock, clock);
    }
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    return seen;
}

static void reader_against_writers(void)
{
    unsigned torn;
    struct steal_series series;
    run(CORRECT, &torn, &series);
    CHECK(torn == 0, "%u torn steal values accepted", torn);
    CHECK(series.decreases == 0, "correct writer flagged");
    run(BACKWARDS, &torn, &series);
    CHECK(torn == 0, "%u torn steal values accepted", torn);
    unsigned seen = stepped_run(CORRECT, &series);
    CHECK(seen == STEPS && series.decreases == 0, "correct stepping writer: %u of %u steps, %llu "
          "decreases", seen, STEPS, (unsigned long long)series.decreases);
    seen = stepped_run(BACKWARDS, &series);
    CHECK(seen == STEPS && series.decreases == STEPS / 2,
          "steal going backwards at %u of %u steps seen: %llu caught", STEPS / 2, seen,
          (unsigned long long)series.decreases);
}

static void stuck_odd_and_padding(void)
{
    struct kvm_steal_time a = { .version = 3 };
    struct steal_snapshot s;
    CHECK(steal_read(&a, &s, 50) == PVCLOCK_READ_ODD, "odd version accepted");
    a.version = 2;
    a.pad[10] = 1;
    CHECK(steal_read(&a, &s, 50) == PVCLOCK_READ_OK && !s.padding_zero, "padding write missed");
    struct kvm_steal_time ones;
    memset(&ones, 0xff, sizeof(ones));
    CHECK(steal_read(&ones, &s, 50) == PVCLOCK_READ_ODD, "all-ones page accepted");
}

int main(void)
{
    RUN(field_rules);
    RUN(series_evaluator);
    RUN(reader_against_writers);
    RUN(stuck_odd_and_padding);
    return unit_any_failed;
}
