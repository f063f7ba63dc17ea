#include "platform/mptable.h"

#define MP_HEADER 44
#define ENTRY_PROCESSOR 0
#define ENTRY_BUS 1
#define ENTRY_IOAPIC 2
#define ENTRY_IO_INTERRUPT 3
#define ENTRY_LOCAL_INTERRUPT 4
#define PROCESSOR_BYTES 20
#define OTHER_BYTES 8
#define FLAG_ENABLED 1u
#define INT_TYPE_INT 0
#define NO_BUS 0xffff
#define ALL_IOAPICS 0xff

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    while (n--)
        s = (uint8_t)(s + *p++);
    return s;
}

const char mptable_not_floating[] = "not an MP floating pointer";

uint32_t mptable_floating(const uint8_t *fp, const char **why)
{
    *why = 0;
    if (fp[0] != '_' || fp[1] != 'M' || fp[2] != 'P' || fp[3] != '_' || fp[8] != 1 ||
        sum(fp, MP_FLOATING_BYTES) != 0) {
        *why = mptable_not_floating;
        return 0;
    }
    if (fp[11] != 0) {
        *why = "an MP default configuration (no table)";
        return 0;
    }
    uint32_t table = le32(fp + 4);
    if (!table)
        *why = "MP floating pointer without a configuration table";
    return table;
}

uint16_t mptable_length(const uint8_t *h)
{
    if (h[0] != 'P' || h[1] != 'C' || h[2] != 'M' || h[3] != 'P')
        return 0;
    uint16_t len = le16(h + 4);
    return len >= MP_HEADER ? len : 0;
}

/* The ISA buses' ids, to know which interrupt entries are ISA IRQs. */
static bool is_isa(const uint8_t *e)
{
    return e[2] == 'I' && e[3] == 'S' && e[4] == 'A' && (e[5] == ' ' || e[5] == 0);
}

static void add_cpu(struct madt_info *m, uint32_t apic_id)
{
    for (unsigned i = 0; i < m->n_cpus; i++)
        if (m->cpus[i].apic_id == apic_id)
            return;
    if (m->n_cpus == MADT_MAX_CPUS) {
        m->n_ignored++;
        return;
    }
    m->cpus[m->n_cpus++] = (struct madt_cpu){ apic_id, false };
}

void mptable_parse(const uint8_t *t, size_t len, struct madt_info *m)
{
    *m = (struct madt_info){ 0 };
    for (unsigned i = 0; i < MADT_ISA_IRQS; i++)
        m->isa[i].gsi = i;
    if (len < MP_HEADER || mptable_length(t) == 0 || mptable_length(t) > len) {
        m->problem = "MP table header malformed or longer than its memory";
        return;
    }
    len = mptable_length(t);
    if (sum(t, len) != 0) {
        m->problem = "MP table checksum wrong";
        return;
    }
    m->lapic_base = le32(t + 36);
    /* Walked by the length, as Linux does: some firmware (qboot) leaves
     * the entry count 0. */
    unsigned counted = 0, count = le16(t + 34);
    uint32_t isa_buses = 0; /* bit per bus id below 32 */
    unsigned ioapic_id = 0;
    size_t off = MP_HEADER;
    for (; off < len; counted++) {
        const uint8_t *e = t + off;
        size_t elen = e[0] == ENTRY_PROCESSOR ? PROCESSOR_BYTES : OTHER_BYTES;
        if (e[0] > ENTRY_LOCAL_INTERRUPT) {
            m->problem = "MP table entry of unknown type";
            return;
        }
        if (elen > len - off) {
            m->problem = "MP table entry runs past the table";
            return;
        }
        if (e[0] == ENTRY_PROCESSOR && (e[3] & FLAG_ENABLED)) {
            add_cpu(m, e[1]);
        } else if (e[0] == ENTRY_BUS && e[1] < 32 && is_isa(e)) {
            isa_buses |= 1u << e[1];
        } else if (e[0] == ENTRY_IOAPIC && (e[3] & FLAG_ENABLED) && !m->has_ioapic) {
            m->has_ioapic = true;
            ioapic_id = e[1];
            m->ioapic_base = le32(e + 4);
            m->ioapic_gsi_base = 0;
        } else if (e[0] == ENTRY_IO_INTERRUPT && e[1] == INT_TYPE_INT && e[4] < 32 &&
                   (isa_buses >> e[4] & 1) && e[5] < MADT_ISA_IRQS && m->has_ioapic &&
                   (e[6] == ioapic_id || e[6] == ALL_IOAPICS)) {
            m->isa[e[5]] = (struct madt_isa_route){ e[7], le16(e + 2) };
        }
        off += elen;
    }
    if (counted != count)
        m->note = "the MP table's entry count is not the number of entries its length holds "
                  "(walked by the length)";
}
