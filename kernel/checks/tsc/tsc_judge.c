#include "checks/tsc/tsc_judge.h"

bool tsc_step_unbroken(const struct tsc_step *s, int64_t *advance)
{
    /* Modular arithmetic: both MSRs are 64-bit counts that may wrap. */
    uint64_t before = s->tsc_before - s->adjust_before;
    uint64_t after = s->tsc_after - s->adjust_after;
    *advance = (int64_t)(after - before);
    return *advance >= 0 && (uint64_t)*advance <= s->elapsed_max_cycles;
}

bool tsc_step_landed(const struct tsc_step *s, uint64_t written, int64_t *off)
{
    *off = (int64_t)(s->tsc_after - written);
    return *off >= 0 && (uint64_t)*off <= s->elapsed_max_cycles;
}

uint64_t tsc_cycles_within(uint64_t ns, uint64_t khz, uint64_t tolerance_ppm)
{
    /* Split so that hours at 100 GHz stay within 64 bits. */
    uint64_t cycles = ns / 1000000 * khz + (ns % 1000000 * khz + 999999) / 1000000;
    uint64_t extra = cycles / 1000000 * tolerance_ppm +
                     (cycles % 1000000 * tolerance_ppm + 999999) / 1000000;
    return cycles + extra + 1;
}
