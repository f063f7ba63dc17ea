/* The guest runtime pieces the checks use (timer ticks, halting, the
 * reference clock), on the host and in the model's time. */
#include <time.h>

#include "model.h"
#include "refclock.h"
#include "timer.h"

uint64_t timer_ticks(void)
{
    return model_now_ns() / (1000000000ull / TIMER_HZ);
}

void timer_sleep_ticks(uint64_t n)
{
    uint64_t end = timer_ticks() + n;
    model_set_halted(true);
    while (timer_ticks() < end) {
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, 0);
    }
    model_set_halted(false);
}

static const struct refclock host_clock = { "host_monotonic", 1000000000ull, false };

const struct refclock *refclock_get(void)
{
    return &host_clock;
}

uint64_t refclock_read(void)
{
    return model_now_ns();
}

uint64_t refclock_to_ns(uint64_t counts)
{
    return counts;
}
