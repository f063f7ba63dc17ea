/* The way any suite runs a job on every AP. */
#ifndef PVCHECK_APS_H
#define PVCHECK_APS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/suite.h"

#define SMP_JOB_TIMEOUT_MS 10000u

/* Runs job(results + cpu * size) on every AP and waits for each; fails the
 * check, naming the vCPU, for any that is busy or does not finish. */
bool smp_run_on_aps(struct check_ctx *c, void (*job)(void *), void *results, size_t size);

/* Runs job(arg) on vCPU cpu alone and waits for it; false, the check
 * failed naming the vCPU, if it was busy or did not finish. */
bool smp_run_on(struct check_ctx *c, unsigned cpu, void (*job)(void *), void *arg);

#endif
