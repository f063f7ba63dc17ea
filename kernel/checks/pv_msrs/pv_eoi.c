/* Suite pv_msrs, PV EOI with real interrupts, each handled the way msr.rst
 * allows: clearing the flag the host set (test-and-clear in one
 * instruction) instead of writing the EOI.
 * - pv_eoi_interrupts: the APIC timer, periodic (self-IPIs where the tick
 *   uses it). A host that does not take the cleared flag as the EOI leaves
 *   the vector in service, and the next interrupt on it never comes.
 * - pv_eoi_level: the CMOS clock's periodic interrupt routed level-triggered
 *   through the IOAPIC, which sends the pin's next interrupt only once the
 *   EOI reaches it. A host that sets the flag for it must finish that EOI
 *   when the flag is cleared; KVM never sets it for a vector the IOAPIC
 *   needs the EOI of (lapic.c). */
#include "checks/pv_msrs/pv_msrs_checks.h"
#include "checks/shared/pvclock_checks.h"
#include "iface/kvm.h"
#include "lib/options.h"
#include "lib/report.h"
#include "live/pvarea.h"
#include "platform/apic.h"
#include "platform/budget.h"
#include "platform/cpu.h"
#include "platform/level_irq.h"
#include "platform/safe.h"
#include "platform/smp.h"
#include "platform/timer.h"
#include "platform/traps.h"

#define EOI_VECTOR 0xe8
#define LEVEL_VECTOR 0xe9
#define EOI_ROUNDS 200u
#define TIMER_COUNT 20000u /* at KVM's 1 GHz APIC bus, divided by 16: 320 us */
#define LEVEL_ROUNDS 64u
#define WAIT_MS 100u
#define WORD_OFFSET 64u

static volatile uint32_t *eoi_word;
static volatile bool pv_on;
static volatile unsigned delivered, flagged, flag_while_off, not_level;

/* The end of an interrupt: the flag cleared if the host set it (that was
 * the EOI), else the EOI written. */
static void end_interrupt(void)
{
    delivered = delivered + 1;
    if (pv_on) {
        uint8_t was;
        __asm__ volatile("btrl $0, %0; setc %1" : "+m"(*eoi_word), "=q"(was) : : "memory");
        if (was) {
            flagged = flagged + 1;
            return;
        }
    } else if (*eoi_word & 1) {
        flag_while_off = flag_while_off + 1;
    }
    apic_eoi();
}

static void on_edge(struct trap_frame *f)
{
    (void)f;
    end_interrupt();
}

static void on_level(struct trap_frame *f)
{
    (void)f;
    if (!apic_vector_level(LEVEL_VECTOR))
        not_level = not_level + 1;
    level_irq_lower();
    end_interrupt();
}

/* Whether an interrupt came within WAIT_MS, timed by the TSC where its
 * rate (khz) is known: a vector left in service can hold back an APIC tick. */
static bool arrived_after(unsigned before, uint64_t khz)
{
    uint64_t end_tick = timer_ticks() + (uint64_t)TIMER_HZ * WAIT_MS / 1000 + 1;
    uint64_t end_tsc = rdtsc() + khz * WAIT_MS;
    while (delivered == before) {
        if (khz ? rdtsc() > end_tsc : timer_ticks() >= end_tick)
            return false;
        cpu_relax();
    }
    return true;
}

/* Up to rounds waits for the next interrupt within budget_ms, each after
 * a self-IPI to vector if it is non-zero: *taken of them, of which the
 * return value saw one. */
static unsigned run_rounds(unsigned rounds, uint8_t vector, unsigned *taken)
{
    struct budget b;
    budget_start(&b, rounds, pvcheck_options.budget_ms);
    uint64_t khz = pvclock_tsc_khz(); /* CPUID: once, not per round */
    unsigned arrived = 0;
    while (budget_next(&b)) {
        unsigned before = delivered;
        if (vector && !apic_send_fixed(apic_id(), vector))
            break;
        if (!arrived_after(before, khz))
            break;
        arrived++;
    }
    *taken = (unsigned)b.taken;
    return arrived;
}

/* PV EOI on with the word at offset, h on vector: whether the MSR took it
 * (if not, the check has already failed). */
static bool pv_eoi_start(struct check_ctx *c, unsigned vector, irq_handler h, unsigned offset)
{
    smp_init(); /* the boot vCPU's APIC on */
    eoi_word = pv_area_prepare(SLOT_PV_EOI, offset, sizeof(*eoi_word));
    traps_set_handler(vector, h);
    delivered = flagged = flag_while_off = not_level = 0;
    pv_on = true;
    return pv_expect_accepted(c, MSR_KVM_PV_EOI_EN, "MSR_KVM_PV_EOI_EN",
                              pv_gpa(eoi_word) | KVM_PV_EOI_ENABLED);
}

