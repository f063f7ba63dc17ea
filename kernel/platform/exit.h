/* Leaving the virtual machine with a status the host can assert on. */
#ifndef PVCHECK_EXIT_H
#define PVCHECK_EXIT_H

/* Written to isa-debug-exit (port 0xf4); QEMU exits with (code << 1) | 1,
 * so 3, 5 and 7: none collides with QEMU's own 0 and 1. */
enum exit_code {
    EXIT_PASS = 1,
    EXIT_FAIL = 2,
    EXIT_GUEST_ERROR = 3,
};

/* A way out that an interface layer knows (Xen's SCHEDOP_shutdown), tried
 * after the debug-exit port and before ACPI; it returns if it cannot. */
void exit_set_poweroff(void (*poweroff)(void));

__attribute__((noreturn)) void guest_exit(enum exit_code code);

#endif
