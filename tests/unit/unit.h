/* A minimal host test harness: TEST(name) cases, CHECK(cond, fmt, ...)
 * assertions, "PASS name" / "FAIL name" per case for tests/check.sh. */
#ifndef PVCHECK_UNIT_H
#define PVCHECK_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_case_failed;
static int unit_any_failed;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (!(cond)) {                                                     \
            unit_case_failed = 1;                                          \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
        }                                                                  \
    } while (0)

#define CHECK_STR(got, want)                                               \
    CHECK(strcmp((got), (want)) == 0, "got \"%s\", want \"%s\"", (got), (want))

#define RUN(fn)                                                            \
    do {                                                                   \
        unit_case_failed = 0;                                              \
        fn();                                                              \
        printf("%s %s.%s\n", unit_case_failed ? "FAIL" : "PASS", unit_name, #fn); \
        unit_any_failed |= unit_case_failed;                               \
    } while (0)

#endif
