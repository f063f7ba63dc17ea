#include "platform/budget.h"

#include "platform/cpu.h"
#include "platform/timer.h"

void budget_start(struct budget *b, uint64_t target, unsigned ms)
{
    uint64_t now = timer_ticks();
    /* At least one whole tick past now: a budget never ends before it began. */
    *b = (struct budget){ .target = target,
                          .start_tick = now,
                          .end_tick = now + 1 + (uint64_t)ms * TIMER_HZ / 1000,
                          .ms = ms };
}

bool budget_next(struct budget *b)
{
    if (b->taken >= b->target)
        return false;
    /* The first sample is always taken: a tick between budget_start and
     * here must not leave a loop with nothing to divide by. */
    if (b->taken && timer_ticks() >= b->end_tick) {
        b->out_of_time = true;
        return false;
    }
    b->taken++;
    return true;
}

uint64_t budget_elapsed_ms(const struct budget *b)
{
    return (timer_ticks() - b->start_tick) * 1000 / TIMER_HZ;
}

void spin_tsc_cycles(uint64_t cycles)
{
    uint64_t start = rdtsc_ordered();
    while (rdtsc_ordered() - start < cycles)
        cpu_relax();
}
