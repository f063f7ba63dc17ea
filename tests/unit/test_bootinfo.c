/* The multiboot2 information parser: the tags pvcheck uses, the firmware it
 * infers from EFI tags, and information blocks that lie about their sizes. */
#include <stdint.h>

#include "platform/bootinfo.h"
#include "unit.h"

static const char *unit_name = "bootinfo";

static _Alignas(8) uint8_t mb2[512];
static uint32_t used;

static void start(void)
{
    memset(mb2, 0, sizeof(mb2));
    used = 8;
}

static void tag(uint32_t type, const void *payload, uint32_t len)
{
    uint32_t size = 8 + len;
    memcpy(mb2 + used, &type, 4);
    memcpy(mb2 + used + 4, &size, 4);
    memcpy(mb2 + used + 8, payload, len);
    used += (size + 7) & ~7u;
}

static void finish(void)
{
    tag(0, "", 0);
    memcpy(mb2, &used, 4);
}

static void bios_boot(void)
{
    struct boot_info bi = { 0 };
    start();
    tag(2, "GRUB 2.06", 10);
    tag(1, "only=cpuid", 11);
    tag(14, "RSD PTR old", 12);
    finish();
    bootinfo_parse_mb2(mb2, &bi);
    CHECK(bi.problem == NULL, "%s", bi.problem);
    CHECK_STR(bi.cmdline, "only=cpuid");
    CHECK_STR(bi.loader, "GRUB 2.06");
    CHECK(bi.rsdp != 0 && memcmp((const void *)(uintptr_t)bi.rsdp, "RSD PTR old", 11) == 0,
          "old RSDP copy not taken");
    CHECK(bi.firmware == NULL, "a BIOS boot called %s", bi.firmware);
}

/* GRUB on UEFI passes the EFI system table: no BIOS areas to scan then. */
static void uefi_boot(void)
{
    struct boot_info bi = { 0 };
    uint64_t systab = 0x7f000000;
    start();
    tag(1, "", 1);
    tag(15, "RSD PTR new", 12);
    tag(12, &systab, 8);
    tag(14, "RSD PTR old", 12);
    finish();
    bootinfo_parse_mb2(mb2, &bi);
    CHECK(bi.problem == NULL, "%s", bi.problem);
    CHECK(bi.firmware && strcmp(bi.firmware, "uefi") == 0, "EFI system table tag not seen");
    CHECK(bi.rsdp && memcmp((const void *)(uintptr_t)bi.rsdp, "RSD PTR new", 11) == 0,
          "the new RSDP must win over an old one that follows it");
}

static void lying_sizes(void)
{
    struct boot_info bi = { 0 };
    start();
    tag(1, "x", 2);
    finish();
    uint32_t huge = 4096;
    memcpy(mb2 + 12, &huge, 4); /* the command-line tag claims 4 KiB */
    bootinfo_parse_mb2(mb2, &bi);
    CHECK(bi.problem != NULL, "a tag larger than the block was accepted");

    struct boot_info b2 = { 0 };
    start();
    tag(1, "abc", 3); /* not terminated */
    finish();
    bootinfo_parse_mb2(mb2, &b2);
    CHECK(b2.problem != NULL, "an unterminated command line was accepted");

    struct boot_info b3 = { 0 };
    uint32_t tiny = 4;
    memset(mb2, 0, sizeof(mb2));
    memcpy(mb2, &tiny, 4);
    bootinfo_parse_mb2(mb2, &b3);
    CHECK(b3.problem != NULL, "a 4-byte information block was accepted");
}

int main(void)
{
    RUN(bios_boot);
    RUN(uefi_boot);
    RUN(lying_sizes);
    return unit_any_failed;
}
