/* Whether two vCPUs' TSCs are in step, proven without a threshold: one
 * vCPU's read taken after another's first read and before its second
 * (Linux's tsc_sync.c rule: no TSC read on one CPU is behind a read taken
 * before it on another). Pure: the host tests feed it figures. */
#ifndef PVCHECK_TSC_BRACKET_H
#define PVCHECK_TSC_BRACKET_H

#include <stdint.h>

/* Another vCPU read its TSC (other) after this one read t0 and before it
 * read t2: were the two TSCs in step, other would lie within [t0, t2]. The
 * lead it proves, in cycles: other - t2 when ahead, other - t0 (negative)
 * when behind, 0 within the bracket. */
int64_t tsc_lead_proven(uint64_t t0, uint64_t other, uint64_t t2);

#endif
