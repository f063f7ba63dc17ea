/* selftest.sti_shadow's tally: ticks on the covered instruction break the
 * shadow, ticks anywhere else (STI itself, the loop, the ret) do not, and
 * no tick at all is no verdict. */
#include <stdint.h>

#include "checks/selftest/sti_shadow_tally.h"
#include "unit.h"

static const char *unit_name = "sti_shadow";

#define COVERED 0x10387bull

static void no_tick_no_verdict(void)
{
    struct sti_shadow_tally t = { .covered_rip = COVERED };
    CHECK(sti_shadow_outcome(&t) == STI_SHADOW_NO_TICK, "outcome %d", sti_shadow_outcome(&t));
}

static void ticks_elsewhere_keep_it(void)
{
    struct sti_shadow_tally t = { .covered_rip = COVERED };
    /* After the nop, on the dec, the jnz, the cli (sti's own address is
     * where a tick taken before sti lands). */
    const uint64_t rips[] = { COVERED + 1, COVERED + 4, COVERED - 2, COVERED - 1, COVERED + 6 };
    for (unsigned r = 0; r < 200; r++)
        sti_shadow_count(&t, rips[r % 5]);
    CHECK(t.ticks == 200 && t.inside == 0, "ticks %llu inside %llu",
          (unsigned long long)t.ticks, (unsigned long long)t.inside);
    CHECK(sti_shadow_outcome(&t) == STI_SHADOW_KEPT, "outcome %d", sti_shadow_outcome(&t));
}

static void one_tick_inside_breaks_it(void)
{
    struct sti_shadow_tally t = { .covered_rip = COVERED };
    for (unsigned r = 0; r < 199; r++)
        sti_shadow_count(&t, COVERED + 1);
    sti_shadow_count(&t, COVERED);
    CHECK(t.ticks == 200 && t.inside == 1, "ticks %llu inside %llu",
          (unsigned long long)t.ticks, (unsigned long long)t.inside);
    CHECK(sti_shadow_outcome(&t) == STI_SHADOW_BROKEN, "outcome %d", sti_shadow_outcome(&t));
}

static void all_inside_breaks_it(void)
{
    /* QEMU 7.2's rig: every tick that came while the loop ran. */
    struct sti_shadow_tally t = { .covered_rip = COVERED };
    for (unsigned r = 0; r < 113; r++)
        sti_shadow_count(&t, COVERED);
    CHECK(t.inside == 113 && sti_shadow_outcome(&t) == STI_SHADOW_BROKEN, "inside %llu",
          (unsigned long long)t.inside);
}

int main(void)
{
    RUN(no_tick_no_verdict);
    RUN(ticks_elsewhere_keep_it);
    RUN(one_tick_inside_breaks_it);
    RUN(all_inside_breaks_it);
    return unit_any_failed;
}
