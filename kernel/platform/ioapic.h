/* The first IOAPIC the MADT lists: enough to route one ISA interrupt to
 * this CPU with the trigger mode a check asks for. */
#ifndef PVCHECK_IOAPIC_H
#define PVCHECK_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

/* Routes ISA interrupt irq to vector on the APIC dest, fixed, physical,
 * active high, level- or edge-triggered, unmasked. Returns NULL, or why it
 * could not (no MADT, no IOAPIC, an address outside the uncached window,
 * an override to a pin this IOAPIC lacks or to active low). */
const char *ioapic_route_isa(unsigned irq, uint8_t vector, uint32_t dest, bool level);

/* Masks the pin ioapic_route_isa last routed. */
void ioapic_mask_routed(void);

#endif
