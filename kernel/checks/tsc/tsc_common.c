/* What the tsc suite's checks share: real time around a write, the
 * TSC's rate, and whether IA32_TSC_ADJUST is there. */
#include "checks/tsc/tsc_common.h"

#include "checks/shared/pvclock_checks.h"
#include "checks/shared/tsc_rate.h"
#include "iface/hv_cpuid.h"
#include "iface/tsc_msr.h"
#include "platform/cpu.h"
#include "platform/refclock.h"
#include "platform/timer.h"

bool tsc_has_adjust(void)
{
    return hv_get()->max_basic_leaf >= 7 && (cpuid_count(7, 0).ebx & CPUID_7_EBX_TSC_ADJUST);
}

void tsc_real_start(struct tsc_real_time *r)
{
    const struct refclock *ref = refclock_get();
    r->fine = !ref->unfit && ref->hz >= 1000000;
    r->ref = r->fine ? refclock_read() : 0;
    r->ticks = timer_ticks();
}

uint64_t tsc_real_max_ns(const struct tsc_real_time *r)
{
    if (r->fine)
        return refclock_to_ns(refclock_read() - r->ref) + 2 * (1000000000ull / refclock_get()->hz + 1);
    return (timer_ticks() - r->ticks + 1) * (1000000000ull / TIMER_HZ);
}

/* The TSC against a fine reference over 100 ms; 0 without one. */
static uint64_t measured_khz(void)
{
    uint64_t hz, bound;
    const struct refclock *ref = refclock_get();
    return ref->hz >= 1000000 && tsc_hz_against_reference(ref->hz / 10, &hz, &bound) ? hz / 1000
                                                                                     : 0;
}

/* The TSC's rate, from CPUID, else the APIC timer's calibration, else
 * measured against the reference, else kvmclock's mul/shift: only to bound
 * microseconds, 1000 ppm allowed. */
uint64_t tsc_known_khz(const char **source)
{
    uint64_t khz = hv_tsc_khz(source);
    if (!khz && (khz = timer_lapic_calibration()->tsc_khz))
        *source = timer_lapic_calibration()->source;
    if (!khz && (khz = measured_khz()))
        *source = refclock_get()->name;
    if (!khz && (khz = pvclock_tsc_khz()))
        *source = "kvmclock_mul_shift";
    return khz;
}

