#include "steal.h"

#include "format.h"

#define read_fence() __atomic_thread_fence(__ATOMIC_ACQUIRE)

enum pvclock_read_status steal_read(const volatile struct kvm_steal_time *area,
                                    struct steal_snapshot *out, unsigned max_tries)
{
    bool saw_even = false;
    for (unsigned t = 0; t < max_tries; t++) {
        uint32_t v1 = area->version;
        read_fence();
        out->steal = area->steal;
        out->flags = area->flags;
        out->preempted = area->preempted;
        bool zero = area->u8_pad[0] == 0 && area->u8_pad[1] == 0 && area->u8_pad[2] == 0;
        for (unsigned i = 0; i < 11; i++)
            zero = zero && area->pad[i] == 0;
        out->padding_zero = zero;
        read_fence();
        uint32_t v2 = area->version;
        if (v1 & 1)
            continue;
        saw_even = true;
        if (v1 == v2) {
            out->version = v1;
            return PVCLOCK_READ_OK;
        }
    }
    return saw_even ? PVCLOCK_READ_UNSTABLE : PVCLOCK_READ_ODD;
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

void steal_series_add(struct steal_series *s, uint64_t steal, uint64_t now_ns)
{
    s->samples++;
    if (s->have_prev) {
        uint64_t elapsed = now_ns > s->prev_ns ? now_ns - s->prev_ns : 0;
        s->total_elapsed += elapsed;
        if (steal < s->prev_steal) {
            s->decreases++;
            if (s->prev_steal - steal > s->max_decrease)
                s->max_decrease = s->prev_steal - steal;
        } else {
            uint64_t growth = steal - s->prev_steal;
            uint64_t limit = elapsed + elapsed / 1000 + STEAL_ALLOWANCE_NS;
            s->total_steal += growth;
            if (growth > limit) {
                s->too_fast++;
                if (growth - elapsed > s->max_excess_ns)
                    s->max_excess_ns = growth - elapsed;
            }
        }
    }
    s->have_prev = true;
    s->prev_steal = steal;
    s->prev_ns = now_ns;
}
