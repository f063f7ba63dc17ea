#include "checks/shared/sampling.h"

#include "lib/report.h"

void sampling_report(struct check_ctx *c, const char *what, const struct budget *b)
{
    figure(c, "%s=%llu of %llu in %llu ms (budget_ms=%u%s)", what, (unsigned long long)b->taken,
           (unsigned long long)b->target, (unsigned long long)budget_elapsed_ms(b), b->ms,
           b->out_of_time ? ", ran out" : "");
}

void sampling_require(struct check_ctx *c, const char *what, uint64_t taken, uint64_t min,
                      const struct budget *b)
{
    if (taken < min)
        skip(c, "only %llu %s in %llu ms, below the %llu a verdict needs: too slow to judge "
                "(lengthen with budget_ms=)", (unsigned long long)taken, what,
             (unsigned long long)budget_elapsed_ms(b), (unsigned long long)min);
}
