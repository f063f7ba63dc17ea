/* A periodic tick from the PIT through the 8259 PIC, or where there is no
 * PIT (Xen PVH) from the boot CPU's APIC timer calibrated against the TSC at
 * the frequency CPUID states; and the watchdog it drives: every check, and
 * the run as a whole, has a deadline. */
#ifndef PVCHECK_TIMER_H
#define PVCHECK_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#define TIMER_HZ 100
#define TIMER_VECTOR 32 /* the tick's vector, whichever source drives it */

void timer_init(void);

/* Routes the PIT's IRQ0 through the IOAPIC (the 8259 masked): where the
 * MADT says, or with pin2 to GSI 2, where PCs wire it and QEMU's IOAPIC
 * takes it whatever its MADT says. The APIC must be on. NULL, or why it
 * cannot. */
const char *timer_use_pit_ioapic(bool pin2);

/* Keeps the PIT's interrupt from the CPU (the 8259 masked, and the IOAPIC
 * pin if one was routed): before the PIT is counted down for a measurement
 * and the APIC timer takes vector 32. */
void timer_mask_pit(void);

/* Switches the tick to the APIC timer, calibrated against the TSC at
 * tsc_khz (source names where that figure came from); NULL, or why it
 * cannot. */
const char *timer_use_lapic(uint64_t tsc_khz, const char *source);

/* How the APIC timer was calibrated: its counts (divide-by-16) per 10 ms of
 * TSC over five rounds, and the longest TSC-APIC-TSC reading bracket. */
struct timer_calibration {
    uint64_t tsc_khz;
    const char *source;
    uint64_t min_per_10ms, median_per_10ms, max_per_10ms;
    uint64_t max_bracket_cycles;
};
const struct timer_calibration *timer_lapic_calibration(void);
/* "pit", "pit_ioapic" or "lapic". */
const char *timer_source(void);

/* fn runs at every tick, in the interrupt (interrupts off): the reference
 * clock extends a short counter there between its users' reads. */
void timer_on_tick(void (*fn)(void));

/* After interrupts are on: does the tick arrive? */
bool timer_ticking(void);
uint64_t timer_ticks(void);

/* The next tick's handler writes the TSC at its entry to *slot (which is 0
 * until then): how long an interrupt takes to resume halted code. */
void timer_stamp_next_tick(volatile uint64_t *slot);

/* Halts (interrupts on) until at least ticks more ticks have passed. */
void timer_sleep_ticks(uint64_t ticks);
/* The same, measured: the HLTs executed, and the TSC cycles from each HLT
 * to the entry of the tick handler that ended it. */
struct halt_stats {
    uint64_t halted_cycles;
    uint64_t halts;
};
void timer_sleep_ticks_measured(uint64_t ticks, struct halt_stats *h);

void watchdog_arm_run(unsigned seconds);
void watchdog_arm_check(unsigned seconds);
void watchdog_disarm_check(void);

#endif
