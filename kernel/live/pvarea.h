/* Guest memory handed to the hypervisor: each slot is two pages filled with
 * a canary pattern around the area, so that a write outside the structure
 * (or one landing after the area was abandoned) is seen. */
#ifndef PVCHECK_PVAREA_H
#define PVCHECK_PVAREA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pv_slot {
    SLOT_KVMCLOCK,
    SLOT_KVMCLOCK_MOVED,
    SLOT_KVMCLOCK_LEGACY,
    SLOT_WALL_CLOCK,
    SLOT_STEAL,
    SLOT_STEAL_MOVED,
    SLOT_PAGE_CROSSING,
    SLOT_XEN_TIME,
    SLOT_RUNSTATE,
    SLOT_RUNSTATE_CROSSING,
    SLOT_HV_TSC_PAGE,
    SLOT_HV_TSC_PAGE_MOVED,
    SLOT_CLOCK_PAIRING,
    SLOT_ASYNC_PF,
    SLOT_PV_EOI,
    SLOT_COUNT,
};

#define PV_SLOT_BYTES 8192u
#define PV_CANARY 0xa5

/* Over len bytes of any guest memory: canary everywhere but the size bytes
 * at offset, which are zeroed; and the first of those canary bytes that
 * changed, or -1. */
void pv_canary_fill(volatile uint8_t *mem, unsigned len, unsigned offset, unsigned size);
int pv_canary_damaged(const volatile uint8_t *mem, unsigned len, unsigned offset, unsigned size);

/* Canary-fills the slot, zeroes size bytes at offset (< PV_SLOT_BYTES) and
 * returns their address, which is also the guest-physical address. */
void *pv_area_prepare(enum pv_slot slot, unsigned offset, unsigned size);

/* Offset of the first canary byte that changed, or -1. */
int pv_area_damaged(enum pv_slot slot, unsigned offset, unsigned size);

struct check_ctx;
/* Fails the check, naming the first changed byte, unless every canary
 * around the area is intact; returns whether they were. */
bool pv_expect_intact(struct check_ctx *c, enum pv_slot slot, unsigned offset, unsigned size);

/* A byte copy of an area, to tell later whether anything wrote to it. */
#define PV_COPY_MAX 64u
struct pv_copy {
    uint8_t bytes[PV_COPY_MAX];
    unsigned n;
};

struct pv_copy pv_copy_take(const volatile void *area, unsigned n);
bool pv_copy_unchanged(const volatile void *area, const struct pv_copy *copy);

/* Waits up to ticks timer ticks for a non-zero, even version at that offset
 * of a hypervisor-written area; returns the ticks waited, or -1. */
int pv_wait_version(const volatile void *area, unsigned version_offset, uint64_t ticks);

#define PV_WAIT_VERSION(area, ticks) \
    pv_wait_version((area), offsetof(__typeof__(*(area)), version), (ticks))

static inline uint64_t pv_gpa(const volatile void *p)
{
    return (uint64_t)(uintptr_t)p; /* identity-mapped */
}

#endif
