/* Start-up: console, traps, boot information, options, timer; then every
 * suite in order, the summary, and the exit status. */
#include <stdint.h>

#include "checks/shared/exit_costs.h"
#include "iface/hv_cpuid.h"
#include "iface/xen.h"
#include "lib/options.h"
#include "lib/report.h"
#include "lib/runner.h"
#include "platform/acpi.h"
#include "platform/bootinfo.h"
#include "platform/console.h"
#include "platform/cpu.h"
#include "platform/exit.h"
#include "platform/timer.h"
#include "platform/traps.h"

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
    report_line(0, "# error: %s", detail);
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

    char err[512];
    if (options_parse(&pvcheck_options, pvcheck_boot.cmdline, err, sizeof(err)) != 0)
        bail("bad command line", err);

    n = collect(suites); /* selftest= adds a suite */
    if (runner_validate_names(suites, n, &pvcheck_options, err, sizeof(err)) != 0)
        bail("bad command line", err);

    timer_init();
    irq_enable();
    if (!timer_ticking()) {
        const char *source;
        uint64_t tsc_khz = hv_tsc_khz(&source);
        const char *why = timer_use_lapic(tsc_khz, source);
        if (why)
            bail("no timer", why);
        if (!timer_ticking())
            bail("no timer", "neither the PIT (IRQ0 through the 8259) nor the APIC timer ticked; "
                             "pvcheck needs a tick for its watchdog and timed waits");
        const struct timer_calibration *k = timer_lapic_calibration();
        report_line(0, "# tick: no PIT; APIC timer calibrated against the TSC");
        report_line(0, "# tick: tsc_khz=%llu (%s) apic_counts_per_10ms median=%llu min=%llu "
                       "max=%llu max_bracket_cycles=%llu",
                    (unsigned long long)k->tsc_khz, k->source,
                    (unsigned long long)k->median_per_10ms, (unsigned long long)k->min_per_10ms,
                    (unsigned long long)k->max_per_10ms,
                    (unsigned long long)k->max_bracket_cycles);
    }
    watchdog_arm_run(pvcheck_options.run_timeout_s);
    exit_costs_report();

    struct runner_hooks hooks = { arm, disarm };
    struct run_totals totals;
    runner_run(suites, n, &pvcheck_options, &hooks, &totals);
    runner_print_summary(&totals);
    guest_exit(totals.failed ? EXIT_FAIL : EXIT_PASS);
}
