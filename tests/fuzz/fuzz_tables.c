/* Hypervisor- and loader-written tables: the MADT, the FADT (with a
 * hardware-reduced machine's sleep control register), the DSDT's
 * _S5_, the HPET table, the RSDP, the MP table and its floating pointer,
 * and the multiboot2 information. The first
 * byte picks the parser; none reads past what it is given. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "platform/acpi_parse.h"
#include "platform/bootinfo.h"
#include "platform/madt.h"
#include "platform/mptable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* Exact-size heap copies, so that ASan sees any overread. */
    uint8_t *copy = malloc(size);
    memcpy(copy, data + 1, size - 1);
    uint32_t len = (uint32_t)(size - 1);
    switch (data[0] % 8) {
    case 1: {
        struct madt_info m;
        madt_parse(copy, len, &m);
        if (m.n_cpus > MADT_MAX_CPUS)
            __builtin_trap();
        break;
    }
    case 2: {
        struct acpi_fadt_fields f;
        acpi_fadt_parse(copy, len, &f);
        break;
    }
    case 3: {
        uint16_t typ;
        acpi_aml_find_s5(copy, len, &typ);
        break;
    }
    case 4:
        (void)acpi_hpet_parse(copy, len);
        break;
    case 5:
        (void)acpi_rsdp_ok(copy, len);
        break;
    case 6: {
        struct madt_info m;
        mptable_parse(copy, len, &m);
        if (m.n_cpus > MADT_MAX_CPUS)
            __builtin_trap();
        if (len >= 44)
            (void)mptable_length(copy);
        break;
    }
    case 7:
        if (len >= MP_FLOATING_BYTES) {
            const char *why;
            (void)mptable_floating(copy, &why);
        }
        break;
    default:
        if (len < 8)
            break;
        /* The total size field must not claim more than the buffer holds. */
        uint32_t total = (uint32_t)(size - 1);
        memcpy(copy, &total, 4);
        struct boot_info bi = { 0 };
        bootinfo_parse_mb2(copy, &bi);
        if (bi.cmdline && strlen(bi.cmdline) >= size)
            __builtin_trap();
        break;
    }
    free(copy);
    return 0;
}
