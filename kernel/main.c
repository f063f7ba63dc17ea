/* Start-up: console, traps, boot information, options, timer; then every
 * suite in order, the summary, and the exit status. */
#include <stdint.h>

#include "checks/shared/exit_costs.h"
#include "iface/hv_clock_rate.h"
#include "iface/hv_cpuid.h"
#include "iface/xen.h"
#include "lib/format.h"
#include "lib/options.h"
#include "lib/report.h"
#include "lib/runner.h"
#include "platform/acpi.h"
#include "platform/apic.h"
#include "platform/bootinfo.h"
#include "platform/console.h"
#include "platform/cpu.h"
#include "platform/exit.h"
#include "platform/refclock.h"
#include "platform/timer.h"
#include "platform/traps.h"
#include "platform/tsc_calibrate.h"

#define PVCHECK_VERSION "0.1"

extern const struct suite *const __start_pvcheck_suites[], *const __stop_pvcheck_suites[];

static void arm(const struct check_ctx *c)
{
    (void)c;
    watchdog_arm_check(pvcheck_options.check_timeout_s);
}

static void disarm(const struct check_ctx *c)
{
    (void)c;
    watchdog_disarm_check();
}

static __attribute__((noreturn)) void bail(const char *what, const char *detail)
{
    report_wrapped(0, "error: ", detail);
    runner_refuse(what);
    guest_exit(EXIT_GUEST_ERROR);
}

/* The suites this run has, in report order; an abort closes them. */
static unsigned collect(const struct suite **suites)
{
    unsigned n = runner_collect(__start_pvcheck_suites,
                                (unsigned)(__stop_pvcheck_suites - __start_pvcheck_suites),
                                suites, RUNNER_MAX_SUITES);
    runner_prepare(suites, n);
    return n;
}

/* A tick from what the machine has, in order: the PIT through the 8259,
 * the same once the APIC passes the 8259 on (firmware such as microvm's
 * may leave LINT0 masked), the PIT through the IOAPIC where the MADT says
 * and then at GSI 2; else the APIC timer calibrated against the TSC at the
 * rate CPUID states, or one measured against the PIT or the CMOS clock.
 * The log says which. */
static char no_time_base[384];

static bool start_tick(void)
{
    timer_init();
    irq_enable();
    /* A rate reference is worth more than the PIT's interrupt as the tick. */
    bool keep_channel0 = pvcheck_options.tick == TICK_AUTO && refclock_wants_pit_channel0();
    bool pit_wanted =
        pvcheck_options.tick == TICK_PIT || (pvcheck_options.tick == TICK_AUTO && !keep_channel0);
    if (pit_wanted && timer_ticking()) {
        report_line(0, "# tick: pit (IRQ0 through the 8259)");
        return true;
    }
    apic_enable(true);
    if (pit_wanted && timer_ticking()) {
        report_line(0, "# tick: pit (IRQ0 through the 8259, once the APIC's LINT0 was set to "
                       "ExtINT: the firmware had left it otherwise)");
        return true;
    }
    const char *why = pit_wanted ? timer_use_pit_ioapic(false) : 0;
    if (pit_wanted && !why && timer_ticking()) {
        report_line(0, "# tick: pit_ioapic (IRQ0 through the IOAPIC, where the firmware's "
                       "MADT or MP table says)");
        return true;
    }
    if (pit_wanted && !why && !timer_use_pit_ioapic(true) && timer_ticking()) {
        report_line(0, "# tick: pit_ioapic (IRQ0 at GSI 2: nothing came where the MADT says; "
                       "an MADT without an interrupt source override for IRQ0 misdescribes "
                       "a machine that wires it to pin 2)");
        return true;
    }
    if (pit_wanted)
        report_line(0, "# tick: no PIT interrupt through the 8259 or the IOAPIC (%s)",
                    why ? why : "routed, none came");
    else if (keep_channel0)
        report_line(0, "# tick: the APIC timer, keeping the PIT's channel 0 (if any) as the "
                       "rate reference: no HPET, PM timer or port 0x61; tick=pit would take "
                       "the PIT");
    else
        report_line(0, "# tick: the APIC timer, as tick=%s asks; the PIT's interrupt not used",
                    pvcheck_options.tick == TICK_LAPIC ? "lapic" : "measured");
    timer_mask_pit();
    const char *source;
    struct tsc_measure m = { 0 };
    if (pvcheck_options.tick != TICK_MEASURED)
        m.khz = hv_tsc_khz(&source);
    if (!m.khz) {
        tsc_measure_pit(&m);
        if (!m.khz) {
            report_line(0, "# tick: TSC rate: %s; pit_channel0: %s",
                        pvcheck_options.tick == TICK_MEASURED ? "tick=measured" : "no CPUID leaf",
                        m.why_not);
            tsc_measure_rtc(&m);
        }
        if (m.khz) {
            source = m.source;
            report_line(0, "# tick: TSC rate measured: tsc_khz=%llu against %s over %llu ns, "
                           "uncertainty_ppm=%llu",
                        (unsigned long long)m.khz, m.source, (unsigned long long)m.window_ns,
                        (unsigned long long)m.uncertainty_ppm);
        } else {
            report_line(0, "# tick: cmos_rtc: %s", m.why_not);
            static char why[256];
            m.khz = hv_clock_tsc_khz(&source, why, sizeof(why));
            if (!m.khz) {
                format_buf(no_time_base, sizeof(no_time_base),
                           "no clock of known rate: no CPUID leaf, PIT, CMOS clock or "
                           "hypervisor clock gives the TSC's (%s)", why);
                return false;
            }
            report_line(0, "# tick: TSC rate from the hypervisor's own clock, %s: "
                           "tsc_khz=%llu; that clock is under test, and the tick and timed "
                           "waits are only as right as it is", source, (unsigned long long)m.khz);
        }
    }
    why = timer_use_lapic(m.khz, source);
    if (why)
        bail("no timer", why);
    if (!timer_ticking())
        bail("no timer", "neither the PIT (through the 8259 or the IOAPIC) nor the APIC timer "
                         "ticked; pvcheck needs a tick for its watchdog and timed waits");
    const struct timer_calibration *k = timer_lapic_calibration();
    report_line(0, "# tick: lapic (the APIC timer, calibrated against the TSC)");
    report_line(0, "# tick: tsc_khz=%llu (%s) apic_counts_per_10ms median=%llu min=%llu "
                   "max=%llu max_bracket_cycles=%llu",
                (unsigned long long)k->tsc_khz, k->source,
                (unsigned long long)k->median_per_10ms, (unsigned long long)k->min_per_10ms,
                (unsigned long long)k->max_per_10ms, (unsigned long long)k->max_bracket_cycles);
    return true;
}

