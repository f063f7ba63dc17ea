#include "platform/acpi_parse.h"

#define SDT_HEADER 36

uint8_t acpi_sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

uint64_t acpi_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static bool same(const uint8_t *p, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (uint8_t)s[i])
            return false;
    return true;
}

bool acpi_rsdp_ok(const uint8_t *p, size_t avail)
{
    if (avail < 20 || !same(p, "RSD PTR ", 8) || acpi_sum(p, 20) != 0)
        return false;
    if (p[15] < 2)
        return true;
    if (avail < 24)
        return false;
    uint32_t len = (uint32_t)acpi_le(p + 20, 4);
    return len >= 36 && len <= 4096 && len <= avail && acpi_sum(p, len) == 0;
}

/* FADT offsets (ACPI 6.5, Table 5.9). */
#define FADT_FLAGS 112
#define FADT_HW_REDUCED_ACPI (1u << 20)
#define FADT_X_PM_TMR_BLK 208
#define FADT_SLEEP_CONTROL_REG 244
#define GAS_BYTES 12
#define MAPPED_LIMIT 0x100000000ull

static struct acpi_gas gas_parse(const uint8_t *g)
{
    struct acpi_gas out = { ACPI_GAS_NONE, 0 };
    uint64_t addr = acpi_le(g + 4, 8);
    if (addr && ((g[0] == ACPI_GAS_MEMORY && addr < MAPPED_LIMIT) ||
                 (g[0] == ACPI_GAS_IO && addr <= 0xffff)))
        out = (struct acpi_gas){ g[0], addr };
    return out;
}

uint8_t acpi_sleep_control_value(uint16_t slp_typ)
{
    return (uint8_t)((slp_typ & 7) << 2 | 1 << 5);
}

void acpi_fadt_parse(const uint8_t *f, uint32_t len, struct acpi_fadt_fields *out)
{
    *out = (struct acpi_fadt_fields){ 0 };
    out->sleep_control.space = ACPI_GAS_NONE;
    if (len >= 68)
        out->pm1a_cnt = (uint16_t)acpi_le(f + 64, 4);
    if (len >= 92) {
        uint32_t port = (uint32_t)acpi_le(f + 76, 4);
        /* PM_TMR_LEN must be 4 when the timer exists. */
        if (port && port <= 0xffff && f[91] == 4)
            out->pm_timer_port = port;
    }
    /* X_PM_TMR_BLK, which ACPI 2.0 and later prefer and a hardware-reduced
     * FADT may give alone; only an I/O port here. */
    if (len >= FADT_X_PM_TMR_BLK + GAS_BYTES) {
        struct acpi_gas g = gas_parse(f + FADT_X_PM_TMR_BLK);
        if (g.space == ACPI_GAS_IO && f[FADT_X_PM_TMR_BLK + 1] == 32)
            out->pm_timer_port = (uint32_t)g.address;
    }
    if (len >= FADT_FLAGS + 4) {
        uint32_t flags = (uint32_t)acpi_le(f + FADT_FLAGS, 4);
        out->pm_timer_32bit = (flags >> 8) & 1; /* TMR_VAL_EXT */
        out->hw_reduced = (flags & FADT_HW_REDUCED_ACPI) != 0;
    }
    if (len >= FADT_SLEEP_CONTROL_REG + GAS_BYTES)
        out->sleep_control = gas_parse(f + FADT_SLEEP_CONTROL_REG);
    if (len >= 44)
        out->dsdt = acpi_le(f + 40, 4);
    if (len >= 148 && acpi_le(f + 140, 8))
        out->dsdt = acpi_le(f + 140, 8);
}

bool acpi_aml_find_s5(const uint8_t *p, uint32_t len, uint16_t *slp_typ)
{
    for (uint32_t i = SDT_HEADER; len > 10 && i < len - 10; i++) {
        if (!same(p + i, "_S5_", 4) || p[i + 4] != 0x12) /* PackageOp */
            continue;
        uint32_t j = i + 5;
        j += 1 + (p[j] >> 6); /* PkgLength: lead byte plus 0-3 more bytes */
        j += 1;               /* NumElements */
        if (j + 1 >= len)
            return false;
        if (p[j] == 0x0a) /* BytePrefix */
            *slp_typ = p[j + 1];
        else if (p[j] == 0x00 || p[j] == 0x01) /* ZeroOp, OneOp */
            *slp_typ = p[j];
        else
            return false;
        return true;
    }
    return false;
}

uint64_t acpi_hpet_parse(const uint8_t *h, uint32_t len)
{
    /* Event_Timer_Block_ID (4), then a GAS whose address is at offset 44. */
    if (len >= 56 && h[40] == 0 /* system memory */)
        return acpi_le(h + 44, 8);
    return 0;
}
