/* Suite pv_msrs, real asynchronous page faults: with apf_touch_mb=N the
 * guest writes over the top N MiB of its memory and reads it back, pass
 * after pass, with async PF on at CPL 0 (bit 1) and 'page ready' as an
 * interrupt (bit 3). A host that must bring a swapped-out page back may
 * inject 'page not present' (#PF, 'flags' 1, a token in CR2); the guest
 * waits halted for the 'page ready' interrupt carrying that token and
 * retries (msr.rst). Memory must come back as it was written. */
#include "checks/pv_msrs/apf_log.h"
#include "checks/pv_msrs/pv_msrs_checks.h"
#include "iface/kvm.h"
#include "lib/options.h"
#include "lib/report.h"
#include "live/pvarea.h"
#include "platform/apic.h"
#include "platform/bootinfo.h"
#include "platform/budget.h"
#include "platform/cpu.h"
#include "platform/safe.h"
#include "platform/smp.h"
#include "platform/timer.h"
#include "platform/traps.h"

#define READY_VECTOR 0xec
#define REASON_PAGE_NOT_PRESENT 1u
#define READY_WAIT_MS 10000u
#define LOWEST_START (32ull << 20) /* the image, page tables and per-vCPU areas lie below */
#define MAX_PASSES 4u
#define PAGE 4096u

static volatile struct kvm_vcpu_pv_apf_data *area;
static struct apf_log events;
static volatile unsigned bad_flags, ready_flags_set, timed_out, with_if_off;
static volatile uint32_t bad_flags_value;
static volatile uint64_t max_wait_ticks;

/* 'page ready': read the token, clear it, acknowledge (msr.rst). The
 * interrupted context must have had IF set: a maskable interrupt never
 * arrives with it clear (the same notification delivered twice does). */
static void on_ready(struct trap_frame *f)
{
    if (!(f->rflags & 0x200))
        with_if_off = with_if_off + 1;
    uint32_t token = area->token;
    if (area->flags)
        ready_flags_set = ready_flags_set + 1;
    area->token = 0;
    apf_log_ready(&events, token);
    wrmsr_safe(MSR_KVM_ASYNC_PF_ACK, 1);
    apic_eoi();
}

/* A #PF with 'flags' set is 'page not present': wait, halted, for its
 * 'page ready', then retry the access. One with 'flags' 0 is a real fault. */
static bool on_page_fault(struct trap_frame *f)
{
    (void)f;
    uint32_t flags = area ? area->flags : 0;
    if (!flags)
        return false;
    uint32_t token = (uint32_t)read_cr2();
    area->flags = 0; /* msr.rst: reset before anything that can fault */
    if (flags != REASON_PAGE_NOT_PRESENT) {
        bad_flags = bad_flags + 1;
        bad_flags_value = flags;
    }
    apf_log_not_present(&events, token);
    uint64_t start = timer_ticks(), end = start + (uint64_t)TIMER_HZ * READY_WAIT_MS / 1000;
    /* After one wait has run out, none more: the run stays bounded. */
    while (!timed_out && apf_log_waiting(&events, token)) {
        if (timer_ticks() >= end) {
            timed_out = timed_out + 1;
            break;
        }
        safe_halt();
        irq_disable();
    }
    if (timer_ticks() - start > max_wait_ticks)
        max_wait_ticks = timer_ticks() - start;
    return true;
}

static uint64_t pattern(uint64_t page, unsigned pass)
{
    return (page * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)pass << 56) ^ 0x5aa5;
}

struct touch {
    unsigned passes, mismatches, first_bad_page;
};

/* Pass 0 writes two words of every page; each later pass checks the last
 * pass's and writes its own, until MAX_PASSES or ms. */
static void touch_region(volatile uint64_t *base, uint64_t pages, unsigned ms, struct touch *t)
{
    *t = (struct touch){ 0, 0, 0 };
    uint64_t end = timer_ticks() + (uint64_t)TIMER_HZ * ms / 1000;
    for (unsigned pass = 0; pass < MAX_PASSES; pass++) {
        for (uint64_t p = 0; p < pages; p++) {
            volatile uint64_t *w = base + p * (PAGE / 8);
            if (pass && (w[0] != pattern(p, pass - 1) || w[PAGE / 8 - 1] != ~pattern(p, pass - 1))) {
                if (!t->mismatches++)
                    t->first_bad_page = (unsigned)p;
            }
            w[0] = pattern(p, pass);
            w[PAGE / 8 - 1] = ~pattern(p, pass);
            if ((p & 15) == 15 && timer_ticks() >= end)
                return; /* a pass cut short is not counted */
        }
        t->passes = pass + 1;
    }
}

