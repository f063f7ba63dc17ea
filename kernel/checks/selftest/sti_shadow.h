/* selftest=sti_shadow's checks: the shadows of STI and of MOV SS. */
#ifndef PVCHECK_STI_SHADOW_H
#define PVCHECK_STI_SHADOW_H

#include "lib/report.h"

enum verdict check_sti_shadow(struct check_ctx *c);
enum verdict check_mov_ss_shadow(struct check_ctx *c);

#endif
