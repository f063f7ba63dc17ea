/* Suite "selftest": present only with selftest=, it makes the guest fail on
 * purpose so that the crash, watchdog and host-timeout paths can be tested. */
#include "cpu.h"
#include "pvcheck.h"
#include "report.h"

static enum verdict check_trigger(struct check_ctx *c)
{
    switch (pvcheck_options.selftest) {
    case SELFTEST_FAULT:
        figure(c, "executing ud2");
        __asm__ volatile("ud2");
        break;
    case SELFTEST_HANG:
        figure(c, "spinning with interrupts enabled");
        for (;;)
            cpu_relax();
    case SELFTEST_HANG_CLI:
        figure(c, "spinning with interrupts disabled");
        irq_disable();
        for (;;)
            cpu_relax();
    case SELFTEST_NONE:
        break;
    }
    return fail(c, "selftest action returned");
}

static bool selftest_present(void)
{
    return pvcheck_options.selftest != SELFTEST_NONE;
}

static const struct check selftest_checks[] = {
    { "trigger", "selftest= makes this check crash or hang on purpose", check_trigger },
};

static const struct suite selftest_suite = {
    .name = "selftest",
    .order = 1000,
    .checks = selftest_checks,
    .n_checks = ARRAY_SIZE(selftest_checks),
    .present = selftest_present,
};
REGISTER_SUITE(selftest_suite);
