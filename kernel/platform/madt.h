/* The ACPI MADT: which processors exist. Pure, so the host tests can feed it
 * hostile tables. */
#ifndef PVCHECK_MADT_H
#define PVCHECK_MADT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MADT_MAX_CPUS 64

struct madt_cpu {
    uint32_t apic_id;
    bool x2apic_entry;
};

struct madt_info {
    uint64_t lapic_base;
    unsigned n_cpus;           /* enabled processors, at most MADT_MAX_CPUS */
    unsigned n_ignored;        /* enabled processors beyond MADT_MAX_CPUS */
    struct madt_cpu cpus[MADT_MAX_CPUS];
    const char *problem;       /* NULL, or what was malformed (parsing stopped there) */
};

/* table: the whole MADT including its 36-byte header; len: its length. */
void madt_parse(const uint8_t *table, size_t len, struct madt_info *out);

#endif
