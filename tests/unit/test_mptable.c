/* The MP table parser (MPS 1.4) on tables built here: qboot's shape, with
 * its entry count left 0, and hostile ones. */
#include <stdint.h>
#include <string.h>

#include "platform/mptable.h"
#include "unit.h"

static const char *unit_name = "mptable";

static void fix_checksum(uint8_t *t, unsigned len, unsigned at)
{
    uint8_t s = 0;
    t[at] = 0;
    for (unsigned i = 0; i < len; i++)
        s = (uint8_t)(s + t[i]);
    t[at] = (uint8_t)-s;
}

/* Header (44 bytes), then entries; count is the header's entry count. */
static unsigned build(uint8_t *t, const uint8_t *entries, unsigned elen, unsigned count)
{
    memset(t, 0, 44);
    memcpy(t, "PCMP", 4);
    unsigned len = 44 + elen;
    t[4] = (uint8_t)len, t[5] = (uint8_t)(len >> 8);
    t[6] = 4; /* spec 1.4 */
    t[34] = (uint8_t)count, t[35] = (uint8_t)(count >> 8);
    t[36] = 0x00, t[37] = 0x00, t[38] = 0xe0, t[39] = 0xfe; /* 0xfee00000 */
    memcpy(t + 44, entries, elen);
    fix_checksum(t, len, 7);
    return len;
}

static const uint8_t qboot_like[] = {
    0, 0, 0x14, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* CPU 0, enabled, BSP */
    0, 1, 0x14, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* CPU 1, enabled */
    0, 5, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* CPU 5, disabled */
    1, 0, 'I', 'S', 'A', ' ', ' ', ' ',                            /* bus 0: ISA */
    1, 1, 'P', 'C', 'I', ' ', ' ', ' ',                            /* bus 1: PCI */
    2, 2, 0x20, 1, 0x00, 0x00, 0xc0, 0xfe,                         /* IOAPIC 2 at 0xfec00000 */
    3, 0, 0, 0, 0, 0, 2, 2,                                        /* ISA IRQ 0 -> INTIN 2 */
    3, 0, 0x0d, 0, 0, 9, 2, 9,                                     /* ISA IRQ 9 level, high */
    3, 0, 0, 0, 1, 4, 2, 20,                                       /* PCI bus: not ISA */
    3, 0, 0, 0, 0, 3, 7, 21,                                       /* another IOAPIC's */
    3, 3, 0, 0, 0, 5, 2, 22,                                       /* ExtINT: not a route */
    4, 3, 0, 0, 0, 0, 0xff, 0,                                     /* LINT0 ExtINT */
};

static void parses_qboot_shape(void)
{
    uint8_t t[512];
    struct madt_info m;
    mptable_parse(t, build(t, qboot_like, sizeof(qboot_like), 0), &m);
    CHECK(!m.problem, "%s", m.problem);
    CHECK(m.note != NULL, "an entry count of 0 must be noted");
    CHECK(m.lapic_base == 0xfee00000u, "lapic 0x%llx", (unsigned long long)m.lapic_base);
    CHECK(m.n_cpus == 2 && m.cpus[0].apic_id == 0 && m.cpus[1].apic_id == 1, "cpus %u", m.n_cpus);
    CHECK(m.has_ioapic && m.ioapic_base == 0xfec00000u && m.ioapic_gsi_base == 0, "ioapic");
    CHECK(m.isa[0].gsi == 2 && m.isa[9].gsi == 9 && m.isa[9].flags == 0x0d, "ISA routes");
    CHECK(m.isa[4].gsi == 4 && m.isa[3].gsi == 3 && m.isa[5].gsi == 5,
          "PCI, other IOAPIC and ExtINT entries must not route ISA IRQs");
    mptable_parse(t, build(t, qboot_like, sizeof(qboot_like), 12), &m);
    CHECK(!m.problem && !m.note, "a right entry count: no note");
}

static void refuses_hostile(void)
{
    uint8_t t[512];
    struct madt_info m;
    unsigned len = build(t, qboot_like, sizeof(qboot_like), 12);
    t[10] ^= 1; /* checksum now wrong */
    mptable_parse(t, len, &m);
    CHECK(m.problem && m.n_cpus == 0, "bad checksum accepted");
    len = build(t, qboot_like, sizeof(qboot_like), 12);
    mptable_parse(t, len - 1, &m);
    CHECK(m.problem != NULL, "a length past the memory given accepted");
    static const uint8_t unknown[] = { 0, 0, 0x14, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                       0, 0, 9, 0, 0, 0, 0, 0, 0, 0 };
    mptable_parse(t, build(t, unknown, sizeof(unknown), 2), &m);
    CHECK(m.problem && m.n_cpus == 1, "an unknown entry type must stop the walk");
    static const uint8_t cut[] = { 0, 0, 0x14, 1, 0, 0, 0, 0 };
    mptable_parse(t, build(t, cut, sizeof(cut), 1), &m);
    CHECK(m.problem && m.n_cpus == 0, "a processor entry cut short accepted");
    memcpy(t, "PCMX", 4);
    mptable_parse(t, 100, &m);
    CHECK(m.problem != NULL, "wrong signature accepted");
    mptable_parse(t, 10, &m);
    CHECK(m.problem != NULL, "a table shorter than its header accepted");
}

static void floating_pointer(void)
{
    uint8_t fp[16] = { '_', 'M', 'P', '_', 0x00, 0xf0, 0x0f, 0x00, 1, 4 };
    const char *why;
    fix_checksum(fp, 16, 10);
    CHECK(mptable_floating(fp, &why) == 0x000ff000 && !why, "valid pointer: %s", why);
    fp[11] = 5; /* a default configuration */
    fix_checksum(fp, 16, 10);
    CHECK(mptable_floating(fp, &why) == 0 && why, "a default configuration has no table");
    fp[11] = 0;
    fp[10] ^= 1;
    CHECK(mptable_floating(fp, &why) == 0 && why, "bad checksum accepted");
    fix_checksum(fp, 16, 10);
    fp[8] = 2;
    fix_checksum(fp, 16, 10);
    CHECK(mptable_floating(fp, &why) == 0, "a length other than 1 accepted");
    uint8_t h[44] = { 'P', 'C', 'M', 'P', 20, 0 };
    CHECK(mptable_length(h) == 0, "a base length shorter than the header accepted");
    h[4] = 44;
    CHECK(mptable_length(h) == 44, "header length");
}

int main(void)
{
    RUN(parses_qboot_shape);
    RUN(refuses_hostile);
    RUN(floating_pointer);
    return unit_any_failed;
}
