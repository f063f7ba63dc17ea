#include "platform/apic.h"

#include "platform/cpu.h"

#define MSR_APIC_BASE 0x1b
#define APIC_BASE_ENABLE (1u << 11)
#define APIC_BASE_X2APIC (1u << 10)
#define XAPIC_DEFAULT_BASE 0xfee00000u
#define REG_ID 0x20
#define REG_EOI 0xb0
#define REG_SVR 0xf0
#define REG_ISR 0x100
#define REG_TMR 0x180
#define REG_IRR 0x200
#define REG_LVT_LINT0 0x350
#define REG_LVT_LINT1 0x360
#define LVT_MASKED 0x10000u
#define LVT_EXTINT 0x700u
#define LVT_NMI 0x400u
#define REG_LVT_TIMER 0x320
#define REG_TIMER_INITIAL 0x380
#define REG_TIMER_CURRENT 0x390
#define REG_TIMER_DIVIDE 0x3e0
#define TIMER_DIVIDE_16 0x3u
#define LVT_TIMER_PERIODIC (1u << 17)
#define REG_ICR_LOW 0x300
#define REG_ICR_HIGH 0x310
#define X2APIC_MSR(reg) (0x800u + ((reg) >> 4))
#define SVR_ENABLE 0x100
#define ICR_DELIVERY_PENDING (1u << 12)
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_INIT (5u << 8)
#define ICR_STARTUP (6u << 8)
#define ICR_FIXED 0u

static bool x2apic;
static volatile uint8_t *mmio = (volatile uint8_t *)(uintptr_t)XAPIC_DEFAULT_BASE;

static uint32_t read_reg(uint32_t reg)
{
    if (x2apic)
        return (uint32_t)rdmsr(X2APIC_MSR(reg));
    return *(volatile uint32_t *)(mmio + reg);
}

static void write_reg(uint32_t reg, uint32_t v)
{
    if (x2apic)
        wrmsr(X2APIC_MSR(reg), v);
    else
        *(volatile uint32_t *)(mmio + reg) = v;
}

void apic_enable(bool boot_cpu)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);
    x2apic = (cpuid(1).ecx >> 21) & 1;
    base |= APIC_BASE_ENABLE;
    if (x2apic)
        base |= APIC_BASE_X2APIC;
    else
        mmio = (volatile uint8_t *)(uintptr_t)(base & 0xfffff000u);
    wrmsr(MSR_APIC_BASE, base);
    write_reg(REG_SVR, SVR_ENABLE | APIC_SPURIOUS_VECTOR);
    /* Virtual wire (MP spec): the 8259's interrupts, the tick among them,
     * reach the boot CPU through LINT0 once its APIC is enabled. Firmware
     * such as SeaBIOS sets this up; qboot and PVH loaders may not. */
    write_reg(REG_LVT_LINT0, boot_cpu ? LVT_EXTINT : LVT_MASKED);
    write_reg(REG_LVT_LINT1, boot_cpu ? LVT_NMI : LVT_MASKED);
}

static bool vector_bit(unsigned reg, uint8_t vector)
{
    return read_reg(reg + 0x10u * (vector / 32u)) >> (vector % 32u) & 1;
}

bool apic_vector_level(uint8_t vector)
{
    return vector_bit(REG_TMR, vector);
}

bool apic_vector_in_service(uint8_t vector)
{
    return vector_bit(REG_ISR, vector);
}

bool apic_vector_requested(uint8_t vector)
{
    return vector_bit(REG_IRR, vector);
}

bool apic_x2apic(void)
{
    return x2apic;
}

uint32_t apic_id(void)
{
    uint32_t id = read_reg(REG_ID);
    return x2apic ? id : id >> 24;
}

void apic_eoi(void)
{
    write_reg(REG_EOI, 0);
}

static bool send(uint32_t dest, uint32_t low)
{
    if (x2apic) {
        wrmsr(X2APIC_MSR(REG_ICR_LOW), ((uint64_t)dest << 32) | low);
        return true;
    }
    write_reg(REG_ICR_HIGH, dest << 24);
    write_reg(REG_ICR_LOW, low);
    for (unsigned spin = 0; spin < 1000000; spin++) {
        if (!(read_reg(REG_ICR_LOW) & ICR_DELIVERY_PENDING))
            return true;
        cpu_relax();
    }
    return false;
}

bool apic_send_init(uint32_t dest)
{
    return send(dest, ICR_INIT | ICR_LEVEL_ASSERT);
}

bool apic_send_startup(uint32_t dest, uint8_t page)
{
    return send(dest, ICR_STARTUP | page);
}

bool apic_send_fixed(uint32_t dest, uint8_t vector)
{
    return send(dest, ICR_FIXED | ICR_LEVEL_ASSERT | vector);
}

void apic_timer_free_run(void)
{
    write_reg(REG_TIMER_DIVIDE, TIMER_DIVIDE_16);
    write_reg(REG_LVT_TIMER, LVT_MASKED);
    write_reg(REG_TIMER_INITIAL, 0xffffffffu);
}

uint32_t apic_timer_current(void)
{
    return read_reg(REG_TIMER_CURRENT);
}

void apic_timer_periodic(uint8_t vector, uint32_t count)
{
    write_reg(REG_TIMER_DIVIDE, TIMER_DIVIDE_16);
    write_reg(REG_LVT_TIMER, LVT_TIMER_PERIODIC | vector);
    write_reg(REG_TIMER_INITIAL, count);
}
