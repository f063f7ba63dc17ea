/* The SDM's TSC / IA32_TSC_ADJUST rules on figures as a write leaves them:
 * KVM's way (both move by the same X), a TSC write that leaves TSC_ADJUST
 * alone, an ADJUST write that leaves the TSC alone, and the edges of the
 * bound. */
#include <stdint.h>

#include "checks/tsc/tsc_judge.h"
#include "unit.h"

static const char *unit_name = "tsc_judge";

#define X (1ull << 32)

static void both_move(void)
{
    /* The write took 300 cycles of real time after the TSC was read; 200
     * more passed before the read after it. TSC_ADJUST moved by X - 300. */
    struct tsc_step s = { 1000000, 0, 1000000 + X + 200, X - 300, 1000 };
    int64_t advance;
    CHECK(tsc_step_unbroken(&s, &advance) && advance == 500, "advance %lld", (long long)advance);
    int64_t off;
    CHECK(tsc_step_landed(&s, 1000000 + X, &off) && off == 200, "off %lld", (long long)off);
    /* Backwards and through zero: modular. */
    struct tsc_step b = { 100, 5, 100 - X + 50, 5 - X - 10, 1000 };
    CHECK(tsc_step_unbroken(&b, &advance) && advance == 60, "back: advance %lld", (long long)advance);
}

static void adjust_left_alone(void)
{
    struct tsc_step s = { 1000000, 0, 1000000 + X + 200, 0, 1000 };
    int64_t advance;
    CHECK(!tsc_step_unbroken(&s, &advance) && advance == (int64_t)X + 200,
          "a TSC write without TSC_ADJUST accepted (advance %lld)", (long long)advance);
}

static void tsc_left_alone(void)
{
    /* TSC_ADJUST written X back, the TSC not moved. */
    struct tsc_step s = { 1000000, X, 1000400, 0, 1000 };
    int64_t advance;
    CHECK(!tsc_step_unbroken(&s, &advance), "an ADJUST write that left the TSC accepted");
    struct tsc_step f = { 1000000, 0, 1000400, X, 1000 };
    CHECK(!tsc_step_unbroken(&f, &advance) && advance < 0, "forward: advance %lld", (long long)advance);
}

static void bound_edges(void)
{
    struct tsc_step s = { 0, 0, 1000, 0, 1000 };
    int64_t advance, off;
    CHECK(tsc_step_unbroken(&s, &advance), "exactly the bound rejected");
    s.tsc_after = 1001;
    CHECK(!tsc_step_unbroken(&s, &advance), "one past the bound accepted");
    s.tsc_after = 0;
    CHECK(tsc_step_unbroken(&s, &advance) && advance == 0, "no time passing rejected");
    CHECK(!tsc_step_landed(&s, 1, &off) && off == -1, "a TSC behind what was written accepted");
    /* 1 ms at 2.5 GHz with 1000 ppm: 2 500 000 + 2 500 + rounding. */
    uint64_t c = tsc_cycles_within(1000000, 2500000, 1000);
    CHECK(c == 2502501, "cycles %llu", (unsigned long long)c);
    CHECK(tsc_cycles_within(3600000000000ull, 100000000, 0) == 360000000000001ull,
          "an hour at 100 GHz: %llu", (unsigned long long)tsc_cycles_within(3600000000000ull, 100000000, 0));
}

int main(void)
{
    RUN(both_move);
    RUN(adjust_left_alone);
    RUN(tsc_left_alone);
    RUN(bound_edges);
    return unit_any_failed;
}
