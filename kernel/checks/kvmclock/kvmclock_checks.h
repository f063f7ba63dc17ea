/* The kvmclock suite's checks kept outside kvmclock.c. */
#ifndef PVCHECK_KVMCLOCK_CHECKS_H
#define PVCHECK_KVMCLOCK_CHECKS_H

#include "lib/suite.h"

enum verdict check_masterclock_update(struct check_ctx *c);

#endif
