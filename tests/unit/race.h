/* Reader-against-writer tests end on what happened, never on a sample
 * count: the writer counts the states it published (faulty ones apart) and
 * the reader goes on until it has read after enough of them. Only a
 * generous time limit bounds a run, so a starved thread makes a test slow,
 * not wrong; a run that hits the limit fails and says how far it got. */
#ifndef PVCHECK_RACE_H
#define PVCHECK_RACE_H

#include <stdint.h>
#include <time.h>

#define RACE_LIMIT_MS 60000u

static inline uint64_t race_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif
