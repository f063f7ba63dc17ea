/* What a check is, and how a file registers its suite. */
#ifndef PVCHECK_SUITE_H
#define PVCHECK_SUITE_H

#include <stdbool.h>

enum verdict {
    VERDICT_PASS,
    VERDICT_FAIL,
    VERDICT_SKIP,
};

struct suite;
struct check;

/* Handed to a running check; the report helpers in report.h write through it. */
struct check_ctx {
    const struct suite *suite;
    const struct check *check;
    unsigned number;      /* 1-based KTAP test number within the suite */
    bool failed;          /* set by fail() and a false expect() */
    bool verbose;
    char skip_reason[128];
};

/* A rule text may open with a code for a document several rules cite; the
 * runner prints it in full (one copy in the image instead of one a rule). */
#define DOC_KVM_MSR "\001"
#define DOC_KVM_MSR_TEXT "Linux Documentation/virt/kvm/x86/msr.rst"
#define DOC_KVM_HC "\002"
#define DOC_KVM_HC_TEXT "Linux Documentation/virt/kvm/x86/hypercalls.rst"

struct check {
    const char *name;
    const char *rule;     /* document and rule the check enforces, printed on failure */
    enum verdict (*run)(struct check_ctx *c);
};

struct suite {
    const char *name;
    int order;                        /* position in the report, lowest first */
    const struct check *checks;
    unsigned n_checks;
    bool (*present)(void);            /* NULL, or false to leave the suite out */
    const char *(*unavailable)(void); /* NULL, or returns why every check skips */
};

/* One line per file: REGISTER_SUITE(cpuid_suite); */
#define REGISTER_SUITE(s)                                                          \
    static const struct suite *const s##_registration                              \
        __attribute__((used, section("pvcheck_suites"), aligned(8))) = &(s)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
