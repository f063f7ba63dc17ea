#include "platform/ioapic.h"

#include "platform/acpi.h"
#include "platform/madt.h"
#include "platform/mptable_find.h"

#define IOREGSEL 0x00
#define IOWIN 0x10
#define REG_VERSION 0x01
#define REG_REDIR(pin) (0x10u + 2u * (pin))
#define REDIR_REMOTE_IRR (1u << 14)
#define REDIR_LEVEL (1u << 15)
#define REDIR_MASKED (1u << 16)
#define INTI_POLARITY_LOW 3u
#define UNCACHED_START 0xc0000000u /* boot/entry.S maps the last GiB uncached */

static volatile uint32_t *regs;

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

static struct madt_info madt;

/* The MADT's first IOAPIC, mapped: NULL, or why there is none to use. */
static const char *find_ioapic(void)
{
    const struct acpi_sdt_header *t = acpi_find_table("APIC");
    const char *why;
    if (t)
        madt_parse((const uint8_t *)t, t->length, &madt);
    else if (!mptable_find(&madt, &why))
        return "no MADT and no MP table";
    if (!madt.has_ioapic)
        return t ? "no IOAPIC in the MADT" : "no IOAPIC in the MP table";
    if (madt.ioapic_base < UNCACHED_START || madt.ioapic_base > 0xfffff000u ||
        (madt.ioapic_base & 0xf))
        return "IOAPIC address outside the uncached window";
    regs = (volatile uint32_t *)(uintptr_t)madt.ioapic_base;
    return 0;
}

static const char *route_gsi(uint32_t gsi, uint8_t vector, uint32_t dest, bool level,
                             unsigned *routed)
{
    uint32_t pins = (ioapic_read(REG_VERSION) >> 16 & 0xff) + 1;
    if (gsi < madt.ioapic_gsi_base || gsi - madt.ioapic_gsi_base >= pins)
        return "GSI not on the first IOAPIC";
    unsigned pin = gsi - madt.ioapic_gsi_base;
    ioapic_write(REG_REDIR(pin), REDIR_MASKED);
    ioapic_write(REG_REDIR(pin) + 1, dest << 24);
    ioapic_write(REG_REDIR(pin), vector | (level ? REDIR_LEVEL : 0));
    *routed = pin;
    return 0;
}

const char *ioapic_route_isa(unsigned irq, uint8_t vector, uint32_t dest, bool level,
                             unsigned *routed)
{
    const char *why = find_ioapic();
    if (why)
        return why;
    if (irq >= MADT_ISA_IRQS)
        return "not an ISA interrupt";
    if ((madt.isa[irq].flags & 3u) == INTI_POLARITY_LOW)
        return "ISA IRQ overridden to active low";
    return route_gsi(madt.isa[irq].gsi, vector, dest, level, routed);
}

const char *ioapic_route_gsi(uint32_t gsi, uint8_t vector, uint32_t dest, bool level,
                             unsigned *routed)
{
    const char *why = find_ioapic();
    return why ? why : route_gsi(gsi, vector, dest, level, routed);
}

bool ioapic_pin_remote_irr(unsigned pin)
{
    return regs && (ioapic_read(REG_REDIR(pin)) & REDIR_REMOTE_IRR);
}

void ioapic_mask_pin(unsigned pin)
{
    if (regs)
        ioapic_write(REG_REDIR(pin), REDIR_MASKED);
}
