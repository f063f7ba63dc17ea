#include "checks/shared/tsc_bracket.h"

int64_t tsc_lead_proven(uint64_t t0, uint64_t other, uint64_t t2)
{
    /* Modular: the counts may wrap, the differences are what is read. */
    int64_t after_t2 = (int64_t)(other - t2), after_t0 = (int64_t)(other - t0);
    if (after_t2 > 0)
        return after_t2;
    return after_t0 < 0 ? after_t0 : 0;
}
