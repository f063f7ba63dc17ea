/* The time an area says it is now, read as a guest OS reads it: the
 * hardware half of the pvclock reader (pvclock.c is the pure half). */
#include "iface/pvclock.h"

#include "platform/cpu.h"

bool pvclock_area_now(const volatile struct pvclock_vcpu_time_info *a, uint64_t *ns)
{
    struct pvclock_snapshot s;
    bool behind = false;
    /* Never written (version 0) or with mul 0, the formula gives a constant:
     * that is no clock to time anything with. */
    return a && pvclock_read(a, &s, PVCLOCK_READ_TRIES, 0) == PVCLOCK_READ_OK &&
           s.version != 0 && s.mul != 0 && pvclock_ns_at(&s, rdtsc_ordered(), ns, &behind);
}
