/* A PIT channel left counting down through its full 65536 period, read by
 * polling (no interrupt): a reference clock for machines with a PIT and no
 * HPET or PM timer. Channel 2 where port 0x61 raises its gate; channel 0
 * where the tick is not the PIT's (the tick then uses the APIC timer and
 * keeps the PIT's interrupt masked). */
#ifndef PVCHECK_PIT_COUNTER_H
#define PVCHECK_PIT_COUNTER_H

#include <stdbool.h>
#include <stdint.h>

/* Whether port 0x61 answers, which gates channel 2 (a PC's speaker port). */
bool pit_counter_gate2_present(void);

/* Starts channel 2, else channel 0 when channel0_free, and checks that it
 * counts; -1 (and why) when neither does. */
int pit_counter_start(bool channel0_free, const char **why);

/* The channel's count, turned to count up (wrapping at 2^16). */
uint64_t pit_counter_read(int channel);

#endif
