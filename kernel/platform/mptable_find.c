#include "platform/mptable_find.h"

#include "platform/bios_areas.h"
#include "platform/bootinfo.h"
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
        if (w != mptable_not_floating) /* a floating pointer, but no table behind it */
            *why = w;
    }
    return 0;
}

bool mptable_find(struct madt_info *out, const char **why)
{
    if (pvcheck_boot.firmware) {
        *why = "booted through UEFI: no BIOS areas to search";
        return false;
    }
    *why = "no MP floating pointer";
    uintptr_t ebda = bios_ebda(), table = 0;
    if (ebda)
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
