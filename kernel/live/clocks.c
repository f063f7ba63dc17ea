/* Every clock a suite may read by name, for the clocks suite and the
 * migration capture: the paravirtual ones as the live layer has them up,
 * the reference clocks, and the TSC at the rate CPUID states. */
#include "live/clocks.h"

#include "iface/hyperv.h"
#include "iface/xen.h"
#include "live/hyperv.h"
#include "live/kvmclock.h"
#include "platform/cpu.h"
#include "platform/refclock.h"
#include "platform/safe.h"

static uint64_t stated_tsc_hz;

struct offered_clocks clocks_offered(struct check_ctx *c)
{
    uint64_t ns;
    struct offered_clocks o;
    o.hv_page = hv_page_open(c);
    o.hv_counter = !hv_needs(HV_PRIV_TIME_REF_COUNT) && hv_ensure_os_id(c);
    o.xen_time = xen_ready() && xen_time_now(0, &ns);
    return o;
}

void clock_set_stated_tsc_hz(uint64_t hz)
{
    stated_tsc_hz = hz;
}

bool clock_read_ns(enum clock_id id, uint64_t *ns)
{
    uint64_t v;
    switch (id) {
    case KVMCLOCK:
        return kvmclock_now(ns);
    case HV_PAGE:
        if (!hv_page_units(&v))
            return false;
        *ns = v * 100;
        return true;
    case HV_COUNTER:
        if (rdmsr_safe(HV_MSR_TIME_REF_COUNT, &v) != NO_FAULT)
            return false;
        *ns = v * 100;
        return true;
    case XEN_TIME:
        return xen_time_now(0, ns);
    case REFERENCE:
        *ns = refclock_to_ns(refclock_read());
        return true;
    case PM_TIMER:
        return refclock_pm_timer_ns(ns);
    case TSC:
        if (!stated_tsc_hz)
            return false;
        v = rdtsc_ordered();
        *ns = v / stated_tsc_hz * 1000000000u + v % stated_tsc_hz * 1000000000u / stated_tsc_hz;
        return true;
    }
    return false;
}
