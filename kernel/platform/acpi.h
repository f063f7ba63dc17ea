/* ACPI tables: found through the RSDP, every table validated before use
 * (signature, length bounds, checksum), since the hypervisor writes them. */
#ifndef PVCHECK_ACPI_H
#define PVCHECK_ACPI_H

#include <stdbool.h>
#include <stdint.h>

#include "platform/acpi_parse.h"

struct acpi_sdt_header {
    char signature[4];
    uint32_t length;
    uint8_t revision;
    uint8_t checksum;
    char oem_id[6];
    char oem_table_id[8];
    uint32_t oem_revision;
    uint32_t creator_id;
    uint32_t creator_revision;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_sdt_header) == 36, "SDT header is 36 bytes");

struct acpi_info {
    uint64_t rsdp;          /* 0: none found */
    const char *rsdp_source;
    uint16_t pm1a_cnt;      /* 0: no ACPI power-off */
    bool hw_reduced;
    struct acpi_gas sleep_control; /* space ACPI_GAS_NONE: none */
    uint16_t slp_typ_s5;
    bool s5_found;
    uint32_t pm_timer_port; /* 0: no PM timer */
    bool pm_timer_32bit;
    uint64_t hpet_base;     /* 0: no HPET table */
};

/* rsdp_hint: the address a boot protocol gave, or 0; the BIOS areas (EBDA,
 * 0xe0000-0xfffff) are scanned only without a hint and with bios_areas (a
 * UEFI machine has none). */
void acpi_init(uint64_t rsdp_hint, const char *hint_source, bool bios_areas);
const struct acpi_info *acpi_get(void);

/* A validated table by signature, or NULL. */
const struct acpi_sdt_header *acpi_find_table(const char *signature);

/* Enters S5 through PM1a_CNT, or on a hardware-reduced machine through the
 * sleep control register, saying which on the log; returns only if that
 * did not power off, or there is no way (then it says why). */
void acpi_poweroff(void);

#endif
