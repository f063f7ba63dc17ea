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

/* A Generic Address Structure (ACPI 6.5, 5.2.3.2) the guest can write:
 * system memory below 4 GiB or an I/O port; space is ACPI_GAS_NONE else. */
#define ACPI_GAS_MEMORY 0
#define ACPI_GAS_IO 1
#define ACPI_GAS_NONE 0xff
struct acpi_gas {
    uint8_t space;
    uint64_t address;
};

struct acpi_fadt_fields {
    uint16_t pm1a_cnt;      /* 0: none */
    bool hw_reduced;        /* Flags bit 20, HW_REDUCED_ACPI */
    struct acpi_gas sleep_control; /* SLEEP_CONTROL_REG (ACPI 5.0 and later) */
    uint32_t pm_timer_port; /* 0: none */
    bool pm_timer_32bit;
    uint64_t dsdt;          /* X_DSDT when set, else DSDT */
};

void acpi_fadt_parse(const uint8_t *fadt, uint32_t len, struct acpi_fadt_fields *out);

/* The byte a hardware-reduced machine's sleep control register takes to
 * enter a sleep state (ACPI 6.5, 4.8.3.7): SLP_TYPx in bits 4:2, SLP_EN
 * bit 5. */
uint8_t acpi_sleep_control_value(uint16_t slp_typ);

/* SLP_TYP of Name(_S5_, Package(){ typ, ... }) in AML; false if absent. */
bool acpi_aml_find_s5(const uint8_t *aml, uint32_t len, uint16_t *slp_typ);

/* The HPET block's address from the HPET table, or 0. */
uint64_t acpi_hpet_parse(const uint8_t *hpet, uint32_t len);

uint64_t acpi_le(const uint8_t *p, unsigned n);

#endif
