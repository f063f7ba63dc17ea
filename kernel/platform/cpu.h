/* Thin wrappers over the x86 instructions the guest uses. */
#ifndef PVCHECK_CPU_H
#define PVCHECK_CPU_H

#include <stdint.h>

struct cpuid_regs {
    uint32_t eax, ebx, ecx, edx;
};

#ifdef PVCHECK_HOST_MODEL
/* The host build of the checks (tests/model): a hypervisor model stands in
 * for these instructions. */
#include "model_cpu.h"
#else

static inline struct cpuid_regs cpuid_count(uint32_t leaf, uint32_t subleaf)
{
    struct cpuid_regs r;
    __asm__ volatile("cpuid"
                     : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                     : "a"(leaf), "c"(subleaf));
    return r;
}

static inline struct cpuid_regs cpuid(uint32_t leaf)
{
    return cpuid_count(leaf, 0);
}

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* lfence orders rdtsc after earlier loads (Intel and AMD with the
 * LFENCE-serialising setting every current hypervisor exposes). */
static inline uint64_t rdtsc_ordered(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static inline uint64_t read_cr2(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

static inline void irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
/* Interrupts off, returning RFLAGS to restore: a section the tick must not
 * enter on this CPU. */
static inline uint64_t irq_save(void)
{
    uint64_t flags;
    __asm__ volatile("pushfq; popq %0; cli" : "=r"(flags)::"memory");
    return flags;
}
static inline void irq_restore(uint64_t flags)
{
    if (flags & (1u << 9)) /* IF */
        __asm__ volatile("sti" ::: "memory");
}
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }

/* Gives a host time to act on a write to a device that stops the machine
 * before the guest tries the next way: STOP_SETTLE_PAUSES pauses (tens of
 * milliseconds natively), bounded by STOP_SETTLE_CYCLES of the TSC (a
 * second or less) where each PAUSE exits to the hypervisor: a Xen 4.20 PVH
 * guest nested in TCG, beside a busy dom0, spent over five minutes in the
 * pauses alone. */
#define STOP_SETTLE_PAUSES 1000000u
#define STOP_SETTLE_CYCLES (1ull << 30)
#define STOP_SETTLE_TSC_EVERY 1024u
static inline void stop_settle(void)
{
    uint64_t start = rdtsc();
    for (volatile unsigned i = 1; i <= STOP_SETTLE_PAUSES; i++) {
        cpu_relax();
        if (i % STOP_SETTLE_TSC_EVERY == 0 && rdtsc() - start > STOP_SETTLE_CYCLES)
            return;
    }
}
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }

/* sti's one-instruction shadow makes "sti; hlt" wait for the next interrupt
 * without losing one that arrives in between. */
static inline void safe_halt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }

static inline __attribute__((noreturn)) void halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

#endif /* PVCHECK_HOST_MODEL */

#endif
