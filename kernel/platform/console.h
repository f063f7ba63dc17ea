/* Serial console on COM1 (16550, 115200 8N1). */
#ifndef PVCHECK_CONSOLE_H
#define PVCHECK_CONSOLE_H

#include <stdarg.h>
#include <stddef.h>

void console_init(void);
void console_putc(char c);
void console_write(const char *s, size_t n);
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);

#endif