enum verdict check_async_pf_swap(struct check_ctx *c)
{
    unsigned mb = pvcheck_options.apf_touch_mb;
    if (!mb)
        return skip(c, "not asked (apf_touch_mb=N)");
    const char *why = kvm_missing(KVM_FEATURE_ASYNC_PF, "KVM_FEATURE_ASYNC_PF");
    if (!why)
        why = kvm_missing(KVM_FEATURE_ASYNC_PF_INT, "KVM_FEATURE_ASYNC_PF_INT");
    if (why)
        return skip(c, "%s", why);
    uint64_t top = pvcheck_boot.mem_top, bytes = (uint64_t)mb << 20;
    if (!top || top > (4ull << 30) || bytes > top || top - bytes < LOWEST_START)
        return skip(c, "apf_touch_mb=%u does not fit above %llu MiB in %llu MiB", mb,
                    (unsigned long long)(LOWEST_START >> 20), (unsigned long long)(top >> 20));
    smp_init(); /* the boot vCPU's APIC on, for 'page ready' */
    area = pv_area_prepare(SLOT_ASYNC_PF, 0, sizeof(*area));
    apf_log_reset(&events);
    bad_flags = ready_flags_set = timed_out = with_if_off = 0;
    max_wait_ticks = 0;
    traps_set_handler(READY_VECTOR, on_ready);
    if (!pv_expect_accepted(c, MSR_KVM_ASYNC_PF_INT, "MSR_KVM_ASYNC_PF_INT", READY_VECTOR))
        return pass(c);
    traps_set_fault_hook(VECTOR_PF, on_page_fault);
    if (!pv_expect_accepted(c, MSR_KVM_ASYNC_PF_EN, "MSR_KVM_ASYNC_PF_EN",
                            pv_gpa(area) | KVM_ASYNC_PF_ENABLED | KVM_ASYNC_PF_SEND_ALWAYS |
                                KVM_ASYNC_PF_DELIVERY_AS_INT)) {
        traps_set_fault_hook(VECTOR_PF, 0);
        return pass(c);
    }
    unsigned ms = pvcheck_options.check_timeout_s * 1000u / 2u;
    struct touch t;
    touch_region((volatile uint64_t *)(uintptr_t)(top - bytes), bytes / PAGE, ms, &t);
    /* Tokens still waiting get their 'page ready' within READY_WAIT_MS. */
    uint64_t end = timer_ticks() + (uint64_t)TIMER_HZ * READY_WAIT_MS / 1000;
    while (events.n_outstanding && timer_ticks() < end)
        timer_sleep_ticks(1);
    wrmsr_safe(MSR_KVM_ASYNC_PF_EN, 0);
    traps_set_fault_hook(VECTOR_PF, 0);
    figure(c, "mib=%u passes=%u of %u in %u ms not_present=%u ready=%u wake_all=%u "
              "longest_wait_ms=%u", mb, t.passes, MAX_PASSES, ms, events.not_present,
           events.ready, events.wake_all, (unsigned)(max_wait_ticks * 1000 / TIMER_HZ));
    expect(c, with_if_off == 0, "%u 'page ready' came with IF clear", with_if_off);
    expect(c, t.mismatches == 0, "%u pages read back wrong, the first page %u", t.mismatches,
           t.first_bad_page);
    expect(c, bad_flags == 0, "a #PF came with flags %u", bad_flags_value);
    expect(c, timed_out == 0 && events.n_outstanding == 0, "%u tokens had no 'page ready' "
           "within %u ms", timed_out + events.n_outstanding, READY_WAIT_MS);
    expect(c, events.unannounced + events.duplicate + events.overflow == 0,
           "tokens: %u unannounced, %u repeated, %u untracked", events.unannounced,
           events.duplicate, events.overflow);
    expect(c, ready_flags_set == 0, "flags set at %u 'page ready'", ready_flags_set);
    pv_expect_intact(c, SLOT_ASYNC_PF, 0, sizeof(*area));
    if (events.not_present == 0 && t.mismatches == 0)
        return skip(c, "no 'page not present' came in %u passes", t.passes);
    return pass(c);
}
