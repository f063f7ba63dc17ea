#include "sti_shadow_tally.h"

void sti_shadow_count(struct sti_shadow_tally *t, uint64_t frame_rip)
{
    t->ticks++;
    if (frame_rip == t->covered_rip)
        t->inside++;
}

enum sti_shadow_outcome sti_shadow_outcome(const struct sti_shadow_tally *t)
{
    if (t->ticks == 0)
        return STI_SHADOW_NO_TICK;
    return t->inside ? STI_SHADOW_BROKEN : STI_SHADOW_KEPT;
}
