/* Suite "xen": discovery through CPUID, the hypercall page, and Xen's
 * pvclock (vcpu_info[n].time in shared_info, its registered copy, the wall
 * clock), checked with the same rules as kvmclock (public/xen.h, vcpu.h). */
#include "checks/shared/pvclock_checks.h"
#include "checks/shared/sampling.h"
#include "iface/hv_cpuid.h"
#include "iface/runstate.h"
#include "iface/xen.h"
#include "lib/options.h"
#include "lib/report.h"
#include "live/pvarea.h"
#include "platform/budget.h"
#include "platform/cpu.h"
#include "platform/timer.h"

#define AREA_OFFSET 0x40
#define STOPPED_READS 20000u
#define STOPPED_READS_PER_HALT 1000u
/* The flag would appear after a wake-up: fewer halts than this, none seen,
 * is no verdict. */
#define STOPPED_MIN_HALTS 5u

static volatile struct pvclock_vcpu_time_info *clock0(struct check_ctx *c)
{
    long err;
    if (!xen_shared_info(&err))
        return fail(c, "XENMEM_add_to_physmap(XENMAPSPACE_shared_info) returned %ld", err), NULL;
    return xen_vcpu_time(0);
}

static enum verdict check_discovery(struct check_ctx *c)
{
    const struct xen_state *x = xen_init();
    figure(c, "base=0x%08x version=%u.%u hypercall_msr=0x%08x hypercall_pages=%u", x->base,
           x->version >> 16, x->version & 0xffff, x->hypercall_msr, x->hypercall_pages);
    if (x->base + 4 <= hv_find(hv_get(), HV_XEN)->last_leaf) {
        struct cpuid_regs r = cpuid_count(x->base + 4, 0);
        figure(c, "hvm_features=0x%08x vcpu_id_valid=%u vcpu_id=%u", r.eax, (r.eax >> 3) & 1, r.ebx);
    }
    if (!expect(c, x->hypercall_pages >= 1 && x->hypercall_msr,
                "CPUID base+2 gives no hypercall page MSR (pages=%u msr=0x%x)",
                x->hypercall_pages, x->hypercall_msr))
        return pass(c);
    if (!expect(c, x->hypercall_page,
                "the hypercall page was still all zeroes after wrmsr(0x%x, page)",
                x->hypercall_msr))
        return pass(c);
    long v = xen_hypercall(XEN_HC_XEN_VERSION, XENVER_VERSION, 0, 0, 0, 0);
    figure(c, "xen_version_hypercall=%ld.%ld", v >> 16, v & 0xffff);
    expect(c, (uint32_t)v == x->version,
           "XENVER_version says 0x%lx but CPUID base+1 says 0x%x", v, x->version);
    return pass(c);
}

static enum verdict check_clock_fields(struct check_ctx *c)
{
    volatile struct pvclock_vcpu_time_info *t = clock0(c);
    struct pvclock_snapshot s;
    if (!t || !pvclock_read_checked(c, t, &s))
        return pass(c);
    /* Xen sets the TSC-stable flag when its clocksource is the TSC. */
    pvclock_report_fields(c, &s, true);
    return pass(c);
}

static enum verdict check_clock_monotonic(struct check_ctx *c)
{
    volatile struct pvclock_vcpu_time_info *t = clock0(c);
    if (t)
        pvclock_check_reads(c, t, "xen_clock");
    return pass(c);
}

/* PVCLOCK_GUEST_STOPPED is KVM's; Xen never defines it for its clock (a
 * 2025 fix stopped it leaking into KVM's Xen emulation). Reads span halts,
 * where the hypervisor updates the area. */
