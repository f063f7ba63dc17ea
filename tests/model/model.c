/* The KVM side of the model: CPUID, the PV MSRs and hypercalls, and a
 * hypervisor thread that keeps the registered areas up to date the way KVM
 * does, with one fault injected on demand. "Guest-physical" addresses are
 * host pointers. The Xen side is model_xen.c. */
#include "model_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "iface/kvm.h"
#include "iface/pvclock.h"
#include "iface/steal.h"
#include "iface/tsc_msr.h"
#include "platform/cpu.h"

#define TSC_PER_NS_NUM 5 /* a 2.5 GHz TSC */
#define TSC_PER_NS_DEN 2
#define MUL_2_5GHZ 0x66666666u /* 0.4 ns per tick << 32 */
#define UPDATE_PERIOD_NS 100000
/* tsc_ahead: 50 ms, longer than any wait a loaded host gives a 100 us exit,
 * so that every read after an update lands in the stretch the TSC is
 * behind, whatever the host's scheduling. */
#define TSC_AHEAD_TICKS (50000000ull * TSC_PER_NS_NUM / TSC_PER_NS_DEN)
/* How long a torn pvclock stays visible: a quarter of the update period,
 * so that a reader sampling once per slow exit (100 us) still lands in it
 * often; and then until the guest has read the TSC TORN_READS times (its
 * reads of the clock do), so that a guest thread the host scheduler kept
 * off the CPU still sees it, up to TORN_LIMIT_NS (a halted guest reads
 * nothing). */
#define TORN_WINDOW_NS (UPDATE_PERIOD_NS / 4)
#define TORN_READS 3u
#define TORN_LIMIT_NS 50000000ull

static const char *const names[] = {
#define MODEL_NAME(name, text) #name,
    MODEL_FAULTS(MODEL_NAME)
#undef MODEL_NAME
};
static const char *const texts[] = {
#define MODEL_TEXT(name, text) text,
    MODEL_FAULTS(MODEL_TEXT)
#undef MODEL_TEXT
};

const char *model_fault_name(enum model_fault f) { return names[f]; }
const char *model_fault_text(enum model_fault f) { return texts[f]; }

static int index_of(const char *const *list, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(list[i], name) == 0)
            return i;
    return -1;
}

int model_fault_by_name(const char *name) { return index_of(names, FAULT_COUNT, name); }

static const char *const hv_names[MODEL_HV_COUNT] = { "kvm", "xen", "kvm_xen", "kvm_hyperv" };

const char *model_hv_name(enum model_hv hv) { return hv_names[hv]; }
int model_hv_by_name(const char *name) { return index_of(hv_names, MODEL_HV_COUNT, name); }

struct registration {
    uint8_t *area;      /* NULL: none */
    bool enabled;
    uint64_t msr_value;
    bool legacy; /* registered through MSR_KVM_SYSTEM_TIME (0x12) */
};

enum model_fault active_fault;
enum model_hv active_hv;
bool host_loaded;
pthread_mutex_t model_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t start_ns;
static pthread_t updater;
static atomic_bool running, halted;
static _Thread_local bool on_guest_thread;
static atomic_uint_fast64_t guest_tsc_reads;
static struct registration clock_reg, clock_old, steal_reg, steal_old;
#define MASTERCLOCK_DRIFT_NS 3500
static uint64_t steal_total, steal_updated_at;
static unsigned steal_updates;
/* Migration: guest time not counted while stopped; what the destination
 * changed (kvmclock's offset, the TSC's, the wall clock's, a new rate line). */
static _Atomic uint64_t paused_ns, migrate_due_ns, hotplug_due_ns, preempt_due_ns;
/* When update_clock_areas last ran, from either thread. */
static _Atomic uint64_t clocks_updated_ns;
static int64_t clock_shift_ns, wall_shift_ns;
static _Atomic uint64_t tsc_back_ns;
static uint64_t clock_registered_ns;
static bool fast_line, slow_mul;
static bool clock_carried, sets_stopped_flag = true, stopped_request;
static uint64_t fast_tsc, fast_ns;

static uint64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t model_now_ns(void)
{
    return monotonic_ns() - start_ns - atomic_load(&paused_ns);
}

/* Real time less the model's own time. Its two clocks are read apart: a
 * delay between the reads moves the result by that much (the correct row's
 * clock_pairing.realtime once saw its pairing 355 ns off every wall clock
 * write, beside the fuzzers), so the tightest of a few model-real-model
 * brackets is taken, at its middle. */
