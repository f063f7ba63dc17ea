/* Hyper-V's time interfaces as the guest has them up (TLFS, "Timers"; the
 * MSR numbers from Linux's include/hyperv/hvgdk_mini.h). */
#include "live/hyperv.h"

#include "iface/hv_cpuid.h"
#include "lib/report.h"
#include "platform/cpu.h"
#include "platform/safe.h"
#include "platform/timer.h"

#define FILL_TICKS (TIMER_HZ / 10) /* 100 ms for a write to land */

struct hv_leaves hv_leaves_read(void)
{
    struct hv_leaves l = { 0 };
    const struct hv_block *b = hv_find(hv_get(), HV_HYPERV);
    if (!b)
        return l;
    l.base = b->base;
    l.last_leaf = b->last_leaf;
    if (b->last_leaf >= b->base + 1)
        l.interface = cpuid(b->base + 1).eax;
    if (b->last_leaf >= b->base + 3) {
        struct cpuid_regs r = cpuid(b->base + 3);
        l.privileges = r.eax;
        l.features_edx = r.edx;
    }
    return l;
}

const char *hv_needs(uint32_t wanted)
{
    struct hv_leaves l = hv_leaves_read();
    return hv_missing_privilege(l.interface, l.privileges, wanted);
}

static bool os_id_written;

bool hv_ensure_os_id(struct check_ctx *c)
{
    if (os_id_written)
        return true;
    int vector = wrmsr_safe(HV_MSR_GUEST_OS_ID, HV_GUEST_OS_ID_PVCHECK);
    os_id_written = vector == NO_FAULT;
    return expect(c, os_id_written, "wrmsr(HV_X64_MSR_GUEST_OS_ID, 0x%llx) raised vector %d",
                  (unsigned long long)HV_GUEST_OS_ID_PVCHECK, vector);
}

void hv_forget_os_id(void)
{
    os_id_written = false;
}

bool hv_read_counter(struct check_ctx *c, uint64_t *v)
{
    int vector = rdmsr_safe(HV_MSR_TIME_REF_COUNT, v);
    return expect(c, vector == NO_FAULT, "rdmsr(HV_X64_MSR_TIME_REF_COUNT) raised vector %d",
                  vector);
}

bool hv_expect_readback(struct check_ctx *c, uint32_t msr, const char *name, uint64_t value)
{
    uint64_t readback = 0;
    int vector = rdmsr_safe(msr, &readback);
    figure(c, "wrote=0x%llx readback=0x%llx", (unsigned long long)value,
           (unsigned long long)readback);
    return expect(c, vector == NO_FAULT && readback == value,
                  "%s read back 0x%llx (vector %d) after writing 0x%llx", name,
                  (unsigned long long)readback, vector, (unsigned long long)value);
}

/* The registered page, and whether the hypervisor made it valid. */
static volatile struct hv_ref_tsc_page *page;
static enum pv_slot page_slot;
static bool page_valid;

volatile struct hv_ref_tsc_page *hv_page_area(void)
{
    return page;
}

enum pv_slot hv_page_slot(void)
{
    return page_slot;
}

bool hv_page_valid(void)
{
    return page_valid;
}

void hv_page_set_valid(bool valid)
{
    page_valid = valid;
}

bool hv_page_scale(uint64_t *scale)
{
    struct hv_ref_snapshot h;
    if (!page || !page_valid || hv_ref_read(page, HV_READ_TRIES, &h) != HV_REF_OK)
        return false;
    *scale = h.scale;
    return true;
}

int hv_page_enable(struct check_ctx *c, enum pv_slot slot, bool enable)
{
    volatile struct hv_ref_tsc_page *p =
        enable ? pv_area_prepare(slot, 0, HV_PAGE_BYTES) : page;
    uint64_t old = 0;
    rdmsr_safe(HV_MSR_REFERENCE_TSC, &old);
    /* Bits 11:1 are RsvdP: written back as read. */
    uint64_t value = pv_gpa(p) | (old & HV_REF_TSC_RSVDP) | (enable ? HV_REF_TSC_ENABLE : 0);
    int vector = wrmsr_safe(HV_MSR_REFERENCE_TSC, value);
    if (!expect(c, vector == NO_FAULT, "wrmsr(HV_X64_MSR_REFERENCE_TSC, 0x%llx) raised vector %d",
                (unsigned long long)value, vector))
        return -1;
    hv_expect_readback(c, HV_MSR_REFERENCE_TSC, "HV_X64_MSR_REFERENCE_TSC", value);
    if (!enable)
        return 0;
    page = p;
    page_slot = slot;
    for (int ticks = 0; ticks <= (int)FILL_TICKS; ticks++) {
        if (p->tsc_sequence != 0)
            return ticks;
        timer_sleep_ticks(1);
    }
    return -1;
}

/* Time from the page as the TLFS reads it: sequence, fields and TSC,
 * sequence again. */
enum hv_ref_status hv_page_now(uint64_t *units, uint64_t *tsc, struct hv_ref_snapshot *s)
{
    for (unsigned i = 0; i < HV_READ_TRIES; i++) {
        enum hv_ref_status r = hv_ref_read(page, 1, s);
        if (r == HV_REF_INVALID)
            return r;
        *tsc = rdtsc_ordered();
        if (r == HV_REF_OK && page->tsc_sequence == s->sequence) {
            *units = hv_ref_time(*tsc, s->scale, s->offset);
            return HV_REF_OK;
        }
    }
    return HV_REF_UNSETTLED;
}

bool hv_page_open(struct check_ctx *c)
{
    if (hv_needs(HV_PRIV_TIME_REF_COUNT | HV_PRIV_REFERENCE_TSC) || !hv_ensure_os_id(c))
        return false;
    if (page_valid)
        return true;
    if (hv_page_enable(c, page ? page_slot : SLOT_HV_TSC_PAGE, true) < 0)
        return false;
    struct hv_ref_snapshot s;
    page_valid = hv_ref_read(page, HV_READ_TRIES, &s) == HV_REF_OK;
    return page_valid;
}

bool hv_page_units(uint64_t *units)
{
    struct hv_ref_snapshot s;
    uint64_t tsc;
    return page_valid && hv_page_now(units, &tsc, &s) == HV_REF_OK;
}
