/* The guest runtime pieces the checks use (timer ticks, halting, the
 * reference clock, the vCPU set), on the host and in the model's time. */
#include <time.h>

#include "checks/smp/smp_checks.h"
#include "model_internal.h"
#include "platform/apic.h"
#include "platform/bootinfo.h"
#include "platform/level_irq.h"
#include "platform/traps.h"
#include "platform/percpu.h"
#include "platform/refclock.h"
#include "platform/rtc.h"
#include "platform/smp.h"
#include "platform/timer.h"

uint64_t timer_ticks(void)
{
    return model_now_ns() / (1000000000ull / TIMER_HZ);
}

void timer_sleep_ticks(uint64_t n)
{
    uint64_t end = timer_ticks() + n;
    model_set_halted(true);
    while (timer_ticks() < end) {
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, 0);
    }
    model_set_halted(false);
}

/* One halt, timed inside the model's halted stretch. */
void timer_sleep_ticks_measured(uint64_t n, struct halt_stats *h)
{
    uint64_t end = timer_ticks() + n;
    model_set_halted(true);
    uint64_t at = rdtsc();
    while (timer_ticks() < end) {
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, 0);
    }
    *h = (struct halt_stats){ rdtsc() - at, 1 };
    model_set_halted(false);
}

static const struct refclock host_clock = { "host_monotonic", 1000000000ull, 0, 0 };
/* A machine with neither HPET nor PM timer: the tick count, which judges no
 * rate (as pvcheck's own refclock says of it). */
static const struct refclock tick_count = { "tick_count", 1000000000ull,
                                            "the model's machine has no HPET or PM timer, only "
                                            "a tick count",
                                            "no HPET, no PM timer" };
static bool no_reference;

void model_set_no_reference(bool none)
{
    no_reference = none;
}

const struct refclock *refclock_get(void)
{
    return no_reference ? &tick_count : &host_clock;
}

uint64_t refclock_read(void)
{
    return model_now_ns();
}

uint64_t refclock_to_ns(uint64_t counts)
{
    return counts;
}

/* The model's tick is no calibrated APIC timer. */
const struct timer_calibration *timer_lapic_calibration(void)
{
    static const struct timer_calibration none = { 0 };
    return &none;
}

/* The host's clock is a fine one: read once between two TSC reads. */
bool refclock_point(struct refclock_point *p)
{
    p->tsc_lo = rdtsc_ordered();
    p->count = refclock_read();
    p->tsc_hi = rdtsc_ordered();
    p->resolution_ns = 1000000000ull / refclock_get()->hz + 1;
    return true;
}

void refclock_wait(uint64_t from, uint64_t counts)
{
    while (refclock_read() - from < (counts ? counts : 1))
        cpu_relax();
}

bool refclock_pm_timer_ns(uint64_t *ns)
{
    (void)ns;
    return false;
}

/* Interrupts: the handlers the checks install, run by the model on the
 * guest's thread. */
static irq_handler handlers[256];

void traps_set_handler(unsigned vector, irq_handler h)
{
    if (vector < 256)
        handlers[vector] = h;
}

/* No boot protocol: no RAM top, so no check touches guest memory. */
struct boot_info pvcheck_boot;

/* The model never raises an exception: a hook has nothing to see. */
void traps_set_fault_hook(unsigned vector, fault_hook h)
{
    (void)vector, (void)h;
}

void model_deliver_irq(unsigned vector)
{
    if (vector < 256 && handlers[vector])
        handlers[vector](0);
}

uint32_t apic_id(void) { return 0; }
void apic_eoi(void) { model_pv_eoi(); }
bool apic_vector_level(uint8_t vector) { return model_level_tmr(vector); }
bool apic_vector_in_service(uint8_t vector) { return model_in_service(vector); }
bool apic_vector_requested(uint8_t vector) { return model_requested(vector); }
void apic_timer_periodic(uint8_t vector, uint32_t count) { (void)count; model_apic_timer(vector); }
void apic_timer_free_run(void) { model_apic_timer(-1); }
const char *timer_source(void) { return "pit"; }

