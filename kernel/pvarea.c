#include "pvarea.h"

static uint8_t pages[SLOT_COUNT][PV_SLOT_BYTES] __attribute__((aligned(4096)));

void *pv_area_prepare(enum pv_slot slot, unsigned offset, unsigned size)
{
    volatile uint8_t *p = pages[slot];
    for (unsigned i = 0; i < PV_SLOT_BYTES; i++)
        p[i] = (i >= offset && i < offset + size) ? 0 : PV_CANARY;
    return (void *)(pages[slot] + offset);
}

int pv_area_damaged(enum pv_slot slot, unsigned offset, unsigned size)
{
    const volatile uint8_t *p = pages[slot];
    for (unsigned i = 0; i < PV_SLOT_BYTES; i++)
        if ((i < offset || i >= offset + size) && p[i] != PV_CANARY)
            return (int)i;
    return -1;
}
