/* Pairwise clock comparison and the shared last value (clock_compare.h). */
#include "checks/shared/clock_compare.h"

#include "checks/shared/rate.h"

/* TSC cycles to ns at hz, saturating. */
static uint64_t cycles_ns(uint64_t cycles, uint64_t hz)
{
    return mul_div_sat(cycles, 1000000000ull, hz);
}

static uint64_t mid(const struct clock_reading *r)
{
    return r->tsc_before + (r->tsc_after - r->tsc_before) / 2;
}

static bool sane(const struct clock_track *t)
{
    return t->ok && t->a.tsc_after >= t->a.tsc_before && t->b.tsc_after >= t->b.tsc_before &&
           mid(&t->b) > mid(&t->a) && t->b.ns > t->a.ns;
}

/* The uncertainty of one clock's elapsed time: a unit of rounding and half
 * of each bracket, since the reading lay somewhere inside it. */
static uint64_t uncertainty_ns(const struct clock_track *t, uint64_t hz)
{
    uint64_t w = (t->a.tsc_after - t->a.tsc_before) + (t->b.tsc_after - t->b.tsc_before);
    return t->quantum_ns + cycles_ns(w, hz) / 2 + 1;
}

bool clock_pair_compare(const struct clock_track *x, const struct clock_track *y, uint64_t tsc_hz,
                        struct clock_pair *out)
{
    *out = (struct clock_pair){ 0 };
    if (!sane(x) || !sane(y) || tsc_hz == 0)
        return false;
    uint64_t ex = x->b.ns - x->a.ns, ey = y->b.ns - y->a.ns;
    uint64_t dx = mid(&x->b) - mid(&x->a), dy = mid(&y->b) - mid(&y->a);
    /* x's elapsed time over y's TSC span: the two spans differ by the
     * reading order, a few brackets' worth. */
    uint64_t ex_on_y = mul_div_sat(ex, dy, dx);
    if (ex_on_y == UINT64_MAX || ex > INT64_MAX || ey > INT64_MAX || ex_on_y > INT64_MAX)
        return false;
    out->drift_ns = (int64_t)ey - (int64_t)ex_on_y;
    out->budget_ns = uncertainty_ns(x, tsc_hz) + uncertainty_ns(y, tsc_hz);
    out->rate_ppb = (int64_t)mul_div_sat(abs64(out->drift_ns), 1000000000ull, ex);
    if (out->drift_ns < 0)
        out->rate_ppb = -out->rate_ppb;
    /* y's value moved back to x's reading instant, at x's rate. */
    uint64_t mx = mid(&x->a), my = mid(&y->a);
    uint64_t gap = cycles_ns(my > mx ? my - mx : mx - my, tsc_hz);
    int64_t y_at_x = my > mx ? (int64_t)(y->a.ns - gap) : (int64_t)(y->a.ns + gap);
    out->offset_ns = y_at_x - (int64_t)x->a.ns;
    return true;
}

void shared_last_publish(struct shared_last *s, uint64_t seen, uint64_t ns, struct warp_count *w)
{
    w->reads++;
    if (ns < seen) {
        w->warps++;
        if (seen - ns > w->max_warp_ns)
            w->max_warp_ns = seen - ns;
        return;
    }
    if (ns == seen) {
        w->stalls++;
        return;
    }
    /* A value published after the load may be later than ns: keep it. */
    uint64_t last = seen;
    while (ns > last && !__atomic_compare_exchange_n(&s->last_ns, &last, ns, false,
                                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        ;
}

/* Epochs are at most 2^32 s (under 2^62 ns), brackets and span capped at
 * 2^60 ns, so every sum and difference below fits in int64_t. */
static uint64_t cap(uint64_t v, unsigned bits)
{
    return v < (1ull << bits) ? v : 1ull << bits;
}

bool wall_epochs_judge(const uint64_t *epoch_ns, const uint64_t *bracket_ns, unsigned n,
                       uint64_t span_ns, struct wall_epochs *out)
{
    uint64_t slew = cap(span_ns, 60) / (1000000 / WALL_SLEW_PPM) + 2;
    *out = (struct wall_epochs){ 0, 0, 0, slew };
    int64_t worst = INT64_MIN; /* spread less allowance, of the pair in *out */
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < n; j++) {
            uint64_t ei = cap(epoch_ns[i], 62), ej = cap(epoch_ns[j], 62);
            if (i == j || ej < ei)
                continue;
            uint64_t allowed = cap(bracket_ns[i], 60) + cap(bracket_ns[j], 60) + slew;
            int64_t past = (int64_t)(ej - ei) - (int64_t)allowed;
            if (past > worst) {
                worst = past;
                *out = (struct wall_epochs){ i, j, ej - ei, allowed };
            }
        }
    return out->spread_ns <= out->allowed_ns;
}
