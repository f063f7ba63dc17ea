/* Suite "clock_pairing": KVM_HC_CLOCK_PAIRING (Linux
 * Documentation/virt/kvm/x86/hypercalls.rst): host realtime and the guest
 * TSC at one instant, checked against RDTSCs around the call and against
 * the realtime kvmclock and its wall clock give for that TSC. */
#include "iface/kvm.h"
#include "iface/pvclock.h"
#include "lib/report.h"
#include "live/kvmclock.h"
#include "live/pvarea.h"
#include "platform/cpu.h"
#include "platform/safe.h"

#define KVM_CLOCK_PAIRING_WALLCLOCK 0
#define AREA_OFFSET 0x40
#define NSEC_PER_SEC 1000000000ll
/* KVM computes the wall clock at each MSR write from two host clock reads
 * (realtime, then kvmclock), and the pairing from one atomic realtime/TSC
 * read: a wall clock is off by whatever passed between its two reads (4 to
 * 27 us measured on nested KVM, more if the host vCPU is preempted between
 * them), which lies inside the write. So each of WALL_WRITES writes is timed
 * by the TSC around it, and the paired realtime less kvmclock must lie
 * within each write's duration of its wall clock, plus 500 ppm (NTP slew)
 * of the time since the first write and 2 ns of rounding. */
#define WALL_WRITES 5
#define SLEW_PPM 500ll

struct kvm_clock_pairing {
    int64_t sec;
    int64_t nsec;
    uint64_t tsc;
    uint32_t flags;
    uint32_t pad[9];
} __attribute__((packed));
_Static_assert(sizeof(struct kvm_clock_pairing) == 64, "kvm_clock_pairing is 64 bytes");

static const char *pairing_unavailable(void)
{
    return kvm_missing(KVM_FEATURE_CLOCKSOURCE2, "KVM_FEATURE_CLOCKSOURCE2");
}

struct pairing {
    int64_t ret;
    uint64_t tsc_before, tsc_after;
    struct kvm_clock_pairing p;
};

/* One call into a zeroed area with canaries around it; false (the check
 * failed) if the call faulted or wrote outside the area. */
static bool call(struct check_ctx *c, uint64_t clock_type, struct pairing *out)
{
    volatile struct kvm_clock_pairing *a =
        pv_area_prepare(SLOT_CLOCK_PAIRING, AREA_OFFSET, sizeof(*a));
    out->tsc_before = rdtsc_ordered();
    int vector = kvm_hypercall_safe(KVM_HC_CLOCK_PAIRING, pv_gpa(a), clock_type, 0, &out->ret);
    out->tsc_after = rdtsc_ordered();
    out->p.sec = a->sec;
    out->p.nsec = a->nsec;
    out->p.tsc = a->tsc;
    out->p.flags = a->flags;
    for (int i = 0; i < 9; i++)
        out->p.pad[i] = a->pad[i];
    if (!expect(c, vector == NO_FAULT,
                vector == SAFE_STUCK ? "KVM_HC_CLOCK_PAIRING never returned: RIP held 1 s (%d)"
                                     : "KVM_HC_CLOCK_PAIRING raised vector %d",
                vector))
        return false;
    return pv_expect_intact(c, SLOT_CLOCK_PAIRING, AREA_OFFSET, sizeof(*a));
}

/* Why a return means no pairing (a skip), or NULL when it was 0. */
static const char *not_paired(int64_t ret)
{
    if (ret == -KVM_EOPNOTSUPP)
        return "KVM_HC_CLOCK_PAIRING returned -KVM_EOPNOTSUPP: the host's clocksource is not "
               "the TSC (or the TSC is caught up in software)";
    if (ret == -KVM_ENOSYS)
        return "KVM_HC_CLOCK_PAIRING returned -KVM_ENOSYS: not implemented";
    return 0;
}

