/* Hypervisor- and loader-written tables: the MADT and the multiboot2
 * information. Parsers never read past what they are given. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bootinfo.h"
#include "madt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* Exact-size heap copies, so that ASan sees any overread. */
    uint8_t *copy = malloc(size);
    memcpy(copy, data + 1, size - 1);
    if (data[0] & 1) {
        struct madt_info m;
        madt_parse(copy, size - 1, &m);
        if (m.n_cpus > MADT_MAX_CPUS)
            __builtin_trap();
    } else if (size - 1 >= 8) {
        /* The total size field must not claim more than the buffer holds. */
        uint32_t total = (uint32_t)(size - 1);
        memcpy(copy, &total, 4);
        struct boot_info bi = { 0 };
        bootinfo_parse_mb2(copy, &bi);
        if (bi.cmdline && strlen(bi.cmdline) >= size)
            __builtin_trap();
    }
    free(copy);
    return 0;
}
