/* Suite pv_msrs, the MSRs that steer the host rather than hand it memory:
 * poll control (with the wake-up latency it should change) and migration
 * control. */
#include "checks/pv_msrs/pv_msrs_checks.h"
#include "checks/shared/pvclock_checks.h"
#include "iface/hv_cpuid.h"
#include "iface/kvm.h"
#include "iface/pvclock.h"
#include "lib/report.h"
#include "platform/budget.h"
#include "platform/cpu.h"
#include "platform/safe.h"
#include "platform/smp.h"
#include "platform/timer.h"

/* Host-side polling shows in how soon a halted vCPU answers an IPI sent
 * just after it halted: vCPU 1 sets its own MSR_KVM_POLL_CONTROL (the MSR is
 * per vCPU) and halts; vCPU 0 kicks it WAKE_DELAY_US later. */
#define WAKE_ROUNDS 10u
#define WAKE_DELAY_US 20u

static struct {
    uint64_t poll;
    int vector;
    volatile int ready, stop;
    volatile uint64_t woke_at;
} waker;

static void halt_job(void *arg)
{
    (void)arg;
    waker.vector = wrmsr_safe(MSR_KVM_POLL_CONTROL, waker.poll);
    while (!waker.stop) {
        irq_disable();
        waker.ready = 1;
        safe_halt();
        waker.woke_at = rdtsc_ordered();
        waker.ready = 0;
        while (waker.woke_at && !waker.stop)
            cpu_relax();
    }
}

static bool wait_for(volatile int *flag)
{
    uint64_t end = timer_ticks() + TIMER_HZ / 10;
    while (!*flag && timer_ticks() < end)
        cpu_relax();
    return *flag;
}

/* The fastest of WAKE_ROUNDS kicks, in TSC cycles; 0 if vCPU 1 failed. */
static uint64_t wake_cycles(uint64_t poll, uint64_t khz)
{
    waker.poll = poll;
    waker.stop = waker.ready = 0;
    waker.woke_at = 0;
    if (!smp_start(1, halt_job, 0))
        return 0;
    uint64_t best = ~0ull;
    for (unsigned r = 0; r < WAKE_ROUNDS && wait_for(&waker.ready); r++) {
        spin_tsc_cycles(khz * WAKE_DELAY_US / 1000);
        uint64_t t0 = rdtsc_ordered();
        smp_kick(1);
        uint64_t end = timer_ticks() + TIMER_HZ / 10;
        while (!waker.woke_at && timer_ticks() < end)
            cpu_relax();
        if (waker.woke_at && waker.woke_at - t0 < best)
            best = waker.woke_at - t0;
        waker.woke_at = 0;
    }
    waker.stop = 1;
    smp_kick(1);
    bool done = smp_wait(1, 1000);
    return done && waker.vector == NO_FAULT && best != ~0ull ? best : 0;
}

enum verdict check_poll_control(struct check_ctx *c)
{
    const char *why = kvm_missing(KVM_FEATURE_POLL_CONTROL, "KVM_FEATURE_POLL_CONTROL");
    if (why)
        return skip(c, "%s", why);
    uint64_t initial = 0;
    int rd = rdmsr_safe(MSR_KVM_POLL_CONTROL, &initial);
    figure(c, "initial=0x%llx (KVM resets it to 1: polling on)", (unsigned long long)initial);
    expect(c, rd == NO_FAULT, "rdmsr(MSR_KVM_POLL_CONTROL) raised vector %d", rd);
    pv_expect_refused(c, MSR_KVM_POLL_CONTROL, "MSR_KVM_POLL_CONTROL", 2,
                      "msr.rst defines bit 0 only");
    pv_expect_refused(c, MSR_KVM_POLL_CONTROL, "MSR_KVM_POLL_CONTROL", 1ull << 63 | 1,
                      "msr.rst defines bit 0 only");
    pv_expect_accepted(c, MSR_KVM_POLL_CONTROL, "MSR_KVM_POLL_CONTROL", 0);
    pv_expect_accepted(c, MSR_KVM_POLL_CONTROL, "MSR_KVM_POLL_CONTROL", 1);
    wrmsr_safe(MSR_KVM_POLL_CONTROL, initial & 1);
    uint64_t khz = pvclock_tsc_khz();
    if (smp_init()->online < 2 || !khz) {
        figure(c, "wake-up latency not measured: it needs a second vCPU and a stated TSC "
                  "frequency");
        return pass(c);
    }
    uint64_t off = wake_cycles(0, khz), on = wake_cycles(1, khz);
    figure(c, "ipi_to_wake_cycles polling_off=%llu polling_on=%llu (fastest of %u kicks, %u us "
              "after vCPU 1 halted; 0: not measured)",
           (unsigned long long)off, (unsigned long long)on, WAKE_ROUNDS, WAKE_DELAY_US);
    return pass(c);
}

enum verdict check_migration_control(struct check_ctx *c)
{
    const char *why = kvm_missing(KVM_FEATURE_MIGRATION_CONTROL, "KVM_FEATURE_MIGRATION_CONTROL");
    if (why)
        return skip(c, "%s", why);
    uint64_t initial = 0;
    int rd = rdmsr_safe(MSR_KVM_MIGRATION_CONTROL, &initial);
    figure(c, "initial=0x%llx", (unsigned long long)initial);
    expect(c, rd == NO_FAULT && (initial & 1),
           "msr.rst: bit 0 is 1 at start for a guest without encrypted memory; it reads 0x%llx "
           "(vector %d)", (unsigned long long)initial, rd);
    pv_expect_accepted(c, MSR_KVM_MIGRATION_CONTROL, "MSR_KVM_MIGRATION_CONTROL", 1);
    return pass(c);
}
