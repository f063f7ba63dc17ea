#include "iface/pvclock.h"

#include "lib/format.h"

static void copy_time_info(void *dst, const volatile void *src)
{
    const volatile struct pvclock_vcpu_time_info *a = src;
    struct pvclock_snapshot *out = dst;
    out->tsc_timestamp = a->tsc_timestamp;
    out->system_time = a->system_time;
    out->mul = a->tsc_to_system_mul;
    out->shift = a->tsc_shift;
    out->flags = a->flags;
}

enum pvclock_read_status pvclock_read(const volatile struct pvclock_vcpu_time_info *area,
                                      struct pvclock_snapshot *out, unsigned max_tries,
                                      unsigned *tries)
{
    return versioned_read(area, offsetof(struct pvclock_vcpu_time_info, version), copy_time_info,
                          out, &out->version, max_tries, tries);
}

static void copy_wall_clock(void *dst, const volatile void *src)
{
    const volatile struct pvclock_wall_clock *a = src;
    struct pvclock_wall_clock *out = dst;
    out->sec = a->sec;
    out->nsec = a->nsec;
}

enum pvclock_read_status pvclock_wall_read(const volatile struct pvclock_wall_clock *area,
                                           struct pvclock_wall_clock *out, unsigned max_tries)
{
    uint32_t version;
    enum pvclock_read_status st =
        versioned_read(area, offsetof(struct pvclock_wall_clock, version), copy_wall_clock, out,
                       &version, max_tries, 0);
    out->version = version;
    return st;
}

bool pvclock_scale(uint64_t delta, uint32_t mul, int8_t shift, uint64_t *out)
{
    if (shift < 0) {
        uint64_t d = shift <= -64 ? 0 : delta >> -shift;
        *out = (uint64_t)(((unsigned __int128)d * mul) >> 32); /* < 2^64 */
        return true;
    }
    /* (delta << shift) * mul == (delta * mul) << shift: no bits are lost. */
    unsigned __int128 p = (unsigned __int128)delta * mul; /* < 2^96 */
    if (p == 0) {
        *out = 0;
        return true;
    }
    /* The result (p << shift) >> 32 fits in 64 bits iff p < 2^(96 - shift). */
    if (shift >= 96 || (p >> (96 - shift)) != 0)
        return false;
    *out = (uint64_t)((p << shift) >> 32);
    return true;
}

bool pvclock_ns_at(const struct pvclock_snapshot *s, uint64_t tsc, uint64_t *ns, bool *behind)
{
    *behind = tsc < s->tsc_timestamp;
    if (*behind)
        return false;
    uint64_t scaled;
    if (!pvclock_scale(tsc - s->tsc_timestamp, s->mul, s->shift, &scaled))
        return false;
    if (s->system_time > UINT64_MAX - scaled)
        return false;
    *ns = s->system_time + scaled;
    return true;
}

bool pvclock_rebase_at(const struct pvclock_snapshot *before,
                       const struct pvclock_snapshot *after, uint64_t tsc,
                       struct pvclock_rebase *r)
{
    bool behind = false;
    r->tsc = tsc;
    if (!pvclock_ns_at(before, tsc, &r->old_ns, &behind) ||
        !pvclock_ns_at(after, tsc, &r->new_ns, &behind))
        return false;
    r->jump_ns = (int64_t)(r->new_ns - r->old_ns);
    r->budget_ns = 2 + ((r->old_ns - before->system_time) >> 30);
    return true;
}

bool pvclock_rebase_within(const struct pvclock_rebase *r)
{
    uint64_t jump = r->jump_ns < 0 ? -(uint64_t)r->jump_ns : (uint64_t)r->jump_ns;
    return jump <= r->budget_ns;
}

uint64_t pvclock_implied_hz(uint32_t mul, int8_t shift)
{
    if (mul == 0 || shift > 32 || shift < -32)
        return 0;
    /* ns per tick = mul * 2^shift / 2^32, so Hz = 1e9 * 2^32 / mul / 2^shift.
     * 64-bit only (no libgcc in the guest); the error is below 2^|shift| Hz. */
    uint64_t hz = (1000000000ull << 32) / mul;
    if (shift >= 0)
        return hz >> shift;
    if (hz > (UINT64_MAX >> -shift))
        return UINT64_MAX;
    return hz << -shift;
}

