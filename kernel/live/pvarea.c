#include "live/pvarea.h"

#include "lib/report.h"
#include "platform/cpu.h"
#include "platform/timer.h"

static uint8_t pages[SLOT_COUNT][PV_SLOT_BYTES] __attribute__((aligned(4096)));

void pv_canary_fill(volatile uint8_t *mem, unsigned len, unsigned offset, unsigned size)
{
    for (unsigned i = 0; i < len; i++)
        mem[i] = (i >= offset && i < offset + size) ? 0 : PV_CANARY;
}

int pv_canary_damaged(const volatile uint8_t *mem, unsigned len, unsigned offset, unsigned size)
{
    for (unsigned i = 0; i < len; i++)
        if ((i < offset || i >= offset + size) && mem[i] != PV_CANARY)
            return (int)i;
    return -1;
}

void *pv_area_prepare(enum pv_slot slot, unsigned offset, unsigned size)
{
    pv_canary_fill(pages[slot], PV_SLOT_BYTES, offset, size);
    return (void *)(pages[slot] + offset);
}

int pv_area_damaged(enum pv_slot slot, unsigned offset, unsigned size)
{
    return pv_canary_damaged(pages[slot], PV_SLOT_BYTES, offset, size);
}

bool pv_expect_intact(struct check_ctx *c, enum pv_slot slot, unsigned offset, unsigned size)
{
    int bad = pv_area_damaged(slot, offset, size);
    return expect(c, bad < 0,
                  "byte at slot offset %d changed outside the %u-byte area at offset %u: the "
                  "hypervisor wrote outside the structure",
                  bad, size, offset);
}

struct pv_copy pv_copy_take(const volatile void *area, unsigned n)
{
    struct pv_copy copy = { .n = n < PV_COPY_MAX ? n : PV_COPY_MAX };
    const volatile uint8_t *p = area;
    for (unsigned i = 0; i < copy.n; i++)
        copy.bytes[i] = p[i];
    return copy;
}

bool pv_copy_unchanged(const volatile void *area, const struct pv_copy *copy)
{
    const volatile uint8_t *p = area;
    for (unsigned i = 0; i < copy->n; i++)
        if (p[i] != copy->bytes[i])
            return false;
    return true;
}

int pv_wait_version(const volatile void *area, unsigned version_offset, uint64_t ticks)
{
    const volatile uint32_t *version =
        (const volatile uint32_t *)((const volatile uint8_t *)area + version_offset);
    uint64_t start = timer_ticks();
    for (;;) {
        uint32_t v = *version;
        if (v != 0 && !(v & 1))
            return (int)(timer_ticks() - start);
        if (timer_ticks() - start > ticks)
            return -1;
        cpu_relax();
    }
}
