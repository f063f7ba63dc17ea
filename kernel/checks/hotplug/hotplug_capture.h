/* The hotplug suite's one run: vCPU 0 samples kvmclock while it waits for
 * the host to add a vCPU, starts that vCPU as soon as it is there, measures
 * it against vCPU 0, and samples a settling second more. Its checks judge
 * what it recorded. */
#ifndef PVCHECK_HOTPLUG_CAPTURE_H
#define PVCHECK_HOTPLUG_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "iface/hyperv.h"
#include "iface/pvclock.h"
#include "live/kvmclock.h"
#include "lib/suite.h"

/* Rounds of each comparison with the added vCPU. */
#define HP_ROUNDS 20u

/* One change of vCPU 0's kvmclock parameters the guest did not make. */
struct hp_rebase {
    struct pvclock_snapshot before, after;
    bool judged;                /* both could be evaluated at after's tsc_timestamp */
    struct pvclock_rebase r;
    uint64_t at_ms;             /* since the capture started */
};

/* Hyper-V's reference TSC page over the capture, where it is offered: each
 * change of TscScale/TscOffset judged at the TSC read with the new ones. */
struct hp_page_watch {
    bool on;
    uint64_t samples, unsettled, invalid, backwards, max_back_units;
    unsigned rebases, over;
    int64_t worst_jump_units;
    /* The first change past the budget: both parameter sets and the TSC. */
    struct hv_ref_snapshot over_before, over_after;
    uint64_t over_tsc, over_at_ms;
};

/* The added vCPU's read (TSC or kvmclock) between two of vCPU 0's. */
struct hp_bracket {
    unsigned rounds, outside;
    int64_t lead_min, lead_max;     /* proven leads: negative behind, positive ahead */
    uint64_t width_max;
    uint64_t first_t0, first_other, first_t2; /* the first read outside */
};

struct hp_capture {
    bool ran, added;
    bool incomplete;             /* a read failed: the first check says why */
    unsigned absent;             /* processors the firmware lists absent */
    unsigned cpu;                /* the added vCPU's index */
    uint32_t apic_id;
    uint64_t waited_ms, settle_ms, attempts;
    /* vCPU 0's kvmclock over the whole capture. */
    bool have_clock;
    struct pvclock_stream stream; /* every reading: going back, the TSC behind */
    uint64_t max_back_at_ms;     /* when the largest step back was seen */
    unsigned rewrites;           /* version moved, the same parameters */
    unsigned rebases, over;
    struct hp_rebase first_over, worst;
    bool unjudged;               /* a re-base whose parameters could not be evaluated */
    struct hp_rebase first_unjudged;
    struct hp_page_watch page;
    /* The added vCPU against vCPU 0. */
    struct hp_bracket tsc;
    struct kvmclock_own ap_clock; /* its own kvmclock's registration */
    struct hp_bracket clock;     /* rounds in which both areas had the stable bit */
    unsigned clock_rounds_unstable;
    uint32_t ap_flags, own_flags;
};

/* Runs the capture once (the first check to ask runs it); the result. A
 * failure to read a registered area fails c, saying why. */
const struct hp_capture *hp_capture(struct check_ctx *c);

#endif
