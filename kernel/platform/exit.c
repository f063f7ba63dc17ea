#include "platform/exit.h"

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
    if (inb(I8042_STATUS) == 0xff)
        return; /* no controller: nothing answers the port */
    for (unsigned i = 0; i < I8042_WAIT_READS && (inb(I8042_STATUS) & I8042_INPUT_FULL); i++)
        ;
    outb(I8042_STATUS, I8042_PULSE_RESET);
}

void exit_set_poweroff(void (*poweroff)(void))
{
    registered_poweroff = poweroff;
}

void guest_exit(enum exit_code code)
{
    irq_disable();
    outb(DEBUG_EXIT_PORT, (uint8_t)code);
    /* No debug-exit device: power off (the verdict is in the log), else reset
     * through the keyboard controller, else stop. A Xen domU has none of
     * these: it asks Xen to shut it down. */
    if (registered_poweroff)
        registered_poweroff();
    acpi_poweroff();
    i8042_reset();
    halt_forever();
}
