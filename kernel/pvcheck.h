/* State that start-up establishes once and checks read. */
#ifndef PVCHECK_PVCHECK_H
#define PVCHECK_PVCHECK_H

#include "bootinfo.h"
#include "options.h"

extern struct options pvcheck_options;
extern struct boot_info pvcheck_boot;

#endif
