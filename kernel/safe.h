/* Instructions that may fault, run through the exception table: a fault
 * resumes after the instruction with the vector in %rsi instead of crashing. */
#ifndef PVCHECK_SAFE_H
#define PVCHECK_SAFE_H

#include <stdint.h>

#define NO_FAULT (-1)

/* Each entry: address of the instruction that may fault, where to resume. */
struct extable_entry {
    uint64_t fault_ip;
    uint64_t resume_ip;
};

#define EXTABLE_ENTRY(from, to) \
    ".pushsection extable, \"a\"\n .balign 8\n .quad " #from ", " #to "\n .popsection\n"

/* Returns NO_FAULT or the vector taken (13 for #GP). */
static inline int rdmsr_safe(uint32_t msr, uint64_t *value)
{
    uint32_t lo = 0, hi = 0;
    long vector = NO_FAULT;
    __asm__ volatile("1: rdmsr\n2:\n" EXTABLE_ENTRY(1b, 2b)
                     : "+a"(lo), "+d"(hi), "+S"(vector)
                     : "c"(msr)
                     : "memory");
    *value = ((uint64_t)hi << 32) | lo;
    return (int)vector;
}

static inline int wrmsr_safe(uint32_t msr, uint64_t value)
{
    long vector = NO_FAULT;
    __asm__ volatile("1: wrmsr\n2:\n" EXTABLE_ENTRY(1b, 2b)
                     : "+S"(vector)
                     : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
                     : "memory");
    return (int)vector;
}

/* Finds the resume address for a faulting RIP, or 0. */
uint64_t extable_lookup(uint64_t rip);

#endif
