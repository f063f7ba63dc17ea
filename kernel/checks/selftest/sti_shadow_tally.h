/* The rule of selftest.sti_shadow and selftest.mov_ss_shadow on the ticks
 * they saw: a tick whose frame points at the instruction the shadow of STI
 * (or MOV SS) covers arrived inside the shadow (SDM Vol. 3A 6.8.3). Pure: the
 * host tests feed it frames. */
#ifndef PVCHECK_STI_SHADOW_TALLY_H
#define PVCHECK_STI_SHADOW_TALLY_H

#include <stdint.h>

struct sti_shadow_tally {
    uint64_t covered_rip; /* the instruction right after STI or MOV SS */
    uint64_t ticks, inside;
};

enum sti_shadow_outcome { STI_SHADOW_NO_TICK, STI_SHADOW_KEPT, STI_SHADOW_BROKEN };

/* One tick, interrupted at frame_rip. */
void sti_shadow_count(struct sti_shadow_tally *t, uint64_t frame_rip);

enum sti_shadow_outcome sti_shadow_outcome(const struct sti_shadow_tally *t);

#endif
