/* Suite pv_msrs, PV EOI with real interrupts: self-IPIs on one vector,
 * each handled the way msr.rst allows, by clearing the flag the host set
 * (test-and-clear in one instruction) instead of writing the EOI. A host
 * that does not take the cleared flag as the EOI leaves the vector in
 * service, and the next IPI on it never arrives. */
#include "checks/pv_msrs_checks.h"
#include "checks/pvarea.h"
#include "iface/kvm.h"
#include "lib/options.h"
#include "lib/report.h"
#include "platform/budget.h"
#include "platform/apic.h"
#include "platform/cpu.h"
#include "platform/safe.h"
#include "platform/smp.h"
#include "platform/timer.h"
#include "platform/traps.h"

#define EOI_VECTOR 0xe8
#define EOI_ROUNDS 200u
#define WORD_OFFSET 64u

static volatile uint32_t *eoi_word;
static volatile bool pv_on;
static volatile unsigned delivered, flagged, flag_while_off;

static void on_self_ipi(struct trap_frame *f)
{
    (void)f;
    delivered = delivered + 1;
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

/* Self-IPIs one at a time, each awaited for 100 ms, up to EOI_ROUNDS or
 * budget_ms: *sent of them, of which the return value arrived. */
static unsigned send_rounds(unsigned *sent)
{
    struct budget b;
    budget_start(&b, EOI_ROUNDS, pvcheck_options.budget_ms);
    unsigned arrived = 0;
    while (budget_next(&b)) {
        unsigned before = delivered;
        if (!apic_send_fixed(apic_id(), EOI_VECTOR))
            break;
        uint64_t end = timer_ticks() + TIMER_HZ / 10;
        while (delivered == before && timer_ticks() < end)
            cpu_relax();
        if (delivered == before)
            break;
        arrived++;
    }
    *sent = (unsigned)b.taken;
    return arrived;
}

enum verdict check_pv_eoi_interrupts(struct check_ctx *c)
{
    const char *why = kvm_missing(KVM_FEATURE_PV_EOI, "KVM_FEATURE_PV_EOI");
    if (why)
        return skip(c, "%s", why);
    smp_init(); /* the boot vCPU's APIC on */
    eoi_word = pv_area_prepare(SLOT_PV_EOI, WORD_OFFSET, sizeof(*eoi_word));
    traps_set_handler(EOI_VECTOR, on_self_ipi);
    delivered = flagged = flag_while_off = 0;
    pv_on = true;
    if (!pv_expect_accepted(c, MSR_KVM_PV_EOI_EN, "MSR_KVM_PV_EOI_EN",
                            pv_gpa(eoi_word) | KVM_PV_EOI_ENABLED))
        return pass(c);
    unsigned sent_pv, sent_plain;
    unsigned with_pv = send_rounds(&sent_pv);
    unsigned skipped = flagged;
    wrmsr_safe(MSR_KVM_PV_EOI_EN, 0);
    pv_on = false;
    unsigned plain = send_rounds(&sent_plain);
    figure(c, "vector=0x%x pv_eoi_on: sent=%u arrived=%u eoi_skipped=%u pv_eoi_off: sent=%u "
              "arrived=%u flag_set=%u (up to %u each, budget_ms=%u)",
           EOI_VECTOR, sent_pv, with_pv, skipped, sent_plain, plain, flag_while_off, EOI_ROUNDS,
           pvcheck_options.budget_ms);
    expect(c, with_pv == sent_pv,
           "with PV EOI on, self-IPI %u never arrived, after %u EOIs signalled by clearing "
           "the flag (msr.rst: clearing the bit is sufficient to signal EOI)",
           with_pv + 1, skipped);
    expect(c, plain == sent_plain, "with PV EOI off, self-IPI %u never arrived", plain + 1);
    if (with_pv < 2 || plain < 2)
        skip(c, "fewer than 2 self-IPIs within budget_ms=%u: too slow to judge",
             pvcheck_options.budget_ms);
    expect(c, flag_while_off == 0, "the flag was set at %u interrupts after MSR_KVM_EOI_EN was "
           "cleared", flag_while_off);
    if (!skipped)
        figure(c, "note: the flag was never set, so no EOI was skipped: allowed (msr.rst: it is "
                  "always safe to write the EOI); KVM sets it only where it tracks the vector "
                  "in service itself, not under APICv or AVIC");
    pv_expect_intact(c, SLOT_PV_EOI, WORD_OFFSET, sizeof(*eoi_word));
    return pass(c);
}
