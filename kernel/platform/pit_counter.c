#include "platform/pit_counter.h"

#include "platform/cpu.h"
#include "platform/pit.h"

#define PIT_SPEAKER 0x61 /* bit 0: channel 2's gate; bit 1: the speaker's data */
#define PIT_GATE2 0x01
#define PIT_SPEAKER_DATA 0x02
/* A counting PIT changes every 838 ns; a read takes longer than that. */
#define PIT_READS_TO_CHANGE 10000u

static uint8_t mode2_full(int channel)
{
    return (uint8_t)(channel << 6 | 0x34); /* low then high byte, mode 2, binary */
}

uint64_t pit_counter_read(int channel)
{
    outb(PIT_CMD, (uint8_t)(channel << 6)); /* latch */
    uint8_t lo = inb((uint16_t)(PIT_CH0 + channel));
    uint8_t hi = inb((uint16_t)(PIT_CH0 + channel));
    return 0xffffu - (uint16_t)(lo | hi << 8);
}

static bool counts(int channel)
{
    outb(PIT_CMD, mode2_full(channel));
    outb((uint16_t)(PIT_CH0 + channel), 0); /* 0: the full 65536 */
    outb((uint16_t)(PIT_CH0 + channel), 0);
    uint64_t first = pit_counter_read(channel);
    for (unsigned i = 0; i < PIT_READS_TO_CHANGE; i++)
        if (pit_counter_read(channel) != first)
            return true;
    return false;
}

bool pit_counter_gate2_present(void)
{
    return inb(PIT_SPEAKER) != 0xff;
}

int pit_counter_start(bool channel0_free, const char **why)
{
    uint8_t speaker = inb(PIT_SPEAKER);
    if (speaker != 0xff) {
        outb(PIT_SPEAKER, (uint8_t)((speaker & ~PIT_SPEAKER_DATA) | PIT_GATE2));
        if (counts(2))
            return 2;
    }
    if (channel0_free && counts(0))
        return 0;
    *why = speaker == 0xff ? (channel0_free ? "no port 0x61 for channel 2's gate, and channel 0 "
                                              "does not count"
                                            : "no port 0x61 for channel 2's gate, and channel 0 "
                                              "is the tick")
                           : (channel0_free ? "neither channel 2 nor channel 0 counts"
                                            : "channel 2 does not count, and channel 0 is the "
                                              "tick");
    return -1;
}
