/* The time an area says it is now, read as a guest OS reads it: the
 * hardware half of the pvclock reader (pvclock.c is the pure half). */
#include "iface/pvclock.h"

#include "platform/cpu.h"
#include "platform/timer.h"

/* A writer the host preempts mid-update leaves the version odd for as long
 * as it is off the CPU: a read gives up after READ_PATIENCE_TICKS of the
 * timer, not after a count of tries. The count cap only ends the wait when
 * the timer does not tick (interrupts off). An area that gave up once is
 * tried only once more per call until it reads again, so that a version
 * stuck odd costs a check one wait, not one per reading. */
#define READ_PATIENCE_TICKS 2
#define READ_ROUNDS_MAX 100000u

static const volatile struct pvclock_vcpu_time_info *gave_up;

static bool patient_read(const volatile struct pvclock_vcpu_time_info *a,
                         struct pvclock_snapshot *s)
{
    uint64_t start = timer_ticks();
    unsigned rounds = a == gave_up ? 1 : READ_ROUNDS_MAX;
    for (unsigned r = 0; r < rounds; r++) {
        if (pvclock_read(a, s, PVCLOCK_READ_TRIES, 0) == PVCLOCK_READ_OK) {
            if (a == gave_up)
                gave_up = 0;
            return true;
        }
        if (timer_ticks() - start > READ_PATIENCE_TICKS)
            break;
    }
    gave_up = a;
    return false;
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