const char *level_irq_start(uint8_t vector)
{
    model_level_start(vector);
    return 0;
}
void level_irq_lower(void) { model_exit(); model_level_lower(); }
void level_irq_stop(void) { model_level_stop(); }
bool level_irq_awaiting_eoi(void) { return model_level_remote_irr(); }
bool apic_send_fixed(uint32_t dest, uint8_t vector)
{
    (void)dest;
    return model_pv_self_ipi(vector);
}
void smp_kick(unsigned cpu) { (void)cpu; }

/* One vCPU, or two (a row's two_vcpus): vCPU 1 runs each job at once, on
 * the guest's thread, as model_cpu 1. A job that waits for vCPU 0 would
 * wait for ever: two-vCPU rows run the tsc suite alone, whose jobs never
 * do. */
static const struct smp_status one_vcpu = { true, "the model has one vCPU", 1, 1, 0, 0, { 0 },
                                            false, "model" };
static const struct smp_status two_vcpus = { true, 0, 2, 2, 0, 0, { 0 }, false, "model" };
static uint8_t vcpu_pages[MODEL_MAX_VCPUS][SMP_PAGE_BYTES] __attribute__((aligned(4096)));

/* A hotplug row's machine lists one vCPU absent; the guest starts it once
 * the host has added it (model_hotplug_after). */
static bool hot_started;

const struct smp_status *smp_init(void)
{
    return model_vcpus == 2 && (!model_hotplug_slot || hot_started) ? &two_vcpus : &one_vcpu;
}
unsigned smp_online(void) { return model_hotplug_slot && !hot_started ? 1 : model_vcpus; }
unsigned smp_absent(void) { return model_hotplug_slot && !hot_started ? 1 : 0; }
unsigned smp_start_added(unsigned wait_ms)
{
    (void)wait_ms;
    if (!model_hotplug_slot || hot_started || model_vcpus < 2)
        return 0;
    hot_started = true;
    return 1;
}
unsigned this_cpu(void) { return model_cpu; }
uint32_t smp_apic_id(unsigned cpu) { return cpu; }
const char *smp_late_reason(unsigned cpu) { (void)cpu; return "the model runs every job at once"; }
uint8_t *smp_page(unsigned cpu) { return cpu < smp_online() ? vcpu_pages[cpu] : 0; }
bool smp_start(unsigned cpu, void (*fn)(void *), void *arg)
{
    if (cpu == 0 || cpu >= smp_online())
        return false;
    model_cpu = cpu;
    fn(arg);
    model_cpu = 0;
    return true;
}
bool smp_wait(unsigned cpu, unsigned timeout_ms)
{
    (void)cpu, (void)timeout_ms;
    return true;
}
bool smp_run_on(struct check_ctx *c, unsigned cpu, void (*job)(void *), void *arg)
{
    (void)c;
    return smp_start(cpu, job, arg);
}
bool smp_run_on_aps(struct check_ctx *c, void (*job)(void *), void *results, size_t size)
{
    for (unsigned cpu = 1; cpu < smp_online(); cpu++)
        smp_run_on(c, cpu, job, (uint8_t *)results + cpu * size);
    return true;
}

/* The CMOS clock: the host's real time, which runs on while the model's
 * VM is stopped for a migration. */
static uint64_t realtime_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec;
}

bool rtc_present(void) { return true; }

uint8_t rtc_seconds_raw(void)
{
    model_exit();
    return (uint8_t)(realtime_s() % 60);
}

bool rtc_read_unix(uint64_t *unix_s)
{
    model_exit();
    *unix_s = realtime_s();
    return true;
}

/* The matrix bounds each row itself (and each check's duration, through its
 * check_ms figures). */
void watchdog_arm_check(unsigned seconds) { (void)seconds; }
