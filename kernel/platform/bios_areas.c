#include "platform/bios_areas.h"

#define BDA_EBDA_SEGMENT 0x40e

/* The BIOS data area sits at fixed low addresses; hiding the constant from
 * the compiler keeps it from treating address 0x40e as a null-based array. */
static uint16_t read_bda_word(uintptr_t addr)
{
    __asm__("" : "+r"(addr));
    return *(volatile const uint16_t *)addr;
}

uintptr_t bios_ebda(void)
{
    uintptr_t ebda = (uintptr_t)read_bda_word(BDA_EBDA_SEGMENT) << 4;
    return ebda >= 0x80000 && ebda < 0xa0000 ? ebda : 0;
}
