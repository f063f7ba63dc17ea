/* A hypervisor model on the host: KVM (kvmclock, wall clock, steal time),
 * Xen (hypercalls, shared_info, the runstate area) or KVM with Xen's
 * interface beside its own. It owns the areas the checks register and
 * updates them as the real one does, correctly or with one injected fault. */
#ifndef PVCHECK_MODEL_H
#define PVCHECK_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#define MODEL_FAULTS(X)                                                                       \
    X(correct, "no fault")                                                                    \
    X(never_written, "registered areas are never written (REFERENCE bug 14)")                 \
    X(version_odd, "kvmclock version left odd after an update")                               \
    X(no_version_change, "kvmclock fields rewritten without a version change")                \
    X(even_publish, "kvmclock fields published under an even version, mul cleared first (bug 13)") \
    X(time_back, "kvmclock re-based 1 us back at each update (bug 5)")                         \
    X(rate_0_1, "kvmclock runs 0.1% fast")                                                     \
    X(rate_3, "kvmclock runs 3% fast (bug 6)")                                                 \
    X(tsc_fast_1000ppm, "the TSC ticks 1000 ppm faster than CPUID and mul/shift say")           \
    X(tsc_fast_reanchored, "the TSC ticks 1000 ppm fast, kvmclock re-based to real time at each update") \
    X(tsc_fast_400ppm, "the TSC ticks 400 ppm faster than CPUID and mul/shift say (inside the 500 ppm allowance): allowed") \
    X(time_back_10ns, "kvmclock re-based 10 ns back at each update (just past the 2 ns budget)") \
    X(tsc_ahead, "tsc_timestamp 50 ms ahead of the TSC")                                     \
    X(tsc_adjust_ignored, "a guest write to IA32_TSC leaves IA32_TSC_ADJUST as it was")       \
    X(adjust_write_ignored, "a guest write to IA32_TSC_ADJUST leaves the TSC as it was")      \
    X(kvmclock_not_rebased, "kvmclock's tsc_timestamp ignores the guest's own TSC writes")     \
    X(xen_time_not_rebased, "Xen's vcpu_time_info tsc_timestamp ignores the guest's own TSC writes") \
    X(hv_page_not_rebased, "Hyper-V's TscOffset ignores the guest's own TSC writes")            \
    X(tsc_leaf_off, "CPUID 0x40000010 says 2.6 GHz, the TSC runs at 2.5 GHz")                  \
    X(clock_flags, "kvmclock flags bit 5 scribbled")                                          \
    X(clock_flags_legacy, "kvmclock flags bit 5 scribbled in areas registered through MSR 0x12 only") \
    X(clock_flags_aligned, "kvmclock flags bit 5 scribbled in areas of MSR 0x4b564d01 within one page only") \
    X(stable_without_cpuid, "PVCLOCK_TSC_STABLE_BIT set, CPUID bit 24 clear")                 \
    X(clock_after_disable, "kvmclock area still written after bit 0 was cleared")             \
    X(clock_old_after_move, "the old kvmclock area still written after a direct move")        \
    X(clock_written_once, "each kvmclock area written when registered, never again")          \
    X(clock_moved_stale, "a moved kvmclock area written when registered, never after")        \
    X(page_cross_overflow, "48 bytes written to a page-crossing kvmclock area (CVE-2013-1796)") \
    X(wall_minute, "wall clock a minute off")                                                 \
    X(wall_version_stuck, "the wall clock rewritten at each MSR write, its version left as it was") \
    X(wall_minute_legacy, "wall clock a minute off through the legacy MSR 0x11 only")        \
    X(wall_version_stuck_new, "wall clock version left as it was through MSR 0x4b564d00 only") \
    X(wall_nsec_1e9, "Xen's wall clock one second low with wc_nsec 10^9 and more")             \
    X(steal_idle, "steal counted while the vCPU halts")                                       \
    X(steal_decreasing, "steal decreasing now and then (bug 12)")                             \
    X(steal_too_fast, "steal growing twice as fast as time")                                  \
    X(steal_never_under_load, "steal not accrued on a loaded host")                           \
    X(steal_flags, "steal flags not zero")                                                    \
    X(steal_padding, "steal padding scribbled")                                               \
    X(steal_preempted, "preempted set while the vCPU runs (bug 3)")                           \
    X(steal_reserved_accepted, "steal MSR reserved bits accepted")                            \
    X(steal_after_disable, "steal area still written after bit 0 was cleared")                \
    X(steal_old_after_move, "the old steal area still written after a direct move (bug 1)")   \
    X(steal_moved_stale, "a moved steal area written when registered, never after")           \
    X(no_enforce, "unadvertised PV MSRs and hypercalls accepted")                             \
    X(no_enforce_msrs, "unadvertised PV MSRs accepted, hypercalls refused")                  \
    X(no_enforce_hypercalls, "unadvertised PV hypercalls accepted, MSRs refused")            \
    X(no_hypercall_page, "the hypercall-page MSR write leaves the page empty")                \
    X(version_mismatch, "XENVER_version disagrees with CPUID base+1")                         \
    X(guest_stopped, "PVCLOCK_GUEST_STOPPED set in Xen's clock after each wake-up")          \
    X(time_area_offset, "the registered time copy runs 5 us off vcpu_info's time")            \
    X(time_area_10ns, "the registered time copy runs 10 ns off vcpu_info's time (just past 2 ns)") \
    X(runstate_not_at_registration, "the runstate area is first written at a state change")  \
    X(runstate_decreasing, "running time published 1 ms low at every third update")           \
    X(runstate_drift, "running time gains 1 us per update that state_entry_time does not")   \
    X(runstate_too_fast, "running time counted twice")                                        \
    X(runstate_fast_5permille, "running time counted 0.5% long (past the 0.1% allowance)")     \
    X(runstate_flag_stuck, "bit 63 of state_entry_time left set after each update")           \
    X(runstate_info_flag, "VCPUOP_get_runstate_info's copy carries bit 63 once enabled")      \
    X(runstate_info_stale, "VCPUOP_get_runstate_info returns times 1 ms below the area's")    \
    X(runstate_info_ahead, "VCPUOP_get_runstate_info counts the current state 1 ms past now")  \
    X(runstate_idle_runnable, "halted time accounted as runnable, not blocked")               \
    X(runstate_idle_runnable_20, "the last fifth of each halt accounted as runnable on an idle host") \
    X(runstate_no_load, "a loaded host never makes the vCPU runnable")                        \
    X(runstate_overflow, "8 bytes written past the 48-byte runstate area")                    \
    X(runstate_compat_layout, "the 32-bit (44-byte) runstate layout written to a 64-bit guest") \
    X(runstate_old_after_move, "the abandoned runstate area still written")                   \
    X(runstate_halt_running, "a halt accounted as running (KVM's Xen emulation, no VMM help)")  \
    X(time_leaf_merged, "Xen's time leaf answers every sub-leaf alike (sub-leaf 0 ECX = mul)") \
    X(runstate_info_enosys, "no VCPUOP_get_runstate_info nor update flag (-ENOSYS), as QEMU 10.0 on KVM: allowed") \
    X(hv_wrong_scale, "reference TSC page scale for a 2.6 GHz TSC; it runs at 2.5 GHz")      \
    X(hv_scale_200ghz, "reference TSC page scale for a 200 GHz TSC")                         \
    X(hv_offset_jump, "reference TSC page offset re-based 1 ms back at every update")      \
    X(hv_page_after_disable, "reference TSC page still written after bit 0 was cleared")   \
    X(hv_old_page_after_move, "the old reference TSC page still written after a move")     \
    X(hv_counter_1ns, "TIME_REF_COUNT counts 1 ns units, not 100 ns")                        \
    X(hv_counter_writable, "TIME_REF_COUNT writes accepted, not #GP")                       \
    X(hv_frequency_lie, "HV_X64_MSR_TSC_FREQUENCY says 2.6 GHz; the TSC runs at 2.5 GHz")  \
    X(hv_seq_reused, "page re-based 100 ns on at each update, TscSequence 0 then back to its old value") \
    X(hv_rate_300ppm, "reference page and counter 300 ppm fast against kvmclock (within 500 ppm of real time)") \
    X(hv_page_offset, "reference TSC page 1 ms ahead of TIME_REF_COUNT, each at the right rate") \
    X(hv_page_invalid, "the page's TscSequence stays 0 (invalid: use the MSR): allowed")        \
    X(pairing_tsc_outside, "KVM_HC_CLOCK_PAIRING's TSC 1 s after the call")                    \
    X(pairing_realtime_off, "KVM_HC_CLOCK_PAIRING's realtime 1 s ahead of the wall clock's")    \
    X(pairing_realtime_20us, "KVM_HC_CLOCK_PAIRING's realtime 20 us ahead of the wall clock's") \
    X(pairing_sec_hostile, "KVM_HC_CLOCK_PAIRING returns sec = INT64_MAX")                   \
    X(pairing_flags, "KVM_HC_CLOCK_PAIRING sets an undefined flag")                            \
    X(pairing_any_type, "KVM_HC_CLOCK_PAIRING answers clock types other than WALLCLOCK")       \
    X(apf_reserved_accepted, "MSR_KVM_ASYNC_PF_EN accepts its reserved bits 5-4")               \
    X(apf_int_without_feature, "bit 3 of MSR_KVM_ASYNC_PF_EN accepted without KVM_FEATURE_ASYNC_PF_INT") \
    X(apf_event_without_int, "a 'page ready' notification sent with bit 3 of MSR_KVM_ASYNC_PF_EN clear") \
    X(eoi_reserved_accepted, "MSR_KVM_EOI_EN accepts its reserved bit 1")                       \
    X(eoi_flag_ignored, "the PV EOI flag set, but clearing it is not taken as the EOI")         \
    X(eoi_flag_level, "the PV EOI flag set for a level-triggered interrupt, and clearing it "   \
                      "does not reach the IOAPIC")                                                \
    X(level_irq_as_edge, "a level-triggered IOAPIC interrupt accepted as edge (TMR clear)")     \
    X(eoi_flag_never_set, "the PV EOI flag never set (the EOI is always written): allowed")     \
    X(stable_kept_apart, "PVCLOCK_TSC_STABLE_BIT kept while the vCPUs' TSCs are apart")       \
    X(ap_rebase_lags, "vCPU 1's kvmclock re-based onto its TSC as it was before its latest write") \
    X(masterclock_drift, "a master clock update re-bases kvmclock 3.5 us ahead (pvclock_test's figure)") \
    X(hotplug_tsc_unsynced, "a hot-added vCPU's TSC starts from 0, not in step with the others") \
    X(hotplug_update_drifts, "the master clock update at a vCPU hot-add re-bases kvmclock 3.5 us ahead") \
    X(hotplug_ap_clock_ahead, "the hot-added vCPU's kvmclock 1 ms ahead of vCPU 0's, the stable bit set") \
    X(irq_starved, "the vCPU left unrun for 300 ms now and then, its interrupts late: allowed")  \
    X(poll_reserved_accepted, "MSR_KVM_POLL_CONTROL accepts bits other than bit 0")         \
    X(migration_clock_back, "kvmclock re-based 50 ms back on the destination (its wall clock compensates)")\
    X(migration_clock_ahead, "kvmclock re-based 1 s forward on the destination (its wall clock compensates)") \
    X(migration_stale_system_time, "the destination restores system_time as it was at registration (a stale snapshot)") \
    X(migration_clock_unregistered, "MSR_KVM_SYSTEM_TIME_NEW not migrated: the area never written on the destination, the MSR reads 0") \
    X(migration_steal_unregistered, "MSR_KVM_STEAL_TIME not migrated: the area never written on the destination, the MSR reads 0") \
    X(migration_steal_leap, "the destination adds all time since boot to steal (far past the downtime)") \
    X(migration_steal_downtime, "steal counts the downtime on the destination: allowed")     \
    X(migration_wall_off, "the destination's wall clock 1 s ahead")                              \
    X(migration_tsc_back, "the TSC offset not carried: the TSC 1 s back on the destination, kvmclock re-based to hide it") \
    X(migration_mul_reanchored, "the destination's mul 1% low, system_time right at each update (kvmclock keeps time, mul/shift imply a TSC 1% fast)") \
    X(migration_rate_1pct, "the destination's mul/shift run 1% fast")