static enum verdict check_guest_stopped(struct check_ctx *c)
{
    volatile struct pvclock_vcpu_time_info *t = clock0(c);
    if (!t)
        return pass(c);
    unsigned seen = 0, reads = 0, halts = 0, since_halt = 0;
    uint32_t first = t->version;
    struct budget b;
    budget_start(&b, STOPPED_READS, pvcheck_options.budget_ms);
    /* A halt every STOPPED_READS_PER_HALT reads, or every twentieth of the
     * budget on a hypervisor where that many reads take longer. */
    uint64_t halt_every = (b.end_tick - b.start_tick) / 20, last_halt = b.start_tick;
    while (budget_next(&b)) {
        struct pvclock_snapshot s;
        if (!pvclock_read_checked(c, t, &s))
            return pass(c);
        reads++;
        seen += (s.flags & PVCLOCK_GUEST_STOPPED) != 0;
        if (++since_halt == STOPPED_READS_PER_HALT || timer_ticks() - last_halt > halt_every) {
            timer_sleep_ticks(1);
            last_halt = timer_ticks();
            since_halt = 0;
            halts++;
        }
    }
    sampling_report(c, "reads", &b);
    figure(c, "reads=%u halts=%u guest_stopped_seen=%u versions=%u..%u", reads, halts, seen,
           first, t->version);
    expect(c, seen == 0, "PVCLOCK_GUEST_STOPPED set in %u of %u reads of Xen's clock", seen, reads);
    sampling_require(c, "halts", halts, STOPPED_MIN_HALTS, &b);
    return pass(c);
}

static enum verdict check_clock_rate(struct check_ctx *c)
{
    volatile struct pvclock_vcpu_time_info *t = clock0(c);
    if (!t)
        return pass(c);
    return pvclock_check_rate(c, t, "xen_clock");
}

/* VCPUOP_register_vcpu_time_memory_area: a second copy of the vCPU's time
 * info at an address the guest picks, kept in step with vcpu_info's. */
static enum verdict check_time_area(struct check_ctx *c)
{
    volatile struct pvclock_vcpu_time_info *t = clock0(c);
    if (!t)
        return pass(c);
    volatile struct pvclock_vcpu_time_info *a = pv_area_prepare(SLOT_XEN_TIME, AREA_OFFSET, 32);
    struct xen_area_handle h = { pv_gpa(a) };
    long rc = xen_vcpu_op(VCPUOP_REGISTER_VCPU_TIME_MEMORY_AREA, 0, &h);
    if (rc == -XEN_ENOSYS)
        return skip(c, "VCPUOP_register_vcpu_time_memory_area not implemented (-ENOSYS)");
    if (rc)
        return fail(c, "VCPUOP_register_vcpu_time_memory_area returned %ld", rc);
    int ticks = PV_WAIT_VERSION(a, TIMER_HZ / 10);
    if (ticks < 0)
        return fail(c, "the registered copy was not written within 100 ms (version %u)",
                    a->version);
    timer_sleep_ticks(2); /* an update of both */
    unsigned compared = 0;
    uint64_t max_diff = 0;
    for (unsigned i = 0; i < 1000; i++) {
        struct pvclock_snapshot p, q;
        if (!pvclock_read_checked(c, t, &p) || !pvclock_read_checked(c, a, &q))
            return pass(c);
        uint64_t tsc = rdtsc_ordered(), np, nq;
        bool behind = false;
        if (!pvclock_ns_at(&p, tsc, &np, &behind) || !pvclock_ns_at(&q, tsc, &nq, &behind))
            return fail(c, "vcpu_info time or its copy cannot be evaluated at TSC %llu",
                        (unsigned long long)tsc);
        uint64_t d = np > nq ? np - nq : nq - np;
        if (d > max_diff)
            max_diff = d;
        compared++;
    }
    struct pvclock_snapshot q;
    if (pvclock_read_checked(c, a, &q))
        pvclock_report_fields(c, &q, true);
    figure(c, "populated_within_ms=%d compared=%u max_diff_ns=%llu", ticks * 1000 / TIMER_HZ,
           compared, (unsigned long long)max_diff);
    /* Both are written from the same per-vCPU record at each update: one
     * read pair can straddle an update, whose continuity budget is 2 ns. */
    expect(c, max_diff <= 2, "the copy and vcpu_info time disagree by %llu ns at one TSC",
           (unsigned long long)max_diff);
    pv_expect_intact(c, SLOT_XEN_TIME, AREA_OFFSET, 32);
    return pass(c);
}

