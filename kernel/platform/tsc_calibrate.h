/* The TSC's rate measured against a clock of the machine's own, for a
 * machine whose CPUID states none (QEMU's microvm and other minimal VMMs
 * without an invariant TSC): the PIT counted down and its OUT polled, needing
 * no interrupt, else the CMOS clock's seconds edges. */
#ifndef PVCHECK_TSC_CALIBRATE_H
#define PVCHECK_TSC_CALIBRATE_H

#include <stdint.h>

struct tsc_measure {
    uint64_t khz;         /* 0: not measured */
    uint64_t window_ns;   /* the stretch of the machine's clock timed */
    uint64_t uncertainty_ppm; /* the reads' brackets at both ends */
    const char *source;   /* "pit_channel0" or "cmos_rtc" */
    const char *why_not;  /* when khz is 0: why */
};

/* About 50 ms, best of three countdowns. */
void tsc_measure_pit(struct tsc_measure *m);
/* One second between two seconds edges, up to two and a half seconds. */
void tsc_measure_rtc(struct tsc_measure *m);

#endif
