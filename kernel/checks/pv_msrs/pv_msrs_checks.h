/* What the files of suite "pv_msrs" share: pv_msrs.c (async page faults,
 * PV EOI registration, the table), async_pf_swap.c (real async page
 * faults), pv_eoi.c (PV EOI with self-IPIs and with a level-triggered
 * interrupt), pv_msrs_control.c (poll and migration control) and
 * pv_expect.c (the outcomes of an MSR write). */
#ifndef PVCHECK_PV_MSRS_CHECKS_H
#define PVCHECK_PV_MSRS_CHECKS_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/suite.h"
#include "platform/safe.h"

#define MSR_RST_PV DOC_KVM_MSR

/* wrmsr(msr, value) must #GP and leave the MSR as it was; why names the
 * rule. Returns whether it did. */
bool pv_expect_refused(struct check_ctx *c, uint32_t msr, const char *name, uint64_t value,
                       const char *why);

/* wrmsr(msr, value) must be accepted and read back unchanged. */
bool pv_expect_accepted(struct check_ctx *c, uint32_t msr, const char *name, uint64_t value);

enum verdict check_pv_eoi_interrupts(struct check_ctx *c);
enum verdict check_pv_eoi_level(struct check_ctx *c);
enum verdict check_async_pf_swap(struct check_ctx *c);
enum verdict check_poll_control(struct check_ctx *c);
enum verdict check_migration_control(struct check_ctx *c);

#endif
