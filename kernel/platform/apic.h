/* The local APIC, in x2APIC mode when the CPU offers it, else xAPIC MMIO:
 * enough to start processors and wake them with an IPI. */
#ifndef PVCHECK_APIC_H
#define PVCHECK_APIC_H

#include <stdbool.h>
#include <stdint.h>

#define APIC_WAKE_VECTOR 0xf0
#define APIC_SPURIOUS_VECTOR 0xff

/* Enables this CPU's APIC (x2APIC when available); call on every CPU. The
 * boot CPU keeps receiving the 8259's interrupts through LINT0. */
void apic_enable(bool boot_cpu);
bool apic_x2apic(void);
uint32_t apic_id(void);
void apic_eoi(void);

/* Whether the APIC's trigger-mode register holds vector as level-triggered
 * (set when a level-triggered interrupt is accepted, until its EOI). */
bool apic_vector_level(uint8_t vector);

/* Whether vector is in service (ISR: accepted, its EOI not yet taken) and
 * whether it is requested (IRR: pending delivery). */
bool apic_vector_in_service(uint8_t vector);
bool apic_vector_requested(uint8_t vector);

/* The APIC timer, divided by 16: counting down from 2^32-1 with no
 * interrupt (to calibrate it), or interrupting periodically. */
void apic_timer_free_run(void);
uint32_t apic_timer_current(void);
void apic_timer_periodic(uint8_t vector, uint32_t count);

/* Returns false if the IPI was not accepted within a bounded wait. */
bool apic_send_init(uint32_t dest);
bool apic_send_startup(uint32_t dest, uint8_t page);
bool apic_send_fixed(uint32_t dest, uint8_t vector);

#endif
