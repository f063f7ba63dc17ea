#include "platform/refclock.h"

#include "lib/format.h"
#include "lib/str.h"
#include "platform/acpi.h"
#include "platform/cpu.h"
#include "platform/pit.h"
#include "platform/pit_counter.h"
#include "platform/rtc.h"
#include "platform/timer.h"

#define PM_TIMER_HZ 3579545u
#define HPET_CAP 0x000
#define HPET_CONFIG 0x010
#define HPET_COUNTER 0x0f0
#define HPET_ENABLE 1u
#define FS_PER_S 1000000000000000ull

static struct refclock clock;
static uint64_t (*read_raw)(void);
static uint64_t wrap_mask;
static uint64_t last_raw, extended;
static volatile uint8_t *hpet;
static int pit_channel;
static bool busy; /* the extension, shared by every CPU and the tick */

static uint64_t read_pm_timer(void)
{
    return inl((uint16_t)acpi_get()->pm_timer_port);
}

static uint64_t read_hpet(void)
{
    return *(volatile uint64_t *)(hpet + HPET_COUNTER);
}

static uint64_t read_pit_counter(void)
{
    return pit_counter_read(pit_channel);
}

static uint64_t read_cmos(void)
{
    uint64_t s = 0;
    return rtc_read_unix(&s) ? s : last_raw; /* no consistent read: no step */
}

static uint64_t read_pit_ticks(void)
{
    return timer_ticks();
}

static void choose(void)
{
    const struct acpi_info *a = acpi_get();
    if (a->hpet_base && a->hpet_base < 0x100000000ull) {
        hpet = (volatile uint8_t *)(uintptr_t)a->hpet_base;
        uint64_t cap = *(volatile uint64_t *)(hpet + HPET_CAP);
        uint32_t period_fs = (uint32_t)(cap >> 32);
        /* HPET spec: the period is nonzero and at most 100 ns (10^8 fs). */
        if (period_fs && period_fs <= 100000000u) {
            *(volatile uint64_t *)(hpet + HPET_CONFIG) |= HPET_ENABLE;
            clock = (struct refclock){ "hpet", FS_PER_S / period_fs, 0, 0 };
            read_raw = read_hpet;
            wrap_mask = (cap & (1u << 13)) ? UINT64_MAX : 0xffffffffull; /* COUNT_SIZE_CAP */
            return;
        }
    }
    if (a->pm_timer_port) {
        clock = (struct refclock){ "acpi_pm", PM_TIMER_HZ, 0, 0 };
        read_raw = read_pm_timer;
        wrap_mask = a->pm_timer_32bit ? 0xffffffffull : 0xffffffull;
        return;
    }
    const char *pit_why = 0;
    pit_channel = pit_counter_start(str_eq(timer_source(), "lapic"), &pit_why);
    if (pit_channel >= 0) {
        clock = (struct refclock){ pit_channel == 2 ? "pit_channel2" : "pit_channel0", PIT_HZ,
                                   0, 0 };
        read_raw = read_pit_counter;
        wrap_mask = 0xffff;
        return;
    }
    if (rtc_present()) {
        clock = (struct refclock){ "cmos_rtc", 1, 0, 0 };
        read_raw = read_cmos;
        wrap_mask = UINT64_MAX;
        return;
    }
    static char why[160], passed[160];
    format_buf(passed, sizeof(passed), "no HPET, no PM timer, no PIT to poll (%s), no CMOS clock",
               pit_why);
    if (str_eq(timer_source(), "lapic")) {
        format_buf(why, sizeof(why),
                   "lapic_ticks count the APIC timer, calibrated against the TSC (its rate from "
                   "%s): not independent of the TSC", timer_lapic_calibration()->source);
        clock = (struct refclock){ "lapic_ticks", TIMER_HZ, why, passed };
    } else {
        clock = (struct refclock){ "pit_ticks", TIMER_HZ,
                                   "pit_ticks count the PIT's interrupts, which a host may delay, "
                                   "merge or drop: not a clock to judge a rate by",
                                   passed };
    }
    read_raw = read_pit_ticks;
    wrap_mask = UINT64_MAX;
}

