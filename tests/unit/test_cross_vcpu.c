/* Cross-vCPU evaluators and MADT parsing, on passing, failing and hostile data. */
#include <stdint.h>

#include "iface/pvclock.h"
#include "platform/madt.h"
#include "unit.h"

static const char *unit_name = "cross_vcpu";

static void order_passing(void)
{
    struct pvclock_order o = { 0 };
    uint64_t published = 0;
    for (uint64_t t = 1; t <= 100; t++)
        published = pvclock_order_add(&o, published, t * 10);
    CHECK(o.comparisons == 100 && o.backward == 0, "monotonic ring flagged");
    published = pvclock_order_add(&o, published, published); /* equal is not backwards */
    CHECK(o.backward == 0, "equal time flagged");
}

static void order_failing(void)
{
    struct pvclock_order o = { 0 };
    uint64_t published = pvclock_order_add(&o, 0, 1000);
    published = pvclock_order_add(&o, published, 990); /* another vCPU 10 ns behind */
    CHECK(o.backward == 1 && o.max_back_ns == 10, "backward step missed");
    CHECK(published == 1000, "the earlier time was published: %llu", (unsigned long long)published);
    published = pvclock_order_add(&o, published, 700);
    CHECK(o.backward == 2 && o.max_back_ns == 300, "largest step back %llu",
          (unsigned long long)o.max_back_ns);
}

static struct pvclock_snapshot clock_at(uint64_t tsc_timestamp, uint64_t system_time)
{
    return (struct pvclock_snapshot){ .version = 2, .tsc_timestamp = tsc_timestamp,
                                      .system_time = system_time, .mul = 0x80000000u,
                                      .shift = 1 };
}

static void spread_passing(void)
{
    /* Three vCPUs updated at different TSCs, all on one line: ns = tsc. */
    struct pvclock_snapshot s[3] = { clock_at(100, 100), clock_at(500, 500), clock_at(900, 900) };
    struct pvclock_spread sp;
    CHECK(pvclock_spread_at(s, 3, 1000, &sp), "evaluation failed");
    CHECK(sp.spread_ns == 0 && sp.spread_ns <= sp.budget_ns, "spread %llu budget %llu",
          (unsigned long long)sp.spread_ns, (unsigned long long)sp.budget_ns);
}

static void spread_failing(void)
{
    struct pvclock_snapshot s[3] = { clock_at(100, 100), clock_at(500, 520), clock_at(900, 900) };
    struct pvclock_spread sp;
    CHECK(pvclock_spread_at(s, 3, 1000, &sp), "evaluation failed");
    CHECK(sp.spread_ns == 20 && sp.spread_ns > sp.budget_ns && sp.hi_cpu == 1,
          "a vCPU 20 ns ahead not caught: spread %llu budget %llu hi %u",
          (unsigned long long)sp.spread_ns, (unsigned long long)sp.budget_ns, sp.hi_cpu);
    /* A vCPU whose tsc_timestamp is ahead of the TSC cannot be evaluated. */
    s[2] = clock_at(2000, 2000);
    CHECK(!pvclock_spread_at(s, 3, 1000, &sp) && sp.bad_cpu == 2, "tsc_timestamp ahead accepted");
}

/* A MADT: header (36), LAPIC address, flags, then entries. */
static unsigned build_madt(uint8_t *t, const uint8_t *entries, unsigned elen)
{
    memset(t, 0, 44);
    memcpy(t, "APIC", 4);
    unsigned len = 44 + elen;
    t[4] = (uint8_t)len;
    t[5] = (uint8_t)(len >> 8);
    t[36] = 0x00, t[37] = 0x00, t[38] = 0xe0, t[39] = 0xfe; /* 0xfee00000 */
    memcpy(t + 44, entries, elen);
    return len;
}

