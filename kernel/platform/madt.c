#include "platform/madt.h"

#define MADT_HEADER 44 /* SDT header (36), local APIC address (4), flags (4) */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool listed(const struct madt_cpu *list, unsigned n, uint32_t apic_id)
{
    for (unsigned i = 0; i < n; i++)
        if (list[i].apic_id == apic_id)
            return true;
    return false;
}

static void add(struct madt_info *m, uint32_t apic_id, bool x2)
{
    if (listed(m->cpus, m->n_cpus, apic_id))
        return; /* listed as both xAPIC and x2APIC: once is enough */
    if (m->n_cpus == MADT_MAX_CPUS) {
        m->n_ignored++;
        return;
    }
    m->cpus[m->n_cpus++] = (struct madt_cpu){ apic_id, x2 };
}

static void add_absent(struct madt_info *m, uint32_t apic_id, bool x2)
{
    if (listed(m->absent, m->n_absent, apic_id) || m->n_absent == MADT_MAX_CPUS)
        return;
    m->absent[m->n_absent++] = (struct madt_cpu){ apic_id, x2 };
}

/* An ID listed enabled anywhere is present, whatever another entry says. */
static void drop_present_from_absent(struct madt_info *m)
{
    unsigned kept = 0;
    for (unsigned i = 0; i < m->n_absent; i++)
        if (!listed(m->cpus, m->n_cpus, m->absent[i].apic_id))
            m->absent[kept++] = m->absent[i];
    m->n_absent = kept;
}

static void parse_entries(const uint8_t *t, size_t len, struct madt_info *m)
{
    if (len < MADT_HEADER) {
        m->problem = "MADT shorter than its header";
        return;
    }
    m->lapic_base = le32(t + 36);
    for (unsigned i = 0; i < MADT_ISA_IRQS; i++)
        m->isa[i].gsi = i;
    for (size_t off = MADT_HEADER; off < len;) {
        if (len - off < 2) {
            m->problem = "MADT ends inside an entry header";
            return;
        }
        uint8_t type = t[off], elen = t[off + 1];
        if (elen < 2 || elen > len - off) {
            m->problem = "MADT entry length out of range";
            return;
        }
        const uint8_t *e = t + off;
        if (type == 0 && elen >= 8) {           /* Processor Local APIC */
            uint32_t flags = le32(e + 4);
            if (flags & 1)                      /* enabled */
                add(m, e[3], false);
            else
                add_absent(m, e[3], false);
        } else if (type == 9 && elen >= 16) {   /* Processor Local x2APIC */
            uint32_t flags = le32(e + 8);
            if (flags & 1)
                add(m, le32(e + 4), true);
            else
                add_absent(m, le32(e + 4), true);
        } else if (type == 1 && elen >= 12 && !m->has_ioapic) { /* I/O APIC */
            m->has_ioapic = true;
            m->ioapic_base = le32(e + 4);
            m->ioapic_gsi_base = le32(e + 8);
        } else if (type == 2 && elen >= 10 && e[2] == 0 && e[3] < MADT_ISA_IRQS) {
            /* Interrupt source override, bus 0 (ISA) */
            m->isa[e[3]] = (struct madt_isa_route){ le32(e + 4), (uint16_t)(e[8] | e[9] << 8) };
        } else if (type == 5 && elen >= 12) {   /* Local APIC address override */
            m->lapic_base = (uint64_t)le32(e + 4) | (uint64_t)le32(e + 8) << 32;
        }
        off += elen;
    }
}

void madt_parse(const uint8_t *t, size_t len, struct madt_info *m)
{
    *m = (struct madt_info){ 0 };
    parse_entries(t, len, m);
    drop_present_from_absent(m);
}
