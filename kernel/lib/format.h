/* printf-style formatting into a caller's sink; pure, shared by the guest
 * and the host tests. Supports %d %i %u %x %X %s %c %p %% with the l, ll
 * and z length modifiers, a field width, '0' padding and '-' alignment. */
#ifndef PVCHECK_FORMAT_H
#define PVCHECK_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

typedef void (*format_sink)(void *ctx, char c);

/* Returns the number of characters produced. */
size_t format_v(format_sink sink, void *ctx, const char *fmt, va_list ap);

/* Formats into buf (always NUL-terminated when size > 0); returns the length
 * the full output would have had. */
size_t format_buf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
size_t format_buf_v(char *buf, size_t size, const char *fmt, va_list ap);

#endif