static enum verdict check_hypercall(struct check_ctx *c)
{
    struct pairing r;
    if (!call(c, KVM_CLOCK_PAIRING_WALLCLOCK, &r))
        return pass(c);
    figure(c, "ret=%lld sec=%lld nsec=%lld tsc=%llu flags=0x%x tsc_before=%llu tsc_after=%llu",
           (long long)r.ret, (long long)r.p.sec, (long long)r.p.nsec,
           (unsigned long long)r.p.tsc, r.p.flags, (unsigned long long)r.tsc_before,
           (unsigned long long)r.tsc_after);
    const char *why = not_paired(r.ret);
    if (why)
        return skip(c, "%s", why);
    if (!expect(c, r.ret == 0, "KVM_HC_CLOCK_PAIRING returned %lld, not 0, -KVM_EOPNOTSUPP or "
                               "-KVM_ENOSYS", (long long)r.ret))
        return pass(c);
    expect(c, r.p.tsc >= r.tsc_before && r.p.tsc <= r.tsc_after,
           "the paired TSC %llu is not between the RDTSCs around the call (%llu..%llu)",
           (unsigned long long)r.p.tsc, (unsigned long long)r.tsc_before,
           (unsigned long long)r.tsc_after);
    expect(c, r.p.nsec >= 0 && r.p.nsec < NSEC_PER_SEC, "nsec=%lld is not in [0, 10^9)",
           (long long)r.p.nsec);
    /* 2000-01-01 .. 2100-01-01 */
    expect(c, r.p.sec >= 946684800ll && r.p.sec < 4102444800ll,
           "sec=%lld is no Unix time between 2000 and 2100", (long long)r.p.sec);
    expect(c, r.p.flags == 0, "flags=0x%x: hypercalls.rst defines none (0)", r.p.flags);
    uint32_t pad = 0;
    for (int i = 0; i < 9; i++)
        pad |= r.p.pad[i];
    expect(c, pad == 0, "the padding was not zeroed");

    /* Any other clock type: -KVM_EOPNOTSUPP, and nothing written. */
    struct pairing other;
    if (call(c, 1, &other)) {
        figure(c, "clock_type=1: ret=%lld", (long long)other.ret);
        expect(c, other.ret == -KVM_EOPNOTSUPP,
               "clock type 1 returned %lld; only KVM_CLOCK_PAIRING_WALLCLOCK (0) is supported "
               "and others must return -KVM_EOPNOTSUPP (-95)", (long long)other.ret);
        expect(c, other.p.sec == 0 && other.p.tsc == 0,
               "an unsupported clock type still wrote the structure");
    }
    return pass(c);
}

/* Realtime at kvmclock 0, in ns, from one wall-clock MSR write, and the
 * write's duration in TSC cycles. */
static bool wall_ns(struct check_ctx *c, volatile struct pvclock_wall_clock *w, int64_t *ns,
                    uint64_t *cycles)
{
    uint64_t t0 = rdtsc_ordered();
    int vector = wrmsr_safe(MSR_KVM_WALL_CLOCK_NEW, pv_gpa(w));
    *cycles = rdtsc_ordered() - t0;
    struct pvclock_wall_clock wall;
    if (!expect(c, vector == NO_FAULT, "wrmsr(MSR_KVM_WALL_CLOCK_NEW) raised vector %d", vector) ||
        !expect(c, pvclock_wall_read(w, &wall, PVCLOCK_READ_TRIES) == PVCLOCK_READ_OK,
                "the wall clock's version never settled"))
        return false;
    *ns = (int64_t)wall.sec * NSEC_PER_SEC + wall.nsec;
    return true;
}

