/* Byte-level parsers of ACPI tables, pure so that they can be fuzzed: each
 * reads only the len bytes it is given. */
#ifndef PVCHECK_ACPI_PARSE_H
#define PVCHECK_ACPI_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

uint8_t acpi_sum(const uint8_t *p, size_t n);

/* An RSDP at p with avail bytes readable: signature, checksum, and for
 * revision 2 its length and extended checksum. */
bool acpi_rsdp_ok(const uint8_t *p, size_t avail);

struct acpi_fadt_fields {
    uint16_t pm1a_cnt;      /* 0: none */
    uint32_t pm_timer_port; /* 0: none */
    bool pm_timer_32bit;
    uint64_t dsdt;          /* X_DSDT when set, else DSDT */
};

void acpi_fadt_parse(const uint8_t *fadt, uint32_t len, struct acpi_fadt_fields *out);

/* SLP_TYP of Name(_S5_, Package(){ typ, ... }) in AML; false if absent. */
bool acpi_aml_find_s5(const uint8_t *aml, uint32_t len, uint16_t *slp_typ);

/* The HPET block's address from the HPET table, or 0. */
uint64_t acpi_hpet_parse(const uint8_t *hpet, uint32_t len);

uint64_t acpi_le(const uint8_t *p, unsigned n);

#endif