enum model_fault {
#define MODEL_ENUM(name, text) FAULT_##name,
    MODEL_FAULTS(MODEL_ENUM)
#undef MODEL_ENUM
    FAULT_COUNT
};

const char *model_fault_name(enum model_fault f);
const char *model_fault_text(enum model_fault f);
int model_fault_by_name(const char *name); /* -1 if unknown */

/* Which interfaces the model offers: KVM's at 0x40000000; Xen's at
 * 0x40000000; Xen's there and KVM's at 0x40000100, as KVM does when it
 * emulates Xen (a zero runstate offset); or Hyper-V's there (hv-time,
 * hv-frequencies) and KVM's at 0x40000100. */
enum model_hv { MODEL_KVM, MODEL_XEN, MODEL_KVM_XEN, MODEL_KVM_HYPERV, MODEL_HV_COUNT };

const char *model_hv_name(enum model_hv hv);
int model_hv_by_name(const char *name); /* -1 if unknown */

/* Starts the hypervisor thread with that fault; host_loaded makes steal
 * (and runnable time) accrue while the vCPU is busy. */
void model_start(enum model_fault fault, enum model_hv hv, bool host_loaded);
void model_stop(void);

uint64_t model_now_ns(void);

/* A migration ms milliseconds of guest time from now: the vCPU stops at
 * its next exit for MODEL_DOWNTIME_MS of real time, in which its clocks
 * stand still (as QEMU stops kvmclock and the TSC), then the destination
 * writes the areas, correctly or with the row's migration fault. */
