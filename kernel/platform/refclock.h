/* An independent reference clock for rate checks: the HPET or the ACPI PM
 * timer (both found through ACPI), else the tick count, which times waits
 * but judges no rate (unfit says why). Counts are
 * extended to 64 bits; read at least once per wrap period (PM timer, 24
 * bits: 4.7 s) for that to hold. */
#ifndef PVCHECK_REFCLOCK_H
#define PVCHECK_REFCLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct refclock {
    const char *name;  /* "hpet", "acpi_pm", "pit_channel2", "pit_channel0", "pit_ticks",
                        * "lapic_ticks", or NULL before init */
    uint64_t hz;
    /* NULL, or why this is no clock to judge a rate by: the tick's
     * interrupts, which a host may delay or drop, or the APIC timer,
     * calibrated against the TSC (not independent of it). */
    const char *unfit;
};

const struct refclock *refclock_get(void);
uint64_t refclock_read(void);
uint64_t refclock_to_ns(uint64_t counts);

/* The ACPI PM timer on its own, whatever the reference is: ns counted
 * since its first read; reads must come less than 4.6 s apart (24 bits at
 * 3.579545 MHz). False where ACPI names no PM timer. */
#define REFCLOCK_PM_TIMER_WRAP_MS 4600u
bool refclock_pm_timer_ns(uint64_t *ns);

#endif
