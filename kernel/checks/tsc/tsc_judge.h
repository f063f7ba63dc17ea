/* The SDM's rules for the TSC and IA32_TSC_ADJUST (Intel SDM Vol. 3B,
 * "Time-Stamp Counter Adjustment"), judged from what one vCPU read around
 * one WRMSR. Pure: the host tests feed it figures. */
#ifndef PVCHECK_TSC_JUDGE_H
#define PVCHECK_TSC_JUDGE_H

#include <stdbool.h>
#include <stdint.h>

/* Both MSRs read before and after one WRMSR to either, and the most real
 * time, in TSC cycles, that can lie between the two TSC reads. */
struct tsc_step {
    uint64_t tsc_before, adjust_before, tsc_after, adjust_after;
    uint64_t elapsed_max_cycles;
};

/* A write that moves one by X moves the other by X, so the TSC less
 * TSC_ADJUST, which no WRMSR moves, runs on unbroken: its advance across
 * the step (*advance) lies within [0, elapsed_max_cycles]. */
bool tsc_step_unbroken(const struct tsc_step *s, int64_t *advance);

/* The TSC read after writing `written` lies within [written, written +
 * elapsed_max_cycles]: the write took. *off gets tsc_after - written. */
bool tsc_step_landed(const struct tsc_step *s, uint64_t written, int64_t *off);

/* Real time in TSC cycles: ns at khz, plus tolerance_ppm of it, rounded up. */
uint64_t tsc_cycles_within(uint64_t ns, uint64_t khz, uint64_t tolerance_ppm);

#endif
