/* Suite "pv_msrs": what KVM's other paravirtual MSRs must do when their
 * feature is advertised (msr.rst): async page faults (MSR_KVM_ASYNC_PF_EN,
 * _INT, _ACK), PV EOI, poll control and migration control. Which of them
 * fault when not advertised is suite pv_enforce's. */
#include "checks/pv_msrs/pv_msrs_checks.h"
#include "iface/kvm.h"
#include "lib/format.h"
#include "lib/options.h"
#include "lib/report.h"
#include "live/pvarea.h"
#include "platform/apic.h"
#include "platform/cpu.h"
#include "platform/safe.h"
#include "platform/smp.h"
#include "platform/timer.h"
#include "platform/traps.h"

#define APF_VECTOR 0xec
#define QUIET_TICKS (TIMER_HZ / 10) /* 100 ms for an event to arrive */

static void gated_bit(struct check_ctx *c, uint64_t value, const char *bit, const char *feature)
{
    if (pvcheck_options.expect_pv_enforce) {
        char why[120];
        format_buf(why, sizeof(why), "msr.rst: %s can only be set if %s is present in CPUID", bit,
                   feature);
        pv_expect_refused(c, MSR_KVM_ASYNC_PF_EN, "MSR_KVM_ASYNC_PF_EN", value, why);
        return;
    }
    int vector = wrmsr_safe(MSR_KVM_ASYNC_PF_EN, value);
    wrmsr_safe(MSR_KVM_ASYNC_PF_EN, 0);
    figure(c, "observation: %s without %s: wrmsr %s (refused only with PV-feature enforcement)",
           bit, feature, vector == NO_FAULT ? "accepted" : "faulted");
}

/* --- async page faults ------------------------------------------------- */

static volatile struct kvm_vcpu_pv_apf_data *apf;
static volatile unsigned apf_events, apf_zero_tokens, apf_flags_set;
static volatile uint32_t apf_last_token;

/* A 'page ready' notification: the token is read, cleared and
 * acknowledged, as msr.rst tells the guest to. */
static void on_page_ready(struct trap_frame *f)
{
    (void)f;
    uint32_t token = apf ? apf->token : 0;
    apf_events = apf_events + 1;
    apf_last_token = token;
    if (!token)
        apf_zero_tokens = apf_zero_tokens + 1;
    if (apf && apf->flags)
        apf_flags_set = apf_flags_set + 1;
    if (apf)
        apf->token = 0;
    wrmsr_safe(MSR_KVM_ASYNC_PF_ACK, 1);
    apic_eoi();
}

static bool area_untouched(void)
{
    return apf->flags == 0 && apf->token == 0;
}

