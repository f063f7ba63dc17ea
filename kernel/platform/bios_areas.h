/* The legacy BIOS areas where firmware tables are searched for (ACPI's
 * RSDP, the MP floating pointer). Only where the loader handed over no
 * firmware interface: under UEFI they hold nothing to find. */
#ifndef PVCHECK_BIOS_AREAS_H
#define PVCHECK_BIOS_AREAS_H

#include <stdint.h>

/* The extended BIOS data area the BIOS data area names, or 0 where it
 * names none between 512 KiB and 640 KiB. */
uintptr_t bios_ebda(void);

#endif
