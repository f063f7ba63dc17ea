#include "platform/ioapic.h"

#include "platform/acpi.h"
#include "platform/madt.h"

#define IOREGSEL 0x00
#define IOWIN 0x10
#define REG_VERSION 0x01
#define REG_REDIR(pin) (0x10u + 2u * (pin))
#define REDIR_LEVEL (1u << 15)
#define REDIR_MASKED (1u << 16)
#define INTI_POLARITY_LOW 3u
#define UNCACHED_START 0xc0000000u /* boot/entry.S maps the last GiB uncached */

static volatile uint32_t *regs;
static int routed_pin = -1;

static uint32_t ioapic_read(uint32_t reg)
{
    regs[IOREGSEL / 4] = reg;
    return regs[IOWIN / 4];
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
    regs[IOREGSEL / 4] = reg;
    regs[IOWIN / 4] = v;
}

const char *ioapic_route_isa(unsigned irq, uint8_t vector, uint32_t dest, bool level)
{
    const struct acpi_sdt_header *t = acpi_find_table("APIC");
    if (!t)
        return "no MADT";
    static struct madt_info m;
    madt_parse((const uint8_t *)t, t->length, &m);
    if (!m.has_ioapic)
        return "no IOAPIC in the MADT";
    if (m.ioapic_base < UNCACHED_START || m.ioapic_base > 0xfffff000u || (m.ioapic_base & 0xf))
        return "IOAPIC address outside the uncached window";
    if (irq >= MADT_ISA_IRQS)
        return "not an ISA interrupt";
    if ((m.isa[irq].flags & 3u) == INTI_POLARITY_LOW)
        return "ISA IRQ overridden to active low";
    regs = (volatile uint32_t *)(uintptr_t)m.ioapic_base;
    uint32_t pins = (ioapic_read(REG_VERSION) >> 16 & 0xff) + 1;
    uint32_t gsi = m.isa[irq].gsi;
    if (gsi < m.ioapic_gsi_base || gsi - m.ioapic_gsi_base >= pins)
        return "GSI not on the first IOAPIC";
    unsigned pin = gsi - m.ioapic_gsi_base;
    ioapic_write(REG_REDIR(pin), REDIR_MASKED);
    ioapic_write(REG_REDIR(pin) + 1, dest << 24);
    ioapic_write(REG_REDIR(pin), vector | (level ? REDIR_LEVEL : 0));
    routed_pin = (int)pin;
    return 0;
}

void ioapic_mask_routed(void)
{
    if (routed_pin >= 0)
        ioapic_write(REG_REDIR((unsigned)routed_pin), REDIR_MASKED);
    routed_pin = -1;
}
