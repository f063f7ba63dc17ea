#include "checks/shared/exit_costs.h"

#include "iface/kvm.h"
#include "lib/options.h"
#include "lib/report.h"
#include "platform/budget.h"
#include "platform/cpu.h"
#include "platform/safe.h"
#include "platform/timer.h"

#define LOOP_BLOCKS 100u
#define LOOP_PER_BLOCK 1000u
#define OP_COUNT 200u

static volatile uint64_t memory_word;

/* TSC cycles per op over at most blocks * per_block ops and ms, timed in
 * blocks so that the budget's own check is not what is measured. */
#define TIME_OPS(blocks, per_block, ms, op)                              \
    ({                                                                   \
        struct budget b_;                                                \
        budget_start(&b_, (blocks), (ms));                               \
        uint64_t t0_ = rdtsc_ordered();                                  \
        while (budget_next(&b_))                                         \
            for (unsigned i_ = 0; i_ < (per_block); i_++) {              \
                op;                                                      \
            }                                                            \
        uint64_t t1_ = rdtsc_ordered();                                  \
        b_.taken ? (t1_ - t0_) / (b_.taken * (per_block)) : 0;           \
    })

/* The cheapest of three runs: a vCPU preempted during one run (Xen with
 * two vCPUs on a busy host showed a register loop 25 times its usual
 * cost) does not make the loop look emulated. */
#define MIN_OF_3(expr)                                                   \
    ({                                                                   \
        uint64_t m_ = ~0ull;                                             \
        for (unsigned r_ = 0; r_ < 3; r_++) {                            \
            uint64_t v_ = (expr);                                        \
            if (v_ < m_)                                                 \
                m_ = v_;                                                 \
        }                                                                \
        m_;                                                              \
    })

static uint64_t irq_resume(void)
{
    volatile uint64_t stamp = 0;
    uint64_t best = ~0ull;
    for (unsigned round = 0; round < 5; round++) {
        irq_disable();
        timer_stamp_next_tick(&stamp);
        while (!stamp) {
            safe_halt();
            irq_disable();
        }
        uint64_t back = rdtsc_ordered();
        irq_enable();
        if (back - stamp < best)
            best = back - stamp;
    }
    return best;
}

void exit_costs_report(void)
{
    unsigned ms = pvcheck_options.budget_ms / 20 + 1;
    struct exit_costs costs = { 0 }, *e = &costs;
    /* A register-only loop: dec and jnz, nothing the hypervisor sees. */
    e->loop_iteration = MIN_OF_3(TIME_OPS(LOOP_BLOCKS, 1, ms / 3 + 1, ({
        uint64_t n = LOOP_PER_BLOCK;
        __asm__ volatile("1: dec %0; jnz 1b" : "+r"(n));
    })) / LOOP_PER_BLOCK);
    e->memory_read = MIN_OF_3(TIME_OPS(LOOP_BLOCKS, LOOP_PER_BLOCK, ms / 3 + 1, (void)memory_word));
    e->cpuid = TIME_OPS(OP_COUNT, 1, ms, (void)cpuid(0));
    e->rdtsc = TIME_OPS(OP_COUNT, 1, ms, (void)rdtsc());
    uint64_t v;
    if (kvm_has(KVM_FEATURE_CLOCKSOURCE2) && rdmsr_safe(MSR_KVM_SYSTEM_TIME_NEW, &v) == NO_FAULT)
        e->rdmsr_pv = TIME_OPS(OP_COUNT, 1, ms, (void)rdmsr_safe(MSR_KVM_SYSTEM_TIME_NEW, &v));
    e->port_io = TIME_OPS(OP_COUNT, 1, ms, outb(0x80, 0));
    e->irq_resume = irq_resume();
    report_line(0, "# exit_costs tsc_cycles: register_loop_iteration=%llu memory_read=%llu "
                   "cpuid=%llu rdtsc=%llu rdmsr_kvm_system_time=%llu out_port_0x80=%llu "
                   "irq_to_after_hlt=%llu",
                (unsigned long long)e->loop_iteration, (unsigned long long)e->memory_read,
                (unsigned long long)e->cpuid, (unsigned long long)e->rdtsc,
                (unsigned long long)e->rdmsr_pv, (unsigned long long)e->port_io,
                (unsigned long long)e->irq_resume);
    if (e->loop_iteration > EXIT_COSTS_EMULATED_LOOP && e->memory_read > EXIT_COSTS_EMULATED_LOOP) {
        /* Two lines: one would pass the 199 characters of Xen's console. */
        report_line(0, "# exit_costs: a register loop iteration costs %llu TSC cycles and a memory "
                       "read %llu (hardware: about 1):",
                    (unsigned long long)e->loop_iteration, (unsigned long long)e->memory_read);
        report_line(0, "# exit_costs: instructions appear to be emulated one by one, so every "
                       "sampling loop takes fewer samples within its budget_ms=%u",
                    pvcheck_options.budget_ms);
    }
}
