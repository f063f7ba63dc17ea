/* The string helper the freestanding guest needs in several places. */
#ifndef PVCHECK_STR_H
#define PVCHECK_STR_H

#include <stdbool.h>

static inline bool str_eq(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

#endif
