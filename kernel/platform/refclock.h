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
    const char *name;  /* "hpet", "acpi_pm", "pit_channel2", "pit_channel0", "cmos_rtc",
                        * "pit_ticks",
                        * "lapic_ticks", or NULL before init */
    uint64_t hz;
    /* NULL, or why this is no clock to judge a rate by: the tick's
     * interrupts, which a host may delay or drop, or the APIC timer,
     * calibrated against the TSC (not independent of it). */
    const char *unfit;
    /* With unfit: why no finer clock was taken (its own log line, since
     * Xen's console splits lines at 199 characters). */
    const char *passed_over;
};

const struct refclock *refclock_get(void);
uint64_t refclock_read(void);
uint64_t refclock_to_ns(uint64_t counts);

/* Whether the PIT's channel 0, polled, is the only rate reference this
 * machine can give (no HPET, no PM timer, no port 0x61 to gate channel 2):
 * then the tick should not take it. Before refclock_get(). */
bool refclock_wants_pit_channel0(void);

/* A reading paired with the TSC for a rate: the count held at some moment
 * within [tsc_lo, tsc_hi], give or take resolution_ns. A fine clock is read
 * once between two TSC reads (resolution: one count). The CMOS clock, whole
 * seconds, is read at a seconds edge: the bracket holds the edge itself
 * (resolution 0). False if a coarse clock showed no edge within two of its
 * periods. */
struct refclock_point {
    uint64_t count, tsc_lo, tsc_hi, resolution_ns;
};
bool refclock_point(struct refclock_point *p);

/* Waits until the reference has counted `counts` (at least one) past
 * `from`, so that the next refclock_point lands at or just past that. */
void refclock_wait(uint64_t from, uint64_t counts);

/* The ACPI PM timer on its own, whatever the reference is: ns counted
 * since its first read; reads must come less than 4.6 s apart (24 bits at
 * 3.579545 MHz). False where ACPI names no PM timer. */
#define REFCLOCK_PM_TIMER_WRAP_MS 4600u
bool refclock_pm_timer_ns(uint64_t *ns);

#endif
