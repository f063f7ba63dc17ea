/* What the boot protocol handed over: which protocol, the command line,
 * and the RSDP where the protocol gives one. */
#ifndef PVCHECK_BOOTINFO_H
#define PVCHECK_BOOTINFO_H

#include <stdint.h>

struct boot_info {
    const char *protocol; /* "multiboot1", "multiboot2", "pvh" */
    const char *loader;   /* boot loader name, or NULL */
    const char *cmdline;  /* guest options only, never NULL */
    uint64_t rsdp;        /* 0: not given */
    uint64_t mem_top;     /* end of the RAM that holds the image; 0: not given */
    const char *firmware; /* "uefi" when the loader passed an EFI system table, else NULL */
    const char *problem;  /* NULL, or what was wrong with the boot information */
};

void bootinfo_parse(uint32_t magic, uint32_t info, struct boot_info *bi);

/* The multiboot2 information at info (its first word is its total size). */
void bootinfo_parse_mb2(const void *info, struct boot_info *bi);

/* What the loader handed over, parsed once at start-up. */
extern struct boot_info pvcheck_boot;

#endif
