/* The CMOS real-time clock: the host's wall time, one-second steps, kept
 * by the VMM outside every paravirtual interface. Its seconds edges time a
 * stretch of real time to within how often they are polled. */
#ifndef PVCHECK_RTC_H
#define PVCHECK_RTC_H

#include <stdbool.h>
#include <stdint.h>

/* The registers as read: seconds, minutes, hours, day, month, year,
 * century (0x32, 0 if absent) and status B (format bits). */
struct rtc_raw {
    uint8_t sec, min, hour, day, mon, year, century, status_b;
};

/* Unix seconds the registers say; false for any field out of range or not
 * BCD where status B says BCD. Pure. */
bool rtc_decode(const struct rtc_raw *r, uint64_t *unix_s);

/* Whether a CMOS clock answers (status B not all ones, a decodable time). */
bool rtc_present(void);

/* The seconds register alone: cheap enough to poll for the next edge. */
uint8_t rtc_seconds_raw(void);

/* A consistent read of the whole time (no update in progress, two equal
 * reads); false if the clock never gave one or it does not decode. */
bool rtc_read_unix(uint64_t *unix_s);

/* The periodic interrupt (status B's PIE) at 1024 Hz, on or off. The clock
 * holds its interrupt line up from each period until status C is read. */
void rtc_periodic(bool on);

/* Reads status C, which acknowledges the interrupt and lowers the line. */
uint8_t rtc_irq_ack(void);

#endif
