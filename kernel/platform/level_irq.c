#include "platform/level_irq.h"

#include "platform/apic.h"
#include "platform/ioapic.h"
#include "platform/rtc.h"

#define RTC_ISA_IRQ 8

static unsigned routed_pin;
static bool routed;

const char *level_irq_start(uint8_t vector)
{
    if (!rtc_present())
        return "no CMOS clock";
    if (apic_id() > 0xff)
        return "APIC ID above 255";
    const char *why = ioapic_route_isa(RTC_ISA_IRQ, vector, apic_id(), true, &routed_pin);
    if (why)
        return why;
    routed = true;
    rtc_irq_ack();
    rtc_periodic(true);
    return 0;
}

void level_irq_lower(void)
{
    rtc_irq_ack();
}

bool level_irq_awaiting_eoi(void)
{
    return routed && ioapic_pin_remote_irr(routed_pin);
}

void level_irq_stop(void)
{
    rtc_periodic(false);
    if (routed)
        ioapic_mask_pin(routed_pin);
    routed = false;
    rtc_irq_ack();
}
