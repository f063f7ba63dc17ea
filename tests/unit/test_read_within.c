/* The patient versioned reads (iface/pvclock_now.c) against a timer the
 * test moves by hand: a read ends when a copy is consistent, when more
 * than its ticks have passed, or, with the timer standing still
 * (interrupts off), after a bounded count of rounds. */
#include "iface/pvclock.h"
#include "iface/steal.h"
#include "platform/timer.h"
#include "unit.h"

static const char *unit_name = "read_within";

static uint64_t now_ticks;
static unsigned ticks_per_call; /* how far the timer moves at each look */
uint64_t timer_ticks(void)
{
    now_ticks += ticks_per_call;
    return now_ticks;
}

static unsigned calls, ok_after;
static enum pvclock_read_status failing;
static enum pvclock_read_status scripted(const volatile void *area, void *out)
{
    (void)area, (void)out;
    return ++calls > ok_after ? PVCLOCK_READ_OK : failing;
}

static void reset(unsigned step, unsigned ok_at, enum pvclock_read_status fail_as)
{
    now_ticks = 0, ticks_per_call = step, calls = 0, ok_after = ok_at, failing = fail_as;
}

static void settles(void)
{
    reset(0, 5, PVCLOCK_READ_ODD);
    CHECK(read_within(scripted, 0, 0, 2) == PVCLOCK_READ_OK && calls == 6, "calls=%u", calls);
    reset(1, 0, PVCLOCK_READ_ODD);
    CHECK(read_within(scripted, 0, 0, 0) == PVCLOCK_READ_OK && calls == 1,
          "a first good read must end it, calls=%u", calls);
}

static void gives_up_on_time(void)
{
    reset(1, ~0u, PVCLOCK_READ_ODD);
    CHECK(read_within(scripted, 0, 0, 3) == PVCLOCK_READ_ODD, "not given up as odd");
    /* The start is one look; each round one more: it gives up past 3 ticks. */
    CHECK(calls == 4, "calls=%u, want 4 (one per tick, past 3 ticks)", calls);
    reset(1, ~0u, PVCLOCK_READ_UNSTABLE);
    CHECK(read_within(scripted, 0, 0, 3) == PVCLOCK_READ_UNSTABLE, "the last status is lost");
}

static void bounded_without_timer(void)
{
    reset(0, ~0u, PVCLOCK_READ_ODD);
    CHECK(read_within(scripted, 0, 0, 1) == PVCLOCK_READ_ODD, "not given up");
    CHECK(calls > 10000 && calls <= 200001, "a stopped timer ended it after %u rounds", calls);
}

/* A real kvmclock area with its version held odd, then even. */
static void area_odd_then_even(void)
{
    static struct pvclock_vcpu_time_info a;
    struct pvclock_snapshot s;
    a = (struct pvclock_vcpu_time_info){ .version = 3, .tsc_to_system_mul = 1u << 31, .system_time = 42 };
    reset(1, 0, PVCLOCK_READ_OK);
    CHECK(pvclock_read_within(&a, &s, 2) == PVCLOCK_READ_ODD, "an odd version read as settled");
    a.version = 4;
    CHECK(pvclock_read_within(&a, &s, 2) == PVCLOCK_READ_OK && s.version == 4 &&
              s.system_time == 42, "version=%u system_time=%llu", s.version,
          (unsigned long long)s.system_time);
}

static void steal_and_wall(void)
{
    static struct kvm_steal_time st;
    static struct pvclock_wall_clock w;
    struct steal_snapshot ss;
    struct pvclock_wall_clock wo;
    st.version = 1, st.steal = 7;
    w.version = 5, w.sec = 9;
    reset(1, 0, PVCLOCK_READ_OK);
    CHECK(steal_read_within(&st, &ss, 2) == PVCLOCK_READ_ODD, "odd steal area read as settled");
    CHECK(pvclock_wall_read_within(&w, &wo, 2) == PVCLOCK_READ_ODD, "odd wall clock settled");
    st.version = 2, w.version = 6;
    CHECK(steal_read_within(&st, &ss, 2) == PVCLOCK_READ_OK && ss.steal == 7, "steal");
    CHECK(pvclock_wall_read_within(&w, &wo, 2) == PVCLOCK_READ_OK && wo.sec == 9, "wall");
}

/* An area that gave up is read once per call, not waited on again, until
 * it reads. */
static void gave_up_once(void)
{
    static struct pvclock_vcpu_time_info a;
    uint64_t ns;
    a = (struct pvclock_vcpu_time_info){ .version = 7, .tsc_to_system_mul = 1u << 31 };
    reset(1, 0, PVCLOCK_READ_OK);
    CHECK(!pvclock_area_now(&a, &ns), "an odd area gave a time");
    uint64_t waited = now_ticks;
    CHECK(waited >= 3, "the first read did not wait: %llu ticks", (unsigned long long)waited);
    CHECK(!pvclock_area_now(&a, &ns) && now_ticks == waited,
          "a second read waited again (%llu ticks)", (unsigned long long)(now_ticks - waited));
    a.version = 8;
    CHECK(pvclock_area_now(&a, &ns), "the settled area gave no time");
    a.version = 9;
    CHECK(!pvclock_area_now(&a, &ns) && now_ticks > waited, "after a good read it must wait again");
}

int main(void)
{
    RUN(settles);
    RUN(gives_up_on_time);
    RUN(bounded_without_timer);
    RUN(area_odd_then_even);
    RUN(steal_and_wall);
    RUN(gave_up_once);
    return unit_any_failed;
}
