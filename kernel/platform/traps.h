/* IDT, exception reporting, the exception table and interrupt handlers. */
#ifndef PVCHECK_TRAPS_H
#define PVCHECK_TRAPS_H

#include <stdbool.h>
#include <stdint.h>

/* Layout pushed by isr.S, lowest address first. */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*irq_handler)(struct trap_frame *f);

void traps_init(void);
void traps_load_idt(void);
void traps_set_handler(unsigned vector, irq_handler h);
irq_handler traps_handler(unsigned vector);

/* A check's hook for an exception (vector < 32): returns true if it handled
 * it (the instruction is retried), false to let it be reported. NULL
 * removes it. */
typedef bool (*fault_hook)(struct trap_frame *f);
void traps_set_fault_hook(unsigned vector, fault_hook h);

#endif
