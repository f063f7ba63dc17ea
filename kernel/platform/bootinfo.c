#include "platform/bootinfo.h"

#include <stdbool.h>
#include <stddef.h>

#include "boot.h"
#include "lib/str.h"

struct boot_info pvcheck_boot;

#define LIMIT_4G 0x100000000ull
#define STRING_MAX 4096

/* A NUL-terminated string at a physical address below 4 GiB, or NULL. */
static const char *string_at(uint64_t addr)
{
    if (addr == 0 || addr >= LIMIT_4G - STRING_MAX)
        return NULL;
    const char *s = (const char *)(uintptr_t)addr;
    for (size_t i = 0; i < STRING_MAX; i++)
        if (s[i] == '\0')
            return s;
    return NULL;
}

/* QEMU's multiboot loader puts the image path before the options (GRUB 2
 * does not); older loaders put a path such as "/boot/x" or "(hd0)/x" there. */
static const char *strip_image_path(const char *s, const char *loader)
{
    while (*s == ' ')
        s++;
    bool path = (loader && str_eq(loader, "qemu")) || *s == '/' || *s == '(';
    if (!path)
        return s;
    while (*s && *s != ' ')
        s++;
    while (*s == ' ')
        s++;
    return s;
}

static void parse_mb1(uint32_t info, struct boot_info *bi)
{
    const volatile uint32_t *mbi = (const void *)(uintptr_t)info;
    uint32_t flags = mbi[0];
    if (flags & (1u << 0)) /* mem_upper: KiB of RAM above 1 MiB */
        bi->mem_top = 0x100000ull + (uint64_t)mbi[2] * 1024;
    if (flags & (1u << 9))
        bi->loader = string_at(mbi[16]);
    if (flags & (1u << 2)) {
        const char *c = string_at(mbi[4]);
        if (c)
            bi->cmdline = strip_image_path(c, bi->loader);
        else
            bi->problem = "multiboot1 command line pointer invalid or unterminated";
    }
}

struct mb2_tag {
    uint32_t type;
    uint32_t size;
};

void bootinfo_parse_mb2(const void *info, struct boot_info *bi)
{
    const uint8_t *base = info;
    uint32_t total = *(const uint32_t *)base;
    if (total < 16 || total > (1u << 20)) {
        bi->problem = "multiboot2 information size out of range";
        return;
    }
    for (uint32_t off = 8; off + sizeof(struct mb2_tag) <= total;) {
        const struct mb2_tag *t = (const void *)(base + off);
        if (t->type == 0)
            return;
        if (t->size < sizeof(*t) || t->size > total - off) {
            bi->problem = "multiboot2 tag size out of range";
            return;
        }
        const char *payload = (const char *)t + sizeof(*t);
        uint32_t payload_len = t->size - (uint32_t)sizeof(*t);
        bool terminated = payload_len > 0 && payload[payload_len - 1] == '\0';
        switch (t->type) {
        case 1: /* boot command line */
            if (terminated)
                bi->cmdline = payload;
            else
                bi->problem = "multiboot2 command line not terminated";
            break;
        case 4: /* basic memory information: mem_lower, mem_upper (KiB) */
            if (payload_len >= 8)
                bi->mem_top = 0x100000ull + (uint64_t)((const uint32_t *)payload)[1] * 1024;
            break;
        case 2: /* boot loader name */
            if (terminated)
                bi->loader = payload;
            break;
        case 11: /* EFI 32-bit system table pointer */
        case 12: /* EFI 64-bit system table pointer */
            bi->firmware = "uefi";
            break;
        case 14: /* ACPI old RSDP (a copy) */
        case 15: /* ACPI new RSDP (a copy) */
            if (!bi->rsdp || t->type == 15)
                bi->rsdp = (uint64_t)(uintptr_t)payload;
            break;
        }
        off += (t->size + 7) & ~7u;
    }
}

/* hvm_start_info from Xen's public/arch-x86/hvm/start_info.h. */
struct hvm_start_info {
    uint32_t magic;
    uint32_t version;
    uint32_t flags;
    uint32_t nr_modules;
    uint64_t modlist_paddr;
    uint64_t cmdline_paddr;
    uint64_t rsdp_paddr; /* version 1 and later */
    uint64_t memmap_paddr;
    uint32_t memmap_entries;
    uint32_t reserved;
} __attribute__((packed));

struct hvm_memmap_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type; /* 1: RAM */
    uint32_t reserved;
} __attribute__((packed));

#define PVH_MEMMAP_MAX 128

/* The RAM entry holding the image (at 1 MiB) gives the usable top. */
static void pvh_mem_top(const struct hvm_start_info *si, struct boot_info *bi)
{
    if (!si->memmap_paddr || si->memmap_entries > PVH_MEMMAP_MAX ||
        si->memmap_paddr >= LIMIT_4G - PVH_MEMMAP_MAX * sizeof(struct hvm_memmap_entry))
        return;
    const struct hvm_memmap_entry *e = (const void *)(uintptr_t)si->memmap_paddr;
    for (uint32_t i = 0; i < si->memmap_entries; i++)
        if (e[i].type == 1 && e[i].addr <= 0x100000 && e[i].size > 0x100000 - e[i].addr &&
            e[i].addr + e[i].size > e[i].addr)
            bi->mem_top = e[i].addr + e[i].size;
}

static void parse_pvh(uint32_t info, struct boot_info *bi)
{
    const struct hvm_start_info *si = (const void *)(uintptr_t)info;
    if (si->magic != PVH_BOOT_MAGIC) {
        bi->problem = "hvm_start_info magic mismatch";
        return;
    }
    if (si->cmdline_paddr) {
        const char *c = string_at(si->cmdline_paddr);
        if (c)
            bi->cmdline = c;
        else
            bi->problem = "PVH command line pointer invalid or unterminated";
    }
    if (si->version >= 1) {
        bi->rsdp = si->rsdp_paddr;
        pvh_mem_top(si, bi);
    }
}

void bootinfo_parse(uint32_t magic, uint32_t info, struct boot_info *bi)
{
    *bi = (struct boot_info){ .protocol = "unknown", .cmdline = "" };
    if (info == 0) {
        bi->problem = "no boot information pointer";
        return;
    }
    switch (magic) {
    case MB1_BOOT_MAGIC:
        bi->protocol = "multiboot1";
        parse_mb1(info, bi);
        break;
    case MB2_BOOT_MAGIC:
        bi->protocol = "multiboot2";
        bootinfo_parse_mb2((const void *)(uintptr_t)info, bi);
        break;
    case PVH_BOOT_MAGIC:
        bi->protocol = "pvh";
        parse_pvh(info, bi);
        break;
    default:
        bi->problem = "unknown boot magic";
        break;
    }
}
