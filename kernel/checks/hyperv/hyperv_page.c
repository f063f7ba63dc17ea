/* Suite "hyperv", the reference TSC page (TLFS, Timers, "Partition Reference
 * Time Enlightenment"): enabling fills it, its time is monotonic and is the
 * reference counter's, and a moved or disabled page is not written again. */
#include "checks/hyperv/hyperv_checks.h"
#include "checks/shared/rate.h"
#include "checks/shared/sampling.h"
#include "iface/hyperv.h"
#include "iface/kvm.h"
#include "lib/options.h"
#include "lib/report.h"
#include "live/kvmclock.h"
#include "live/pvarea.h"
#include "platform/budget.h"
#include "platform/cpu.h"
#include "platform/safe.h"
#include "platform/timer.h"

#define PAGE_BYTES HV_PAGE_BYTES
#define READ_TRIES HV_READ_TRIES
#define FILL_TICKS (TIMER_HZ / 10) /* 100 ms for a write to land */
#define RAW_READS 500000u
#define BRACKET_ROUNDS 20000u
#define MIN_READS 1000u
#define MIN_ROUNDS 100u

static const char *page_unusable(void)
{
    const char *why = hv_needs(HV_PRIV_TIME_REF_COUNT | HV_PRIV_REFERENCE_TSC);
    if (why)
        return why;
    if (!hv_page_area())
        return "the reference TSC page was not registered (tsc_page did not run)";
    if (!hv_page_valid())
        return "TscSequence is 0: the page says it is not valid and a guest must read "
               "HV_X64_MSR_TIME_REF_COUNT instead";
    return 0;
}

enum verdict hv_check_tsc_page(struct check_ctx *c)
{
    const char *why = hv_needs(HV_PRIV_REFERENCE_TSC);
    if (why)
        return skip(c, "%s", why);
    if (!hv_ensure_os_id(c))
        return pass(c);
    int ticks = hv_page_enable(c, SLOT_HV_TSC_PAGE, true);
    volatile struct hv_ref_tsc_page *page = hv_page_area();
    struct hv_ref_snapshot s = { 0 };
    /* A sequence of 0 may be an update under way (KVM zeroes it first):
     * invalid only if it stays so. */
    enum hv_ref_status r = HV_REF_INVALID;
    for (unsigned t = 0; t <= FILL_TICKS && r == HV_REF_INVALID; t++) {
        r = hv_ref_read(page, READ_TRIES, &s);
        if (r == HV_REF_INVALID)
            timer_sleep_ticks(1);
    }
    figure(c, "filled_after_ticks=%d sequence=0x%08x scale=0x%016llx offset=%lld "
              "implied_tsc_hz=%llu",
           ticks, page->tsc_sequence, (unsigned long long)s.scale, (long long)s.offset,
           (unsigned long long)hv_ref_implied_hz(s.scale));
    pv_expect_intact(c, SLOT_HV_TSC_PAGE, 0, PAGE_BYTES);
    hv_page_set_valid(r == HV_REF_OK);
    if (r == HV_REF_INVALID)
        return skip(c, "TscSequence stayed 0 for 100 ms after enabling: the page says it is not "
                       "valid (TLFS: read HV_X64_MSR_TIME_REF_COUNT instead)");
    if (!expect(c, r == HV_REF_OK, "TscSequence changed during %u reads", READ_TRIES))
        return pass(c);
    if (s.sequence == 0xffffffffu)
        figure(c, "observation: TscSequence is 0xffffffff, which TLFS versions up to 4.0b "
                  "wrongly name the invalid value");
    uint64_t hz = hv_ref_implied_hz(s.scale);
    expect(c, hz >= 10000000ull && hz <= 100000000000ull,
           "TscScale 0x%016llx implies a %llu Hz TSC, outside 10 MHz..100 GHz",
           (unsigned long long)s.scale, (unsigned long long)hz);
    return pass(c);
}

enum verdict hv_check_tsc_page_monotonic(struct check_ctx *c)
{
    const char *why = page_unusable();
    if (why)
        return skip(c, "%s", why);
    uint64_t first = 0, prev = 0, units, tsc, backward = 0, max_back = 0, invalid = 0, torn = 0;
    uint64_t samples = 0, updates = 0, reused = 0;
    struct hv_ref_snapshot snap, last = { 0 }, reused_from = { 0 }, reused_to = { 0 };
    struct budget b;
    budget_start(&b, RAW_READS, pvcheck_options.budget_ms);
    while (budget_next(&b)) {
        enum hv_ref_status r = hv_page_now(&units, &tsc, &snap);
        if (r != HV_REF_OK) {
            /* Sequence 0 mid-run: a guest falls back to the MSR then. */
            if (r == HV_REF_INVALID)
                invalid++;
            else
                torn++;
            continue;
        }
        if (samples && snap.sequence != last.sequence) {
            updates++;
        } else if (samples && (snap.scale != last.scale || snap.offset != last.offset)) {
            if (!reused++) {
                reused_from = last;
                reused_to = snap;
            }
        }
        last = snap;
        if (samples++ == 0) {
            first = units;
        } else if (units < prev) {
            backward++;
            if (prev - units > max_back)
                max_back = prev - units;
        }
        prev = units;
    }
    sampling_report(c, "reads", &b);
    figure(c, "valid_reads=%llu first=%llu last=%llu backward=%llu max_back_units=%llu "
              "invalid_seen=%llu unsettled=%llu",
           (unsigned long long)samples, (unsigned long long)first, (unsigned long long)prev,
           (unsigned long long)backward, (unsigned long long)max_back,
           (unsigned long long)invalid, (unsigned long long)torn);
    figure(c, "sequence_changes=%llu fields_changed_under_one_sequence=%llu",
           (unsigned long long)updates, (unsigned long long)reused);
    expect(c, backward == 0, "time from the page went backwards %llu times, by up to %llu x 100 ns",
           (unsigned long long)backward, (unsigned long long)max_back);
    expect(c, reused == 0,
           "TscScale/TscOffset changed under TscSequence 0x%08x (scale 0x%016llx -> 0x%016llx, "
           "offset %lld -> %lld), %llu times: a reader that straddled the update cannot tell",
           reused_to.sequence, (unsigned long long)reused_from.scale,
           (unsigned long long)reused_to.scale, (long long)reused_from.offset,
           (long long)reused_to.offset, (unsigned long long)reused);
    expect(c, torn == 0, "TscSequence changed during every one of %u tries %llu times",
           READ_TRIES, (unsigned long long)torn);
    expect(c, samples > 1 && prev > first, "time from the page did not advance over %llu reads",
           (unsigned long long)samples);
    sampling_require(c, "valid reads", samples, MIN_READS, &b);
    return pass(c);
}

