/* A periodic tick from the PIT through the 8259 PIC, and the watchdog it
 * drives: every check, and the run as a whole, has a deadline. */
#ifndef PVCHECK_TIMER_H
#define PVCHECK_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#define TIMER_HZ 100

void timer_init(void);

/* After interrupts are on: does the tick arrive? */
bool timer_ticking(void);
uint64_t timer_ticks(void);

/* Halts (interrupts on) until at least ticks more ticks have passed. */
void timer_sleep_ticks(uint64_t ticks);

void watchdog_arm_run(unsigned seconds);
void watchdog_arm_check(unsigned seconds);
void watchdog_disarm_check(void);

#endif
