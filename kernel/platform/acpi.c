#include "platform/acpi.h"

#include <stddef.h>

#include "platform/acpi_parse.h"
#include "platform/bios_areas.h"
#include "lib/report.h"
#include "platform/cpu.h"

/* Identity-mapped memory ends at 4 GiB; larger lengths are not ACPI tables. */
#define MAPPED_LIMIT 0x100000000ull
#define TABLE_MAX_LEN (1u << 20)

static struct acpi_info info;
static const struct acpi_sdt_header *root; /* RSDT or XSDT */
static unsigned root_entry_size;

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
    if (acpi_sum((const uint8_t *)h, h->length) != 0)
        return NULL;
    return h;
}

static bool rsdp_valid(uint64_t addr)
{
    /* 36 bytes are always mapped here; a longer extended table is checked
     * against its own length by acpi_rsdp_ok. */
    return in_mapped(addr, 4096) && acpi_rsdp_ok((const uint8_t *)(uintptr_t)addr, 4096);
}

static uint64_t scan_rsdp(uint64_t start, uint64_t end)
{
    for (uint64_t a = start; a + 36 <= end; a += 16)
        if (rsdp_valid(a))
            return a;
    return 0;
}


const struct acpi_sdt_header *acpi_find_table(const char *signature)
{
    if (!root)
        return NULL;
    const uint8_t *entries = (const uint8_t *)root + sizeof(*root);
    unsigned n = (root->length - sizeof(*root)) / root_entry_size;
    for (unsigned i = 0; i < n; i++) {
        const struct acpi_sdt_header *t =
            table_at(acpi_le(entries + i * root_entry_size, root_entry_size));
        if (t && mem_eq(t->signature, signature, 4))
            return t;
    }
    return NULL;
}

static void parse_fadt(void)
{
    const struct acpi_sdt_header *fadt = acpi_find_table("FACP");
    if (!fadt)
        return;
    struct acpi_fadt_fields f;
    acpi_fadt_parse((const uint8_t *)fadt, fadt->length, &f);
    info.pm1a_cnt = f.pm1a_cnt;
    info.hw_reduced = f.hw_reduced;
    info.sleep_control = f.sleep_control;
    info.pm_timer_port = f.pm_timer_port;
    info.pm_timer_32bit = f.pm_timer_32bit;
    const struct acpi_sdt_header *dsdt = table_at(f.dsdt);
    if (dsdt && mem_eq(dsdt->signature, "DSDT", 4))
        info.s5_found = acpi_aml_find_s5((const uint8_t *)dsdt, dsdt->length, &info.slp_typ_s5);
}

static void parse_hpet(void)
{
    const struct acpi_sdt_header *h = acpi_find_table("HPET");
    if (h)
        info.hpet_base = acpi_hpet_parse((const uint8_t *)h, h->length);
}

void acpi_init(uint64_t rsdp_hint, const char *hint_source, bool bios_areas)
{
    uint64_t rsdp = 0;
    if (rsdp_hint && rsdp_valid(rsdp_hint)) {
        rsdp = rsdp_hint;
        info.rsdp_source = hint_source;
    } else if (bios_areas) {
        uint64_t ebda = bios_ebda();
        if (ebda)
            rsdp = scan_rsdp(ebda, ebda + 1024);
        if (!rsdp)
            rsdp = scan_rsdp(0xe0000, 0x100000);
        info.rsdp_source = "bios-scan";
    }
    if (!rsdp)
        return;
    info.rsdp = rsdp;
    const uint8_t *p = (const void *)(uintptr_t)rsdp;
    uint64_t xsdt = p[15] >= 2 ? acpi_le(p + 24, 8) : 0;
    const struct acpi_sdt_header *t = table_at(xsdt);
    if (t && mem_eq(t->signature, "XSDT", 4)) {
        root = t;
        root_entry_size = 8;
    } else {
        t = table_at(acpi_le(p + 16, 4));
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
    if (!info.rsdp) {
        report_line(0, "# leaving: no ACPI power-off (no RSDP)");
        return;
    }
    if (!info.s5_found) {
        report_line(0, "# leaving: no ACPI power-off (no _S5 package in the DSDT)");
        return;
    }
    if (info.pm1a_cnt && !info.hw_reduced) {
        report_line(0, "# leaving: ACPI power-off: SLP_TYP %u | SLP_EN to PM1a_CNT at port 0x%x",
                    info.slp_typ_s5, info.pm1a_cnt);
        outw(info.pm1a_cnt, (uint16_t)((info.slp_typ_s5 & 7) << 10 | 1 << 13));
        stop_settle();
        return;
    }
    const struct acpi_gas *g = &info.sleep_control;
    if (g->space == ACPI_GAS_NONE) {
        report_line(0, "# leaving: no ACPI power-off (%s)",
                    info.hw_reduced ? "hardware-reduced, and no usable sleep control register"
                                    : "no PM1a_CNT");
        return;
    }
    uint8_t v = acpi_sleep_control_value(info.slp_typ_s5);
    report_line(0, "# leaving: ACPI power-off (hardware-reduced): 0x%02x to the sleep control "
                   "register at %s 0x%llx", v, g->space == ACPI_GAS_IO ? "port" : "memory",
                (unsigned long long)g->address);
    if (g->space == ACPI_GAS_IO)
        outb((uint16_t)g->address, v);
    else
        *(volatile uint8_t *)(uintptr_t)g->address = v;
    stop_settle();
}