#define MIN_SANE_HZ 1000000ull          /* 1 MHz */
#define MAX_SANE_HZ 100000000000ull     /* 100 GHz */

const char *pvclock_params_problem(const struct pvclock_snapshot *s, bool stable_advertised,
                                   char *why, size_t len)
{
    if (s->version == 0) {
        format_buf(why, len, "version is 0: the hypervisor never wrote the area");
        return why;
    }
    if (s->version & 1) {
        format_buf(why, len, "version %u is odd outside an update", s->version);
        return why;
    }
    if (s->mul == 0) {
        format_buf(why, len, "tsc_to_system_mul is 0 (version %u)", s->version);
        return why;
    }
    uint64_t hz = pvclock_implied_hz(s->mul, s->shift);
    if (hz < MIN_SANE_HZ || hz > MAX_SANE_HZ) {
        format_buf(why, len,
                   "mul=0x%08x shift=%d imply a TSC of %llu Hz, outside 1 MHz..100 GHz",
                   s->mul, s->shift, (unsigned long long)hz);
        return why;
    }
    if (s->flags & ~PVCLOCK_DEFINED_FLAGS) {
        format_buf(why, len, "flags=0x%02x has undefined bits 0x%02x", s->flags,
                   s->flags & ~PVCLOCK_DEFINED_FLAGS);
        return why;
    }
    if ((s->flags & PVCLOCK_TSC_STABLE_BIT) && !stable_advertised) {
        format_buf(why, len, "PVCLOCK_TSC_STABLE_BIT set but CPUID does not advertise "
                             "KVM_FEATURE_CLOCKSOURCE_STABLE_BIT");
        return why;
    }
    return NULL;
}

static uint64_t abs_diff(uint64_t a, uint64_t b)
{
    return a > b ? a - b : b - a;
}

void pvclock_stream_add(struct pvclock_stream *st, const struct pvclock_snapshot *s, uint64_t tsc)
{
    uint64_t ns;
    bool behind = false;
    st->samples++;
    if (!pvclock_ns_at(s, tsc, &ns, &behind)) {
        if (behind)
            st->tsc_behind++;
        else
            st->overflow++;
        return;
    }
    if (st->have_prev) {
        if (ns < st->prev_ns) {
            st->backward++;
            if (st->prev_ns - ns > st->max_back_ns)
                st->max_back_ns = st->prev_ns - ns;
        } else if (ns == st->prev_ns) {
            st->stalls++;
        }
        if (s->version != st->prev.version) {
            /* Old and new parameters at the same TSC must tell the same time. */
            uint64_t old_ns;
            bool old_behind;
            st->version_changes++;
            if (pvclock_ns_at(&st->prev, tsc, &old_ns, &old_behind) &&
                abs_diff(old_ns, ns) > st->max_jump_ns)
                st->max_jump_ns = abs_diff(old_ns, ns);
        }
    }
    st->have_prev = true;
    st->prev_ns = ns;
    st->prev = *s;
}

uint64_t pvclock_order_add(struct pvclock_order *o, uint64_t published_ns, uint64_t read_ns)
{
    o->comparisons++;
    if (read_ns < published_ns) {
        o->backward++;
        if (published_ns - read_ns > o->max_back_ns)
            o->max_back_ns = published_ns - read_ns;
        return published_ns;
    }
    return read_ns;
}

bool pvclock_spread_at(const struct pvclock_snapshot *snaps, unsigned n, uint64_t tsc,
                       struct pvclock_spread *out)
{
    *out = (struct pvclock_spread){ .lo_ns = UINT64_MAX };
    uint64_t span = 0;
    for (unsigned cpu = 0; cpu < n; cpu++) {
        uint64_t ns;
        bool behind = false;
        if (!pvclock_ns_at(&snaps[cpu], tsc, &ns, &behind)) {
            out->bad_cpu = cpu;
            return false;
        }
        if (ns < out->lo_ns) {
            out->lo_ns = ns;
            out->lo_cpu = cpu;
        }
        if (ns >= out->hi_ns) {
            out->hi_ns = ns;
            out->hi_cpu = cpu;
        }
        if (ns - snaps[cpu].system_time > span)
            span = ns - snaps[cpu].system_time;
    }
    out->spread_ns = n ? out->hi_ns - out->lo_ns : 0;
    out->budget_ns = 2 + (span >> 30);
    return true;
}
