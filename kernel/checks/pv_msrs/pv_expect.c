/* The two outcomes a PV MSR write can be held to, for every file of suite
 * "pv_msrs". */
#include "checks/pv_msrs/pv_msrs_checks.h"

#include "lib/report.h"

bool pv_expect_refused(struct check_ctx *c, uint32_t msr, const char *name, uint64_t value,
                       const char *why)
{
    uint64_t before = 0, after = 0;
    rdmsr_safe(msr, &before);
    int vector = wrmsr_safe(msr, value);
    rdmsr_safe(msr, &after);
    if (vector == NO_FAULT && after != before)
        wrmsr_safe(msr, before);
    return expect(c, vector == VECTOR_GP && after == before,
                  "wrmsr(%s, 0x%llx) %s (vector %d) and it reads 0x%llx, was 0x%llx: %s", name,
                  (unsigned long long)value, vector == NO_FAULT ? "was accepted" : "faulted",
                  vector, (unsigned long long)after, (unsigned long long)before, why);
}

bool pv_expect_accepted(struct check_ctx *c, uint32_t msr, const char *name, uint64_t value)
{
    int vector = wrmsr_safe(msr, value);
    uint64_t back = 0;
    int rd = rdmsr_safe(msr, &back);
    return expect(c, vector == NO_FAULT && rd == NO_FAULT && back == value,
                  "wrmsr(%s, 0x%llx) raised vector %d; it reads back 0x%llx (vector %d)", name,
                  (unsigned long long)value, vector, (unsigned long long)back, rd);
}

/* A bit whose feature is not advertised: refused with enforcement
 * (expect_pv_enforce), else reported; an accepted write is undone. */