static enum verdict check_realtime(struct check_ctx *c)
{
    volatile struct pvclock_vcpu_time_info *k = kvmclock_active();
    if (!k)
        return skip(c, "kvmclock is not registered (suite kvmclock did not leave an area)");
    volatile struct pvclock_wall_clock *w =
        pv_area_prepare(SLOT_WALL_CLOCK, AREA_OFFSET, sizeof(*w));
    uint64_t first_tsc = rdtsc_ordered(), cycles[WALL_WRITES];
    int64_t wall[WALL_WRITES];
    for (int i = 0; i < WALL_WRITES; i++)
        if (!wall_ns(c, w, &wall[i], &cycles[i]))
            return pass(c);
    /* kvmclock's parameters from just before the call hold at the paired
     * TSC, which is later than their tsc_timestamp. */
    struct pvclock_snapshot s;
    if (!expect(c, pvclock_read(k, &s, PVCLOCK_READ_TRIES, 0) == PVCLOCK_READ_OK,
                "kvmclock's version never settled"))
        return pass(c);
    struct pairing r;
    if (!call(c, KVM_CLOCK_PAIRING_WALLCLOCK, &r))
        return pass(c);
    const char *why = not_paired(r.ret);
    if (why)
        return skip(c, "%s", why);
    if (!expect(c, r.ret == 0, "KVM_HC_CLOCK_PAIRING returned %lld", (long long)r.ret))
        return pass(c);
    uint64_t up_ns, since_ns = 0;
    bool behind = false;
    /* Evaluated before the message reads behind. */
    bool evaluated = pvclock_ns_at(&s, r.p.tsc, &up_ns, &behind);
    if (!expect(c, evaluated,
                "kvmclock gives no time at the paired TSC %llu (%s tsc_timestamp %llu)",
                (unsigned long long)r.p.tsc, behind ? "behind" : "overflowing from",
                (unsigned long long)s.tsc_timestamp))
        return pass(c);
    /* Hostile values must not overflow what follows: the hypercall check
     * judges them; here they only end the comparison. */
    if (!expect(c, r.p.sec >= 0 && r.p.sec < 4102444800ll && r.p.nsec >= 0 &&
                       r.p.nsec < NSEC_PER_SEC && up_ns <= (uint64_t)INT64_MAX / 2,
                "the pairing (sec=%lld nsec=%lld) or kvmclock at its TSC (%llu ns) is out of "
                "any range to compare", (long long)r.p.sec, (long long)r.p.nsec,
                (unsigned long long)up_ns))
        return pass(c);
    if (r.p.tsc > first_tsc)
        pvclock_scale(r.p.tsc - first_tsc, s.mul, s.shift, &since_ns);
    /* The wall clock the pairing implies: its realtime less kvmclock then. */
    int64_t paired = r.p.sec * NSEC_PER_SEC + r.p.nsec - (int64_t)up_ns;
    int64_t slew = (int64_t)(since_ns * SLEW_PPM / 1000000) + 2;
    int worst = 0;
    int64_t worst_past = INT64_MIN, worst_off = 0, worst_allowed = 0;
    for (int i = 0; i < WALL_WRITES; i++) {
        uint64_t write_ns = 0;
        pvclock_scale(cycles[i], s.mul, s.shift, &write_ns);
        int64_t off = paired - wall[i], allowed = (int64_t)write_ns + slew;
        int64_t past = (off < 0 ? -off : off) - allowed;
        figure(c, "write=%d wall_clock_ns=%lld write_ns=%llu paired_minus_wall_ns=%lld", i,
               (long long)wall[i], (unsigned long long)write_ns, (long long)off);
        if (past > worst_past) {
            worst_past = past;
            worst = i;
            worst_off = off;
            worst_allowed = allowed;
        }
    }
    figure(c, "paired_ns=%lld since_first_write_ns=%llu slew_ns=%lld", (long long)paired,
           (unsigned long long)since_ns, (long long)slew);
    expect(c, worst_past <= 0,
           "the pairing's realtime less kvmclock at its TSC (%lld ns) lies %lld ns from write "
           "%d's wall clock (%lld); allowed that write's duration plus slew, %lld ns",
           (long long)paired, (long long)worst_off, worst, (long long)wall[worst],
           (long long)worst_allowed);
    return pass(c);
}

#define HC_RST DOC_KVM_HC " KVM_HC_CLOCK_PAIRING"

static const struct check pairing_checks[] = {
    { "hypercall", HC_RST ": host realtime and the TSC at one instant, flags 0; other clock "
                   "types and hosts not on the TSC clocksource return -KVM_EOPNOTSUPP",
      check_hypercall },
    { "realtime", HC_RST " (CLOCK_REALTIME) and msr.rst MSR_KVM_WALL_CLOCK_NEW: wall clock plus "
                  "kvmclock at the paired TSC is the paired realtime",
      check_realtime },
};

static const struct suite pairing_suite = {
    .name = "clock_pairing",
    /* After the KVM and Xen suites, whose numbers stay, and before hyperv:
     * once the guest has written HV_X64_MSR_GUEST_OS_ID, KVM hands VMCALL to
     * Hyper-V's hypercall ABI, and call 9 returns 2
     * (HV_STATUS_INVALID_HYPERCALL_CODE), as Linux 6.1 showed. */
    .order = 54,
    .checks = pairing_checks,
    .n_checks = ARRAY_SIZE(pairing_checks),
    .unavailable = pairing_unavailable,
};
REGISTER_SUITE(pairing_suite);