static void madt_valid(void)
{
    static const uint8_t e[] = {
        0, 8, 0, 0, 1, 0, 0, 0,                     /* LAPIC id 0 enabled */
        0, 8, 1, 1, 1, 0, 0, 0,                     /* LAPIC id 1 enabled */
        0, 8, 2, 2, 0, 0, 0, 0,                     /* LAPIC id 2 disabled */
        9, 16, 0, 0, 0x2c, 0x01, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0, /* x2APIC id 300 */
        9, 16, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0,       /* x2APIC id 1 again */
        1, 12, 0, 0, 0, 0, 0xc0, 0xfe, 0, 0, 0, 0,  /* IOAPIC at 0xfec00000, GSI 0 */
        1, 12, 1, 0, 0, 0x10, 0xc0, 0xfe, 24, 0, 0, 0, /* a second IOAPIC: not used */
        2, 10, 0, 0, 2, 0, 0, 0, 0, 0,              /* ISA IRQ 0 -> GSI 2 */
        2, 10, 0, 9, 9, 0, 0, 0, 0x0d, 0,           /* ISA IRQ 9 level, active high */
        2, 10, 1, 8, 20, 0, 0, 0, 0, 0,             /* bus 1: not ISA, ignored */
        2, 10, 0, 200, 20, 0, 0, 0, 0, 0,           /* source out of range: ignored */
    };
    uint8_t t[256];
    struct madt_info m;
    madt_parse(t, build_madt(t, e, sizeof(e)), &m);
    CHECK(!m.problem, "%s", m.problem);
    CHECK(m.lapic_base == 0xfee00000u, "lapic base 0x%llx", (unsigned long long)m.lapic_base);
    CHECK(m.n_cpus == 3, "cpus %u", m.n_cpus);
    CHECK(m.cpus[2].apic_id == 300 && m.cpus[2].x2apic_entry, "x2APIC entry");
    CHECK(m.n_absent == 1 && m.absent[0].apic_id == 2, "absent %u", m.n_absent);
    CHECK(m.has_ioapic && m.ioapic_base == 0xfec00000u && m.ioapic_gsi_base == 0,
          "first IOAPIC 0x%x gsi %u", m.ioapic_base, m.ioapic_gsi_base);
    CHECK(m.isa[0].gsi == 2 && m.isa[9].gsi == 9 && m.isa[9].flags == 0x0d, "ISA overrides");
    CHECK(m.isa[8].gsi == 8 && m.isa[8].flags == 0, "ISA IRQ 8 identity, bus 1 ignored");
}

/* Processors listed disabled are the ones a host may add; one also listed
 * enabled (another entry, x2APIC) is present, and each is listed once. */
static void madt_absent(void)
{
    static const uint8_t e[] = {
        0, 8, 0, 0, 1, 0, 0, 0,                                /* id 0 enabled */
        0, 8, 1, 1, 0, 0, 0, 0,                                /* id 1 disabled */
        0, 8, 2, 2, 0, 0, 0, 0,                                /* id 2 disabled... */
        9, 16, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0,       /* ...and enabled as x2APIC */
        0, 8, 3, 1, 2, 0, 0, 0,                                /* id 1 again, online capable */
        9, 16, 0, 0, 0x2c, 0x01, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, /* x2APIC id 300 disabled */
    };
    uint8_t t[256];
    struct madt_info m;
    madt_parse(t, build_madt(t, e, sizeof(e)), &m);
    CHECK(!m.problem && m.n_cpus == 2, "cpus %u", m.n_cpus);
    CHECK(m.n_absent == 2 && m.absent[0].apic_id == 1 && m.absent[1].apic_id == 300 &&
          m.absent[1].x2apic_entry, "absent %u: %u %u", m.n_absent, m.absent[0].apic_id,
          m.absent[1].apic_id);
}

static void madt_hostile(void)
{
    uint8_t t[256];
    struct madt_info m;
    static const uint8_t zero_len[] = { 0, 0, 0, 0, 1, 0, 0, 0 };
    madt_parse(t, build_madt(t, zero_len, sizeof(zero_len)), &m);
    CHECK(m.problem && m.n_cpus == 0, "zero-length entry must stop parsing (no endless loop)");
    static const uint8_t too_long[] = { 0, 200, 0, 0, 1, 0, 0, 0 };
    madt_parse(t, build_madt(t, too_long, sizeof(too_long)), &m);
    CHECK(m.problem != NULL, "entry past the table accepted");
    static const uint8_t dangling[] = { 0, 8, 0, 0, 1, 0, 0, 0, 0 };
    madt_parse(t, build_madt(t, dangling, sizeof(dangling)), &m);
    CHECK(m.problem != NULL && m.n_cpus == 1, "dangling byte");
    madt_parse(t, 20, &m);
    CHECK(m.problem != NULL, "short table accepted");
    static const uint8_t short_lapic[] = { 0, 4, 0, 0 };
    madt_parse(t, build_madt(t, short_lapic, sizeof(short_lapic)), &m);
    CHECK(!m.problem && m.n_cpus == 0, "a too-short LAPIC entry must be skipped, not read past");
}

static void madt_many_cpus(void)
{
    uint8_t t[44 + 70 * 8], e[70 * 8];
    for (unsigned i = 0; i < 70; i++) {
        uint8_t entry[8] = { 0, 8, (uint8_t)i, (uint8_t)i, 1, 0, 0, 0 };
        memcpy(e + i * 8, entry, 8);
    }
    struct madt_info m;
    madt_parse(t, build_madt(t, e, sizeof(e)), &m);
    CHECK(m.n_cpus == MADT_MAX_CPUS && m.n_ignored == 70 - MADT_MAX_CPUS, "%u kept, %u ignored",
          m.n_cpus, m.n_ignored);
}

int main(void)
{
    RUN(order_passing);
    RUN(order_failing);
    RUN(spread_passing);
    RUN(spread_failing);
    RUN(madt_valid);
    RUN(madt_absent);
    RUN(madt_hostile);
    RUN(madt_many_cpus);
    return unit_any_failed;
}
