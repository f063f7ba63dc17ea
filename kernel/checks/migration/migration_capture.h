/* The migration suite's one sampling run: it reads the clocks, steal and
 * the real-time references until it sees the VM stopped and moved (live
 * migration, snapshot and restore, or a plain stop), then for a settling
 * second more. Its checks judge what it recorded. */
#ifndef PVCHECK_MIGRATION_CAPTURE_H
#define PVCHECK_MIGRATION_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "checks/migration/migration_judge.h"
#include "iface/pvclock.h"
#include "iface/steal.h"
#include "lib/suite.h"

/* One loop iteration's readings. g_ns is the guest clock the capture
 * times with: kvmclock where registered, else the reference clock. */
struct mig_sample {
    uint64_t tsc, g_ns;
    bool have_clock, have_steal;
    struct pvclock_snapshot clock;
    struct steal_snapshot steal;
    uint64_t steal_before_ns, steal_after_ns; /* g_ns bracketing the steal read */
};

enum mig_signal {
    MIG_NONE,
    MIG_WALL_EPOCH,
    MIG_CMOS_EDGES,
    MIG_CLOCK_GAP,
    MIG_CLOCK_BACK,
    MIG_CLOCK_AHEAD,
    MIG_GUEST_STOPPED,
};

/* The other clocks a hypervisor offers beside kvmclock, read at every
 * sample: each must never go back either. */
enum mig_other_clock { MIG_HV_PAGE, MIG_HV_COUNTER, MIG_XEN_TIME, MIG_OTHER_COUNT };
struct mig_other {
    bool on, have_last;
    uint64_t last_ns, reads, failed_reads, backwards, max_back_ns, max_back_from_ns;
};

struct mig_capture {
    bool ran, detected;
    enum mig_signal signal;
    const char *clock;             /* "kvmclock" or the reference's name */
    uint64_t samples, waited_ms, settle_ms;
    uint64_t tsc_hz;
    const char *tsc_hz_source;
    /* The real-time readings that bracket the event, of the kind that
     * found it (wall clock re-reads, else CMOS edges), and the samples
     * taken at them. */
    struct mig_ref r0, r1;
    struct mig_sample s0, s1;
    bool refs_are_wall;
    int64_t unaccounted_ns;
    uint64_t unaccounted_tol_ns;
    uint64_t max_gap_ns;           /* largest guest-clock step between samples */
    /* kvmclock's PVCLOCK_GUEST_STOPPED: cleared when the capture starts,
     * then whether and at what guest time it was first seen set; unusable
     * if it would not clear. */
    bool stopped_flag_stuck, stopped_flag_seen;
    uint64_t stopped_flag_at_ns;
    /* Forward holes of 1 s or more with no real time missing, and whether
     * the first was judged as the event (nothing else marked one). */
    uint64_t holes;
    bool hole_judged;
    /* The guest clock never going back, over every pair of samples. */
    uint64_t backwards, max_back_ns, max_back_from_ns;
    struct mig_other others[MIG_OTHER_COUNT];
    /* CMOS edges and the wall clock at them, before and after the event. */
    bool have_e0, have_e1;
    struct mig_ref e0, e1, w0, w1;
    /* Registered areas and MSR values, as written and as read back after. */
    uint64_t clock_msr_written, clock_msr_after, steal_msr_written, steal_msr_after;
    int clock_msr_vector, steal_msr_vector;
    uint32_t clock_version_end;
    /* Steal over every pair of samples of the capture (its decreases; its
     * growth against the guest's clock is steal_time.monotonic's rule). */
    struct steal_series steal;
    uint32_t steal_version_settle_start, steal_version_end;
};

/* Runs the capture once (the first check to ask runs it); the result. A
 * failure to read a registered area fails c, saying why. */
const struct mig_capture *mig_capture(struct check_ctx *c);

const char *mig_signal_name(enum mig_signal s);
const char *mig_other_name(enum mig_other_clock k);

#endif
