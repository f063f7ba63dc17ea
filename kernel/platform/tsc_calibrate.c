#include "platform/tsc_calibrate.h"

#include "platform/cpu.h"
#include "platform/pit.h"
#include "platform/rtc.h"

/* Channel 0, whose gate is always high (channel 2's is port 0x61's, which
 * machines without a PC speaker lack), read back for its OUT pin: reached
 * only when its interrupt does not arrive, so nothing else needs it. */
#define PIT_CH0_MODE0 0x30    /* channel 0, low then high byte, mode 0, binary */
#define PIT_READBACK_CH0 0xe2 /* read-back: status only, channel 0 */
#define PIT_STATUS_OUT 0x80
#define PIT_COUNT 59659u /* 50 ms */
#define PIT_ROUNDS 3
/* Without a known rate the waits are bounded in TSC cycles: 2^34 is two
 * seconds at 8 GHz, past any 50 ms countdown; 2^35 past any seconds edge. */
#define PIT_LIMIT_CYCLES (1ull << 34)
#define RTC_LIMIT_CYCLES (1ull << 35)

/* A change polled for: it happened after low_at (the start of the last read
 * that did not see it) and before seen_by (the end of the read that did). */
struct edge {
    uint64_t low_at, seen_by;
};

static uint64_t mid(const struct edge *e)
{
    return e->low_at + (e->seen_by - e->low_at) / 2;
}

static uint64_t ppm_of(uint64_t part, uint64_t whole)
{
    return whole ? (part * 1000000ull + whole - 1) / whole : UINT64_MAX;
}

/* Reads seen() until it says yes, each read bracketed by the TSC: the
 * change lies after e->low_at (the start of the last read that said no, or
 * what the caller set) and before e->seen_by. False once a read ends past
 * deadline; *misses counts the reads that said no. */
static bool poll_edge(bool (*seen)(void), uint64_t deadline, struct edge *e, unsigned *misses)
{
    *misses = 0;
    for (;;) {
        uint64_t t0 = rdtsc_ordered();
        bool yes = seen();
        e->seen_by = rdtsc_ordered();
        if (yes)
            return true;
        e->low_at = t0;
        ++*misses;
        if (e->seen_by > deadline)
            return false;
    }
}

static bool out_high(void)
{
    outb(PIT_CMD, PIT_READBACK_CH0);
    return inb(PIT_CH0) & PIT_STATUS_OUT;
}

/* One countdown: the cycles it took and the width of both brackets. */
static const char *pit_once(uint64_t *cycles, uint64_t *bracket)
{
    outb(PIT_CMD, PIT_CH0_MODE0);
    outb(PIT_CH0, PIT_COUNT & 0xff);
    uint64_t a0 = rdtsc_ordered();
    outb(PIT_CH0, PIT_COUNT >> 8); /* counting starts once this is written */
    uint64_t a1 = rdtsc_ordered();
    struct edge e = { a1, a1 };
    unsigned lows;
    if (!poll_edge(out_high, a1 + PIT_LIMIT_CYCLES, &e, &lows))
        return "its OUT never rose: channel 0 does not count";
    if (!lows)
        return "its OUT was high right after a count was loaded: no PIT";
    uint64_t start = a0 + (a1 - a0) / 2;
    *cycles = mid(&e) - start;
    *bracket = (a1 - a0) / 2 + (e.seen_by - e.low_at) / 2;
    return 0;
}

void tsc_measure_pit(struct tsc_measure *m)
{
    *m = (struct tsc_measure){ .source = "pit_channel0" };
    uint64_t best_cycles = 0, best_bracket = UINT64_MAX;
    for (int r = 0; r < PIT_ROUNDS; r++) {
        uint64_t cycles, bracket;
        const char *why = pit_once(&cycles, &bracket);
        if (why) {
            m->why_not = why;
            return;
        }
        if (bracket < best_bracket) {
            best_bracket = bracket;
            best_cycles = cycles;
        }
    }
    m->khz = best_cycles * PIT_HZ / PIT_COUNT / 1000;
    m->window_ns = PIT_COUNT * 1000000000ull / PIT_HZ;
    /* Where in its first input period the count started: one period. */
    m->uncertainty_ppm = ppm_of(best_bracket, best_cycles) + 1000000ull / PIT_COUNT + 1;
}

static uint8_t seconds_was;

static bool seconds_changed(void)
{
    return rtc_seconds_raw() != seconds_was;
}

/* The next change of the seconds register after the first read. */
static bool rtc_edge(struct edge *e, uint64_t deadline)
{
    e->low_at = rdtsc_ordered();
    seconds_was = rtc_seconds_raw();
    unsigned misses;
    return poll_edge(seconds_changed, deadline, e, &misses);
}

void tsc_measure_rtc(struct tsc_measure *m)
{
    *m = (struct tsc_measure){ .source = "cmos_rtc" };
    if (!rtc_present()) {
        m->why_not = "no CMOS clock";
        return;
    }
    struct edge a, b;
    uint64_t deadline = rdtsc_ordered() + RTC_LIMIT_CYCLES;
    if (!rtc_edge(&a, deadline) || !rtc_edge(&b, deadline)) {
        m->why_not = "the CMOS clock's seconds did not change";
        return;
    }
    uint64_t cycles = mid(&b) - mid(&a);
    m->khz = cycles / 1000;
    m->window_ns = 1000000000ull;
    m->uncertainty_ppm =
        ppm_of((a.seen_by - a.low_at) / 2 + (b.seen_by - b.low_at) / 2, cycles);
}
