#include "lib/format.h"

#include <stdbool.h>
#include <stdint.h>

struct out {
    format_sink sink;
    void *ctx;
    size_t count;
};

static void emit(struct out *o, char c)
{
    o->sink(o->ctx, c);
    o->count++;
}

static void emit_padded(struct out *o, const char *s, size_t len, unsigned width,
                        bool left, char pad, bool negative)
{
    size_t total = len + (negative ? 1 : 0);
    size_t fill = width > total ? width - total : 0;

    /* Zero padding goes between the sign and the digits. */
    if (negative && pad == '0')
        emit(o, '-');
    if (!left)
        while (fill--)
            emit(o, pad);
    if (negative && pad != '0')
        emit(o, '-');
    for (size_t i = 0; i < len; i++)
        emit(o, s[i]);
    if (left)
        while (fill--)
            emit(o, ' ');
}

/* Writes digits of v in base into the end of buf; returns the first digit. */
static char *utoa(char *end, uint64_t v, unsigned base, bool upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char *p = end;
    do {
        *--p = digits[v % base];
        v /= base;
    } while (v);
    return p;
}

size_t format_v(format_sink sink, void *ctx, const char *fmt, va_list ap)
{
    struct out o = { sink, ctx, 0 };
    char buf[24];

    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            emit(&o, *f);
            continue;
        }
        f++;
        bool left = false;
        char pad = ' ';
        for (;; f++) {
            if (*f == '-')
                left = true;
            else if (*f == '0')
                pad = '0';
            else
                break;
        }
        unsigned width = 0;
        while (*f >= '0' && *f <= '9' && width < 1000)
            width = width * 10 + (unsigned)(*f++ - '0');
        int longs = 0;
        while (*f == 'l' && longs < 2) {
            longs++;
            f++;
        }
        if (*f == 'z') {
            longs = 2;
            f++;
        }
        if (left)
            pad = ' ';

        uint64_t u;
        int64_t s;
        char *p;
        char *end = buf + sizeof(buf);
        switch (*f) {
        case 'd':
        case 'i':
            s = longs == 0 ? va_arg(ap, int) : longs == 1 ? va_arg(ap, long) : va_arg(ap, long long);
            /* Negate in unsigned arithmetic: INT64_MIN has no positive twin. */
            u = s < 0 ? -(uint64_t)s : (uint64_t)s;
            p = utoa(end, u, 10, false);
            emit_padded(&o, p, (size_t)(end - p), width, left, pad, s < 0);
            break;
        case 'u':
        case 'x':
        case 'X':
            u = longs == 0 ? va_arg(ap, unsigned) : longs == 1 ? va_arg(ap, unsigned long)
                                                                : va_arg(ap, unsigned long long);
            p = utoa(end, u, *f == 'u' ? 10 : 16, *f == 'X');
            emit_padded(&o, p, (size_t)(end - p), width, left, pad, false);
            break;
        case 'p':
            u = (uint64_t)(uintptr_t)va_arg(ap, void *);
            p = utoa(end, u, 16, false);
            *--p = 'x';
            *--p = '0';
            emit_padded(&o, p, (size_t)(end - p), width, left, ' ', false);
            break;
        case 'c':
            buf[0] = (char)va_arg(ap, int);
            emit_padded(&o, buf, 1, width, left, ' ', false);
            break;
        case 's': {
            const char *str = va_arg(ap, const char *);
            size_t len = 0;
            if (!str)
                str = "(null)";
            while (str[len])
                len++;
            emit_padded(&o, str, len, width, left, ' ', false);
            break;
        }
        case '%':
            emit(&o, '%');
            break;
        case '\0':
            f--; /* a lone '%' at the end: stop at the terminator */
            break;
        default:
            /* Unknown conversion: show it rather than guess at arguments. */
            emit(&o, '%');
            emit(&o, *f);
            break;
        }
    }
    return o.count;
}

struct buf_ctx {
    char *buf;
    size_t size;
    size_t pos;
};

static void buf_sink(void *ctx, char c)
{
    struct buf_ctx *b = ctx;
    if (b->pos + 1 < b->size)
        b->buf[b->pos] = c;
    b->pos++;
}

size_t format_buf_v(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct buf_ctx b = { buf, size, 0 };
    size_t n = format_v(buf_sink, &b, fmt, ap);
    if (size)
        buf[b.pos < size ? b.pos : size - 1] = '\0';
    return n;
}

size_t format_buf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = format_buf_v(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
