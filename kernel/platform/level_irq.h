/* A level-triggered interrupt on demand: the CMOS clock's periodic
 * interrupt (ISA IRQ 8, 1024 Hz) routed level-triggered through the IOAPIC
 * to this CPU. Its line stays up until the handler lowers it, and the
 * IOAPIC sends the next one only after the EOI reaches it. */
#ifndef PVCHECK_LEVEL_IRQ_H
#define PVCHECK_LEVEL_IRQ_H

#include <stdbool.h>
#include <stdint.h>

/* Returns NULL once interrupts are coming on vector, or why they cannot. */
const char *level_irq_start(uint8_t vector);

/* In the handler, before its EOI: the device lowers its line. */
void level_irq_lower(void);

/* Whether an interrupt was sent whose EOI has not reached the IOAPIC. */
bool level_irq_awaiting_eoi(void);

/* The device quiet and the pin masked. */
void level_irq_stop(void);

#endif
