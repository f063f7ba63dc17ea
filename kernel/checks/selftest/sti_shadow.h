/* selftest=sti_shadow's check. */
#ifndef PVCHECK_STI_SHADOW_H
#define PVCHECK_STI_SHADOW_H

#include "lib/report.h"

enum verdict check_sti_shadow(struct check_ctx *c);

#endif
