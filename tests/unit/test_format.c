/* format.c against the C library's snprintf on the conversions it supports. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/format.h"
#include "unit.h"

static const char *unit_name = "format";

#define SAME(...)                                                          \
    do {                                                                   \
        char got[256], want[256];                                          \
        size_t n = format_buf(got, sizeof(got), __VA_ARGS__);              \
        int m = snprintf(want, sizeof(want), __VA_ARGS__);                 \
        CHECK_STR(got, want);                                              \
        CHECK(n == (size_t)m, "length %zu, want %d", n, m);                \
    } while (0)

static void integers(void)
{
    SAME("%d %i %u", 0, -1, 42u);
    SAME("%d", INT32_MIN);
    SAME("%ld %lld", (long)INT64_MIN, (long long)INT64_MAX);
    SAME("%lu %llu", (unsigned long)UINT64_MAX, (unsigned long long)UINT64_MAX);
    SAME("%x %X %lx %llx", 0xdeadbeefu, 0xabcdefu, 0x123456789abcUL, 0xffffffffffffffffULL);
    SAME("%zu", (size_t)12345);
}

static void width_and_padding(void)
{
    SAME("[%5d] [%-5d] [%05d] [%05d]", 42, 42, 42, -42);
    SAME("[%016llx] [%08x] [%2x]", 0x1234ULL, 0xabu, 0x12345u);
    SAME("[%10s] [%-10s] [%c] [%3c]", "abc", "abc", 'x', 'y');
}

static void strings_and_pointers(void)
{
    char got[64];
    const char *volatile null_string = NULL;
    format_buf(got, sizeof(got), "%s", null_string);
    CHECK_STR(got, "(null)");
    format_buf(got, sizeof(got), "%p", (void *)0x1000);
    CHECK_STR(got, "0x1000");
    SAME("100%% %s", "done");
}

static void truncation(void)
{
    char small[8];
    size_t n = format_buf(small, sizeof(small), "%s", "0123456789");
    CHECK_STR(small, "0123456");
    CHECK(n == 10, "length %zu", n);
    char one[1] = { 'x' };
    format_buf(one, sizeof(one), "abc");
    CHECK(one[0] == '\0', "size-1 buffer not terminated");
}

static void hostile_formats(void)
{
    /* Formats from variables: the compiler would reject them as literals. */
    const char *volatile fmt;
    char got[64];
    fmt = "trailing %";
    format_buf(got, sizeof(got), fmt);
    CHECK_STR(got, "trailing ");
    fmt = "%q";
    format_buf(got, sizeof(got), fmt);
    CHECK_STR(got, "%q");
    fmt = "[%-05d]";
    format_buf(got, sizeof(got), fmt, 7);
    CHECK_STR(got, "[7    ]");
    /* A huge width is capped, not looped on forever. */
    char big[4096];
    fmt = "%99999999d";
    size_t n = format_buf(big, sizeof(big), fmt, 1);
    CHECK(n < 2000, "width not capped: %zu", n);
}

static void random_integers(void)
{
    srand(1);
    for (int i = 0; i < 20000; i++) {
        long long v = (long long)(((unsigned long long)rand() << 33) ^ ((unsigned long long)rand() << 2) ^ (unsigned long long)rand());
        if (i & 1)
            v = -v;
        unsigned w = (unsigned)rand() % 24;
        char fmt[16];
        snprintf(fmt, sizeof(fmt), "%%0%ulld|%%%ullx", w, w);
        char got[128], want[128];
        format_buf(got, sizeof(got), fmt, v, (unsigned long long)v);
        snprintf(want, sizeof(want), fmt, v, (unsigned long long)v);
        if (strcmp(got, want) != 0) {
            CHECK_STR(got, want);
            break;
        }
    }
}

int main(void)
{
    RUN(integers);
    RUN(width_and_padding);
    RUN(strings_and_pointers);
    RUN(truncation);
    RUN(hostile_formats);
    RUN(random_integers);
    return unit_any_failed;
}
