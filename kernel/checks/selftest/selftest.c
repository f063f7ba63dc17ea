/* Suite "selftest": present only with selftest=, it makes the guest fail on
 * purpose so that the crash, watchdog and host-timeout paths can be tested. */
#include "lib/options.h"
#include "lib/report.h"
#include "platform/cpu.h"
#include "platform/safe.h"
#include "platform/smp.h"
#include "platform/timer.h"
#include "platform/traps.h"
#include "sti_shadow.h"

static bool retry(struct trap_frame *f)
{
    (void)f;
    return true;
}

static void ap_fault_job(void *arg)
{
    (void)arg;
    __asm__ volatile("ud2");
}

static void ap_hang_job(void *arg)
{
    (void)arg;
    irq_disable();
    for (;;)
        cpu_relax();
}

static void ap_quick_job(void *arg)
{
    (void)arg;
}

static enum verdict on_second_vcpu(struct check_ctx *c, void (*job)(void *), bool ipi)
{
    smp_init();
    if (smp_online() < 2)
        return skip(c, "needs a second vCPU");
    figure(c, "starting the job on vCPU 1");
    if (!smp_post(1, job, 0, ipi))
        return fail(c, "vCPU 1 is busy");
    if (!smp_wait(1, 1000))
        return fail(c, "vCPU 1 (APIC ID %u) did not finish within 1000 ms: %s", smp_apic_id(1),
                    smp_late_reason(1));
    return fail(c, "the job on vCPU 1 returned");
}

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
    case SELFTEST_AP_FAULT:
        return on_second_vcpu(c, ap_fault_job, true);
    case SELFTEST_AP_HANG:
        return on_second_vcpu(c, ap_hang_job, true);
    case SELFTEST_AP_NO_IPI:
        /* Let vCPU 1 reach its halt first: a job it finds before halting needs no IPI. */
        smp_init();
        timer_sleep_ticks(TIMER_HZ / 10);
        return on_second_vcpu(c, ap_quick_job, false);
    case SELFTEST_STUCK: {
        /* A safe ud2 whose #UD is retried forever. */
        long vector = NO_FAULT;
        traps_set_fault_hook(VECTOR_UD, retry);
        __asm__ volatile("1: ud2\n2:\n" EXTABLE_ENTRY(1b, 2b) : "+S"(vector));
        traps_set_fault_hook(VECTOR_UD, 0);
        return fail(c, "ud2 ended with vector %ld", vector);
    }
    case SELFTEST_STI_SHADOW:
        return skip(c, "not a failure");
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
    { "sti_shadow",
      "SDM 3A 6.8.3: no interrupt on the boundary after STI",
      check_sti_shadow },
    { "mov_ss_shadow",
      "SDM 3A 6.8.3: no interrupt on the boundary after MOV SS",
      check_mov_ss_shadow },
};

static const struct suite selftest_suite = {
    .name = "selftest",
    .order = -1000, /* first: a crash then closes every other suite as not run */
    .checks = selftest_checks,
    .n_checks = ARRAY_SIZE(selftest_checks),
    .present = selftest_present,
};
REGISTER_SUITE(selftest_suite);
