/* The bounds of a sampling loop: it stops at its sample target or when its
 * time budget has passed, whichever comes first, and says which, so that a
 * hypervisor whose exits cost a hundred times more still gets a verdict
 * (on fewer samples, reported) instead of a watchdog expiry. */
#ifndef PVCHECK_BUDGET_H
#define PVCHECK_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

struct budget {
    uint64_t target, taken;
    uint64_t start_tick, end_tick;
    unsigned ms;
    bool out_of_time;
};

/* Starts the clock: at most target samples, for at most ms milliseconds. */
void budget_start(struct budget *b, uint64_t target, unsigned ms);

/* Whether one more sample may be taken; counts it if so. The first always
 * may (unless the target is 0). */
bool budget_next(struct budget *b);

/* Milliseconds since budget_start (timer resolution). */
uint64_t budget_elapsed_ms(const struct budget *b);

/* Spins, without halting, for about cycles TSC cycles: a busy stretch of a
 * fixed length whatever an instruction costs on this hypervisor. */
void spin_tsc_cycles(uint64_t cycles);

#endif
