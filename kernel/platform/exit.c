#include "platform/exit.h"

#include "lib/report.h"
#include "platform/acpi.h"
#include "platform/cpu.h"

#define DEBUG_EXIT_PORT 0xf4

#define I8042_STATUS 0x64
#define I8042_INPUT_FULL 0x02
#define I8042_PULSE_RESET 0xfe
#define I8042_WAIT_READS 1000

static void (*registered_poweroff)(void);


/* The keyboard controller's reset line: Firecracker stops the VM on it, and
 * QEMU with -no-reboot quits. Where there is none the write goes nowhere. */
static void i8042_reset(void)
{
    if (inb(I8042_STATUS) == 0xff) {
        report_line(0, "# leaving: no i8042 keyboard controller (port 0x64 reads 0xff)");
        return;
    }
    report_line(0, "# leaving: reset through the i8042 keyboard controller");
    for (unsigned i = 0; i < I8042_WAIT_READS && (inb(I8042_STATUS) & I8042_INPUT_FULL); i++)
        ;
    outb(I8042_STATUS, I8042_PULSE_RESET);
    stop_settle();
}

void exit_set_poweroff(void (*poweroff)(void))
{
    registered_poweroff = poweroff;
}

void guest_exit(enum exit_code code)
{
    irq_disable();
    /* Each way is named before it is tried: the last such line says how
     * the guest left (docs/running.md). */
    report_line(0, "# leaving: isa-debug-exit, code %d to port 0x%x", code, DEBUG_EXIT_PORT);
    outb(DEBUG_EXIT_PORT, (uint8_t)code);
    stop_settle(); /* QEMU 9.1 and later act on the write asynchronously */
    /* No debug-exit device: power off (the verdict is in the log), else reset
     * through the keyboard controller, else stop. A Xen domU has none of
     * these: it asks Xen to shut it down. */
    if (registered_poweroff)
        registered_poweroff();
    acpi_poweroff();
    i8042_reset();
    report_line(0, "# leaving: halted: nothing above stopped the machine");
    halt_forever();
}
