/* The first IOAPIC the MADT (else the MP table) lists: enough to route one ISA interrupt to
 * this CPU with the trigger mode a check asks for. */
#ifndef PVCHECK_IOAPIC_H
#define PVCHECK_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

/* Routes ISA interrupt irq to vector on the APIC dest, fixed, physical,
 * active high, level- or edge-triggered, unmasked, and says on which pin.
 * Returns NULL, or why it could not (no MADT, no IOAPIC, an address outside
 * the uncached window, an override to a pin this IOAPIC lacks or to active
 * low). */
const char *ioapic_route_isa(unsigned irq, uint8_t vector, uint32_t dest, bool level,
                             unsigned *pin);

/* The same for a global system interrupt, whatever the MADT says of the
 * ISA interrupts. */
const char *ioapic_route_gsi(uint32_t gsi, uint8_t vector, uint32_t dest, bool level,
                             unsigned *pin);

/* Whether a level-triggered pin's interrupt was sent and its EOI has not
 * reached the IOAPIC (Remote IRR). */
bool ioapic_pin_remote_irr(unsigned pin);

/* Masks a pin ioapic_route_isa routed. */
void ioapic_mask_pin(unsigned pin);

#endif