enum verdict hv_check_tsc_page_agrees(struct check_ctx *c)
{
    const char *why = page_unusable();
    if (why)
        return skip(c, "%s", why);
    uint64_t rounds = 0, outside = 0, tsc, units, before, after;
    int64_t worst = 0;
    struct budget b;
    budget_start(&b, BRACKET_ROUNDS, pvcheck_options.budget_ms);
    while (budget_next(&b)) {
        if (!hv_read_counter(c, &before))
            return pass(c);
        struct hv_ref_snapshot snap;
        enum hv_ref_status r = hv_page_now(&units, &tsc, &snap);
        if (!hv_read_counter(c, &after))
            return pass(c);
        if (r != HV_REF_OK)
            continue;
        rounds++;
        int64_t e = hv_ref_bracket_excess(before, units, after);
        if (e) {
            outside++;
            if (abs64(e) > abs64(worst))
                worst = e;
        }
    }
    sampling_report(c, "rounds", &b);
    figure(c, "rounds=%llu outside=%llu worst_excess_units=%lld (one unit of rounding allowed "
              "each way)", (unsigned long long)rounds, (unsigned long long)outside,
           (long long)worst);
    expect(c, outside == 0,
           "time from the page fell outside TIME_REF_COUNT read before and after it %llu of "
           "%llu times, by up to %lld x 100 ns", (unsigned long long)outside,
           (unsigned long long)rounds, (long long)worst);
    sampling_require(c, "rounds", rounds, MIN_ROUNDS, &b);
    return pass(c);
}

/* KVM rewrites the page when it updates the vCPU's clock; re-writing the
 * kvmclock MSR asks for that update, and halts let it happen. */
static const char *provoke_update(void)
{
    volatile struct pvclock_vcpu_time_info *k = kvmclock_active();
    if (k)
        wrmsr_safe(MSR_KVM_SYSTEM_TIME_NEW, pv_gpa(k) | 1);
    timer_sleep_ticks(FILL_TICKS);
    return k ? "kvmclock_msr_rewrite+halts" : "halts";
}

enum verdict hv_check_tsc_page_move(struct check_ctx *c)
{
    const char *why = page_unusable();
    if (why)
        return skip(c, "%s", why);
    volatile struct hv_ref_tsc_page *old = hv_page_area();
    enum pv_slot old_slot = hv_page_slot();
    int ticks = hv_page_enable(c, SLOT_HV_TSC_PAGE_MOVED, true);
    volatile struct hv_ref_tsc_page *page = hv_page_area();
    struct pv_copy frozen = pv_copy_take(old, sizeof(*old));
    const char *how = provoke_update();
    figure(c, "old=0x%llx new=0x%llx new_filled_after_ticks=%d provoked=%s",
           (unsigned long long)pv_gpa(old), (unsigned long long)pv_gpa(page), ticks, how);
    expect(c, ticks >= 0, "the new page at 0x%llx still has TscSequence 0 after 100 ms, where "
                          "the old one was valid", (unsigned long long)pv_gpa(page));
    expect(c, pv_copy_unchanged(old, &frozen),
           "the old page at 0x%llx was written after the MSR moved it (TscSequence now 0x%08x)",
           (unsigned long long)pv_gpa(old), old->tsc_sequence);
    pv_expect_intact(c, old_slot, 0, PAGE_BYTES);
    pv_expect_intact(c, hv_page_slot(), 0, PAGE_BYTES);
    return pass(c);
}

enum verdict hv_check_tsc_page_disable(struct check_ctx *c)
{
    const char *why = page_unusable();
    if (why)
        return skip(c, "%s", why);
    volatile struct hv_ref_tsc_page *page = hv_page_area();
    hv_page_enable(c, hv_page_slot(), false);
    timer_sleep_ticks(1); /* an update already under way may finish */
    struct pv_copy frozen = pv_copy_take(page, sizeof(*page));
    const char *how = provoke_update();
    figure(c, "page=0x%llx provoked=%s sequence=0x%08x", (unsigned long long)pv_gpa(page), how,
           page->tsc_sequence);
    expect(c, pv_copy_unchanged(page, &frozen),
           "the page at 0x%llx was written after bit 0 of HV_X64_MSR_REFERENCE_TSC was cleared",
           (unsigned long long)pv_gpa(page));
    pv_expect_intact(c, hv_page_slot(), 0, PAGE_BYTES);
    hv_page_set_valid(false);
    return pass(c);
}