#define BOOT_WALL_BRACKETS 4
uint64_t model_boot_wall_ns(void)
{
    uint64_t best = 0, best_span = UINT64_MAX;
    for (int i = 0; i < BOOT_WALL_BRACKETS; i++) {
        struct timespec rt;
        uint64_t before = model_now_ns();
        clock_gettime(CLOCK_REALTIME, &rt);
        uint64_t after = model_now_ns();
        /* A pause of the model between the reads (paused_ns grew) spans
         * "backwards": never the tightest. */
        if (after < before || after - before >= best_span)
            continue;
        best_span = after - before;
        best = (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec -
               (before + best_span / 2);
    }
    if (best_span == UINT64_MAX) { /* paused at every bracket: one plain reading */
        struct timespec rt;
        clock_gettime(CLOCK_REALTIME, &rt);
        best = (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec - model_now_ns();
    }
    return best;
}

/* Every clock read is a point where the guest runs: where a loaded host
 * may have preempted it. */
/* The guest's own writes to IA32_TSC and IA32_TSC_ADJUST, per vCPU: the
 * offset they put on its TSC, and its TSC_ADJUST. */
static _Atomic int64_t guest_tsc_offset[MODEL_MAX_VCPUS], guest_tsc_adjust[MODEL_MAX_VCPUS];
unsigned model_vcpus = 1, model_cpu;
/* vCPU 1's kvmclock area (two-vCPU rows), or NULL; and vCPU 1's TSC offset
 * before its latest write (ap_rebase_lags re-bases its area onto that). */
static uint8_t *ap_clock_area;
static _Atomic int64_t ap_offset_before;
/* Two TSCs the model counts as in step, as KVM's master clock needs them:
 * 1 ms at 2.5 GHz, beyond what a guest's write of IA32_TSC back leaves. */
#define IN_STEP_CYCLES 2500000

/* The TSC without the guest's writes: the count the host computes from. */
static uint64_t host_view_tsc(void)
{
    uint64_t ns = model_now_ns() - atomic_load(&tsc_back_ns);
    if (active_fault == FAULT_tsc_fast_1000ppm || active_fault == FAULT_tsc_fast_reanchored)
        ns += ns / 1000;
    else if (active_fault == FAULT_tsc_fast_400ppm)
        ns += ns / 2500;
    return ns * TSC_PER_NS_NUM / TSC_PER_NS_DEN;
}

uint64_t model_rdtsc(void)
{
    if (on_guest_thread)
        atomic_fetch_add(&guest_tsc_reads, 1);
    if (on_guest_thread && model_has_xen())
        model_xen_guest_entry();
    return host_view_tsc() + (uint64_t)atomic_load(&guest_tsc_offset[model_cpu]);
}

static void update_clock_areas(void);

/* The SDM's rules: either write moves both by the same amount. The clocks
 * are brought up to date at once, as KVM's clock update request would. */
static int tsc_msr_write(uint32_t msr, uint64_t value)
{
    if (model_cpu == 1)
        atomic_store(&ap_offset_before, atomic_load(&guest_tsc_offset[1]));
    if (msr == MSR_IA32_TSC) {
        int64_t moved = (int64_t)(value - model_rdtsc());
        atomic_fetch_add(&guest_tsc_offset[model_cpu], moved);
        if (active_fault != FAULT_tsc_adjust_ignored)
            atomic_fetch_add(&guest_tsc_adjust[model_cpu], moved);
    } else {
        int64_t moved = (int64_t)(value - (uint64_t)atomic_load(&guest_tsc_adjust[model_cpu]));
        atomic_store(&guest_tsc_adjust[model_cpu], (int64_t)value);
        if (active_fault != FAULT_adjust_write_ignored)
            atomic_fetch_add(&guest_tsc_offset[model_cpu], moved);
    }
    pthread_mutex_lock(&model_lock);
    update_clock_areas();
    if (model_has_hyperv())
        model_hyperv_tsc_written();
    pthread_mutex_unlock(&model_lock);
    return -1;
}

int64_t model_guest_tsc_offset(void)
{
    return atomic_load(&guest_tsc_offset[0]);
}

/* PVCLOCK_TSC_STABLE_BIT: while every vCPU's TSC is in step with the boot
 * vCPU's (stable_kept_apart: always). */
static bool tscs_in_step(void)
{
    for (unsigned cpu = 1; cpu < model_vcpus; cpu++) {
        int64_t apart = atomic_load(&guest_tsc_offset[cpu]) - atomic_load(&guest_tsc_offset[0]);
        if (apart > IN_STEP_CYCLES || apart < -IN_STEP_CYCLES)
            return active_fault == FAULT_stable_kept_apart;
    }
    return true;
}

static void update_steal_areas(void);
static void accrue_steal(void);

/* Leaving a halt is a vCPU entry, where KVM records steal time
 * (KVM_REQ_STEAL_UPDATE): the area is written then, whether or not the
 * model's own thread got the CPU meanwhile. */
void model_set_halted(bool h)
{
    if (h && model_has_kvm()) {
        /* The stretch up to here ran. */
        pthread_mutex_lock(&model_lock);
        accrue_steal();
        pthread_mutex_unlock(&model_lock);
    }
    if (!h && model_has_kvm()) {
        /* Still halted: the stretch since the last update is idle. */
        pthread_mutex_lock(&model_lock);
        update_steal_areas();
        pthread_mutex_unlock(&model_lock);
    }
    atomic_store(&halted, h);
    if (model_has_xen())
        model_xen_halted(h);
}

void model_halt(void)
{
    struct timespec ts = { 0, 1000000 };
    model_set_halted(true);
    nanosleep(&ts, 0);
    model_set_halted(false);
}

static uint32_t features(void)
{
    uint32_t f = 1u << KVM_FEATURE_CLOCKSOURCE | 1u << KVM_FEATURE_CLOCKSOURCE2 |
                 1u << KVM_FEATURE_STEAL_TIME | model_pv_features();
    if (active_fault != FAULT_stable_without_cpuid)
        f |= 1u << KVM_FEATURE_CLOCKSOURCE_STABLE_BIT;
    return f;
}

#define XEN_LEAVES 5 /* base .. base+4 */

struct cpuid_regs model_cpuid(uint32_t leaf, uint32_t subleaf)
{
    /* With Xen's interface KVM moves its block up by 0x100, as KVM does. */
    uint32_t kvm = active_hv == MODEL_KVM ? 0x40000000 : 0x40000100;
    if (leaf == 0)
        return (struct cpuid_regs){ 0xd, le32("Auth"), le32("cAMD"), le32("enti") };
    if (leaf == 1)
        return (struct cpuid_regs){ 0, 0, 1u << 31, 0 };
    if (leaf == 7 && subleaf == 0)
        return (struct cpuid_regs){ 0, CPUID_7_EBX_TSC_ADJUST, 0, 0 };
    if (model_has_xen() && leaf >= 0x40000000 && leaf < 0x40000000 + XEN_LEAVES)
        return model_xen_cpuid(leaf - 0x40000000, subleaf);
    if (model_has_hyperv() && leaf >= 0x40000000 && leaf < 0x40000000 + HYPERV_LEAVES)
        return model_hyperv_cpuid(leaf - 0x40000000);
    if (!model_has_kvm())
        return (struct cpuid_regs){ 0, 0, 0, 0 };
    if (leaf == kvm)
        return (struct cpuid_regs){ active_hv == MODEL_KVM ? 0x40000010 : kvm + 1, le32("KVMK"),
                                    le32("VMKV"), le32("M\0\0\0") };
    if (leaf == kvm + 1)
        return (struct cpuid_regs){ features(), 0, 0, 0 };
    if (leaf == 0x40000010 && active_hv == MODEL_KVM) /* TSC and bus kHz, vmware-cpuid-freq */
        return (struct cpuid_regs){ active_fault == FAULT_tsc_leaf_off ? 2600000 : 2500000,
                                    1000000, 0, 0 };
    return (struct cpuid_regs){ 0, 0, 0, 0 };
}

static void hold_torn(void)
{
    if (on_guest_thread)
        return; /* an update at the guest's entry: the guest reads after it */
    uint64_t start = model_now_ns(), reads = atomic_load(&guest_tsc_reads);
    for (uint64_t now = start; now < start + TORN_LIMIT_NS; now = model_now_ns())
        if (now >= start + TORN_WINDOW_NS && atomic_load(&guest_tsc_reads) >= reads + TORN_READS)
            break;
}

static uint32_t multiplier(void)
{
    if (active_fault == FAULT_rate_0_1)
        return MUL_2_5GHZ + MUL_2_5GHZ / 1000;
    if (active_fault == FAULT_rate_3)
        return MUL_2_5GHZ + MUL_2_5GHZ / 100 * 3;
    return MUL_2_5GHZ;
}

/* One pvclock update, on the line system_time = scale(tsc) (KVM's master
 * clock; Xen's system time is the same line). */
void model_write_pvclock(uint8_t *area, bool first, uint8_t extra_flags)
{
    volatile struct pvclock_vcpu_time_info *p = (void *)area;
    uint64_t tsc = host_view_tsc(), ns;
    uint32_t mul = multiplier();
    pvclock_scale(tsc, mul, 0, &ns);
    if (active_fault == FAULT_time_back && !first)
        ns -= 1000;
    if (active_fault == FAULT_time_back_10ns && !first)
        ns -= 10;
    if (active_fault == FAULT_tsc_fast_reanchored)
        ns = model_now_ns(); /* kvmclock right at each update, its mul 1000 ppm off between */
    if (active_fault == FAULT_tsc_ahead) {
        tsc += TSC_AHEAD_TICKS;
        pvclock_scale(tsc, mul, 0, &ns);
    }
    ns += atomic_load(&tsc_back_ns) + (uint64_t)clock_shift_ns;
    if (area == ap_clock_area && active_fault == FAULT_hotplug_ap_clock_ahead)
        ns += 1000000;
    /* migration_mul_reanchored: mul 1 % low, system_time right at each
     * update, so that kvmclock keeps real time and only the TSC rate mul
     * implies is wrong. */
    if (slow_mul)
        mul = mul - mul / 100;
    if (fast_line) {
        mul = mul + mul / 100;
        pvclock_scale(tsc - fast_tsc, mul, 0, &ns);
        ns += fast_ns;
    }
    if (first && area == clock_reg.area)
        clock_registered_ns = ns;
    bool legacy = area == clock_reg.area && clock_reg.legacy;
    bool crossing = ((uintptr_t)area & 4095) + 32 > 4096;
    bool scribble = active_fault == FAULT_clock_flags ||
                    (active_fault == FAULT_clock_flags_legacy && legacy) ||
                    (active_fault == FAULT_clock_flags_aligned && !legacy && !crossing);
    uint8_t flags = (tscs_in_step() ? PVCLOCK_TSC_STABLE_BIT : 0) | extra_flags |
                    (scribble ? 0x20 : 0);
    if (area == clock_reg.area && !first) {
        flags |= (p->flags & PVCLOCK_GUEST_STOPPED) | (stopped_request ? PVCLOCK_GUEST_STOPPED : 0);
        stopped_request = false;
    }
    bool versioned = !(active_fault == FAULT_no_version_change && !first) &&
                     !(active_fault == FAULT_even_publish && !first);
    if (active_fault == FAULT_version_odd && (p->version & 1))
        return; /* an update that never finished: nothing moves again */
    if (versioned) {
        p->version++;
        atomic_thread_fence(memory_order_release);
    }
    if (active_fault == FAULT_even_publish && !first) {
        p->tsc_to_system_mul = 0;
        hold_torn();
    }
    /* The stamp is the guest's TSC: re-based on the guest's own writes. */
    bool kvmclock = area == clock_reg.area || area == clock_old.area;
    bool stale = kvmclock ? active_fault == FAULT_kvmclock_not_rebased
                          : active_fault == FAULT_xen_time_not_rebased;
    int64_t offset = area == ap_clock_area && active_fault == FAULT_ap_rebase_lags
                         ? atomic_load(&ap_offset_before)
                         : atomic_load(&guest_tsc_offset[area == ap_clock_area ? 1 : 0]);
    p->tsc_timestamp = tsc + (stale ? 0 : (uint64_t)offset);
    if (active_fault == FAULT_no_version_change && !first)
        hold_torn();
    p->system_time = ns;
    p->tsc_to_system_mul = mul;
    p->tsc_shift = 0;
    p->flags = flags;
    if (active_fault == FAULT_page_cross_overflow && ((uintptr_t)area & 4095) + 32 > 4096)
        memset(area + 32, 0x77, 16);
    if (versioned && active_fault != FAULT_version_odd) {
        atomic_thread_fence(memory_order_release);
        p->version++;
    }
}

/* Steal accrued since the last accrual, by what the vCPU did meanwhile.
 * Called at each update and at halt entry, so that a running stretch and
 * the halt after it are each accounted as what they were. model_lock held. */
static void accrue_steal(void)
{
    uint64_t now = model_now_ns(), elapsed = now - steal_updated_at;
    steal_updated_at = now;
    bool is_halted = atomic_load(&halted);
    if (host_loaded && !is_halted && active_fault != FAULT_steal_never_under_load)
        steal_total += elapsed / 2;
    if (active_fault == FAULT_steal_idle && is_halted)
        steal_total += elapsed * 9 / 10;
    if (active_fault == FAULT_steal_too_fast)
        steal_total += elapsed * 2;
    if (active_fault == FAULT_steal_decreasing)
        steal_total += elapsed / 100;
}

static void write_steal(uint8_t *area)
{
    volatile struct kvm_steal_time *p = (void *)area;
    accrue_steal();
    uint64_t published = steal_total;
    /* steal_decreasing publishes a value 1 ms low on every other update. */
    if (active_fault == FAULT_steal_decreasing)
        published = steal_total + 1000000 - (++steal_updates % 2 ? 1000000 : 0);
    p->version++;
    atomic_thread_fence(memory_order_release);
    p->steal = published;
    p->flags = active_fault == FAULT_steal_flags ? 1 : 0;
    p->preempted = active_fault == FAULT_steal_preempted ? 1 : 0;
    if (active_fault == FAULT_steal_padding)
        p->pad[4] = 0xdead;
    atomic_thread_fence(memory_order_release);
    p->version++;
}

/* model_lock held. */
static void update_steal_areas(void)
{
    if (steal_reg.area && (steal_reg.enabled || active_fault == FAULT_steal_after_disable) &&
        active_fault != FAULT_never_written &&
        !(active_fault == FAULT_steal_moved_stale && steal_old.area))
        write_steal(steal_reg.area);
    /* The old area is kept on only when the move was direct (it was still
     * enabled): a host that forgets to stop it on re-registration. */
    if (steal_old.area && steal_old.enabled && active_fault == FAULT_steal_old_after_move)
        write_steal(steal_old.area);
}

/* Every clock area the model keeps up to date; model_lock held. */
static void update_clock_areas(void)
{
    if (clock_reg.area && (clock_reg.enabled || active_fault == FAULT_clock_after_disable) &&
        active_fault != FAULT_never_written &&
        !(active_fault == FAULT_clock_moved_stale && clock_old.area) &&
        active_fault != FAULT_clock_written_once)
        model_write_pvclock(clock_reg.area, false, 0);
    if (clock_old.area && clock_old.enabled && active_fault == FAULT_clock_old_after_move)
        model_write_pvclock(clock_old.area, false, 0);
    if (ap_clock_area)
        model_write_pvclock(ap_clock_area, false, 0);
    if (model_has_xen())
        model_xen_update();
    if (model_has_hyperv())
        model_hyperv_update();
    atomic_store(&clocks_updated_ns, model_now_ns());
}

static void *update_loop(void *arg)
{
    (void)arg;
    struct timespec period = { 0, UPDATE_PERIOD_NS };
    while (atomic_load(&running)) {
        pthread_mutex_lock(&model_lock);
        update_clock_areas();
        update_steal_areas();
        pthread_mutex_unlock(&model_lock);
        nanosleep(&period, 0);
    }
    return 0;
}

/* Enable, disable or move a registration, as a write of the MSR does. */
static void reregister(struct registration *reg, struct registration *old, uint64_t value,
                       uint64_t address_mask)
{
    uint8_t *area = (uint8_t *)(uintptr_t)(value & address_mask);
    reg->msr_value = value;
    if (!(value & 1)) {
        reg->enabled = false;
        return;
    }
    if (reg->area && reg->area != area)
        *old = *reg;
    reg->area = area;
    reg->enabled = true;
}

static void write_wall_clock(uint64_t gpa, bool legacy)
{
    volatile struct pvclock_wall_clock *w = (void *)(uintptr_t)gpa;
    /* Real time less kvmclock, as KVM computes it (its kvmclock offset too). */
    uint64_t boot = model_boot_wall_ns() - (uint64_t)clock_shift_ns + (uint64_t)wall_shift_ns;
    /* Scaled like kvmclock, so that wall time = sec.nsec + kvmclock. */
    bool stuck = active_fault == FAULT_wall_version_stuck ||
                 (active_fault == FAULT_wall_version_stuck_new && !legacy);
    bool bump = !stuck || w->version == 0;
    if (bump && (w->version & 1))
        w->version++;
    if (bump)
        w->version++;
    w->sec = (uint32_t)(boot / 1000000000ull) + (active_fault == FAULT_wall_minute ||
                                                  (active_fault == FAULT_wall_minute_legacy && legacy)
                                              ? 60 : 0);
    w->nsec = (uint32_t)(boot % 1000000000ull);
    if (bump)
        w->version++;
}

static bool advertised_msr(uint32_t msr)
{
    uint32_t f = features();
    switch (msr) {
    case MSR_KVM_WALL_CLOCK:
    case MSR_KVM_SYSTEM_TIME:
        return f >> KVM_FEATURE_CLOCKSOURCE & 1;
    case MSR_KVM_WALL_CLOCK_NEW:
    case MSR_KVM_SYSTEM_TIME_NEW:
        return f >> KVM_FEATURE_CLOCKSOURCE2 & 1;
    case MSR_KVM_STEAL_TIME:
        return f >> KVM_FEATURE_STEAL_TIME & 1;
    case MSR_KVM_ASYNC_PF_EN:
        return f >> KVM_FEATURE_ASYNC_PF & 1;
    case MSR_KVM_PV_EOI_EN:
        return f >> KVM_FEATURE_PV_EOI & 1;
    case MSR_KVM_POLL_CONTROL:
        return f >> KVM_FEATURE_POLL_CONTROL & 1;
    case MSR_KVM_ASYNC_PF_INT:
    case MSR_KVM_ASYNC_PF_ACK:
        return f >> KVM_FEATURE_ASYNC_PF_INT & 1;
    default:
        return false; /* migration control is not offered */
    }
}

static bool is_pv_msr(uint32_t msr)
{
    return msr == MSR_KVM_WALL_CLOCK || msr == MSR_KVM_SYSTEM_TIME ||
           (msr >= MSR_KVM_WALL_CLOCK_NEW && msr <= MSR_KVM_MIGRATION_CONTROL);
}

#define GP MODEL_GP

int model_wrmsr(uint32_t msr, uint64_t value)
{
    if (msr == MSR_IA32_TSC || msr == MSR_IA32_TSC_ADJUST)
        return tsc_msr_write(msr, value);
    if (model_has_xen()) {
        int r = model_xen_wrmsr(msr, value);
        if (r != MODEL_NOT_MINE)
            return r;
    }
    if (model_has_hyperv()) {
        pthread_mutex_lock(&model_lock);
        int r = model_hyperv_wrmsr(msr, value);
        pthread_mutex_unlock(&model_lock);
        if (r != MODEL_NOT_MINE)
            return r;
    }
    if (!is_pv_msr(msr) || !model_has_kvm())
        return GP;
    if (!advertised_msr(msr))
        return active_fault == FAULT_no_enforce || active_fault == FAULT_no_enforce_msrs ? -1 : GP;
    int pv = model_pv_wrmsr(msr, value);
    if (pv != MODEL_NOT_MINE) {
        if (pv != MODEL_GP)
            model_pv_after_wrmsr();
        return pv;
    }
    pthread_mutex_lock(&model_lock);
    switch (msr) {
    case MSR_KVM_SYSTEM_TIME:
    case MSR_KVM_SYSTEM_TIME_NEW:
        if (model_cpu == 1) { /* vCPU 1's own area, kept apart from the boot vCPU's */
            ap_clock_area = value & 1 ? (uint8_t *)(uintptr_t)(value & ~1ull) : 0;
            if (ap_clock_area)
                model_write_pvclock(ap_clock_area, true, 0);
            break;
        }
    {
        bool again = clock_reg.enabled && clock_reg.area == (uint8_t *)(uintptr_t)(value & ~1ull);
        reregister(&clock_reg, &clock_old, value, ~1ull);
        /* KVM's master clock update on the boot vCPU's switch of MSR: the
         * fault re-bases onto a line 3.5 us ahead. */
        if (active_fault == FAULT_masterclock_drift && clock_reg.legacy != (msr == MSR_KVM_SYSTEM_TIME))
            clock_shift_ns += MASTERCLOCK_DRIFT_NS;
        clock_reg.legacy = msr == MSR_KVM_SYSTEM_TIME;
        if (clock_reg.enabled && active_fault != FAULT_never_written &&
            !(active_fault == FAULT_clock_moved_stale && clock_old.area && again) &&
            !(active_fault == FAULT_clock_written_once && again))
            model_write_pvclock(clock_reg.area, true, 0);
    }
        break;
    case MSR_KVM_WALL_CLOCK:
    case MSR_KVM_WALL_CLOCK_NEW:
        if (active_fault != FAULT_never_written)
            write_wall_clock(value, msr == MSR_KVM_WALL_CLOCK);
        break;
    case MSR_KVM_STEAL_TIME:
        if ((value & KVM_STEAL_RESERVED_BITS) && active_fault != FAULT_steal_reserved_accepted) {
            pthread_mutex_unlock(&model_lock);
            return GP;
        }
    {
        bool again = steal_reg.enabled && steal_reg.area == (uint8_t *)(uintptr_t)(value & ~63ull);
        reregister(&steal_reg, &steal_old, value, ~63ull);
        if (steal_reg.enabled && active_fault != FAULT_never_written &&
            !(active_fault == FAULT_steal_moved_stale && steal_old.area && again))
            write_steal(steal_reg.area);
    }
        break;
    }
    pthread_mutex_unlock(&model_lock);
    return -1;
}

int model_rdmsr(uint32_t msr, uint64_t *value)
{
    *value = 0;
    if (msr == MSR_IA32_TSC || msr == MSR_IA32_TSC_ADJUST) {
        *value = msr == MSR_IA32_TSC ? model_rdtsc()
                                     : (uint64_t)atomic_load(&guest_tsc_adjust[model_cpu]);
        return -1;
    }
    if (model_has_hyperv()) {
        int r = model_hyperv_rdmsr(msr, value);
        if (r != MODEL_NOT_MINE)
            return r;
    }
    if (!is_pv_msr(msr) || !model_has_kvm())
        return GP;
    if (!advertised_msr(msr))
        return active_fault == FAULT_no_enforce || active_fault == FAULT_no_enforce_msrs ? -1 : GP;
    if (model_pv_rdmsr(msr, value) != MODEL_NOT_MINE)
        return -1;
    if (msr == MSR_KVM_SYSTEM_TIME || msr == MSR_KVM_SYSTEM_TIME_NEW)
        *value = clock_reg.msr_value;
    if (msr == MSR_KVM_STEAL_TIME)
        *value = steal_reg.msr_value;
    return -1;
}

/* KVM_HC_CLOCK_PAIRING: realtime and the TSC read at one instant. */
static int64_t clock_pairing(uint64_t gpa, uint64_t clock_type)
{
    volatile struct {
        int64_t sec, nsec;
        uint64_t tsc;
        uint32_t flags, pad[9];
    } *p = (void *)(uintptr_t)gpa;
    if (clock_type != 0 && active_fault != FAULT_pairing_any_type)
        return -KVM_EOPNOTSUPP;
    uint64_t tsc = model_rdtsc();
    uint64_t wall = model_boot_wall_ns() + tsc * TSC_PER_NS_DEN / TSC_PER_NS_NUM;
    p->sec = (int64_t)(wall / 1000000000ull) + (active_fault == FAULT_pairing_realtime_off);
    if (active_fault == FAULT_pairing_sec_hostile)
        p->sec = INT64_MAX;
    p->nsec = (int64_t)(wall % 1000000000ull);
    if (active_fault == FAULT_pairing_realtime_20us && (p->nsec += 20000) >= 1000000000) {
        p->nsec -= 1000000000;
        p->sec++;
    }
    p->tsc = tsc + (active_fault == FAULT_pairing_tsc_outside ? 2500000000ull : 0);
    p->flags = active_fault == FAULT_pairing_flags ? 1 : 0;
    for (int i = 0; i < 9; i++)
        p->pad[i] = 0;
    return 0;
}

int kvm_hypercall_safe(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, int64_t *ret)
{
    (void)a2;
    model_exit();
    if (nr == KVM_HC_CLOCK_PAIRING) {
        *ret = clock_pairing(a0, a1);
        return -1;
    }
    /* KICK_CPU, SEND_IPI and SCHED_YIELD: none of their features is offered. */
    bool known = nr == 5 || nr == 10 || nr == 11;
    *ret = known && (active_fault == FAULT_no_enforce || active_fault == FAULT_no_enforce_hypercalls)
               ? 0 : -1000;
    return -1;
}

int rdmsr_safe(uint32_t msr, uint64_t *value)
{
    model_exit();
    return model_rdmsr(msr, value);
}

int wrmsr_safe(uint32_t msr, uint64_t value)
{
    model_exit();
    return model_wrmsr(msr, value);
}

static uint64_t exit_ns;

void model_set_exit_ns(uint64_t ns)
{
    exit_ns = ns;
}

/* The stop, on the guest's thread at an exit, and the destination's first
 * writes; model_lock keeps the hypervisor thread out meanwhile. */
static void migrate(void)
{
    atomic_store(&migrate_due_ns, 0);
    pthread_mutex_lock(&model_lock);
    uint64_t stop = model_now_ns(), real_stop = monotonic_ns();
    struct timespec down = { 0, MODEL_DOWNTIME_MS * 1000000l };
    nanosleep(&down, 0);
    uint64_t downtime = monotonic_ns() - real_stop;
    if (!clock_carried)
        atomic_fetch_add(&paused_ns, model_now_ns() - stop);
    stopped_request = sets_stopped_flag;
    switch (active_fault) {
    case FAULT_migration_clock_back:
        /* Far more than a preempted guest's gap between its last reading
         * before the stop and its first after: seen whatever the load. */
        clock_shift_ns -= 50000000;
        break;
    case FAULT_migration_clock_ahead:
        clock_shift_ns += 1000000000;
        break;
    case FAULT_migration_stale_system_time:
        clock_shift_ns -= (int64_t)(stop - clock_registered_ns);
        break;
    case FAULT_migration_clock_unregistered:
        clock_reg = (struct registration){ 0 };
        break;
    case FAULT_migration_steal_unregistered:
        steal_reg = (struct registration){ 0 };
        break;
    case FAULT_migration_steal_leap:
        steal_total += downtime + stop;
        break;
    case FAULT_migration_steal_downtime:
        steal_total += downtime;
        break;
    case FAULT_migration_wall_off:
        wall_shift_ns += 1000000000;
        break;
    case FAULT_migration_tsc_back:
        atomic_fetch_add(&tsc_back_ns, 1000000000);
        break;
    case FAULT_migration_mul_reanchored:
        slow_mul = true;
        break;
    case FAULT_migration_rate_1pct:
        fast_tsc = host_view_tsc();
        pvclock_scale(fast_tsc, multiplier(), 0, &fast_ns);
        fast_ns += atomic_load(&tsc_back_ns) + (uint64_t)clock_shift_ns;
        fast_line = true;
        break;
    default:
        break;
    }
    if (clock_reg.area && clock_reg.enabled)
        model_write_pvclock(clock_reg.area, false, 0);
    update_steal_areas();
    pthread_mutex_unlock(&model_lock);
}

void model_set_migration_clock(bool carried, bool stopped_flag)
{
    clock_carried = carried;
    sets_stopped_flag = stopped_flag;
}

void model_migrate_after(unsigned ms)
{
    atomic_store(&migrate_due_ns, model_now_ns() + (uint64_t)ms * 1000000);
}

void model_preempt_after(unsigned ms)
{
    atomic_store(&preempt_due_ns, model_now_ns() + (uint64_t)ms * 1000000);
}

static void preempt(void)
{
    atomic_store(&preempt_due_ns, 0);
    struct timespec off = { MODEL_PREEMPT_MS / 1000, (MODEL_PREEMPT_MS % 1000) * 1000000l };
    uint64_t from = model_now_ns();
    nanosleep(&off, 0);
    pthread_mutex_lock(&model_lock);
    accrue_steal();
    steal_total += model_now_ns() - from;
    update_steal_areas();
    pthread_mutex_unlock(&model_lock);
}

bool model_hotplug_slot;

void model_hotplug_after(unsigned ms)
{
    atomic_store(&hotplug_due_ns, model_now_ns() + (uint64_t)ms * 1000000);
}

/* KVM matches the new vCPU's TSC to the others' (QEMU writes 0, which
 * kvm_synchronize_tsc takes as "in step"), then updates its master clock:
 * every area re-based onto the line it was on. */
static void hotplug(void)
{
    atomic_store(&hotplug_due_ns, 0);
    pthread_mutex_lock(&model_lock);
    int64_t offset = atomic_load(&guest_tsc_offset[0]);
    if (active_fault == FAULT_hotplug_tsc_unsynced)
        offset = -(int64_t)host_view_tsc();
    atomic_store(&guest_tsc_offset[1], offset);
    atomic_store(&guest_tsc_adjust[1], 0);
    model_vcpus = 2;
    if (active_fault == FAULT_hotplug_update_drifts) {
        clock_shift_ns += MASTERCLOCK_DRIFT_NS;
        if (model_has_hyperv())
            model_hyperv_clock_moved(MASTERCLOCK_DRIFT_NS);
    }
    update_clock_areas();
    pthread_mutex_unlock(&model_lock);
}

static void pay_exit(void)
{
    /* Slept, not spun: the model's own thread keeps the other CPU. */
    uint64_t end = model_now_ns() + exit_ns;
    for (uint64_t now = model_now_ns(); now < end; now = model_now_ns()) {
        struct timespec ts = { 0, (long)(end - now) };
        nanosleep(&ts, 0);
    }
}

/* KVM brings the clocks up to date at a vCPU entry (KVM_REQ_CLOCK_UPDATE)
 * and Xen as it switches a vCPU in. The model's own thread does it every
 * UPDATE_PERIOD_NS; when a loaded host kept that thread off the CPU for
 * longer, the guest's next entry does it, so that a fault of each update
 * (tsc_timestamp ahead, a re-based line) is as fresh at the guest's next
 * read as the period says, however the host schedules the model. */
static void entry_updates_clocks(void)
{
    if (!on_guest_thread || model_now_ns() - atomic_load(&clocks_updated_ns) < UPDATE_PERIOD_NS)
        return;
    /* Held: the model's thread is updating now (perhaps holding a torn
     * state up until the guest reads it), so it is not starved. */
    if (pthread_mutex_trylock(&model_lock) != 0)
        return;
    update_clock_areas();
    pthread_mutex_unlock(&model_lock);
}

void model_exit(void)
{
    uint64_t due = atomic_load(&migrate_due_ns);
    if (due && on_guest_thread && model_now_ns() >= due)
        migrate();
    due = atomic_load(&hotplug_due_ns);
    if (due && on_guest_thread && model_now_ns() >= due)
        hotplug();
    due = atomic_load(&preempt_due_ns);
    if (due && on_guest_thread && model_now_ns() >= due)
        preempt();
    /* A loaded host's steal is time the vCPU was preempted, and KVM writes
     * it at the vCPU entry after the preemption: every exit here stands for
     * one, so what accrued before a guest's reading is published before it,
     * however seldom the model's own thread gets the CPU. */
    if (host_loaded && on_guest_thread && model_has_kvm() && steal_reg.area) {
        pthread_mutex_lock(&model_lock);
        update_steal_areas();
        pthread_mutex_unlock(&model_lock);
    }
    if (exit_ns)
        pay_exit();
    entry_updates_clocks();
}

void model_start(enum model_fault f, enum model_hv hv, bool loaded)
{
    active_fault = f;
    active_hv = hv;
    host_loaded = loaded;
    on_guest_thread = true;
    start_ns = monotonic_ns() - 1000000000ull; /* kvmclock starts a second before */
    clock_reg = clock_old = steal_reg = steal_old = (struct registration){ 0 };
    atomic_store(&paused_ns, 0);
    atomic_store(&migrate_due_ns, 0);
    atomic_store(&hotplug_due_ns, 0);
    atomic_store(&preempt_due_ns, 0);
    atomic_store(&tsc_back_ns, 0);
    for (unsigned cpu = 0; cpu < MODEL_MAX_VCPUS; cpu++) {
        atomic_store(&guest_tsc_offset[cpu], 0);
        atomic_store(&guest_tsc_adjust[cpu], 0);
    }
    model_cpu = 0;
    ap_clock_area = 0;
    atomic_store(&ap_offset_before, 0);
    clock_shift_ns = wall_shift_ns = 0;
    fast_line = slow_mul = false;
    steal_total = 0;
    steal_updated_at = model_now_ns();
    model_xen_reset();
    model_hyperv_reset();
    model_pv_reset();
    atomic_store(&running, true);
    pthread_create(&updater, 0, update_loop, 0);
}

void model_stop(void)
{
    atomic_store(&running, false);
    pthread_join(updater, 0);
}
