/* Runs a job on every AP, for any suite that measures on every vCPU. */
#include "checks/shared/aps.h"

#include "lib/report.h"
#include "platform/smp.h"

bool smp_run_on_aps(struct check_ctx *c, void (*job)(void *), void *results, size_t size)
{
    unsigned n = smp_online();
    bool ok = true;
    for (unsigned cpu = 1; cpu < n; cpu++)
        if (!smp_start(cpu, job, (uint8_t *)results + cpu * size))
            ok = expect(c, false, "vCPU %u is still busy with an earlier job", cpu);
    for (unsigned cpu = 1; cpu < n; cpu++)
        if (!smp_wait(cpu, SMP_JOB_TIMEOUT_MS))
            ok = expect(c, false, "vCPU %u (APIC ID %u) did not finish within %u ms: %s", cpu,
                        smp_apic_id(cpu), SMP_JOB_TIMEOUT_MS, smp_late_reason(cpu));
    return ok;
}

bool smp_run_on(struct check_ctx *c, unsigned cpu, void (*job)(void *), void *arg)
{
    if (!smp_start(cpu, job, arg))
        return expect(c, false, "vCPU %u is still busy with an earlier job", cpu);
    return expect(c, smp_wait(cpu, SMP_JOB_TIMEOUT_MS),
                  "vCPU %u (APIC ID %u) did not finish within %u ms: %s", cpu, smp_apic_id(cpu),
                  SMP_JOB_TIMEOUT_MS, smp_late_reason(cpu));
}
