/* The clocks suite's readers, for other suites that read the same clocks. */
#ifndef PVCHECK_CLOCKS_H
#define PVCHECK_CLOCKS_H

#include <stdbool.h>
#include <stdint.h>

enum clock_id { KVMCLOCK, HV_PAGE, HV_COUNTER, XEN_TIME, REFERENCE, TSC, PM_TIMER };

/* One reading of that clock in ns; false if it cannot be read now (or,
 * for the TSC, no rate is stated). */
bool clock_read_ns(enum clock_id id, uint64_t *ns);

#endif
