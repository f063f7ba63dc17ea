/* What the two files of suite "hyperv" share: check_hyperv.c (discovery,
 * guest OS ID, reference counter, frequencies) and check_hyperv_page.c (the
 * reference TSC page). */
#ifndef PVCHECK_HYPERV_CHECKS_H
#define PVCHECK_HYPERV_CHECKS_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/suite.h"

#define HV_READ_TRIES 1000u

/* NULL, or why a check cannot run (the privilege it lacks, named). */
const char *hv_needs(uint32_t wanted);

/* TLFS: the guest identifies itself through HV_X64_MSR_GUEST_OS_ID before
 * it uses the other enlightenments; once per boot. */
bool hv_ensure_os_id(struct check_ctx *c);

/* HV_X64_MSR_TIME_REF_COUNT, failing the check if the read faults. */
bool hv_read_counter(struct check_ctx *c, uint64_t *v);

/* Reads msr back after value was written: the figure, and the check fails
 * unless it reads back unchanged. */
bool hv_expect_readback(struct check_ctx *c, uint32_t msr, const char *name, uint64_t value);

/* The registered page's TscScale, if the page is valid. */
bool hv_page_scale(uint64_t *scale);

/* For other suites: the page registered and valid again (after
 * tsc_page_disable, or where suite hyperv did not run); false if it cannot
 * be (a privilege missing, or TscSequence 0). */
bool hv_page_open(struct check_ctx *c);

/* Time from the valid page, in 100 ns units, by the TLFS protocol. */
bool hv_page_units(uint64_t *units);

enum verdict hv_check_tsc_page(struct check_ctx *c);
enum verdict hv_check_tsc_page_monotonic(struct check_ctx *c);
enum verdict hv_check_tsc_page_agrees(struct check_ctx *c);
enum verdict hv_check_tsc_page_move(struct check_ctx *c);
enum verdict hv_check_tsc_page_disable(struct check_ctx *c);

#endif
