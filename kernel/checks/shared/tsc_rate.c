#include "checks/shared/tsc_rate.h"

#include "checks/shared/rate.h"
#include "platform/refclock.h"

bool tsc_hz_against_reference(uint64_t window_counts, uint64_t *hz, uint64_t *bound_ppm)
{
    struct refclock_point a, b;
    if (refclock_get()->unfit || !refclock_point(&a))
        return false;
    refclock_wait(a.count, window_counts);
    if (!refclock_point(&b))
        return false;
    uint64_t ref_ns = refclock_to_ns(b.count - a.count);
    *hz = mul_div_sat((b.tsc_lo + b.tsc_hi) / 2 - (a.tsc_lo + a.tsc_hi) / 2, 1000000000ull,
                      ref_ns);
    uint64_t gap_ns = mul_div_sat((a.tsc_hi - a.tsc_lo) / 2 + (b.tsc_hi - b.tsc_lo) / 2 + 1,
                                  1000000000ull, *hz);
    uint64_t resolution_ns = a.resolution_ns > b.resolution_ns ? a.resolution_ns : b.resolution_ns;
    *bound_ppm = rate_bound_ppm(gap_ns + resolution_ns, ref_ns);
    return true;
}
