/* Reader-against-writer tests end on what happened, never on a sample
 * count: the writer counts the states it published (faulty ones apart) and
 * the reader goes on until it has read after enough of them. Only a
 * generous time limit bounds a run, so a starved thread makes a test slow,
 * not wrong; a run that hits the limit fails and says how far it got. */
#ifndef PVCHECK_RACE_H
#define PVCHECK_RACE_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define RACE_LIMIT_MS 60000u

static inline uint64_t race_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A writer in step with the reader: after publishing a state it waits
 * until the reader has made one read begun after it, so that read met no
 * write (a correct reader must accept it, a faulty state must be seen in
 * it), while the next write still races the reader's next read. */
struct race_step {
    atomic_uint published, acked;
};

static inline void race_step_reset(struct race_step *r)
{
    atomic_store(&r->published, 0);
    atomic_store(&r->acked, 0);
}

/* Writer: the state is up; wait for a read after it (or for stop). */
static inline void race_published(struct race_step *r, atomic_int *stop)
{
    unsigned n = atomic_fetch_add(&r->published, 1) + 1;
    /* Spin a little first: a reader on another CPU answers in nanoseconds,
     * and a yield on a loaded machine waits a whole time slice. */
    for (unsigned spins = 0; atomic_load(&r->acked) < n && !atomic_load(stop); spins++)
        if (spins > 4000)
            sched_yield();
        else
            __builtin_ia32_pause();
}

/* Reader: race_before() before a read, race_after() after it; true when
 * that read began after a publication no earlier read acknowledged. */
static inline unsigned race_before(struct race_step *r)
{
    return atomic_load(&r->published);
}

static inline bool race_after(struct race_step *r, unsigned before)
{
    if (before <= atomic_load(&r->acked))
        return false;
    atomic_store(&r->acked, before);
    return true;
}

#endif