#define MODEL_DOWNTIME_MS 300u
void model_migrate_after(unsigned ms);
/* How the host treats the clocks across that stop: carried (they run on
 * through the downtime, as QEMU advances kvmclock over a live migration's
 * downtime where KVM offers KVM_CLOCK_REALTIME) or standing still; and
 * whether it sets kvmclock's PVCLOCK_GUEST_STOPPED once the VM continues
 * (QEMU's KVM_KVMCLOCK_CTRL at every continue; kept until the guest clears
 * it, as KVM does). Defaults: standing still, flag set. */
void model_set_migration_clock(bool carried, bool stopped_flag);
/* The host leaves the vCPU unrun for MODEL_PREEMPT_MS, at the guest's first
 * exit ms from now: its clocks run on meanwhile and the time is steal, as a
 * vCPU thread preempted on a busy host sees. */
#define MODEL_PREEMPT_MS 1500u
void model_preempt_after(unsigned ms);

/* A vCPU hot-add ms milliseconds of guest time from now, at the guest's
 * next exit: the machine's absent vCPU (model_hotplug_slot) becomes
 * present, its TSC synchronised with vCPU 0's, and the master clock is
 * updated; the guest starts the vCPU itself. */
extern bool model_hotplug_slot;
void model_hotplug_after(unsigned ms);

/* Each exit the guest takes (RDTSC, CPUID, MSR, port I/O, hypercall) costs
 * ns of real time from then on: 0, or about 100000 for a hypervisor whose
 * exits cost a hundred times a hardware one. */
void model_set_exit_ns(uint64_t ns);
/* The machine has no reference clock for the rate checks (a row's
 * no_reference option). */
void model_set_no_reference(bool none);
/* How many vCPUs the machine has: 1, or 2 (a row's two_vcpus option): vCPU
 * 1 runs each job it is given at once, on the guest's thread, with its own
 * TSC and kvmclock area. */
#define MODEL_MAX_VCPUS 2
extern unsigned model_vcpus;
void model_set_halted(bool halted);

#endif
