#include "platform/rtc.h"

#define RTC_B_BINARY 0x04
#define RTC_B_24H 0x02
#define RTC_HOUR_PM 0x80

static bool field(uint8_t v, bool binary, unsigned lo, unsigned hi, unsigned *out)
{
    if (!binary) {
        if ((v & 0x0f) > 9 || (v >> 4) > 9)
            return false;
        v = (uint8_t)((v >> 4) * 10 + (v & 0x0f));
    }
    if (v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), y >= 1970. */
static uint64_t days_since_epoch(unsigned y, unsigned m, unsigned d)
{
    static const unsigned before_month[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
    uint64_t days = (uint64_t)(y - 1970) * 365;
    /* Leap days in the years before y. */
    unsigned prev = y - 1;
    days += (prev / 4 - prev / 100 + prev / 400) - (1969 / 4 - 1969 / 100 + 1969 / 400);
    days += before_month[m - 1] + d - 1;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (leap && m > 2)
        days++;
    return days;
}

bool rtc_decode(const struct rtc_raw *r, uint64_t *unix_s)
{
    bool binary = r->status_b & RTC_B_BINARY;
    unsigned sec, min, hour, day, mon, year, century = 20;
    uint8_t h = r->hour;
    bool pm = false;
    if (!(r->status_b & RTC_B_24H)) {
        pm = h & RTC_HOUR_PM;
        h &= (uint8_t)~RTC_HOUR_PM;
    }
    if (!field(r->sec, binary, 0, 59, &sec) || !field(r->min, binary, 0, 59, &min) ||
        !field(h, binary, 0, 23, &hour) || !field(r->day, binary, 1, 31, &day) ||
        !field(r->mon, binary, 1, 12, &mon) || !field(r->year, binary, 0, 99, &year))
        return false;
    if (!(r->status_b & RTC_B_24H)) {
        if (hour < 1 || hour > 12)
            return false;
        hour = hour % 12 + (pm ? 12 : 0);
    }
    /* A century register that decodes to 19-21 is used; else 20xx. */
    unsigned cent;
    if (r->century && field(r->century, binary, 19, 21, &cent))
        century = cent;
    unsigned full_year = century * 100 + year;
    if (full_year < 1970)
        return false;
    static const unsigned month_days[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (day > month_days[mon - 1])
        return false;
    *unix_s = days_since_epoch(full_year, mon, day) * 86400 + hour * 3600 + min * 60 + sec;
    return true;
}