static enum verdict check_async_pf(struct check_ctx *c)
{
    const char *why = kvm_missing(KVM_FEATURE_ASYNC_PF, "KVM_FEATURE_ASYNC_PF");
    if (why)
        return skip(c, "%s", why);
    smp_init(); /* the boot vCPU's APIC on, for the notification */
    apf = pv_area_prepare(SLOT_ASYNC_PF, 0, sizeof(*apf));
    uint64_t gpa = pv_gpa(apf);
    bool has_int = kvm_has(KVM_FEATURE_ASYNC_PF_INT);
    apf_events = apf_zero_tokens = apf_flags_set = 0;
    traps_set_handler(APF_VECTOR, on_page_ready);
    /* Where bit 3 might be accepted anyway, a notification must find this
     * vector rather than 0 (msr.rst: "or interrupt #0 can get injected"). */
    wrmsr_safe(MSR_KVM_ASYNC_PF_INT, APF_VECTOR);
    pv_expect_refused(c, MSR_KVM_ASYNC_PF_EN, "MSR_KVM_ASYNC_PF_EN",
                      gpa | KVM_ASYNC_PF_ENABLED | 0x10, "msr.rst: bits 5-4 are reserved");
    pv_expect_refused(c, MSR_KVM_ASYNC_PF_EN, "MSR_KVM_ASYNC_PF_EN",
                      gpa | KVM_ASYNC_PF_ENABLED | 0x20, "msr.rst: bits 5-4 are reserved");
    if (!kvm_has(KVM_FEATURE_ASYNC_PF_VMEXIT))
        gated_bit(c, gpa | KVM_ASYNC_PF_ENABLED | KVM_ASYNC_PF_DELIVERY_AS_PF_VMEXIT, "bit 2",
                  "KVM_FEATURE_ASYNC_PF_VMEXIT");
    if (!has_int)
        gated_bit(c, gpa | KVM_ASYNC_PF_ENABLED | KVM_ASYNC_PF_DELIVERY_AS_INT, "bit 3",
                  "KVM_FEATURE_ASYNC_PF_INT");
    /* Enabled without bit 3: today's msr.rst says no event is delivered
     * (the 2010 msr.txt delivered 'page ready' as #PF then). */
    unsigned before = apf_events;
    pv_expect_accepted(c, MSR_KVM_ASYNC_PF_EN, "MSR_KVM_ASYNC_PF_EN",
                       gpa | KVM_ASYNC_PF_ENABLED);
    timer_sleep_ticks(QUIET_TICKS);
    figure(c, "enabled_without_bit3 events=%u flags=0x%x token=0x%x", apf_events - before,
           apf->flags, apf->token);
    expect(c, apf_events == before && area_untouched(),
           "msr.rst: if bit 3 (interrupt based delivery) is not set APF events are not "
           "delivered, yet %u arrived (flags 0x%x, token 0x%x)", apf_events - before, apf->flags,
           apf->token);
    wrmsr_safe(MSR_KVM_ASYNC_PF_EN, 0);
    if (has_int) {
        /* The vector first, as msr.rst requires, then bit 3. */
        pv_expect_accepted(c, MSR_KVM_ASYNC_PF_INT, "MSR_KVM_ASYNC_PF_INT", APF_VECTOR);
        before = apf_events;
        pv_expect_accepted(c, MSR_KVM_ASYNC_PF_EN, "MSR_KVM_ASYNC_PF_EN",
                           gpa | KVM_ASYNC_PF_ENABLED | KVM_ASYNC_PF_DELIVERY_AS_INT);
        timer_sleep_ticks(QUIET_TICKS);
        figure(c, "enabled_with_bit3 vector=0x%x events=%u last_token=0x%08x (KVM sends one "
                  "'wake all', token 0xffffffff, at enabling)",
               APF_VECTOR, apf_events - before, apf_last_token);
        expect(c, apf_zero_tokens == 0, "msr.rst: a 'page ready' event writes its token, yet "
               "%u arrived with token 0", apf_zero_tokens);
        expect(c, apf_flags_set == 0, "msr.rst: 'flags' is for 'page not present' (#PF) events "
               "only, yet it was set at %u 'page ready' notifications", apf_flags_set);
        expect(c, apf->token == 0, "the token 0x%x was written after the guest acknowledged",
               apf->token);
    }
    pv_expect_accepted(c, MSR_KVM_ASYNC_PF_EN, "MSR_KVM_ASYNC_PF_EN", 0);
    before = apf_events;
    timer_sleep_ticks(QUIET_TICKS / 2);
    expect(c, apf_events == before, "%u notifications arrived after MSR_KVM_ASYNC_PF_EN was "
           "cleared", apf_events - before);
    pv_expect_intact(c, SLOT_ASYNC_PF, 0, sizeof(*apf));
    return pass(c);
}

static enum verdict check_async_pf_int(struct check_ctx *c)
{
    const char *why = kvm_missing(KVM_FEATURE_ASYNC_PF_INT, "KVM_FEATURE_ASYNC_PF_INT");
    if (why)
        return skip(c, "%s", why);
    uint64_t initial = 0;
    rdmsr_safe(MSR_KVM_ASYNC_PF_INT, &initial);
    for (uint64_t v = 0x20; v <= 0xff; v += 0xdf)
        pv_expect_accepted(c, MSR_KVM_ASYNC_PF_INT, "MSR_KVM_ASYNC_PF_INT", v);
    pv_expect_refused(c, MSR_KVM_ASYNC_PF_INT, "MSR_KVM_ASYNC_PF_INT", 0x1ec,
                      "msr.rst: bits 8-63 are reserved");
    pv_expect_refused(c, MSR_KVM_ASYNC_PF_INT, "MSR_KVM_ASYNC_PF_INT", 1ull << 63 | 0xec,
                      "msr.rst: bits 8-63 are reserved");
    /* Vectors 0-31 are exceptions; the document bounds only the width. */
    int low = wrmsr_safe(MSR_KVM_ASYNC_PF_INT, 0x0e);
    uint64_t ack = 0;
    int ack_wr = wrmsr_safe(MSR_KVM_ASYNC_PF_ACK, 1);
    int ack_rd = rdmsr_safe(MSR_KVM_ASYNC_PF_ACK, &ack);
    figure(c, "before=0x%llx vector_0x0e=%s ack_write=%s ack_read=%s value=0x%llx",
           (unsigned long long)initial, low == NO_FAULT ? "accepted" : "refused",
           ack_wr == NO_FAULT ? "accepted" : "refused", ack_rd == NO_FAULT ? "accepted" : "refused",
           (unsigned long long)ack);
    expect(c, ack_wr == NO_FAULT, "msr.rst: the guest writes 1 to MSR_KVM_ASYNC_PF_ACK, which "
           "raised vector %d", ack_wr);
    wrmsr_safe(MSR_KVM_ASYNC_PF_INT, initial);
    return pass(c);
}

