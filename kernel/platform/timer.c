#include "platform/timer.h"

#include "lib/format.h"
#include "lib/runner.h"
#include "platform/apic.h"
#include "platform/cpu.h"
#include "platform/exit.h"
#include "platform/ioapic.h"
#include "platform/pit.h"
#include "platform/safe.h"
#include "platform/traps.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1
#define PIC_EOI 0x20

static volatile uint64_t ticks;
static volatile uint64_t run_deadline, check_deadline; /* 0: not armed */
static unsigned run_seconds, check_seconds;
static bool eoi_at_apic; /* the tick comes through the APIC, not the 8259 */
static const char *tick_name = "pit";
static volatile uint64_t *volatile stamp_slot;

static void expire(const char *what, unsigned seconds)
{
    char reason[96];
    format_buf(reason, sizeof(reason), "%s did not finish within %u s (watchdog)", what, seconds);
    runner_abort("TIMEOUT", reason);
    guest_exit(EXIT_GUEST_ERROR);
}

/* A hypervisor that re-enters the guest at an instruction without ever
 * completing it (PVM's VMCALL for KVM_HC_CLOCK_PAIRING) leaves RIP there
 * while the ticks come. A safe instruction (safe.h) seen at every tick for
 * a second resumes as if it had faulted, with SAFE_STUCK for the vector:
 * the check gets a verdict instead of the watchdog. */
static uint64_t stuck_rip, stuck_ticks;

static void end_stuck(struct trap_frame *f)
{
    /* The table is looked up only once a RIP has held for a second. */
    if (f->rip != stuck_rip) {
        stuck_rip = f->rip;
        stuck_ticks = 0;
    } else if (++stuck_ticks >= TIMER_HZ) {
        uint64_t resume = extable_lookup(f->rip);
        if (resume) {
            f->rip = resume;
            f->rsi = SAFE_STUCK;
        }
        stuck_ticks = 0;
    }
}

static void (*tick_fn)(void);

void timer_on_tick(void (*fn)(void))
{
    tick_fn = fn;
}

static void on_tick(struct trap_frame *f)
{
    end_stuck(f);
    if (tick_fn)
        tick_fn();
    volatile uint64_t *slot = stamp_slot;
    if (slot) {
        *slot = rdtsc_ordered();
        stamp_slot = 0;
    }
    uint64_t now = ++ticks;
    if (eoi_at_apic)
        apic_eoi();
    else
        outb(PIC1_CMD, PIC_EOI);
    if (check_deadline && now >= check_deadline)
        expire("the check", check_seconds);
    if (run_deadline && now >= run_deadline)
        expire("the run", run_seconds);
}

void timer_init(void)
{
    /* ICW1-4: remap the PICs to vectors 32-47, then mask all but IRQ0. */
    outb(PIC1_CMD, 0x11);
    outb(PIC2_CMD, 0x11);
    outb(PIC1_DATA, TIMER_VECTOR);
    outb(PIC2_DATA, TIMER_VECTOR + 8);
    outb(PIC1_DATA, 4);
    outb(PIC2_DATA, 2);
    outb(PIC1_DATA, 0x01);
    outb(PIC2_DATA, 0x01);
    outb(PIC1_DATA, 0xfe);
    outb(PIC2_DATA, 0xff);

    uint16_t divisor = (uint16_t)((PIT_HZ + TIMER_HZ / 2) / TIMER_HZ);
    outb(PIT_CMD, 0x34); /* channel 0, lobyte/hibyte, mode 2 (rate generator) */
    outb(PIT_CH0, (uint8_t)divisor);
    outb(PIT_CH0, (uint8_t)(divisor >> 8));

    traps_set_handler(TIMER_VECTOR, on_tick);
}

static unsigned pit_pin;
static bool pit_routed;

void timer_mask_pit(void)
{
    outb(PIC1_DATA, 0xff);
    outb(PIC2_DATA, 0xff);
    if (pit_routed)
        ioapic_mask_pin(pit_pin);
    pit_routed = false;
}

const char *timer_use_pit_ioapic(bool pin2)
{
    irq_disable();
    timer_mask_pit(); /* the 8259, and the route tried before, where nothing came */
    const char *why = pin2 ? ioapic_route_gsi(2, TIMER_VECTOR, apic_id(), false, &pit_pin)
                           : ioapic_route_isa(0, TIMER_VECTOR, apic_id(), false, &pit_pin);
    pit_routed = !why;
    if (!why) {
        eoi_at_apic = true;
        tick_name = "pit_ioapic";
    }
    irq_enable();
    return why;
}

/* One reading of the APIC timer, bracketed by two TSC reads: the TSC at its
 * midpoint, and how long the bracket took (a vCPU descheduled inside it
 * shows a long one). */
struct apic_reading {
    uint64_t tsc, bracket;
    uint32_t count;
};

