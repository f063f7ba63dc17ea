/* The checks of suite "hyperv" that hyperv_page.c holds (the reference TSC
 * page), for the suite's table in hyperv.c. */
#ifndef PVCHECK_HYPERV_CHECKS_H
#define PVCHECK_HYPERV_CHECKS_H

#include "lib/suite.h"
#include "live/hyperv.h"

enum verdict hv_check_tsc_page(struct check_ctx *c);
enum verdict hv_check_tsc_page_monotonic(struct check_ctx *c);
enum verdict hv_check_tsc_page_agrees(struct check_ctx *c);
enum verdict hv_check_tsc_page_move(struct check_ctx *c);
enum verdict hv_check_tsc_page_disable(struct check_ctx *c);

#endif