/* --- PV EOI registration ----------------------------------------------- */

static enum verdict check_pv_eoi_registration(struct check_ctx *c)
{
    const char *why = kvm_missing(KVM_FEATURE_PV_EOI, "KVM_FEATURE_PV_EOI");
    if (why)
        return skip(c, "%s", why);
    volatile uint32_t *word = pv_area_prepare(SLOT_PV_EOI, 64, sizeof(*word));
    uint64_t gpa = pv_gpa(word);
    pv_expect_refused(c, MSR_KVM_PV_EOI_EN, "MSR_KVM_PV_EOI_EN",
                      gpa | KVM_PV_EOI_ENABLED | KVM_PV_EOI_RESERVED,
                      "msr.rst: bit 1 is reserved and must be zero");
    pv_expect_accepted(c, MSR_KVM_PV_EOI_EN, "MSR_KVM_PV_EOI_EN", gpa | KVM_PV_EOI_ENABLED);
    pv_expect_accepted(c, MSR_KVM_PV_EOI_EN, "MSR_KVM_PV_EOI_EN", 0);
    pv_expect_intact(c, SLOT_PV_EOI, 64, sizeof(*word));
    return pass(c);
}

static const struct check pv_msrs_checks[] = {
    { "async_pf", MSR_RST_PV " MSR_KVM_ASYNC_PF_EN: bits 5-4 reserved, 2 and 3 only with "
                  "their features; no event without bit 3; 'page ready' has a token, not 'flags'",
      check_async_pf },
    { "async_pf_int", MSR_RST_PV " MSR_KVM_ASYNC_PF_INT: bits 0-7 the vector, 8-63 reserved; "
                      "MSR_KVM_ASYNC_PF_ACK takes 1",
      check_async_pf_int },
    { "async_pf_swap", MSR_RST_PV " MSR_KVM_ASYNC_PF_EN, swapped memory: one 'page ready' "
                       "per token; memory intact",
      check_async_pf_swap },
    { "pv_eoi_registration", MSR_RST_PV " MSR_KVM_EOI_EN: bit 1 reserved, a 4-byte aligned "
                             "address, read back",
      check_pv_eoi_registration },
    { "pv_eoi_interrupts", MSR_RST_PV " MSR_KVM_EOI_EN: an EOI skipped by clearing the flag "
                           "the host set counts as one; interrupts keep coming either way",
      check_pv_eoi_interrupts },
    { "pv_eoi_level", MSR_RST_PV " MSR_KVM_EOI_EN, a level-triggered IOAPIC interrupt: "
                      "a cleared flag must be its full EOI; interrupts keep coming",
      check_pv_eoi_level },
    { "poll_control", MSR_RST_PV " MSR_KVM_POLL_CONTROL: bit 0 host-side HLT polling on or "
                      "off, read back; wake-up latency reported",
      check_poll_control },
    { "migration_control", MSR_RST_PV " MSR_KVM_MIGRATION_CONTROL: bit 0 set at start "
                           "without encrypted memory; writable",
      check_migration_control },
};

static const struct suite pv_msrs_suite = {
    .name = "pv_msrs",
    .order = 57,
    .checks = pv_msrs_checks,
    .n_checks = ARRAY_SIZE(pv_msrs_checks),
};
REGISTER_SUITE(pv_msrs_suite);
