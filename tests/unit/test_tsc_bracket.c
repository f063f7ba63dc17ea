/* Two vCPUs' TSCs judged by a bracket: the edges, and through zero. */
#include <stdint.h>

#include "checks/shared/tsc_bracket.h"
#include "unit.h"

static const char *unit_name = "tsc_bracket";

#define X (1ull << 32)

/* Another vCPU's TSC against a bracket of this one's: in step anywhere
 * inside it, ahead or behind only past its ends, through zero too. */
static void lead_edges(void)
{
    CHECK(tsc_lead_proven(1000, 1000, 2000) == 0, "at t0: %lld", (long long)tsc_lead_proven(1000, 1000, 2000));
    CHECK(tsc_lead_proven(1000, 2000, 2000) == 0, "at t2: %lld", (long long)tsc_lead_proven(1000, 2000, 2000));
    CHECK(tsc_lead_proven(1000, 2001, 2000) == 1, "one past t2: %lld", (long long)tsc_lead_proven(1000, 2001, 2000));
    CHECK(tsc_lead_proven(1000, 999, 2000) == -1, "one before t0: %lld", (long long)tsc_lead_proven(1000, 999, 2000));
    CHECK(tsc_lead_proven(1000, 1000 + X, 2000) == (int64_t)X - 1000, "a step ahead: %lld",
          (long long)tsc_lead_proven(1000, 1000 + X, 2000));
    CHECK(tsc_lead_proven(10, 10 - X, 20) == -(int64_t)X, "a step behind, through zero: %lld",
          (long long)tsc_lead_proven(10, 10 - X, 20));
    CHECK(tsc_lead_proven(UINT64_MAX - 5, 3, 2) == 1, "t2 wrapped past zero: %lld",
          (long long)tsc_lead_proven(UINT64_MAX - 5, 3, 2));
}

int main(void)
{
    RUN(lead_edges);
    return unit_any_failed;
}
