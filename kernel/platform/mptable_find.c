#include "platform/mptable_find.h"

#include "platform/mptable.h"

/* Where MPS 1.4 puts the floating pointer: the EBDA's first KiB, else the
 * last KiB of base memory, else the BIOS ROM from 0xf0000. */
static uintptr_t scan(uintptr_t start, uintptr_t end, const char **why)
{
    for (uintptr_t a = start; a + MP_FLOATING_BYTES <= end; a += 16) {
        const char *w;
        uint32_t table = mptable_floating((const uint8_t *)a, &w);
        if (table)
            return table;
        if (w && *w != 'n') /* a floating pointer, but no table behind it */
            *why = w;
    }
    return 0;
}

static uint16_t bda_word(uintptr_t addr)
{
    __asm__("" : "+r"(addr)); /* not a null-based array to the compiler */
    return *(volatile const uint16_t *)addr;
}

bool mptable_find(struct madt_info *out, const char **why)
{
    *why = "no MP floating pointer";
    uintptr_t ebda = (uintptr_t)bda_word(0x40e) << 4, table = 0;
    if (ebda >= 0x80000 && ebda < 0xa0000)
        table = scan(ebda, ebda + 1024, why);
    if (!table)
        table = scan(0x9fc00, 0xa0000, why);
    if (!table)
        table = scan(0xf0000, 0x100000, why);
    if (!table)
        return false;
    uint16_t len = mptable_length((const uint8_t *)table);
    if (!len) {
        *why = "the MP floating pointer names no configuration table";
        return false;
    }
    mptable_parse((const uint8_t *)table, len, out);
    return true;
}
