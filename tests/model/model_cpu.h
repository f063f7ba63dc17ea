/* Stand-ins for the guest's CPU instructions when the checks are compiled
 * for the host: the hypervisor model (model.c) answers them. */
#ifndef PVCHECK_MODEL_CPU_H
#define PVCHECK_MODEL_CPU_H

#include <stdint.h>
#include <stdlib.h>

uint64_t model_rdtsc(void);
/* What one exit to the hypervisor costs the guest: nothing, or the slow
 * model's delay (model_set_exit_ns). Every stand-in below that would exit
 * on a real hypervisor pays it. */
void model_exit(void);
struct cpuid_regs model_cpuid(uint32_t leaf, uint32_t subleaf);
int model_wrmsr(uint32_t msr, uint64_t value);
int model_rdmsr(uint32_t msr, uint64_t *value);
void model_halt(void);
/* Delivers the APIC timer's and the level-triggered interrupt when due:
 * the model's asynchronous interrupts arrive at the guest's pauses. */
void model_poll_interrupts(void);

static inline struct cpuid_regs cpuid_count(uint32_t leaf, uint32_t subleaf)
{
    model_exit();
    return model_cpuid(leaf, subleaf);
}

static inline struct cpuid_regs cpuid(uint32_t leaf)
{
    return model_cpuid(leaf, 0);
}

static inline uint64_t rdtsc(void) { model_exit(); return model_rdtsc(); }
static inline uint64_t rdtsc_ordered(void) { model_exit(); return model_rdtsc(); }

/* A fault on a plain wrmsr/rdmsr would crash a guest: end the model run. */
static inline void wrmsr(uint32_t msr, uint64_t value)
{
    model_exit();
    if (model_wrmsr(msr, value) != -1)
        abort();
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint64_t v;
    model_exit();
    if (model_rdmsr(msr, &v) != -1)
        abort();
    return v;
}

static inline void outb(uint16_t port, uint8_t v) { (void)port; (void)v; model_exit(); }
static inline uint8_t inb(uint16_t port) { (void)port; model_exit(); return 0xff; }
static inline void irq_enable(void) {}
static inline void irq_disable(void) {}
static inline void cpu_relax(void) { model_poll_interrupts(); __builtin_ia32_pause(); }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline void safe_halt(void) { model_halt(); }
/* The model never injects a #PF. */
static inline uint64_t read_cr2(void) { return 0; }

#endif
