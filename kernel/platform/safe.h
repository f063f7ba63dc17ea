/* Instructions that may fault, run through the exception table: a fault
 * resumes after the instruction with the vector in %rsi instead of crashing. */
#ifndef PVCHECK_SAFE_H
#define PVCHECK_SAFE_H

#include <stdbool.h>
#include <stdint.h>

#define NO_FAULT (-1)
/* The exception vectors the checks expect or hook. */
#define VECTOR_UD 6
#define VECTOR_GP 13
#define VECTOR_PF 14
/* Not a vector: the instruction never completed (platform/timer.c). */
#define SAFE_STUCK 256

/* Each entry: address of the instruction that may fault, where to resume. */
struct extable_entry {
    uint64_t fault_ip;
    uint64_t resume_ip;
};

#ifdef PVCHECK_HOST_MODEL
int rdmsr_safe(uint32_t msr, uint64_t *value);
int wrmsr_safe(uint32_t msr, uint64_t value);
int kvm_hypercall_safe(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, int64_t *ret);
#else

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

static inline bool cpu_vendor_amd(void)
{
    uint32_t ebx;
    __asm__ volatile("cpuid" : "=b"(ebx) : "a"(0), "c"(0) : "edx");
    return ebx == 0x68747541 || ebx == 0x6f677948; /* "Auth"enticAMD, "Hygo"nGenuine */
}

/* KVM hypercall (hypercalls.rst): number in rax, arguments in rbx, rcx, rdx;
 * vmmcall on AMD, vmcall on Intel. Returns NO_FAULT or the vector. */
static inline int kvm_hypercall_safe(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2,
                                     int64_t *ret)
{
    long vector = NO_FAULT;
    uint64_t rax = nr;
    if (cpu_vendor_amd())
        __asm__ volatile("1: vmmcall\n2:\n" EXTABLE_ENTRY(1b, 2b)
                         : "+a"(rax), "+S"(vector)
                         : "b"(a0), "c"(a1), "d"(a2)
                         : "memory");
    else
        __asm__ volatile("1: vmcall\n2:\n" EXTABLE_ENTRY(1b, 2b)
                         : "+a"(rax), "+S"(vector)
                         : "b"(a0), "c"(a1), "d"(a2)
                         : "memory");
    *ret = (int64_t)rax;
    return (int)vector;
}

#endif /* PVCHECK_HOST_MODEL */

/* Finds the resume address for a faulting RIP, or 0. */
uint64_t extable_lookup(uint64_t rip);

#endif
