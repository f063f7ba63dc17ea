/* What the migration suite decides, as pure functions over its readings, so
 * that the host tests can hand them any event (kvmclock.txt, "Migration":
 * the destination must never return time less than the source did). */
#ifndef PVCHECK_MIGRATION_JUDGE_H
#define PVCHECK_MIGRATION_JUDGE_H

#include <stdbool.h>
#include <stdint.h>

/* One reading of real time: the hypervisor's wall clock re-read (real =
 * epoch + the guest clock at the read) or a CMOS seconds edge (real = the
 * second it turned to). at_ns is the guest's clock there; err_ns bounds
 * how far real_ns may be from the truth at at_ns (the wall-clock write's
 * duration, the poll interval that found the edge). */
struct mig_ref {
    uint64_t real_ns;
    uint64_t at_ns;
    uint64_t err_ns;
};

/* The guest clock's rate may differ from the host's real-time clock by the
 * host's NTP slew, at most 500 ppm (adjtimex's limit). */
#define MIG_SLEW_DIVISOR 2000u
/* Real time the guest clock missed must exceed this (beyond the readings'
 * error) to count as the VM having been stopped. */
#define MIG_DETECT_NS 1000000ull

/* a * b / c without a 128-bit divide; UINT64_MAX if it does not fit (or
 * c is 0). */
uint64_t mig_mul_div(uint64_t a, uint64_t b, uint64_t c);

/* Between two readings a (earlier) and b: the real time that passed
 * minus what the guest clock counted (positive: the guest did not see it,
 * the VM was stopped), and the tolerance of that figure. False if b is not
 * after a on the guest clock or the figures overflow. */
bool mig_unaccounted(const struct mig_ref *a, const struct mig_ref *b, int64_t *unaccounted_ns,
                     uint64_t *tolerance_ns);

/* Whether real time the guest did not count passed between a and b. */
bool mig_stopped_between(const struct mig_ref *a, const struct mig_ref *b);

/* Whether a and b bracket a stop the guest clock was carried across: a hole
 * of hole_ns (at least MIG_STOP_HOLE_NS) between two samples, and some real
 * time missing beyond the readings' error, however little. QEMU advances
 * kvmclock over the part of the downtime before its save, so the epoch
 * steps by the rest alone (about 2 ms of a 130 ms downtime on PVM); a vCPU
 * the host did not run leaves the hole with no real time missing. */
#define MIG_STOP_HOLE_NS 50000000ull
bool mig_stopped_across_hole(const struct mig_ref *a, const struct mig_ref *b, uint64_t hole_ns);

/* Whether the guest clock counted more than the real time that passed
 * between a and b, beyond the same threshold (a clock re-based forward). */
bool mig_clock_outran(const struct mig_ref *a, const struct mig_ref *b);

/* The guest clock did not step forward by more than the real time that
 * passed: unaccounted time is not below -tolerance. */
bool mig_step_within_real(const struct mig_ref *a, const struct mig_ref *b, int64_t *excess_ns);

/* The TSC across the event: from tsc_a (at reading a) to tsc_b (at b), at
 * tsc_hz. It must not go back, nor count more than the real time between
 * the readings (plus their error and a 500 ppm rate allowance). Fills the
 * TSC's span in ns and the real time. */
enum mig_tsc_verdict { MIG_TSC_OK, MIG_TSC_BACKWARDS, MIG_TSC_AHEAD, MIG_TSC_UNJUDGED };
enum mig_tsc_verdict mig_judge_tsc(const struct mig_ref *a, const struct mig_ref *b, uint64_t tsc_a,
                                   uint64_t tsc_b, uint64_t tsc_hz, uint64_t *tsc_ns,
                                   uint64_t *real_ns);

/* The wall clock against the CMOS clock across the event: e0/e1 are CMOS
 * edges before and after it, w0/w1 the wall clock's real time at those
 * edges' guest times (each with its error). The two must have counted the
 * same real time. Fills the difference (wall minus CMOS). */
bool mig_wall_agrees(const struct mig_ref *e0, const struct mig_ref *e1, const struct mig_ref *w0,
                     const struct mig_ref *w1, int64_t *diff_ns, uint64_t *tolerance_ns);

#endif
