/* kvmclock across KVM's master clock update, which a guest can provoke:
 * the boot vCPU switching between MSR_KVM_SYSTEM_TIME and
 * MSR_KVM_SYSTEM_TIME_NEW makes KVM ask for one (x86.c,
 * kvm_write_system_time: boot_vcpu_runs_old_kvmclock), and KVM keeps its
 * master clock off while the old MSR is in use (pvclock_update_vm_gtod_copy).
 * Each switch re-bases kvmclock on a fresh reading of the host's clocks
 * instead of the line it was on. How far the two lines lie apart at one
 * TSC is what the update cost the guest's time: the drift KVM's selftest
 * pvclock_test measured at 3.5 us with TSC scaling. No document allows any:
 * it is judged by the budget every re-base has. */
#include "checks/kvmclock/kvmclock_checks.h"
#include "checks/shared/pvclock_checks.h"
#include "checks/shared/sampling.h"
#include "iface/kvm.h"
#include "lib/options.h"
#include "lib/report.h"
#include "live/kvmclock.h"
#include "live/pvarea.h"
#include "platform/budget.h"
#include "platform/safe.h"

#define SWITCHES 20u

/* What the switches to one MSR did. */
struct switches {
    const char *to;
    unsigned taken, updated, stable, over;
    int64_t worst_ns;
    uint64_t worst_budget_ns;
    struct pvclock_rebase first_over;
};

static void note_rebase(struct switches *s, const struct pvclock_rebase *r)
{
    uint64_t jump = r->jump_ns < 0 ? -(uint64_t)r->jump_ns : (uint64_t)r->jump_ns;
    uint64_t worst = s->worst_ns < 0 ? -(uint64_t)s->worst_ns : (uint64_t)s->worst_ns;
    s->updated++;
    if (s->updated == 1 || jump > worst) {
        s->worst_ns = r->jump_ns;
        s->worst_budget_ns = r->budget_ns;
    }
    if (!pvclock_rebase_within(r) && !s->over++)
        s->first_over = *r;
}

static void judge_switches(struct check_ctx *c, const struct switches *s)
{
    figure(c, "to_%s: switches=%u updated=%u worst_jump_ns=%lld budget_ns=%llu stable_bit=%u",
           s->to, s->taken, s->updated, (long long)s->worst_ns,
           (unsigned long long)s->worst_budget_ns, s->stable);
    expect(c, !s->over, "%u of %u switches to %s moved kvmclock: the first, at TSC %llu, from "
           "%llu ns to %llu ns, a jump of %lld ns (budget %llu ns); the worst %lld ns", s->over,
           s->updated, s->to, (unsigned long long)s->first_over.tsc,
           (unsigned long long)s->first_over.old_ns, (unsigned long long)s->first_over.new_ns,
           (long long)s->first_over.jump_ns, (unsigned long long)s->first_over.budget_ns,
           (long long)s->worst_ns);
}

enum verdict check_masterclock_update(struct check_ctx *c)
{
    const char *why = kvm_missing(KVM_FEATURE_CLOCKSOURCE2, "KVM_FEATURE_CLOCKSOURCE2");
    if (!why)
        why = kvm_missing(KVM_FEATURE_CLOCKSOURCE, "KVM_FEATURE_CLOCKSOURCE");
    if (why)
        return skip(c, "%s", why);
    if (!kvmclock_ensure(c))
        return pass(c);
    volatile struct pvclock_vcpu_time_info *a = kvmclock_active();
    struct switches legacy = { .to = "legacy" }, current = { .to = "new" };
    struct budget b;
    budget_start(&b, SWITCHES, pvcheck_options.budget_ms);
    while (budget_next(&b)) {
        bool to_legacy = b.taken & 1; /* from the new MSR first */
        struct switches *s = to_legacy ? &legacy : &current;
        uint32_t msr = to_legacy ? MSR_KVM_SYSTEM_TIME : MSR_KVM_SYSTEM_TIME_NEW;
        struct pvclock_snapshot before, after;
        if (!pvclock_read_checked(c, a, &before))
            break;
        int vector = wrmsr_safe(msr, pv_gpa(a) | 1);
        if (vector != NO_FAULT) {
            fail(c, "wrmsr(0x%x) raised vector %d", msr, vector);
            break;
        }
        s->taken++;
        if (!pvclock_read_checked(c, a, &after))
            break;
        s->stable += after.flags & PVCLOCK_TSC_STABLE_BIT;
        if (after.version == before.version)
            continue;
        struct pvclock_rebase r;
        if (!pvclock_rebase_at_now(&before, &after, &r)) {
            fail(c, "switching to %s: version %u or %u cannot be evaluated at TSC %llu",
                 s->to, before.version, after.version, (unsigned long long)r.tsc);
            break;
        }
        note_rebase(s, &r);
    }
    /* The new MSR again, and with it the master clock. */
    kvmclock_restore();
    sampling_report(c, "switches", &b);
    judge_switches(c, &legacy);
    judge_switches(c, &current);
    if (!legacy.updated && !current.updated && !c->failed)
        return skip(c, "no version change in %llu MSR switches: nothing re-based",
                    (unsigned long long)b.taken);
    return pass(c);
}