static enum verdict check_wall_clock(struct check_ctx *c)
{
    long err;
    volatile uint8_t *si = xen_shared_info(&err);
    if (!si)
        return fail(c, "XENMEM_add_to_physmap(XENMAPSPACE_shared_info) returned %ld", err);
    struct pvclock_wall_clock w;
    if (pvclock_wall_read((volatile struct pvclock_wall_clock *)(si + XEN_WC_OFFSET), &w,
                          PVCLOCK_READ_TRIES) != PVCLOCK_READ_OK)
        return fail(c, "wc_version 0x%x never even and stable",
                    *(volatile uint32_t *)(si + XEN_WC_OFFSET));
    uint32_t hi = *(volatile uint32_t *)(si + XEN_WC_SEC_HI_OFFSET);
    /* Xen's system time starts at Xen's boot, not the domain's: the host's
     * stamp is from just before the domain was created. The hypercall's
     * runstate times run from the vCPU's creation up to the call: their sum
     * is the domain's age. */
    struct runstate_snapshot info;
    bool have_info = xen_runstate_info(0, &info) == 0;
    uint64_t up_ns = 0;
    if (!xen_time_now(0, &up_ns))
        return fail(c, "Xen's clock could not be read");
    uint64_t sec = ((uint64_t)hi << 32) | w.sec;
    uint64_t now_s = sec + (w.nsec + up_ns) / 1000000000ull;
    figure(c, "wc_version=%u wc_sec=%u wc_sec_hi=%u wc_nsec=%u system_time_s=%llu now_unix=%llu",
           w.version, w.sec, hi, w.nsec, (unsigned long long)(up_ns / 1000000000ull),
           (unsigned long long)now_s);
    expect(c, w.version != 0, "wc_version 0: the wall clock was never written");
    expect(c, w.nsec < 1000000000u, "wc_nsec=%u is not below 10^9", w.nsec);
    uint64_t age_ns = up_ns;
    if (have_info && runstate_sum(&info) <= up_ns) {
        age_ns = runstate_sum(&info);
        figure(c, "domain_created_at_ns=%llu age_s=%llu", (unsigned long long)(up_ns - age_ns),
               (unsigned long long)(age_ns / 1000000000ull));
    }
    pvclock_check_wall_time(c, now_s, age_ns);
    return pass(c);
}

static const char *xen_unavailable(void)
{
    if (!hv_find(hv_get(), HV_XEN))
        return "no XenVMMXenVMM signature in any hypervisor CPUID block";
    return 0;
}

static const char *need_hypercalls(void)
{
    return xen_ready() ? 0 : "no working hypercall page";
}

#define XEN_H "Xen public/xen.h"

static enum verdict guarded(struct check_ctx *c, enum verdict (*fn)(struct check_ctx *))
{
    const char *why = need_hypercalls();
    return why ? skip(c, "%s", why) : fn(c);
}

static enum verdict run_fields(struct check_ctx *c) { return guarded(c, check_clock_fields); }
static enum verdict run_monotonic(struct check_ctx *c) { return guarded(c, check_clock_monotonic); }
static enum verdict run_stopped(struct check_ctx *c) { return guarded(c, check_guest_stopped); }
static enum verdict run_rate(struct check_ctx *c) { return guarded(c, check_clock_rate); }
static enum verdict run_time_area(struct check_ctx *c) { return guarded(c, check_time_area); }
static enum verdict run_wall(struct check_ctx *c) { return guarded(c, check_wall_clock); }

static const struct check xen_checks[] = {
    { "discovery", "Xen public/arch-x86/cpuid.h: base+1 EAX version, base+2 EBX the MSR that "
                   "installs the hypercall page (written from 64-bit mode: 64-bit ABI); "
                   "XENVER_version agrees",
      check_discovery },
    { "clock_fields", XEN_H " vcpu_info[n].time: the pvclock fields, version even, mul/shift "
                      "scale TSC deltas to ns",
      run_fields },
    { "clock_monotonic", XEN_H " vcpu_time_info: system_time + scaled TSC delta never runs "
                         "backwards on one vCPU, TSC never behind tsc_timestamp",
      run_monotonic },
    { "guest_stopped", "PVCLOCK_GUEST_STOPPED is never set in Xen's clock (Linux 2025 fix of "
                       "KVM's Xen emulation)",
      run_stopped },
    { "clock_rate", "Xen system time counts nanoseconds against an independent clock",
      run_rate },
    { "time_area", "Xen public/vcpu.h VCPUOP_register_vcpu_time_memory_area: a copy of the "
                   "vCPU's time info, kept in step, written only in place",
      run_time_area },
    { "wall_clock", XEN_H " shared_info wc_sec/wc_nsec (+wc_sec_hi): wall time at system time "
                    "0, versioned by wc_version",
      run_wall },
};

static const struct suite xen_suite = {
    .name = "xen",
    .order = 50,
    .checks = xen_checks,
    .n_checks = ARRAY_SIZE(xen_checks),
    .unavailable = xen_unavailable,
};
REGISTER_SUITE(xen_suite);
