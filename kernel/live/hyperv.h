/* Hyper-V's time interfaces as the guest has them up: the CPUID leaves,
 * the guest OS ID written once, and the reference TSC page registered and
 * kept (TLFS, "Timers"). The hyperv suite moves and disables the page; the
 * clocks suite and the migration capture read it. */
#ifndef PVCHECK_LIVE_HYPERV_H
#define PVCHECK_LIVE_HYPERV_H

#include <stdbool.h>
#include <stdint.h>

#include "iface/hyperv.h"
#include "live/pvarea.h"

struct check_ctx;

#define HV_READ_TRIES 1000u
#define HV_PAGE_BYTES 4096u

struct hv_leaves {
    uint32_t base, last_leaf, interface, privileges, features_edx;
};

/* The Hyper-V CPUID block's leaves, zero where it has none. */
struct hv_leaves hv_leaves_read(void);

/* NULL, or why a check cannot run (the privilege it lacks, named). */
const char *hv_needs(uint32_t wanted);

/* TLFS: the guest identifies itself through HV_X64_MSR_GUEST_OS_ID before
 * it uses the other enlightenments; once per boot, or again after
 * hv_forget_os_id. */
bool hv_ensure_os_id(struct check_ctx *c);
void hv_forget_os_id(void);

/* HV_X64_MSR_TIME_REF_COUNT, failing the check if the read faults. */
bool hv_read_counter(struct check_ctx *c, uint64_t *v);

/* Reads msr back after value was written: the figure, and the check fails
 * unless it reads back unchanged. */
bool hv_expect_readback(struct check_ctx *c, uint32_t msr, const char *name, uint64_t value);

/* Writes HV_X64_MSR_REFERENCE_TSC (RsvdP bits kept) to enable the page in
 * slot, or to disable the registered one; when enabling, the ticks until
 * TscSequence was non-zero, -1 if it stayed 0 for 100 ms or the write
 * faulted (the check failed). */
int hv_page_enable(struct check_ctx *c, enum pv_slot slot, bool enable);

/* The registered page, or NULL; its slot; whether it was valid (TscSequence
 * non-zero) when last looked at, as the hyperv suite records it. */
volatile struct hv_ref_tsc_page *hv_page_area(void);
enum pv_slot hv_page_slot(void);
bool hv_page_valid(void);
void hv_page_set_valid(bool valid);

/* Time from the page as the TLFS reads it: sequence, fields and TSC,
 * sequence again. */
enum hv_ref_status hv_page_now(uint64_t *units, uint64_t *tsc, struct hv_ref_snapshot *s);

/* For every suite: the page registered and valid again (after the hyperv
 * suite disabled it, or where it did not run); false if it cannot be (a
 * privilege missing, or TscSequence 0). */
bool hv_page_open(struct check_ctx *c);

/* Time from the valid page, in 100 ns units, by the TLFS protocol. */
bool hv_page_units(uint64_t *units);

/* The valid page's TscScale. */
bool hv_page_scale(uint64_t *scale);

#endif
