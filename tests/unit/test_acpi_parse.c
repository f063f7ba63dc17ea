/* The ACPI byte parsers on tables built here: a PC's FADT, a hardware-reduced
 * one shaped as QEMU's microvm writes it (sleep control register in the GED's
 * MMIO), hostile addresses, and the DSDT's _S5 package. */
#include <stdint.h>
#include <string.h>

#include "platform/acpi_parse.h"
#include "unit.h"

static const char *unit_name = "acpi_parse";

#define FADT_LEN 276

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void fadt(uint8_t *f, uint32_t flags, uint8_t space, uint64_t sleep_ctl)
{
    memset(f, 0, FADT_LEN);
    memcpy(f, "FACP", 4);
    put_le(f + 4, FADT_LEN, 4);
    put_le(f + 112, flags, 4);
    f[244] = space;
    f[245] = 8; /* bit width */
    put_le(f + 248, sleep_ctl, 8);
}

static void hardware_reduced(void)
{
    uint8_t f[FADT_LEN];
    struct acpi_fadt_fields out;
    fadt(f, 1u << 20, ACPI_GAS_MEMORY, 0xfea00200);
    acpi_fadt_parse(f, FADT_LEN, &out);
    CHECK(out.hw_reduced, "flag bit 20 not read");
    CHECK(out.pm1a_cnt == 0, "pm1a_cnt 0x%x", out.pm1a_cnt);
    CHECK(out.sleep_control.space == ACPI_GAS_MEMORY && out.sleep_control.address == 0xfea00200,
          "sleep control %u 0x%llx", out.sleep_control.space,
          (unsigned long long)out.sleep_control.address);
    CHECK(out.pm_timer_port == 0, "a PM timer where none is given");
    f[208] = ACPI_GAS_IO; /* X_PM_TMR_BLK alone, 32 bits at port 0xb008 */
    f[209] = 32;
    put_le(f + 212, 0xb008, 8);
    acpi_fadt_parse(f, FADT_LEN, &out);
    CHECK(out.pm_timer_port == 0xb008, "X_PM_TMR_BLK: 0x%x", out.pm_timer_port);
    f[209] = 24; /* a bit width the PM timer block never has */
    acpi_fadt_parse(f, FADT_LEN, &out);
    CHECK(out.pm_timer_port == 0, "a 24-bit-wide X_PM_TMR_BLK accepted");
    fadt(f, 1u << 20, ACPI_GAS_IO, 0x510);
    acpi_fadt_parse(f, FADT_LEN, &out);
    CHECK(out.sleep_control.space == ACPI_GAS_IO && out.sleep_control.address == 0x510, "I/O");
    /* ACPI 6.5, 4.8.3.7: SLP_TYPx in bits 4:2, SLP_EN bit 5. */
    CHECK(acpi_sleep_control_value(5) == 0x34, "S5 type 5: 0x%x", acpi_sleep_control_value(5));
    CHECK(acpi_sleep_control_value(0) == 0x20, "type 0: 0x%x", acpi_sleep_control_value(0));
    CHECK(acpi_sleep_control_value(0xff) == 0x3c, "a type beyond 3 bits spills over");
}

static void pc_fadt(void)
{
    uint8_t f[FADT_LEN];
    struct acpi_fadt_fields out;
    fadt(f, 1u << 8, 0, 0);
    put_le(f + 64, 0x604, 4);  /* PM1a_CNT_BLK */
    put_le(f + 76, 0x608, 4);  /* PM_TMR_BLK */
    f[91] = 4;                 /* PM_TMR_LEN */
    acpi_fadt_parse(f, 244, &out); /* ACPI 2.0's length: no sleep registers */
    CHECK(!out.hw_reduced && out.pm1a_cnt == 0x604 && out.pm_timer_port == 0x608, "pc fields");
    CHECK(out.pm_timer_32bit, "TMR_VAL_EXT");
    CHECK(out.sleep_control.space == ACPI_GAS_NONE, "no sleep control in 244 bytes");
}

static void hostile_addresses(void)
{
    uint8_t f[FADT_LEN];
    struct acpi_fadt_fields out;
    static const struct {
        uint8_t space;
        uint64_t addr;
        const char *what;
    } bad[] = {
        { ACPI_GAS_MEMORY, 0, "address 0" },
        { ACPI_GAS_MEMORY, 0x100000000ull, "memory above 4 GiB (unmapped)" },
        { ACPI_GAS_IO, 0x10000, "an I/O port beyond 0xffff" },
        { 2, 0xcf8, "PCI configuration space" },
        { 0x7f, 0x1000, "functional fixed hardware" },
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fadt(f, 1u << 20, bad[i].space, bad[i].addr);
        acpi_fadt_parse(f, FADT_LEN, &out);
        CHECK(out.sleep_control.space == ACPI_GAS_NONE, "%s accepted", bad[i].what);
    }
    fadt(f, 1u << 20, ACPI_GAS_MEMORY, 0xfea00200);
    acpi_fadt_parse(f, 255, &out); /* the GAS cut short */
    CHECK(out.sleep_control.space == ACPI_GAS_NONE, "a truncated GAS read");
    acpi_fadt_parse(f, 100, &out);
    CHECK(!out.hw_reduced, "flags read past a 100-byte table");
}

static uint32_t dsdt_with(uint8_t *d, const uint8_t *aml, unsigned n)
{
    memset(d, 0, 36);
    memcpy(d, "DSDT", 4);
    memcpy(d + 36, aml, n);
    return 36 + n;
}

static void s5_package(void)
{
    uint8_t d[128];
    uint16_t typ = 0xffff;
    /* Name(_S5_, Package(4){ 5, 0, 0, 0 }) as QEMU's microvm writes it. */
    static const uint8_t microvm[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x0a, 0x04,
                                       0x0a, 0x05, 0x00, 0x00, 0x00, 0x00 };
    CHECK(acpi_aml_find_s5(d, dsdt_with(d, microvm, sizeof(microvm)), &typ) && typ == 5,
          "microvm's _S5: %u", typ);
    static const uint8_t zero[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04,
                                    0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };
    CHECK(acpi_aml_find_s5(d, dsdt_with(d, zero, sizeof(zero)), &typ) && typ == 0, "ZeroOp");
    static const uint8_t two_byte_len[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x47, 0x00, 0x04,
                                            0x01, 0x00, 0x00, 0x00, 0x00, 0x00 };
    CHECK(acpi_aml_find_s5(d, dsdt_with(d, two_byte_len, sizeof(two_byte_len)), &typ) && typ == 1,
          "a two-byte PkgLength");
    static const uint8_t odd[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04,
                                   0x0b, 0x05, 0x00, 0x00, 0x00, 0x00 };
    CHECK(!acpi_aml_find_s5(d, dsdt_with(d, odd, sizeof(odd)), &typ), "a WordPrefix accepted");
    CHECK(!acpi_aml_find_s5(d, dsdt_with(d, microvm, 8), &typ), "a package cut short accepted");
}

int main(void)
{
    RUN(hardware_reduced);
    RUN(pc_fadt);
    RUN(hostile_addresses);
    RUN(s5_package);
    return unit_any_failed;
}