bool refclock_wants_pit_channel0(void)
{
    const struct acpi_info *a = acpi_get();
    return !a->hpet_base && !a->pm_timer_port && !pit_counter_gate2_present();
}

/* Callers hold busy. */
static uint64_t extend(void)
{
    uint64_t raw = read_raw() & wrap_mask;
    extended += (raw - last_raw) & wrap_mask;
    last_raw = raw;
    return extended;
}

/* Between users' reads the tick keeps the count extended, so that a
 * counter that wraps fast (the PIT's in 55 ms) stays right across gaps. */
static void extend_on_tick(void)
{
    if (!__atomic_test_and_set(&busy, __ATOMIC_ACQUIRE)) {
        extend();
        __atomic_clear(&busy, __ATOMIC_RELEASE);
    }
}

const struct refclock *refclock_get(void)
{
    if (!clock.name) {
        choose();
        last_raw = read_raw() & wrap_mask;
        if (wrap_mask != UINT64_MAX)
            timer_on_tick(extend_on_tick);
    }
    return &clock;
}

uint64_t refclock_read(void)
{
    refclock_get();
    uint64_t flags = irq_save();
    while (__atomic_test_and_set(&busy, __ATOMIC_ACQUIRE))
        cpu_relax();
    uint64_t v = extend();
    __atomic_clear(&busy, __ATOMIC_RELEASE);
    irq_restore(flags);
    return v;
}

uint64_t refclock_to_ns(uint64_t counts)
{
    /* Split to stay within 64 bits for any window shorter than centuries. */
    uint64_t hz = refclock_get()->hz;
    return counts / hz * 1000000000ull + counts % hz * 1000000000ull / hz;
}

bool refclock_pm_timer_ns(uint64_t *ns)
{
    static uint64_t last, count;
    static bool started;
    const struct acpi_info *a = acpi_get();
    if (!a->pm_timer_port)
        return false;
    uint64_t mask = a->pm_timer_32bit ? 0xffffffffull : 0xffffffull;
    uint64_t raw = inl((uint16_t)a->pm_timer_port) & mask;
    if (started)
        count += (raw - last) & mask;
    started = true;
    last = raw;
    *ns = count / PM_TIMER_HZ * 1000000000ull + count % PM_TIMER_HZ * 1000000000ull / PM_TIMER_HZ;
    return true;
}

/* Coarser than this, a clock is read at its edges. */
#define EDGE_READ_BELOW_HZ 1000u

/* The CMOS seconds register's next change: the change lies after the
 * start of the last read that did not see it and before the end of the
 * read that did; the count is read right after. */
static bool cmos_edge(struct refclock_point *p)
{
    uint64_t deadline = timer_ticks() + 2 * TIMER_HZ + 1;
    p->tsc_lo = rdtsc_ordered();
    uint8_t seconds_then = rtc_seconds_raw();
    for (;;) {
        uint64_t t0 = rdtsc_ordered();
        uint8_t now = rtc_seconds_raw();
        p->tsc_hi = rdtsc_ordered();
        if (now != seconds_then)
            break;
        p->tsc_lo = t0;
        if (timer_ticks() > deadline)
            return false;
    }
    p->count = refclock_read();
    p->resolution_ns = 0;
    return true;
}

bool refclock_point(struct refclock_point *p)
{
    if (refclock_get()->hz < EDGE_READ_BELOW_HZ)
        return cmos_edge(p);
    p->tsc_lo = rdtsc_ordered();
    p->count = refclock_read();
    p->tsc_hi = rdtsc_ordered();
    p->resolution_ns = 1000000000ull / clock.hz + 1;
    return true;
}

void refclock_wait(uint64_t from, uint64_t counts)
{
    if (!counts)
        counts = 1;
    /* An edge read lands on the next count itself. */
    if (refclock_get()->hz < EDGE_READ_BELOW_HZ)
        counts--;
    while (refclock_read() - from < counts)
        cpu_relax();
}
