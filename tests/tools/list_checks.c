/* Every suite and check of a pvcheck image, read from its check tables:
 * the pvcheck_suites section of an unstripped build (build/pvcheck.syms.elf),
 * laid out as kernel/lib/suite.h says. Prints one Markdown table per suite
 * (check, and the rule it enforces with its citation), in report order.
 * Boots nothing; the image is untrusted input like any other file: every
 * pointer is checked against the loaded segments, every string is bounded.
 *   list_checks IMAGE [SUITE]   (SUITE: only that suite's table, no heading)
 * Exit 0, or 2 with a message for a file that is not such an image. */
#include <elf.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/suite.h"

#define MAX_IMAGE (8u << 20)
#define MAX_SUITES 64u
#define MAX_CHECKS 128u
#define MAX_TEXT 4096u

static const uint8_t *image;
static size_t image_len;

static __attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("list_checks: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

/* The file bytes behind [vaddr, vaddr + len) of one loaded segment, or NULL. */
static const uint8_t *at(uint64_t vaddr, uint64_t len)
{
    const Elf64_Ehdr *e = (const Elf64_Ehdr *)image;
    for (unsigned i = 0; i < e->e_phnum; i++) {
        const Elf64_Phdr *p = (const Elf64_Phdr *)(image + e->e_phoff + (size_t)i * e->e_phentsize);
        if (p->p_type != PT_LOAD || vaddr < p->p_vaddr || len > p->p_filesz ||
            vaddr - p->p_vaddr > p->p_filesz - len)
            continue;
        return image + p->p_offset + (vaddr - p->p_vaddr);
    }
    return NULL;
}

static uint64_t pointer_at(uint64_t vaddr, const char *what)
{
    const uint8_t *b = at(vaddr, 8);
    if (!b)
        die("%s at 0x%llx is outside the image", what, (unsigned long long)vaddr);
    uint64_t v;
    memcpy(&v, b, 8);
    return v;
}

/* A NUL-terminated string of printable ASCII (and the citation codes). */
static const char *string_at(uint64_t vaddr, const char *what)
{
    for (uint64_t n = 0; n < MAX_TEXT; n++) {
        const uint8_t *b = at(vaddr + n, 1);
        if (!b)
            die("%s at 0x%llx runs outside the image", what, (unsigned long long)vaddr);
        if (*b == 0)
            return (const char *)at(vaddr, 1);
        if ((*b < 0x20 && *b != 1 && *b != 2) || *b > 0x7e)
            die("%s at 0x%llx holds byte 0x%02x", what, (unsigned long long)vaddr, *b);
    }
    die("%s at 0x%llx is over %u bytes", what, (unsigned long long)vaddr, MAX_TEXT);
}

static uint64_t symbol(const char *name)
{
    const Elf64_Ehdr *e = (const Elf64_Ehdr *)image;
    for (unsigned i = 0; i < e->e_shnum; i++) {
        const Elf64_Shdr *s = (const Elf64_Shdr *)(image + e->e_shoff + (size_t)i * e->e_shentsize);
        if (s->sh_type != SHT_SYMTAB || s->sh_link >= e->e_shnum || s->sh_entsize != sizeof(Elf64_Sym))
            continue;
        const Elf64_Shdr *str =
            (const Elf64_Shdr *)(image + e->e_shoff + (size_t)s->sh_link * e->e_shentsize);
        if (s->sh_offset > image_len || s->sh_size > image_len - s->sh_offset ||
            str->sh_offset > image_len || str->sh_size > image_len - str->sh_offset)
            die("a symbol table lies outside the file");
        for (uint64_t k = 0; k < s->sh_size / sizeof(Elf64_Sym); k++) {
            const Elf64_Sym *sym = (const Elf64_Sym *)(image + s->sh_offset) + k;
            if (sym->st_name >= str->sh_size)
                continue;
            const char *n = (const char *)image + str->sh_offset + sym->st_name;
            if (strnlen(n, str->sh_size - sym->st_name) < str->sh_size - sym->st_name &&
                strcmp(n, name) == 0)
                return sym->st_value;
        }
    }
    die("no symbol %s: not an unstripped pvcheck image", name);
}

/* The rule text with its citation codes written out, escaped for a table. */
static void print_rule(const char *r)
{
    for (; *r; r++) {
        if (*r == DOC_KVM_MSR[0])
            fputs(DOC_KVM_MSR_TEXT, stdout);
        else if (*r == DOC_KVM_HC[0])
            fputs(DOC_KVM_HC_TEXT, stdout);
        else if (*r == '|')
            fputs("\\|", stdout);
        else
            putchar(*r);
    }
}

struct listed {
    const char *name;
    int order;
    uint64_t checks, n_checks;
};

static int by_order(const void *a, const void *b)
{
    const struct listed *x = a, *y = b;
    return x->order != y->order ? (x->order < y->order ? -1 : 1) : strcmp(x->name, y->name);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3)
        die("usage: list_checks IMAGE [SUITE]");
    FILE *f = fopen(argv[1], "rb");
    if (!f)
        die("cannot read %s", argv[1]);
    uint8_t *buf = malloc(MAX_IMAGE + 1);
    if (!buf)
        die("out of memory");
    image_len = fread(buf, 1, MAX_IMAGE + 1, f);
    fclose(f);
    image = buf;
    if (image_len > MAX_IMAGE)
        die("%s is over %u bytes", argv[1], MAX_IMAGE);
    const Elf64_Ehdr *e = (const Elf64_Ehdr *)image;
    if (image_len < sizeof(*e) || memcmp(e->e_ident, ELFMAG, SELFMAG) != 0 ||
        e->e_ident[EI_CLASS] != ELFCLASS64 || e->e_machine != EM_X86_64)
        die("%s is not an x86-64 ELF64 file", argv[1]);
    if (e->e_phentsize != sizeof(Elf64_Phdr) || e->e_phoff > image_len ||
        (uint64_t)e->e_phnum * sizeof(Elf64_Phdr) > image_len - e->e_phoff ||
        e->e_shentsize != sizeof(Elf64_Shdr) || e->e_shoff > image_len ||
        (uint64_t)e->e_shnum * sizeof(Elf64_Shdr) > image_len - e->e_shoff)
        die("%s has headers outside the file", argv[1]);
    for (unsigned i = 0; i < e->e_phnum; i++) {
        const Elf64_Phdr *p = (const Elf64_Phdr *)(image + e->e_phoff) + i;
        if (p->p_type == PT_LOAD && (p->p_offset > image_len || p->p_filesz > image_len - p->p_offset))
            die("%s has a segment outside the file", argv[1]);
    }

    uint64_t start = symbol("__start_pvcheck_suites"), stop = symbol("__stop_pvcheck_suites");
    if (stop < start || (stop - start) % 8 || (stop - start) / 8 > MAX_SUITES)
        die("the suite table [0x%llx, 0x%llx) is not an array of at most %u pointers",
            (unsigned long long)start, (unsigned long long)stop, MAX_SUITES);
    unsigned n = (unsigned)((stop - start) / 8);
    struct listed suites[MAX_SUITES];
    for (unsigned i = 0; i < n; i++) {
        uint64_t s = pointer_at(start + 8ull * i, "a suite pointer");
        if (!at(s, sizeof(struct suite)))
            die("suite %u at 0x%llx is outside the image", i, (unsigned long long)s);
        int32_t order;
        uint32_t count;
        memcpy(&order, at(s + offsetof(struct suite, order), 4), 4);
        memcpy(&count, at(s + offsetof(struct suite, n_checks), 4), 4);
        suites[i] = (struct listed){ string_at(pointer_at(s + offsetof(struct suite, name), "a suite name"),
                                               "a suite name"),
                                     order, pointer_at(s + offsetof(struct suite, checks), "checks"),
                                     count };
        if (count > MAX_CHECKS)
            die("suite %s has %u checks", suites[i].name, count);
    }
    qsort(suites, n, sizeof(suites[0]), by_order);
    unsigned shown = 0;
    for (unsigned i = 0; i < n; i++) {
        if (argc == 3 && strcmp(argv[2], suites[i].name) != 0)
            continue;
        shown++;
        if (argc == 2)
            printf("%s## `%s`\n\n", i ? "\n" : "", suites[i].name);
        printf("| check | rule it enforces, and where it is written |\n|---|---|\n");
        for (uint64_t k = 0; k < suites[i].n_checks; k++) {
            uint64_t c = suites[i].checks + k * sizeof(struct check);
            const char *name = string_at(pointer_at(c + offsetof(struct check, name), "a check name"),
                                         "a check name");
            const char *rule = string_at(pointer_at(c + offsetof(struct check, rule), "a rule"), "a rule");
            printf("| `%s.%s` | ", suites[i].name, name);
            print_rule(rule);
            printf(" |\n");
        }
    }
    if (argc == 3 && !shown)
        die("no suite %s in %s", argv[2], argv[1]);
    free(buf);
    return 0;
}