void kmain(uint32_t magic, uint32_t info)
{
    console_init();
    traps_init();
    report_set_sink(console_write);
    exit_set_poweroff(xen_poweroff);

    /* The empty line keeps firmware banners off the version line. */
    report_line(0, "%s", "");
    report_line(0, "KTAP version 1");

    bootinfo_parse(magic, info, &pvcheck_boot);
    report_line(0, "# pvcheck %s boot=%s loader=%s firmware=%s", PVCHECK_VERSION,
                pvcheck_boot.protocol, pvcheck_boot.loader ? pvcheck_boot.loader : "-",
                pvcheck_boot.firmware ? pvcheck_boot.firmware : "-");
    report_line(0, "# cmdline: %s", pvcheck_boot.cmdline);
    const struct suite *suites[RUNNER_MAX_SUITES];
    unsigned n = collect(suites);
    if (pvcheck_boot.problem)
        bail("bad boot information", pvcheck_boot.problem);

    acpi_init(pvcheck_boot.rsdp, pvcheck_boot.protocol, !pvcheck_boot.firmware);
    const struct acpi_info *acpi = acpi_get();
    report_line(0, "# acpi: rsdp=0x%llx from=%s", (unsigned long long)acpi->rsdp,
                acpi->rsdp ? acpi->rsdp_source : "none");

    char err[768];
    if (options_parse(&pvcheck_options, pvcheck_boot.cmdline, err, sizeof(err)) != 0)
        bail("bad command line", err);

    n = collect(suites); /* selftest= adds a suite */
    if (runner_validate_names(suites, n, &pvcheck_options, err, sizeof(err)) != 0)
        bail("bad command line", err);

    if (!start_tick()) {
        /* Checks are bounded by time; with no time there is no check to run. */
        report_line(0, "# tick: none: %s", no_time_base);
        report_line(0, "# reference: none");
        runner_make_unavailable("no clock of known rate (the log's '# tick: none' line says "
                                "what was tried)");
        struct run_totals totals;
        runner_run(suites, n, &pvcheck_options, 0, &totals);
        runner_print_summary(&totals);
        guest_exit(EXIT_PASS);
    }
    const struct refclock *ref = refclock_get();
    report_line(0, "# reference: %s hz=%llu%s%s%s", ref->name, (unsigned long long)ref->hz,
                ref->unfit ? " (rate checks skip: " : "", ref->unfit ? ref->unfit : "",
                ref->unfit ? ")" : "");
    if (ref->passed_over)
        report_line(0, "# reference: passed over: %s", ref->passed_over);
    watchdog_arm_run(pvcheck_options.run_timeout_s);
    exit_costs_report();

    struct runner_hooks hooks = { arm, disarm };
    struct run_totals totals;
    runner_run(suites, n, &pvcheck_options, &hooks, &totals);
    runner_print_summary(&totals);
    guest_exit(totals.failed ? EXIT_FAIL : EXIT_PASS);
}
