/* Suite pv_msrs, PV EOI with a level-triggered interrupt: the CMOS clock's
 * periodic interrupt through the IOAPIC. The IOAPIC sends the pin's next
 * interrupt only once the EOI reaches it, so a host that sets the flag for
 * this vector must finish that EOI when the guest clears the flag; KVM
 * never sets it for a vector the IOAPIC needs the EOI of (lapic.c). The
 * guest handles it as msr.rst allows, clearing a set flag instead of the
 * EOI, so a host that sets it and drops the EOI stops the interrupts. */
#include "checks/pv_msrs_checks.h"
#include "checks/pvarea.h"
#include "checks/pvclock_checks.h"
#include "iface/kvm.h"
#include "lib/options.h"
#include "lib/report.h"
#include "platform/apic.h"
#include "platform/budget.h"
#include "platform/cpu.h"
#include "platform/level_irq.h"
#include "platform/safe.h"
#include "platform/smp.h"
#include "platform/timer.h"
#include "platform/traps.h"

#define LEVEL_VECTOR 0xe9
#define LEVEL_ROUNDS 64u
#define WAIT_MS 100u
#define WORD_OFFSET 128u

static volatile uint32_t *eoi_word;
static volatile bool pv_on;
static volatile unsigned delivered, flagged, not_level, flag_while_off;

static void on_level(struct trap_frame *f)
{
    (void)f;
    delivered = delivered + 1;
    if (!apic_vector_level(LEVEL_VECTOR))
        not_level = not_level + 1;
    level_irq_lower();
    if (pv_on) {
        uint8_t was;
        __asm__ volatile("btrl $0, %0; setc %1" : "+m"(*eoi_word), "=q"(was) : : "memory");
        if (was) {
            flagged = flagged + 1;
            return; /* clearing the flag was the EOI */
        }
    } else if (*eoi_word & 1) {
        flag_while_off = flag_while_off + 1;
    }
    apic_eoi();
}

/* Waits up to WAIT_MS for delivered to move past before: by the TSC where
 * its rate is known, since a vector left in service may hold back an APIC
 * tick of lower priority. */
static bool arrived_after(unsigned before, uint64_t tsc_khz)
{
    uint64_t end_tick = timer_ticks() + (uint64_t)TIMER_HZ * WAIT_MS / 1000 + 1;
    uint64_t end_tsc = rdtsc() + tsc_khz * WAIT_MS;
    while (delivered == before) {
        if (tsc_khz ? rdtsc() > end_tsc : timer_ticks() >= end_tick)
            return false;
        cpu_relax();
    }
    return true;
}

/* Up to LEVEL_ROUNDS waits for the next interrupt, within budget_ms:
 * *awaited of them, of which the return value saw one. */
static unsigned await_rounds(unsigned *awaited, uint64_t tsc_khz)
{
    struct budget b;
    budget_start(&b, LEVEL_ROUNDS, pvcheck_options.budget_ms);
    unsigned arrived = 0;
    while (budget_next(&b) && arrived_after(delivered, tsc_khz))
        arrived++;
    *awaited = (unsigned)b.taken;
    return arrived;
}

enum verdict check_pv_eoi_level(struct check_ctx *c)
{
    const char *why = kvm_missing(KVM_FEATURE_PV_EOI, "KVM_FEATURE_PV_EOI");
    if (why)
        return skip(c, "%s", why);
    smp_init(); /* the boot vCPU's APIC on */
    eoi_word = pv_area_prepare(SLOT_PV_EOI, WORD_OFFSET, sizeof(*eoi_word));
    traps_set_handler(LEVEL_VECTOR, on_level);
    delivered = flagged = not_level = flag_while_off = 0;
    pv_on = true;
    if (!pv_expect_accepted(c, MSR_KVM_PV_EOI_EN, "MSR_KVM_PV_EOI_EN",
                            pv_gpa(eoi_word) | KVM_PV_EOI_ENABLED))
        return pass(c);
    why = level_irq_start(LEVEL_VECTOR);
    if (why) {
        wrmsr_safe(MSR_KVM_PV_EOI_EN, 0);
        return skip(c, "no level-triggered interrupt to test with: %s", why);
    }
    uint64_t khz = pvclock_tsc_khz();
    unsigned awaited_pv, awaited_plain;
    unsigned with_pv = await_rounds(&awaited_pv, khz);
    unsigned got_pv = delivered, skipped = flagged;
    wrmsr_safe(MSR_KVM_PV_EOI_EN, 0);
    pv_on = false;
    unsigned plain = await_rounds(&awaited_plain, khz);
    level_irq_stop();
    figure(c, "vector=0x%x source=cmos_periodic_1024hz pv_eoi_on: waits=%u arrived=%u "
              "interrupts=%u flag_set=%u pv_eoi_off: waits=%u arrived=%u flag_set=%u "
              "not_level_in_tmr=%u (up to %u waits of %u ms each, budget_ms=%u)",
           LEVEL_VECTOR, awaited_pv, with_pv, got_pv, skipped, awaited_plain, plain,
           flag_while_off, not_level, LEVEL_ROUNDS, WAIT_MS, pvcheck_options.budget_ms);
    if (delivered == 0)
        return fail(c, "no interrupt came in %u ms from the CMOS clock's periodic interrupt "
                       "routed level-triggered through the IOAPIC", WAIT_MS);
    expect(c, not_level == 0, "the IOAPIC pin is programmed level-triggered, yet at %u of %u "
           "interrupts the APIC's trigger-mode register did not hold the vector as level",
           not_level, delivered);
    expect(c, with_pv == awaited_pv,
           "with PV EOI on, the level-triggered interrupts stopped after %u, %u of whose EOIs "
           "the guest signalled by clearing the flag the host set (msr.rst: clearing the bit "
           "is sufficient to signal EOI; the IOAPIC needs that EOI to send the next)",
           got_pv, skipped);
    expect(c, plain == awaited_plain, "with PV EOI off, the level-triggered interrupts stopped "
           "after %u waits", plain);
    expect(c, flag_while_off == 0, "the flag was set at %u interrupts after MSR_KVM_EOI_EN was "
           "cleared", flag_while_off);
    if (skipped && with_pv == awaited_pv)
        figure(c, "note: the host set the flag for a level-triggered interrupt and finished its "
                  "EOI when the guest cleared it");
    pv_expect_intact(c, SLOT_PV_EOI, WORD_OFFSET, sizeof(*eoi_word));
    return pass(c);
}
