/* smp.preempted's accounting of marks by later steal: a mark followed by
 * growth is a preemption, one never followed is not, growth before a mark
 * accounts for nothing, and an unreadable steal accounts for nothing. */
#include <stdint.h>

#include "checks/smp/preempt_watch.h"
#include "unit.h"

static const char *unit_name = "preempt_watch";

static void growth_accounts(void)
{
    struct preempt_watch w = { 0 };
    preempt_watch_burst(&w, true, true, 1000);
    preempt_watch_burst(&w, true, true, 1000); /* the same preemption, still out */
    preempt_watch_burst(&w, false, true, 1001);
    preempt_watch_close(&w, true, 1001);
    CHECK(w.marked_bursts == 2 && w.unaccounted == 0, "marked %u unaccounted %u",
          w.marked_bursts, w.unaccounted);
}

static void no_growth_is_not_preemption(void)
{
    struct preempt_watch w = { 0 };
    preempt_watch_burst(&w, false, true, 500);
    preempt_watch_burst(&w, true, true, 1000);
    preempt_watch_burst(&w, true, true, 1000);
    preempt_watch_burst(&w, false, true, 1000);
    preempt_watch_close(&w, true, 1000);
    CHECK(w.unaccounted == 2, "unaccounted %u", w.unaccounted);
}

static void growth_before_the_mark_counts_not(void)
{
    struct preempt_watch w = { 0 };
    preempt_watch_burst(&w, false, true, 100);
    preempt_watch_burst(&w, true, true, 900); /* grew before this burst, not after */
    preempt_watch_close(&w, true, 900);
    CHECK(w.unaccounted == 1, "unaccounted %u", w.unaccounted);
    /* A later mark's growth accounts for the earlier ones too. */
    struct preempt_watch v = { 0 };
    preempt_watch_burst(&v, true, true, 100);
    preempt_watch_burst(&v, false, true, 100);
    preempt_watch_burst(&v, true, true, 100);
    preempt_watch_close(&v, true, 101);
    CHECK(v.unaccounted == 0 && v.marked_bursts == 2, "unaccounted %u", v.unaccounted);
}

static void unreadable_accounts_nothing(void)
{
    struct preempt_watch w = { 0 };
    preempt_watch_burst(&w, true, false, 0);
    preempt_watch_burst(&w, false, true, UINT64_MAX - 1);
    preempt_watch_close(&w, false, 0);
    CHECK(w.unaccounted == 1, "unaccounted %u", w.unaccounted);
}

int main(void)
{
    RUN(growth_accounts);
    RUN(no_growth_is_not_preemption);
    RUN(growth_before_the_mark_counts_not);
    RUN(unreadable_accounts_nothing);
    return unit_any_failed;
}
