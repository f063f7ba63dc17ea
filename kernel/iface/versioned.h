/* The version protocol every hypervisor-written area here shares: the writer
 * makes the version odd, writes, makes it even again; a reader copies the
 * fields between two reads of the version and retries, a bounded number of
 * times, while it is odd or changed. */
#ifndef PVCHECK_VERSIONED_H
#define PVCHECK_VERSIONED_H

#include <stdbool.h>
#include <stdint.h>

enum pvclock_read_status {
    PVCLOCK_READ_OK,
    PVCLOCK_READ_ODD,      /* every try saw an odd version: update never finished */
    PVCLOCK_READ_UNSTABLE, /* the version kept changing under the reader */
};

/* x86 keeps loads in order; the fences stop the compiler from moving the
 * field copies across the version reads. */
#define versioned_fence() __atomic_thread_fence(__ATOMIC_ACQUIRE)

/* copy() moves the fields from area to out; *version_out gets the version
 * the copy is consistent with; *tries (if not NULL) the attempts used. Static
 * inline so that copy() is inlined into each reader. */
static inline enum pvclock_read_status
versioned_read(const volatile void *area, unsigned version_offset,
               void (*copy)(void *out, const volatile void *area), void *out,
               uint32_t *version_out, unsigned max_tries, unsigned *tries)
{
    const volatile uint32_t *version =
        (const volatile uint32_t *)((const volatile uint8_t *)area + version_offset);
    bool saw_even = false;
    for (unsigned t = 1; t <= max_tries; t++) {
        uint32_t v1 = *version;
        versioned_fence();
        copy(out, area);
        versioned_fence();
        uint32_t v2 = *version;
        if (tries)
            *tries = t;
        if (v1 & 1)
            continue;
        saw_even = true;
        if (v1 == v2) {
            *version_out = v1;
            return PVCLOCK_READ_OK;
        }
    }
    return saw_even ? PVCLOCK_READ_UNSTABLE : PVCLOCK_READ_ODD;
}

/* One bounded versioned read of an area into out. */
typedef enum pvclock_read_status (*versioned_once)(const volatile void *area, void *out);

/* Repeats once() until a copy is consistent or more than `ticks` timer
 * ticks have passed; returns the last status. Kernel and host model only
 * (it needs the timer): iface/pvclock_now.c. */
enum pvclock_read_status read_within(versioned_once once, const volatile void *area, void *out,
                                     unsigned ticks);

#endif
