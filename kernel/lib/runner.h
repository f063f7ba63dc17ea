/* Runs the registered suites in order and prints the KTAP report. */
#ifndef PVCHECK_RUNNER_H
#define PVCHECK_RUNNER_H

#include <stddef.h>

#include "lib/options.h"
#include "lib/suite.h"

#define RUNNER_MAX_SUITES 32

struct run_totals {
    unsigned passed, failed, skipped;
};

struct runner_hooks {
    void (*before_check)(const struct check_ctx *c); /* e.g. arm the watchdog */
    void (*after_check)(const struct check_ctx *c);
};

/* The suites in report order (present ones only); returns how many. */
unsigned runner_collect(const struct suite *const *all, unsigned n_all,
                        const struct suite **sorted, unsigned max);

/* Every name in only= and skip= must be a suite or suite.check. Returns 0,
 * or -1 with a message. */
int runner_validate_names(const struct suite *const *suites, unsigned n,
                          const struct options *o, char *err, size_t errlen);

/* Prints the plan and one subtest per suite; fills totals. */
void runner_run(const struct suite *const *suites, unsigned n, const struct options *o,
                const struct runner_hooks *hooks, struct run_totals *totals);

void runner_print_summary(const struct run_totals *t);

/* Every suite of the next runner_run() is unavailable for this reason (no
 * time base): each check is reported skipped, none runs. */
void runner_make_unavailable(const char *why);

/* Names the suites an abort before runner_run() closes (runner_run() names
 * its own). */
void runner_prepare(const struct suite *const *suites, unsigned n);

/* Before any suite ran (bad command line, no timer): the plan, every suite
 * "not ok # ERROR not run: what", and "Bail out!". The caller then exits. */
void runner_refuse(const char *what);

/* From an exception or the watchdog (directive "ERROR" or "TIMEOUT"): fails
 * the running check, closes the plan (what had not run is "not ok # SKIP
 * not run") and prints "Bail out!". The caller then exits. */
void runner_abort(const char *directive, const char *reason);

/* The running check, or NULL. */
const struct check_ctx *runner_current(void);

#endif
