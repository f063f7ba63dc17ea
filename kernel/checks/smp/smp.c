/* Suite "smp": every vCPU the MADT lists comes up; the per-vCPU kvmclock and
 * steal-time rules on each of them; time across vCPUs. */
#include "checks/smp/smp_checks.h"
#include "lib/report.h"
#include "lib/str.h"
#include "platform/smp.h"

static enum verdict check_bringup(struct check_ctx *c)
{
    const struct smp_status *s = smp_init();
    figure(c, "madt_cpus=%u online=%u failed=%u not_used=%u apic_mode=%s cpus_from=%s",
           s->listed, s->online, s->n_failed, s->not_used, s->x2apic ? "x2apic" : "xapic",
           s->source);
    if (s->not_used)
        figure(c, "note: %u vCPUs left unused: pvcheck drives at most %u, in RAM it has", s->not_used,
               SMP_MAX_CPUS);
    for (unsigned i = 0; i < s->online; i++)
        detail(c, "cpu=%u apic_id=%u up", i, smp_apic_id(i));
    bool no_table = str_eq(s->source, "none");
    if (s->problem)
        figure(c, "note: %s%s%s", no_table ? "no MADT, and no usable MP table (" : "", s->problem,
               no_table ? "): only the boot vCPU is known" : "");
    for (unsigned i = 0; i < s->n_failed; i++)
        fail(c, "vCPU with APIC ID %u did not come up within 200 ms of INIT-SIPI-SIPI",
             s->failed_apic_ids[i]);
    return pass(c);
}

static const struct check smp_checks[] = {
    { "bringup", "ACPI MADT (else the MP table, MPS 1.4) lists the processors; Intel SDM MP "
                 "initialisation: each answers INIT-SIPI-SIPI",
      check_bringup },
    SMP_KVM_CHECKS
};

static const struct suite smp_suite = {
    .name = "smp",
    .order = 40,
    .checks = smp_checks,
    .n_checks = ARRAY_SIZE(smp_checks),
};
REGISTER_SUITE(smp_suite);
