/* The ACPI MADT: which processors exist, the first IOAPIC and where the ISA
 * interrupts are routed. Pure, so the host tests can feed it
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

/* An ISA interrupt's global system interrupt and its MPS INTI flags
 * (polarity bits 1-0, trigger mode bits 3-2; 0: the bus's default). */
struct madt_isa_route {
    uint32_t gsi;
    uint16_t flags;
};

#define MADT_ISA_IRQS 16

struct madt_info {
    uint64_t lapic_base;
    bool has_ioapic;           /* the first IOAPIC entry: */
    uint32_t ioapic_base, ioapic_gsi_base;
    struct madt_isa_route isa[MADT_ISA_IRQS]; /* identity unless overridden */
    unsigned n_cpus;           /* enabled processors, at most MADT_MAX_CPUS */
    unsigned n_ignored;        /* enabled processors beyond MADT_MAX_CPUS */
    struct madt_cpu cpus[MADT_MAX_CPUS];
    /* Processors listed with the enabled flag clear: absent now, which a
     * host may add later (ACPI's "Online Capable" bit is newer than the
     * QEMUs that list them, so it is not asked for). */
    unsigned n_absent;
    struct madt_cpu absent[MADT_MAX_CPUS];
    const char *problem;       /* NULL, or what was malformed (parsing stopped there) */
    const char *note;          /* NULL, or what was wrong but could be read past */
};

/* table: the whole MADT including its 36-byte header; len: its length. */
void madt_parse(const uint8_t *table, size_t len, struct madt_info *out);

#endif
