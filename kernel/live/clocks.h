/* Every clock a suite may read by name: the paravirtual ones as the live
 * layer has them up, the reference clocks, and the TSC. */
#ifndef PVCHECK_LIVE_CLOCKS_H
#define PVCHECK_LIVE_CLOCKS_H

#include <stdbool.h>
#include <stdint.h>

enum clock_id { KVMCLOCK, HV_PAGE, HV_COUNTER, XEN_TIME, REFERENCE, TSC, PM_TIMER };

/* One reading of that clock in ns; false if it cannot be read now (or,
 * for the TSC, no rate is stated). */
bool clock_read_ns(enum clock_id id, uint64_t *ns);

/* The clocks besides kvmclock that this machine offers now, each brought
 * up as a reader needs it: Hyper-V's reference page registered and valid,
 * TIME_REF_COUNT where Hyper-V's CPUID grants it (the guest OS id written
 * first, as the TLFS asks), Xen's vcpu_info time where it reads. */
struct check_ctx;
struct offered_clocks {
    bool hv_page, hv_counter, xen_time;
};
struct offered_clocks clocks_offered(struct check_ctx *c);

/* The TSC rate CPUID states, which TSC readings use (0: none stated). */
void clock_set_stated_tsc_hz(uint64_t hz);

#endif
