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
/* Beyond any time slice a loaded host gives a vCPU's sibling (measured:
 * nested 4-vCPU guests under load went over 100 ms without a tick). */
#define LATE_MS 2000u
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

/* Whether an interrupt came within ms, timed by the TSC where its rate
 * (khz) is known: a vector left in service can hold back an APIC tick. */
static bool arrived_within(unsigned before, uint64_t khz, unsigned ms)
{
    uint64_t end_tick = timer_ticks() + (uint64_t)TIMER_HZ * ms / 1000 + 1;
    uint64_t end_tsc = rdtsc() + khz * ms;
    while (delivered == before) {
        if (khz ? rdtsc() > end_tsc : timer_ticks() >= end_tick)
            return false;
        cpu_relax();
    }
    return true;
}

/* How a run of rounds went. A round whose interrupt is not there after
 * WAIT_MS is told apart by the APIC: its vector still in service means the
 * last EOI was not taken (stuck); otherwise the vCPU was not run or the
 * interrupt not raised yet, and it gets LATE_MS more (late), after which
 * it is given up (lost). */
struct rounds {
    unsigned taken, arrived, late;
    bool stuck, lost, lost_requested;
};

/* Whether the awaited vector's last EOI has not been taken: still in
 * service, or for a level interrupt, not yet at the IOAPIC. */
static bool eoi_outstanding(uint8_t awaited, bool level)
{
    return apic_vector_in_service(awaited) || (level && level_irq_awaiting_eoi());
}

static void run_rounds(unsigned rounds, uint8_t vector, uint8_t awaited, bool level,
                       struct rounds *r)
{
    struct budget b;
    budget_start(&b, rounds, pvcheck_options.budget_ms);
    uint64_t khz = pvclock_tsc_khz(); /* CPUID: once, not per round */
    *r = (struct rounds){ 0 };
    while (budget_next(&b)) {
        unsigned before = delivered;
        if (vector && !apic_send_fixed(apic_id(), vector))
            break;
        if (!arrived_within(before, khz, WAIT_MS)) {
            /* The ISR read is an exit: the host has seen the cleared flag. */
            if (eoi_outstanding(awaited, level) && delivered == before) {
                r->stuck = true;
                break;
            }
            r->late++;
            if (!arrived_within(before, khz, LATE_MS)) {
                r->lost = true;
                r->lost_requested = apic_vector_requested(awaited);
                break;
            }
        }
        r->arrived++;
    }
    r->taken = (unsigned)b.taken;
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

/* The verdict on one phase's interrupts (phase: "on" or "off"), judged
 * once both ran: a lost interrupt counts against PV EOI only when the
 * control phase (off) got every one. */
static void judge_phase(struct check_ctx *c, const char *phase, const char *other_phase,
                        const struct rounds *r, const struct rounds *other, uint8_t vector)
{
    expect(c, !r->stuck, "with PV EOI %s, vector 0x%x still in service (ISR, or the IOAPIC's "
           "Remote IRR) %u ms after interrupt %u was ended (%u by clearing the flag): that EOI "
           "was not taken", phase,
           vector, WAIT_MS, r->arrived, flagged);
    if (r->lost && !other->lost)
        fail(c, "with PV EOI %s, interrupt %u never came in %u ms, vector 0x%x not in service, "
             "%srequested (IRR), while with it %s every one came", phase, r->arrived + 1,
             WAIT_MS + LATE_MS, vector, r->lost_requested ? "" : "not ", other_phase);
}

static void judge_rounds(struct check_ctx *c, const struct rounds *on, const struct rounds *off,
                         uint8_t vector)
{
    judge_phase(c, "on", "off", on, off, vector);
    judge_phase(c, "off", "on", off, on, vector);
    if (on->lost && off->lost)
        skip(c, "no interrupt for %u ms with PV EOI on or off, vector 0x%x not in service: "
             "the vCPU too starved to judge", WAIT_MS + LATE_MS, vector);
    else if (on->arrived < 2 || off->arrived < 2)
        skip(c, "fewer than 2 interrupts in budget_ms=%u: too slow to judge",
             pvcheck_options.budget_ms);
    expect(c, flag_while_off == 0, "flag set %u times with PV EOI off", flag_while_off);
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
    struct rounds on, off;
    run_rounds(EOI_ROUNDS, ipi, EOI_VECTOR, false, &on);
    unsigned skipped = flagged;
    pv_eoi_stop();
    run_rounds(EOI_ROUNDS, ipi, EOI_VECTOR, false, &off);
    if (timer)
        apic_timer_free_run();
    figure(c, "%s vector=0x%x pv_eoi_on: rounds=%u arrived=%u late=%u eoi_skipped=%u "
              "pv_eoi_off: rounds=%u arrived=%u late=%u flag_set=%u (up to %u each, late "
              "after %u ms, budget_ms=%u)", timer ? "apic_timer" : "self_ipi", EOI_VECTOR,
           on.taken, on.arrived, on.late, skipped, off.taken, off.arrived, off.late,
           flag_while_off, EOI_ROUNDS, WAIT_MS, pvcheck_options.budget_ms);
    judge_rounds(c, &on, &off, EOI_VECTOR);
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
    struct rounds on, off;
    run_rounds(LEVEL_ROUNDS, 0, LEVEL_VECTOR, true, &on);
    unsigned got_pv = delivered, skipped = flagged;
    pv_eoi_stop();
    run_rounds(LEVEL_ROUNDS, 0, LEVEL_VECTOR, true, &off);
    level_irq_stop();
    figure(c, "vector=0x%x cmos_1024hz on: waits=%u arrived=%u late=%u irqs=%u flag_set=%u "
              "off: waits=%u arrived=%u late=%u flag_set=%u tmr_edge=%u", LEVEL_VECTOR,
           on.taken, on.arrived, on.late, got_pv, skipped, off.taken, off.arrived, off.late,
           flag_while_off, not_level);
    if (delivered == 0)
        return fail(c, "no interrupt came");
    expect(c, not_level == 0, "TMR said edge at %u interrupts", not_level);
    judge_rounds(c, &on, &off, LEVEL_VECTOR);
    pv_expect_intact(c, SLOT_PV_EOI, WORD_OFFSET, sizeof(*eoi_word));
    return pass(c);
}
