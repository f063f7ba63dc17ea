/* What the hypervisor charges for the guest's everyday operations, printed
 * at start-up so that a developer reads the sample counts and durations of
 * the checks against it. */
#ifndef PVCHECK_EXIT_COSTS_H
#define PVCHECK_EXIT_COSTS_H

#include <stdint.h>

struct exit_costs {
    uint64_t loop_iteration; /* a two-instruction register loop, per iteration */
    uint64_t memory_read;    /* a loop reading memory, per iteration */
    uint64_t cpuid;
    uint64_t rdtsc;
    uint64_t rdmsr_pv;       /* MSR_KVM_SYSTEM_TIME_NEW; 0 without KVM's clock */
    uint64_t port_io;        /* an OUT to port 0x80 */
    uint64_t irq_resume;     /* a tick's handler entry to the code after HLT */
};

/* Measures each within a small count and a twentieth of budget_ms, and
 * prints them as '# exit_costs' lines. The sampling loops are bounded by
 * time, not by these figures: the figures explain their sample counts. */
void exit_costs_report(void);

/* Cycles per iteration above which, for both loops, instructions are not
 * running natively: hardware runs each in about one cycle. */
#define EXIT_COSTS_EMULATED_LOOP 100u

#endif
