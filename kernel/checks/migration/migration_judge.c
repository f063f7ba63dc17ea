#include "checks/migration/migration_judge.h"

static bool add_ok(uint64_t a, uint64_t b, uint64_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}

bool mig_unaccounted(const struct mig_ref *a, const struct mig_ref *b, int64_t *unaccounted_ns,
                     uint64_t *tolerance_ns)
{
    if (b->at_ns < a->at_ns)
        return false;
    uint64_t guest = b->at_ns - a->at_ns;
    if (a->real_ns > INT64_MAX || b->real_ns > INT64_MAX || guest > INT64_MAX)
        return false;
    int64_t diff;
    if (__builtin_sub_overflow((int64_t)b->real_ns - (int64_t)a->real_ns, (int64_t)guest, &diff))
        return false;
    uint64_t tol;
    if (!add_ok(a->err_ns, b->err_ns, &tol) || !add_ok(tol, guest / MIG_SLEW_DIVISOR, &tol))
        return false;
    *unaccounted_ns = diff;
    *tolerance_ns = tol;
    return true;
}

bool mig_stopped_between(const struct mig_ref *a, const struct mig_ref *b)
{
    int64_t u;
    uint64_t tol;
    if (!mig_unaccounted(a, b, &u, &tol) || u <= 0)
        return false;
    return (uint64_t)u > tol && (uint64_t)u - tol > MIG_DETECT_NS;
}

bool mig_stopped_across_hole(const struct mig_ref *a, const struct mig_ref *b, uint64_t hole_ns)
{
    int64_t u;
    uint64_t tol;
    if (hole_ns < MIG_STOP_HOLE_NS || !mig_unaccounted(a, b, &u, &tol) || u <= 0)
        return false;
    return (uint64_t)u > tol;
}

bool mig_clock_outran(const struct mig_ref *a, const struct mig_ref *b)
{
    int64_t u;
    uint64_t tol;
    if (!mig_unaccounted(a, b, &u, &tol) || u >= 0)
        return false;
    uint64_t ahead = (uint64_t)(-(u + 1)) + 1;
    return ahead > tol && ahead - tol > MIG_DETECT_NS;
}

bool mig_step_within_real(const struct mig_ref *a, const struct mig_ref *b, int64_t *excess_ns)
{
    int64_t u;
    uint64_t tol;
    if (!mig_unaccounted(a, b, &u, &tol)) {
        *excess_ns = INT64_MAX;
        return false;
    }
    /* The guest clock counted -u more than real time, beyond tol: too far. */
    *excess_ns = u < 0 ? -u : 0;
    return u >= 0 || (uint64_t)(-(u + 1)) + 1 <= tol;
}

uint64_t mig_mul_div(uint64_t a, uint64_t b, uint64_t c)
{
    if (!c)
        return UINT64_MAX;
    uint64_t q = a / c, r = a % c, hi, lo;
    if (__builtin_mul_overflow(q, b, &hi) || __builtin_mul_overflow(r, b, &lo) ||
        __builtin_add_overflow(hi, lo / c, &hi))
        return UINT64_MAX;
    return hi;
}

static uint64_t cycles_to_ns(uint64_t cycles, uint64_t hz)
{
    return mig_mul_div(cycles, 1000000000u, hz);
}

enum mig_tsc_verdict mig_judge_tsc(const struct mig_ref *a, const struct mig_ref *b, uint64_t tsc_a,
                                   uint64_t tsc_b, uint64_t tsc_hz, uint64_t *tsc_ns,
                                   uint64_t *real_ns)
{
    *tsc_ns = *real_ns = 0;
    if (tsc_b < tsc_a)
        return MIG_TSC_BACKWARDS;
    if (!tsc_hz || b->real_ns < a->real_ns)
        return MIG_TSC_UNJUDGED;
    uint64_t span = cycles_to_ns(tsc_b - tsc_a, tsc_hz);
    uint64_t real = b->real_ns - a->real_ns, limit;
    *tsc_ns = span;
    *real_ns = real;
    if (!add_ok(real, a->err_ns, &limit) || !add_ok(limit, b->err_ns, &limit) ||
        !add_ok(limit, span / MIG_SLEW_DIVISOR, &limit))
        return MIG_TSC_UNJUDGED;
    return span <= limit ? MIG_TSC_OK : MIG_TSC_AHEAD;
}

bool mig_wall_agrees(const struct mig_ref *e0, const struct mig_ref *e1, const struct mig_ref *w0,
                     const struct mig_ref *w1, int64_t *diff_ns, uint64_t *tolerance_ns)
{
    *diff_ns = 0;
    *tolerance_ns = 0;
    if (e0->real_ns > INT64_MAX || e1->real_ns > INT64_MAX || w0->real_ns > INT64_MAX ||
        w1->real_ns > INT64_MAX || e1->real_ns < e0->real_ns)
        return false;
    /* Both spans fit in 63 bits; their difference may not. */
    int64_t cmos = (int64_t)e1->real_ns - (int64_t)e0->real_ns;
    int64_t wall = (int64_t)w1->real_ns - (int64_t)w0->real_ns;
    uint64_t tol;
    if (__builtin_sub_overflow(wall, cmos, diff_ns) || !add_ok(e0->err_ns, e1->err_ns, &tol) ||
        !add_ok(tol, w0->err_ns, &tol) || !add_ok(tol, w1->err_ns, &tol) ||
        !add_ok(tol, (uint64_t)cmos / MIG_SLEW_DIVISOR, &tol))
        return false;
    *tolerance_ns = tol;
    uint64_t mag = *diff_ns < 0 ? (uint64_t)(-(*diff_ns + 1)) + 1 : (uint64_t)*diff_ns;
    return mag <= tol;
}
