/* The time an area says it is now, read as a guest OS reads it: the
 * hardware half of the pvclock reader (pvclock.c is the pure half). */
#include "iface/pvclock.h"
#include "iface/steal.h"

#include "platform/cpu.h"
#include "platform/timer.h"

/* A writer the host preempts mid-update leaves the version odd for as long
 * as it is off the CPU, so a reader waits on the timer, not on a count of
 * tries. The count cap only ends the wait when the timer does not tick
 * (interrupts off): a round is 1000 tries, microseconds at least, so 50 000
 * of them outlast a 10 ms tick. */
#define ROUNDS_PER_TICK 50000u

enum pvclock_read_status read_within(versioned_once once, const volatile void *area, void *out,
                                     unsigned ticks)
{
    uint64_t start = timer_ticks();
    enum pvclock_read_status r;
    for (unsigned n = 0; (r = once(area, out)) != PVCLOCK_READ_OK; n++)
        if (timer_ticks() - start > ticks || n / ROUNDS_PER_TICK > ticks)
            break;
    return r;
}

static enum pvclock_read_status pvclock_once(const volatile void *area, void *out)
{
    return pvclock_read(area, out, PVCLOCK_READ_TRIES, 0);
}

enum pvclock_read_status pvclock_read_within(const volatile struct pvclock_vcpu_time_info *a,
                                             struct pvclock_snapshot *s, unsigned ticks)
{
    return read_within(pvclock_once, a, s, ticks);
}

static enum pvclock_read_status wall_once(const volatile void *area, void *out)
{
    return pvclock_wall_read(area, out, PVCLOCK_READ_TRIES);
}

enum pvclock_read_status pvclock_wall_read_within(const volatile struct pvclock_wall_clock *a,
                                                  struct pvclock_wall_clock *w, unsigned ticks)
{
    return read_within(wall_once, a, w, ticks);
}

static enum pvclock_read_status steal_once(const volatile void *area, void *out)
{
    return steal_read(area, out, PVCLOCK_READ_TRIES);
}

enum pvclock_read_status steal_read_within(const volatile struct kvm_steal_time *a,
                                           struct steal_snapshot *s, unsigned ticks)
{
    return read_within(steal_once, a, s, ticks);
}

/* An area that gave up once is tried only once more per call until it
 * reads again, so that a version stuck odd costs a check one wait, not one
 * per reading. */
#define READ_PATIENCE_TICKS 2

static const volatile struct pvclock_vcpu_time_info *gave_up;

static bool patient_read(const volatile struct pvclock_vcpu_time_info *a,
                         struct pvclock_snapshot *s)
{
    bool ok = a == gave_up ? pvclock_once(a, s) == PVCLOCK_READ_OK
                           : pvclock_read_within(a, s, READ_PATIENCE_TICKS) == PVCLOCK_READ_OK;
    gave_up = ok ? (a == gave_up ? 0 : gave_up) : a;
    return ok;
}

bool pvclock_area_now(const volatile struct pvclock_vcpu_time_info *a, uint64_t *ns)
{
    struct pvclock_snapshot s;
    bool behind = false;
    /* Never written (version 0) or with mul 0, the formula gives a constant:
     * that is no clock to time anything with. */
    return a && patient_read(a, &s) && s.version != 0 && s.mul != 0 &&
           pvclock_ns_at(&s, rdtsc_ordered(), ns, &behind);
}
