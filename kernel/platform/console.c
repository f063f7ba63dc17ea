#include "platform/console.h"

#include <stdbool.h>

#include "lib/format.h"
#include "platform/cpu.h"

#define COM1 0x3f8
#define UART_THR 0 /* transmit holding register (DLAB=0) */
#define UART_DLL 0 /* divisor latch low (DLAB=1) */
#define UART_IER 1
#define UART_DLH 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20
#define UART_SCR 7 /* scratch register: reads back what was written on a 16550 */
#define LCR_DLAB 0x80
#define LCR_8N1 0x03
/* Bochs/QEMU debugcon and Xen HVM/PVH: each byte written is logged. */
#define DEBUG_PORT 0xe9

static bool have_uart;

static bool uart_present(void)
{
    outb(COM1 + UART_SCR, 0xa5);
    if (inb(COM1 + UART_SCR) != 0xa5)
        return false;
    outb(COM1 + UART_SCR, 0x5a);
    return inb(COM1 + UART_SCR) == 0x5a;
}

void console_init(void)
{
    /* Without a UART (Xen PVH, VMMs without legacy devices) the log goes to
     * the debug port; with one, only to COM1: each OUT to an unclaimed port
     * is an exit to the VMM. */
    have_uart = uart_present();
    if (!have_uart)
        return;
    outb(COM1 + UART_IER, 0x00);      /* polled: no UART interrupts */
    outb(COM1 + UART_LCR, LCR_DLAB);
    outb(COM1 + UART_DLL, 1);         /* 115200 = 1.8432 MHz / 16 / 1 */
    outb(COM1 + UART_DLH, 0);
    outb(COM1 + UART_LCR, LCR_8N1);
    outb(COM1 + UART_FCR, 0x07);      /* enable and clear the FIFOs */
    outb(COM1 + UART_MCR, 0x03);      /* DTR, RTS */
}

void console_putc(char c)
{
    if (!have_uart) {
        outb(DEBUG_PORT, (uint8_t)c);
        return;
    }
    /* Bounded: a missing or wedged UART must not hang the guest. Absent
     * hardware reads as 0xff, which has THRE set. */
    for (unsigned spins = 0; spins < 100000; spins++) {
        if (inb(COM1 + UART_LSR) & LSR_THRE)
            break;
        cpu_relax();
    }
    outb(COM1 + UART_THR, (uint8_t)c);
}

void console_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        console_putc(s[i]);
}

static void console_sink(void *ctx, char c)
{
    (void)ctx;
    console_putc(c);
}

void kvprintf(const char *fmt, va_list ap)
{
    format_v(console_sink, 0, fmt, ap);
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
}
