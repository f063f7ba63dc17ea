#include "acpi.h"

#include <stddef.h>

#include "cpu.h"

/* Identity-mapped memory ends at 4 GiB; larger lengths are not ACPI tables. */
#define MAPPED_LIMIT 0x100000000ull
#define TABLE_MAX_LEN (1u << 20)

static struct acpi_info info;
static const struct acpi_sdt_header *root; /* RSDT or XSDT */
static unsigned root_entry_size;

static uint8_t sum_bytes(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + b[i]);
    return s;
}

static bool mem_eq(const void *a, const char *b, size_t n)
{
    const char *p = a;
    for (size_t i = 0; i < n; i++)
        if (p[i] != b[i])
            return false;
    return true;
}

static bool in_mapped(uint64_t addr, uint64_t len)
{
    return addr != 0 && addr < MAPPED_LIMIT && len <= MAPPED_LIMIT - addr;
}

static const struct acpi_sdt_header *table_at(uint64_t addr)
{
    if (!in_mapped(addr, sizeof(struct acpi_sdt_header)))
        return NULL;
    const struct acpi_sdt_header *h = (const void *)(uintptr_t)addr;
    if (h->length < sizeof(*h) || h->length > TABLE_MAX_LEN || !in_mapped(addr, h->length))
        return NULL;
    if (sum_bytes(h, h->length) != 0)
        return NULL;
    return h;
}

static bool rsdp_valid(uint64_t addr)
{
    if (!in_mapped(addr, 36))
        return false;
    const uint8_t *p = (const void *)(uintptr_t)addr;
    if (!mem_eq(p, "RSD PTR ", 8) || sum_bytes(p, 20) != 0)
        return false;
    if (p[15] >= 2) {
        uint32_t len = (uint32_t)p[20] | (uint32_t)p[21] << 8 | (uint32_t)p[22] << 16 |
                       (uint32_t)p[23] << 24;
        if (len < 36 || len > 4096 || sum_bytes(p, len) != 0)
            return false;
    }
    return true;
}

/* The BIOS data area sits at fixed low addresses; hiding the constant from
 * the compiler keeps it from treating address 0x40e as a null-based array. */
static uint16_t read_bda_word(uintptr_t addr)
{
    __asm__("" : "+r"(addr));
    return *(volatile const uint16_t *)addr;
}

static uint64_t scan_rsdp(uint64_t start, uint64_t end)
{
    for (uint64_t a = start; a + 36 <= end; a += 16)
        if (rsdp_valid(a))
            return a;
    return 0;
}

static uint64_t read_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

const struct acpi_sdt_header *acpi_find_table(const char *signature)
{
    if (!root)
        return NULL;
    const uint8_t *entries = (const uint8_t *)root + sizeof(*root);
    unsigned n = (root->length - sizeof(*root)) / root_entry_size;
    for (unsigned i = 0; i < n; i++) {
        const struct acpi_sdt_header *t =
            table_at(read_le(entries + i * root_entry_size, root_entry_size));
        if (t && mem_eq(t->signature, signature, 4))
            return t;
    }
    return NULL;
}

/* Finds Name(_S5_, Package(){ typ, ... }) in the DSDT's AML. */
static bool find_s5(const struct acpi_sdt_header *dsdt, uint16_t *slp_typ)
{
    const uint8_t *p = (const uint8_t *)dsdt;
    uint32_t len = dsdt->length;
    for (uint32_t i = sizeof(*dsdt); i + 8 < len; i++) {
        if (!mem_eq(p + i, "_S5_", 4) || p[i + 4] != 0x12) /* PackageOp */
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

static void parse_fadt(void)
{
    const struct acpi_sdt_header *fadt = acpi_find_table("FACP");
    if (!fadt)
        return;
    const uint8_t *f = (const uint8_t *)fadt;
    uint32_t len = fadt->length;
    if (len >= 68)
        info.pm1a_cnt = (uint16_t)read_le(f + 64, 4);
    if (len >= 92) {
        uint32_t port = (uint32_t)read_le(f + 76, 4);
        /* PM_TMR_LEN must be 4 when the timer exists. */
        if (port && port <= 0xffff && f[91] == 4)
            info.pm_timer_port = port;
    }
    if (len >= 116)
        info.pm_timer_32bit = (read_le(f + 112, 4) >> 8) & 1; /* TMR_VAL_EXT */
    uint64_t dsdt_addr = len >= 44 ? read_le(f + 40, 4) : 0;
    if (len >= 148 && read_le(f + 140, 8))
        dsdt_addr = read_le(f + 140, 8);
    const struct acpi_sdt_header *dsdt = table_at(dsdt_addr);
    if (dsdt && mem_eq(dsdt->signature, "DSDT", 4))
        info.s5_found = find_s5(dsdt, &info.slp_typ_s5);
}

static void parse_hpet(void)
{
    const struct acpi_sdt_header *h = acpi_find_table("HPET");
    /* Event_Timer_Block_ID (4), then a GAS whose address is at offset 44. */
    if (h && h->length >= 56 && ((const uint8_t *)h)[40] == 0 /* system memory */)
        info.hpet_base = read_le((const uint8_t *)h + 44, 8);
}

void acpi_init(uint64_t rsdp_hint, const char *hint_source)
{
    uint64_t rsdp = 0;
    if (rsdp_hint && rsdp_valid(rsdp_hint)) {
        rsdp = rsdp_hint;
        info.rsdp_source = hint_source;
    } else {
        uint64_t ebda = (uint64_t)read_bda_word(0x40e) << 4;
        if (ebda >= 0x80000 && ebda < 0xa0000)
            rsdp = scan_rsdp(ebda, ebda + 1024);
        if (!rsdp)
            rsdp = scan_rsdp(0xe0000, 0x100000);
        info.rsdp_source = "bios-scan";
    }
    if (!rsdp)
        return;
    info.rsdp = rsdp;
    const uint8_t *p = (const void *)(uintptr_t)rsdp;
    uint64_t xsdt = p[15] >= 2 ? read_le(p + 24, 8) : 0;
    const struct acpi_sdt_header *t = table_at(xsdt);
    if (t && mem_eq(t->signature, "XSDT", 4)) {
        root = t;
        root_entry_size = 8;
    } else {
        t = table_at(read_le(p + 16, 4));
        if (t && mem_eq(t->signature, "RSDT", 4)) {
            root = t;
            root_entry_size = 4;
        }
    }
    parse_fadt();
    parse_hpet();
}

const struct acpi_info *acpi_get(void)
{
    return &info;
}

void acpi_poweroff(void)
{
    if (!info.pm1a_cnt || !info.s5_found)
        return;
    outw(info.pm1a_cnt, (uint16_t)((info.slp_typ_s5 & 7) << 10 | 1 << 13));
    for (volatile unsigned i = 0; i < 1000000; i++)
        cpu_relax();
}
