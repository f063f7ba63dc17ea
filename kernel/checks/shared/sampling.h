/* How a check reports a budgeted sampling loop: what it took against its
 * target and budget, and, when that is too little, that it cannot judge. */
#ifndef PVCHECK_SAMPLING_H
#define PVCHECK_SAMPLING_H

#include <stdint.h>

#include "lib/suite.h"
#include "platform/budget.h"

/* The figure "WHAT=N of TARGET in MS ms (budget_ms=B[, ran out])". */
void sampling_report(struct check_ctx *c, const char *what, const struct budget *b);

/* Fewer than min (taken of what, over b's time): leaves the skip reason
 * "too slow to judge"; the check's pass() then skips unless a rule failed,
 * since a failure found in few samples is still a failure. */
void sampling_require(struct check_ctx *c, const char *what, uint64_t taken, uint64_t min,
                      const struct budget *b);

#endif
