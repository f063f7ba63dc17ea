/* Hypervisor-written pvclock, steal, runstate and Hyper-V reference TSC
 * areas, CPUID leaves, CMOS clock registers and the migration suite's
 * readings, as raw bytes:
 * the readers, formula and evaluators never crash or hit undefined
 * behaviour, whatever the values. */
#include <stdint.h>
#include <string.h>

#include "checks/migration/migration_judge.h"
#include "iface/hv_cpuid.h"
#include "iface/hyperv.h"
#include "iface/pvclock.h"
#include "iface/runstate.h"
#include "iface/steal.h"
#include "platform/rtc.h"

static const uint8_t *cpuid_bytes;
static size_t cpuid_len;

static struct cpuid_regs fuzzed_cpuid(uint32_t leaf, uint32_t subleaf)
{
    struct cpuid_regs r = { 0, 0, 0, 0 };
    size_t off = ((size_t)leaf * 31 + subleaf) % (cpuid_len ? cpuid_len : 1);
    if (cpuid_len >= 16 && off + 16 <= cpuid_len)
        memcpy(&r, cpuid_bytes + off, 16);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pvclock_stream st = { 0 };
    struct steal_series series = { 0 };
    char why[160];
    size_t i = 0;
    for (; i + 32 + 8 <= size && i < 32 * 40; i += 40) {
        struct pvclock_vcpu_time_info area;
        memcpy(&area, data + i, 32);
        uint64_t tsc;
        memcpy(&tsc, data + i + 32, 8);
        struct pvclock_snapshot s;
        if (pvclock_read(&area, &s, 4, 0) == PVCLOCK_READ_OK) {
            pvclock_params_problem(&s, tsc & 1, why, sizeof(why));
            pvclock_stream_add(&st, &s, tsc);
            (void)pvclock_implied_hz(s.mul, s.shift);
        }
        struct kvm_steal_time steal;
        memset(&steal, 0, sizeof(steal));
        memcpy(&steal, data + i, 40);
        struct steal_snapshot ss;
        if (steal_read(&steal, &ss, 4) == PVCLOCK_READ_OK) {
            steal_fields_problem(&ss, why, sizeof(why));
            steal_series_add(&series, ss.steal, tsc >> 1, tsc);
        }
    }
    struct runstate_series rs = { 0 };
    for (size_t j = 0; j + 48 + 16 <= size && j < 64 * 40; j += 64) {
        struct vcpu_runstate_info ra;
        memcpy(&ra, data + j, 48);
        uint64_t before, after;
        memcpy(&before, data + j + 48, 8);
        memcpy(&after, data + j + 56, 8);
        struct runstate_snapshot rsn;
        unsigned flagged = 0;
        if (runstate_read(&ra, &rsn, 4, &flagged) == RUNSTATE_READ_OK) {
            runstate_problem(&rsn, (unsigned)(before & 3), why, sizeof(why));
            runstate_series_add(&rs, &rsn, before, after);
            (void)runstate_name(rsn.state);
        }
    }
    struct pvclock_snapshot snaps[4];
    if (size >= sizeof(snaps) + 8) {
        memcpy(snaps, data, sizeof(snaps));
        uint64_t tsc;
        memcpy(&tsc, data + sizeof(snaps), 8);
        struct pvclock_spread sp;
        pvclock_spread_at(snaps, 4, tsc, &sp);
    }
    for (size_t k = 0; k + 24 + 16 <= size && k < 40 * 40; k += 40) {
        struct hv_ref_tsc_page page;
        memcpy(&page, data + k, 24);
        uint64_t tsc, msr;
        memcpy(&tsc, data + k + 24, 8);
        memcpy(&msr, data + k + 32, 8);
        struct hv_ref_snapshot hs;
        if (hv_ref_read(&page, 4, &hs) == HV_REF_OK) {
            uint64_t t = hv_ref_time(tsc, hs.scale, hs.offset);
            (void)hv_ref_bracket_excess(msr, t, msr ^ tsc);
            (void)hv_ref_implied_hz(hs.scale);
        }
    }
    for (size_t k = 0; k + 8 <= size && k < 8 * 64; k += 8) {
        struct rtc_raw r;
        memcpy(&r, data + k, 8);
        uint64_t unix_s;
        if (rtc_decode(&r, &unix_s) && unix_s >= 7258118400ull)
            __builtin_trap(); /* past 2199-12-31, the last day century 21 reaches */
    }
    if (size >= 4 * sizeof(struct mig_ref) + 24) {
        struct mig_ref r[4];
        memcpy(r, data, sizeof(r));
        uint64_t t[3], tsc_ns, real;
        memcpy(t, data + sizeof(r), sizeof(t));
        int64_t u, diff;
        uint64_t tol;
        (void)mig_unaccounted(&r[0], &r[1], &u, &tol);
        (void)mig_stopped_between(&r[0], &r[1]);
        (void)mig_step_within_real(&r[0], &r[1], &u);
        (void)mig_judge_tsc(&r[0], &r[1], t[0], t[1], t[2], &tsc_ns, &real);
        (void)mig_wall_agrees(&r[0], &r[1], &r[2], &r[3], &diff, &tol);
        (void)mig_mul_div(t[0], t[1], t[2]);
    }
    cpuid_bytes = data;
    cpuid_len = size;
    struct hv_discovery d;
    hv_discover(fuzzed_cpuid, &d);
    if (d.n_blocks > sizeof(d.blocks) / sizeof(d.blocks[0]))
        __builtin_trap();
    return 0;
}
