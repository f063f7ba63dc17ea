/* The Intel MultiProcessor table (MPS 1.4), which qboot (QEMU's microvm
 * without ACPI) and Firecracker write instead of, or beside, ACPI: the
 * processors, the first IOAPIC and the ISA interrupts' pins, in the MADT's
 * terms. Pure, so the host tests and the fuzzer can feed it hostile tables. */
#ifndef PVCHECK_MPTABLE_H
#define PVCHECK_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "platform/madt.h"

#define MP_FLOATING_BYTES 16

/* The configuration table's physical address from a 16-byte floating
 * pointer structure; 0 when fp is not one (signature, length, checksum:
 * *why is then mptable_not_floating) or names no table (a default
 * configuration, or none: *why says which). */
uint32_t mptable_floating(const uint8_t *fp, const char **why);
extern const char mptable_not_floating[];

/* The base length a configuration table's header claims, or 0 when the
 * first 44 bytes are not one ("PCMP", length at least the header's). */
uint16_t mptable_length(const uint8_t *header);

/* table: the whole base configuration table (header and entries); len:
 * its length. Fills out as madt_parse does; out->problem says what was
 * malformed (parsing stopped there). */
void mptable_parse(const uint8_t *table, size_t len, struct madt_info *out);

#endif