static struct apic_reading apic_read_bracketed(void)
{
    uint64_t t0 = rdtsc_ordered();
    uint32_t count = apic_timer_current();
    uint64_t t1 = rdtsc_ordered();
    return (struct apic_reading){ t0 + (t1 - t0) / 2, t1 - t0, count };
}

#define CALIBRATION_ROUNDS 5u
#define CALIBRATION_MS 10u

static struct timer_calibration calibration;

const char *timer_use_lapic(uint64_t khz, const char *source)
{
    if (!khz)
        return "no CPUID leaf states the TSC frequency, so the APIC timer cannot be calibrated";
    irq_disable();
    timer_mask_pit();
    apic_enable(true);
    /* APIC counts per 10 ms of TSC at the stated frequency, in rounds: a
     * round the host preempted between a TSC read and the APIC read is off,
     * so the median of five is taken. */
    uint64_t per_10ms[CALIBRATION_ROUNDS];
    uint64_t span = khz * CALIBRATION_MS;
    calibration.tsc_khz = khz;
    calibration.source = source;
    for (unsigned r = 0; r < CALIBRATION_ROUNDS; r++) {
        apic_timer_free_run();
        struct apic_reading a = apic_read_bracketed(), b;
        do {
            cpu_relax();
            b = apic_read_bracketed();
        } while (b.tsc - a.tsc < span);
        uint64_t counted = a.count - b.count;
        per_10ms[r] = counted * span / (b.tsc - a.tsc);
        if (a.bracket > calibration.max_bracket_cycles)
            calibration.max_bracket_cycles = a.bracket;
        if (b.bracket > calibration.max_bracket_cycles)
            calibration.max_bracket_cycles = b.bracket;
    }
    for (unsigned i = 1; i < CALIBRATION_ROUNDS; i++) /* insertion sort */
        for (unsigned j = i; j > 0 && per_10ms[j - 1] > per_10ms[j]; j--) {
            uint64_t t = per_10ms[j];
            per_10ms[j] = per_10ms[j - 1];
            per_10ms[j - 1] = t;
        }
    calibration.min_per_10ms = per_10ms[0];
    calibration.median_per_10ms = per_10ms[CALIBRATION_ROUNDS / 2];
    calibration.max_per_10ms = per_10ms[CALIBRATION_ROUNDS - 1];
    if (calibration.median_per_10ms < 100)
        return "the APIC timer does not count";
    uint32_t per_tick =
        (uint32_t)(calibration.median_per_10ms * (1000 / CALIBRATION_MS) / TIMER_HZ);
    eoi_at_apic = true;
    tick_name = "lapic";
    apic_timer_periodic(TIMER_VECTOR, per_tick);
    irq_enable();
    return 0;
}

const struct timer_calibration *timer_lapic_calibration(void)
{
    return &calibration;
}

const char *timer_source(void)
{
    return tick_name;
}

bool timer_ticking(void)
{
    /* Two ticks within 2^32 TSC cycles (over a second on any TSC): a PIT
     * that never interrupts (none, or masked by the VMM) fails this. */
    uint64_t start = rdtsc(), first = ticks;
    while (ticks < first + 2)
        if (rdtsc() - start > (1ull << 32))
            return false;
    return true;
}

uint64_t timer_ticks(void)
{
    return ticks;
}

void timer_stamp_next_tick(volatile uint64_t *slot)
{
    *slot = 0;
    stamp_slot = slot;
}

void timer_sleep_ticks(uint64_t n)
{
    uint64_t end = ticks + n;
    while (ticks < end)
        safe_halt();
}

void timer_sleep_ticks_measured(uint64_t n, struct halt_stats *h)
{
    uint64_t end = ticks + n;
    volatile uint64_t stamp;
    *h = (struct halt_stats){ 0 };
    while (ticks < end) {
        /* Off until the HLT (sti; hlt is one step), so the stamp is this
         * halt's tick. */
        irq_disable();
        timer_stamp_next_tick(&stamp);
        uint64_t at = rdtsc_ordered();
        safe_halt();
        /* Woken by another interrupt: its handler counts as halted. */
        uint64_t woke = stamp ? stamp : rdtsc_ordered();
        h->halted_cycles += woke > at ? woke - at : 0;
        h->halts++;
    }
    stamp_slot = 0;
}

static uint64_t deadline(unsigned seconds)
{
    return ticks + (uint64_t)seconds * TIMER_HZ;
}

void watchdog_arm_run(unsigned seconds)
{
    run_seconds = seconds;
    run_deadline = deadline(seconds);
}

void watchdog_arm_check(unsigned seconds)
{
    check_seconds = seconds;
    check_deadline = deadline(seconds);
}

void watchdog_disarm_check(void)
{
    check_deadline = 0;
}
