/* The bounds of a sampling loop (platform/budget.c) against a timer the
 * test moves by hand: the target ends it, or the time, and the first sample
 * is always taken. */
#include "platform/budget.h"
#include "platform/cpu.h"
#include "platform/timer.h"
#include "unit.h"

static const char *unit_name = "budget";

static uint64_t now_ticks;
uint64_t timer_ticks(void)
{
    return now_ticks;
}

static void target_first(void)
{
    struct budget b;
    now_ticks = 100;
    budget_start(&b, 5, 1000);
    unsigned n = 0;
    while (budget_next(&b))
        n++;
    CHECK(n == 5 && b.taken == 5 && !b.out_of_time, "n=%u taken=%llu out=%d", n,
          (unsigned long long)b.taken, b.out_of_time);
}

static void time_first(void)
{
    struct budget b;
    now_ticks = 0;
    budget_start(&b, 1000000, 50); /* 50 ms: 5 ticks at 100 Hz, plus the one under way */
    unsigned n = 0;
    while (budget_next(&b)) {
        n++;
        if (n % 10 == 0)
            now_ticks++;
    }
    CHECK(b.out_of_time, "the time budget did not end the loop");
    CHECK(n == 60 && b.taken == 60, "took %u samples, want 60 (6 ticks of 10)", n);
    CHECK(budget_elapsed_ms(&b) == 60, "elapsed %llu ms", (unsigned long long)budget_elapsed_ms(&b));
}

static void first_sample_always(void)
{
    struct budget b;
    now_ticks = 7;
    budget_start(&b, 100, 10);
    now_ticks = 1000; /* the whole budget passed before the loop began */
    CHECK(budget_next(&b), "the first sample was refused");
    CHECK(!budget_next(&b) && b.taken == 1 && b.out_of_time, "taken=%llu",
          (unsigned long long)b.taken);
}

static void zero_target(void)
{
    struct budget b;
    budget_start(&b, 0, 1000);
    CHECK(!budget_next(&b) && b.taken == 0, "a zero target took a sample");
}

static void spin_lasts(void)
{
    uint64_t t0 = rdtsc_ordered();
    spin_tsc_cycles(100000);
    CHECK(rdtsc_ordered() - t0 >= 100000, "spun fewer cycles than asked");
}

int main(void)
{
    RUN(target_first);
    RUN(time_first);
    RUN(first_sample_always);
    RUN(zero_target);
    RUN(spin_lasts);
    return unit_any_failed;
}
