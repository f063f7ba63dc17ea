#include "platform/rtc.h"

#include "platform/cpu.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define CMOS_NMI_OFF 0x80 /* keep NMIs masked while indexing, as firmware does */
#define REG_STATUS_A 0x0a
#define REG_STATUS_B 0x0b
#define REG_STATUS_C 0x0c
#define REG_CENTURY 0x32
#define STATUS_A_RATE_1024HZ 0x06
#define STATUS_B_PIE 0x40
#define STATUS_A_UIP 0x80
#define READ_TRIES 16
#define UIP_SPINS 100000

static uint8_t cmos(uint8_t reg)
{
    outb(CMOS_INDEX, (uint8_t)(CMOS_NMI_OFF | reg));
    return inb(CMOS_DATA);
}

uint8_t rtc_seconds_raw(void)
{
    return cmos(0x00);
}

static bool read_raw(struct rtc_raw *r)
{
    for (unsigned i = 0; cmos(REG_STATUS_A) & STATUS_A_UIP; i++)
        if (i == UIP_SPINS)
            return false;
    *r = (struct rtc_raw){ cmos(0x00), cmos(0x02), cmos(0x04), cmos(0x07),
                           cmos(0x08), cmos(0x09), cmos(REG_CENTURY), cmos(REG_STATUS_B) };
    return true;
}

bool rtc_read_unix(uint64_t *unix_s)
{
    struct rtc_raw a, b;
    if (!read_raw(&a))
        return false;
    for (unsigned i = 0; i < READ_TRIES; i++) {
        if (!read_raw(&b))
            return false;
        if (a.sec == b.sec && a.min == b.min && a.hour == b.hour && a.day == b.day &&
            a.mon == b.mon && a.year == b.year && a.century == b.century)
            return rtc_decode(&b, unix_s);
        a = b;
    }
    return false;
}

bool rtc_present(void)
{
    uint64_t s;
    return cmos(REG_STATUS_B) != 0xff && rtc_read_unix(&s);
}

static void cmos_write(uint8_t reg, uint8_t v)
{
    outb(CMOS_INDEX, (uint8_t)(CMOS_NMI_OFF | reg));
    outb(CMOS_DATA, v);
}

void rtc_periodic(bool on)
{
    if (on)
        cmos_write(REG_STATUS_A, (uint8_t)((cmos(REG_STATUS_A) & 0xf0) | STATUS_A_RATE_1024HZ));
    uint8_t b = cmos(REG_STATUS_B);
    cmos_write(REG_STATUS_B, (uint8_t)(on ? b | STATUS_B_PIE : b & ~STATUS_B_PIE));
}

uint8_t rtc_irq_ack(void)
{
    return cmos(REG_STATUS_C);
}