static void pv_eoi_stop(void)
{
    wrmsr_safe(MSR_KVM_PV_EOI_EN, 0);
    pv_on = false;
}

enum verdict check_pv_eoi_interrupts(struct check_ctx *c)
{
    const char *why = kvm_missing(KVM_FEATURE_PV_EOI, "KVM_FEATURE_PV_EOI");
    if (why)
        return skip(c, "%s", why);
    if (!pv_eoi_start(c, EOI_VECTOR, on_edge, WORD_OFFSET))
        return pass(c);
    bool timer = timer_source()[0] == 'p'; /* the tick is the PIT's */
    if (timer)
        apic_timer_periodic(EOI_VECTOR, TIMER_COUNT);
    uint8_t ipi = timer ? 0 : EOI_VECTOR;
    unsigned sent_pv, sent_plain;
    unsigned with_pv = run_rounds(EOI_ROUNDS, ipi, &sent_pv);
    unsigned skipped = flagged;
    pv_eoi_stop();
    unsigned plain = run_rounds(EOI_ROUNDS, ipi, &sent_plain);
    if (timer)
        apic_timer_free_run();
    figure(c, "%s vector=0x%x pv_eoi_on: rounds=%u arrived=%u eoi_skipped=%u pv_eoi_off: "
              "rounds=%u arrived=%u flag_set=%u (up to %u each, budget_ms=%u)",
           timer ? "apic_timer" : "self_ipi", EOI_VECTOR, sent_pv, with_pv, skipped, sent_plain,
           plain, flag_while_off, EOI_ROUNDS, pvcheck_options.budget_ms);
    expect(c, with_pv == sent_pv,
           "with PV EOI on, interrupt %u never came after %u EOIs by clearing the flag",
           with_pv + 1, skipped);
    expect(c, plain == sent_plain, "with PV EOI off, interrupt %u never came", plain + 1);
    if (with_pv < 2 || plain < 2)
        skip(c, "fewer than 2 interrupts in budget_ms=%u: too slow to judge",
             pvcheck_options.budget_ms);
    expect(c, flag_while_off == 0, "flag set %u times with PV EOI off", flag_while_off);
    if (!skipped)
        figure(c, "note: flag never set: allowed (msr.rst: writing the EOI is always safe)");
    pv_expect_intact(c, SLOT_PV_EOI, WORD_OFFSET, sizeof(*eoi_word));
    return pass(c);
}

enum verdict check_pv_eoi_level(struct check_ctx *c)
{
    const char *why = kvm_missing(KVM_FEATURE_PV_EOI, "KVM_FEATURE_PV_EOI");
    if (why)
        return skip(c, "%s", why);
    if (!pv_eoi_start(c, LEVEL_VECTOR, on_level, WORD_OFFSET))
        return pass(c);
    why = level_irq_start(LEVEL_VECTOR);
    if (why) {
        pv_eoi_stop();
        return skip(c, "no level-triggered interrupt: %s", why);
    }
    unsigned waits_pv, waits_plain;
    unsigned with_pv = run_rounds(LEVEL_ROUNDS, 0, &waits_pv);
    unsigned got_pv = delivered, skipped = flagged;
    pv_eoi_stop();
    unsigned plain = run_rounds(LEVEL_ROUNDS, 0, &waits_plain);
    level_irq_stop();
    figure(c, "vector=0x%x cmos_1024hz on: waits=%u arrived=%u irqs=%u flag_set=%u "
              "off: waits=%u arrived=%u flag_set=%u tmr_edge=%u", LEVEL_VECTOR, waits_pv,
           with_pv, got_pv, skipped, waits_plain, plain, flag_while_off, not_level);
    if (delivered == 0)
        return fail(c, "no interrupt came");
    expect(c, not_level == 0, "TMR said edge at %u interrupts", not_level);
    expect(c, with_pv == waits_pv, "with PV EOI on, interrupts stopped after %u (%u EOIs by "
           "clearing the flag)", got_pv, skipped);
    expect(c, plain == waits_plain, "with PV EOI off, interrupts stopped");
    expect(c, flag_while_off == 0, "flag set %u times with PV EOI off", flag_while_off);
    pv_expect_intact(c, SLOT_PV_EOI, WORD_OFFSET, sizeof(*eoi_word));
    return pass(c);
}
