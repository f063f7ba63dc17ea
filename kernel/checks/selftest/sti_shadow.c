/* selftest=sti_shadow: whether the machine under pvcheck honours the
 * interrupt shadows after STI and after MOV SS. A nested test rig whose
 * emulator or hypervisor drops a shadow across a VM exit lets an interrupt in
 * between MOV SS and the stack pointer's load, which corrupts a real-mode
 * firmware's memory; this counts how often it would. */
#include "sti_shadow.h"
#include "sti_shadow_tally.h"

#include "lib/options.h"
#include "platform/cpu.h"
#include "platform/timer.h"
#include "platform/traps.h"

/* cli; sti; then the one instruction the shadow covers. An interrupt whose
 * frame points at sti_shadow_covered arrived inside the shadow. */
void sti_shadow_spin(uint64_t rounds);
extern const char sti_shadow_covered[];
/* The same for MOV SS, interrupts enabled throughout: SS reloaded with
 * itself, then the instruction its shadow covers (a firmware's stack switch
 * loads SS, then SP, in that shadow). */
void mov_ss_shadow_spin(uint64_t rounds);
extern const char mov_ss_shadow_covered[];
__asm__(".text\n"
        ".globl sti_shadow_spin\n"
        "sti_shadow_spin:\n"
        "1: cli\n"
        "   sti\n"
        ".globl sti_shadow_covered\n"
        "sti_shadow_covered:\n"
        "   nop\n"
        "   dec %rdi\n"
        "   jnz 1b\n"
        "   ret\n"
        ".globl mov_ss_shadow_spin\n"
        "mov_ss_shadow_spin:\n"
        "   mov %ss, %eax\n"
        "1: mov %eax, %ss\n"
        ".globl mov_ss_shadow_covered\n"
        "mov_ss_shadow_covered:\n"
        "   nop\n"
        "   dec %rdi\n"
        "   jnz 1b\n"
        "   ret\n");

#define ROUNDS_PER_CALL 100000u
#define MAX_CALLS 2000u /* 2e8 rounds: the bound when no tick comes */
#define WANTED_TICKS (2u * TIMER_HZ)

static irq_handler tick_handler;
static volatile struct sti_shadow_tally tally;

static void observe_tick(struct trap_frame *f)
{
    sti_shadow_count((struct sti_shadow_tally *)&tally, f->rip);
    tick_handler(f);
}

/* 200 ticks (or MAX_CALLS calls) of SPIN, counting those on COVERED; only
 * with selftest=sti_shadow. */
static enum verdict run_shadow_loop(struct check_ctx *c, void (*spin)(uint64_t),
                                    const char *covered, const char *what)
{
    if (pvcheck_options.selftest != SELFTEST_STI_SHADOW)
        return skip(c, "not asked");
    tick_handler = traps_handler(TIMER_VECTOR);
    if (!tick_handler || !timer_ticking())
        return skip(c, "no tick");
    tally = (struct sti_shadow_tally){ .covered_rip = (uint64_t)covered };
    irq_disable();
    traps_set_handler(TIMER_VECTOR, observe_tick);
    irq_enable();
    unsigned calls = 0;
    while (calls < MAX_CALLS && tally.ticks < WANTED_TICKS) {
        spin(ROUNDS_PER_CALL);
        calls++;
    }
    irq_disable();
    traps_set_handler(TIMER_VECTOR, tick_handler);
    irq_enable();
    figure(c, "rounds=%u ticks=%u inside_shadow=%u", calls * ROUNDS_PER_CALL,
           (unsigned)tally.ticks, (unsigned)tally.inside);
    switch (sti_shadow_outcome((const struct sti_shadow_tally *)&tally)) {
    case STI_SHADOW_NO_TICK:
        return skip(c, "no tick");
    case STI_SHADOW_BROKEN:
        return fail(c, "ticks taken inside %s's shadow", what);
    case STI_SHADOW_KEPT:
        break;
    }
    return pass(c);
}

enum verdict check_sti_shadow(struct check_ctx *c)
{
    return run_shadow_loop(c, sti_shadow_spin, sti_shadow_covered, "STI");
}

enum verdict check_mov_ss_shadow(struct check_ctx *c)
{
    return run_shadow_loop(c, mov_ss_shadow_spin, mov_ss_shadow_covered, "MOV SS");
}
