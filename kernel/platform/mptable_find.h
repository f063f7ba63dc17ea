/* The MP table in this machine's BIOS areas (bios_areas.h), for SMP
 * without ACPI. */
#ifndef PVCHECK_MPTABLE_FIND_H
#define PVCHECK_MPTABLE_FIND_H

#include <stdbool.h>

#include "platform/madt.h"

/* Fills out from the MP table and returns true where there is one (then
 * out->problem says whether it was malformed; what came before that is
 * kept); else false and *why says what was found instead. */
bool mptable_find(struct madt_info *out, const char **why);

#endif
