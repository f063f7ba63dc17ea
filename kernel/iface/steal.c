#include "iface/steal.h"

#include "lib/format.h"

static void copy_steal(void *dst, const volatile void *src)
{
    const volatile struct kvm_steal_time *a = src;
    struct steal_snapshot *out = dst;
    out->steal = a->steal;
    out->flags = a->flags;
    out->preempted = a->preempted;
    bool zero = a->u8_pad[0] == 0 && a->u8_pad[1] == 0 && a->u8_pad[2] == 0;
    for (unsigned i = 0; i < 11; i++)
        zero = zero && a->pad[i] == 0;
    out->padding_zero = zero;
}

enum pvclock_read_status steal_read(const volatile struct kvm_steal_time *area,
                                    struct steal_snapshot *out, unsigned max_tries)
{
    return versioned_read(area, offsetof(struct kvm_steal_time, version), copy_steal, out,
                          &out->version, max_tries, 0);
}

const char *steal_fields_problem(const struct steal_snapshot *s, char *why, size_t len)
{
    if (s->version == 0)
        format_buf(why, len, "version is 0: the area was never written");
    else if (s->version & 1)
        format_buf(why, len, "version %u is odd outside an update", s->version);
    else if (s->flags != 0)
        format_buf(why, len, "flags=0x%x; msr.rst: 'flags: always zero'", s->flags);
    else if (s->preempted != 0)
        format_buf(why, len, "preempted=0x%x read by the running vCPU itself", s->preempted);
    else if (!s->padding_zero)
        format_buf(why, len, "padding bytes written by the hypervisor");
    else
        return NULL;
    return why;
}

void steal_series_add(struct steal_series *s, uint64_t steal, uint64_t before_ns,
                      uint64_t after_ns)
{
    s->samples++;
    if (s->have_prev) {
        /* A clock going backwards (hostile) counts as no time at all. */
        uint64_t window = after_ns > s->prev_before_ns ? after_ns - s->prev_before_ns : 0;
        s->total_elapsed += after_ns > s->prev_after_ns ? after_ns - s->prev_after_ns : 0;
        if (steal < s->prev_steal) {
            s->decreases++;
            if (s->prev_steal - steal > s->max_decrease)
                s->max_decrease = s->prev_steal - steal;
        } else {
            uint64_t growth = steal - s->prev_steal;
            uint64_t limit = window + window / 1000 + STEAL_ALLOWANCE_NS;
            s->total_steal += growth;
            if (growth > limit) {
                s->too_fast++;
                if (growth - window > s->max_excess_ns)
                    s->max_excess_ns = growth - window;
            }
        }
    }
    s->have_prev = true;
    s->prev_steal = steal;
    s->prev_before_ns = before_ns;
    s->prev_after_ns = after_ns;
}
