/* KTAP output and the helpers checks use to state their verdicts. */
#ifndef PVCHECK_REPORT_H
#define PVCHECK_REPORT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/suite.h"

typedef void (*report_sink)(const char *s, size_t n);

void report_set_sink(report_sink sink);

/* A whole line at the given nesting depth (0 = top level); adds the newline. */
void report_line(unsigned depth, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void report_vline(unsigned depth, const char *fmt, va_list ap);

/* "# " lead and text at the given depth, wrapped at spaces so that no line
 * carries more than REPORT_WRAP characters of text (Xen's console splits a
 * guest's line at 199); continuation lines start "#   ". */
#define REPORT_WRAP 150
void report_wrapped(unsigned depth, const char *lead, const char *text);

/* A "# key=value ..." figure line inside the running check. */
void figure(struct check_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like figure, but only with the verbose option. */
void detail(struct check_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Returns cond; when false, prints "# FAIL: ..." and marks the check failed. */
bool expect(struct check_ctx *c, bool cond, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Marks the check failed with a message; returns VERDICT_FAIL. */
enum verdict fail(struct check_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records why the check did not run; returns VERDICT_SKIP. */
enum verdict skip(struct check_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* VERDICT_PASS unless an expect() or fail() already failed the check. */
enum verdict pass(struct check_ctx *c);

#endif
