/* What the KVM part of the model (model.c) shares with its Xen part
 * (model_xen.c). */
#ifndef PVCHECK_MODEL_INTERNAL_H
#define PVCHECK_MODEL_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "model.h"
#include "platform/cpu.h"

#define MODEL_GP 13
#define MODEL_NOT_MINE 0 /* a wrmsr the Xen part does not handle */

extern enum model_fault active_fault;
extern enum model_hv active_hv;
extern bool host_loaded;
extern pthread_mutex_t model_lock;
/* The vCPU running guest code now: 1 while platform.c runs a job on vCPU 1
 * (two-vCPU rows), else 0. */
extern unsigned model_cpu; /* the hypervisor thread against hypercalls */

/* One pvclock update of area (versioned, on the model's one clock line),
 * with extra flags set. */
void model_write_pvclock(uint8_t *area, bool first, uint8_t extra_flags);

/* Nanoseconds since the Unix epoch at model time 0. */
uint64_t model_boot_wall_ns(void);

/* Four signature characters as CPUID returns them in one register. */
static inline uint32_t le32(const char *s)
{
    return (uint32_t)(uint8_t)s[0] | (uint32_t)(uint8_t)s[1] << 8 |
           (uint32_t)(uint8_t)s[2] << 16 | (uint32_t)(uint8_t)s[3] << 24;
}

static inline bool model_has_xen(void) { return active_hv == MODEL_XEN || active_hv == MODEL_KVM_XEN; }
static inline bool model_has_kvm(void) { return active_hv != MODEL_XEN; }
static inline bool model_has_hyperv(void) { return active_hv == MODEL_KVM_HYPERV; }

/* The Xen part: reset at start, its CPUID leaves (offset from its base),
 * its MSR, the periodic update (model_lock held), and the guest's halts and
 * entries (on the guest's thread: Xen writes the runstate area only when
 * the vCPU is not running). */
void model_xen_reset(void);
struct cpuid_regs model_xen_cpuid(uint32_t index, uint32_t subleaf);
int model_xen_wrmsr(uint32_t msr, uint64_t value);
void model_xen_update(void);
void model_xen_halted(bool halted);
void model_xen_guest_entry(void);

/* The Hyper-V part (model_hyperv.c): reset, CPUID (offset from 0x40000000),
 * its MSRs (MODEL_NOT_MINE for others), the periodic page update
 * (model_lock held). */
#define HYPERV_LEAVES 11 /* 0x40000000 .. 0x4000000a */
void model_hyperv_reset(void);
struct cpuid_regs model_hyperv_cpuid(uint32_t index);
int model_hyperv_wrmsr(uint32_t msr, uint64_t value);
int model_hyperv_rdmsr(uint32_t msr, uint64_t *value);
void model_hyperv_update(void);
/* The page rewritten at once after the guest wrote its TSC. */
void model_hyperv_tsc_written(void);
/* KVM derives the page from vCPU 0's kvmclock: a master clock update that
 * moves kvmclock by ns moves the page's time with it, rewritten at once. */
void model_hyperv_clock_moved(int64_t ns);
/* What the guest's own TSC writes moved its TSC by, in all. */
int64_t model_guest_tsc_offset(void);

/* KVM's other PV MSRs (model_pv_msrs.c): reset, the features they add,
 * the MSRs (MODEL_NOT_MINE for others), the notification a write raised
 * (delivered once the write returns), a self-IPI and an EOI. The guest's
 * handlers run through model_deliver_irq (platform.c). */
void model_pv_reset(void);
uint32_t model_pv_features(void);
int model_pv_wrmsr(uint32_t msr, uint64_t value);
int model_pv_rdmsr(uint32_t msr, uint64_t *value);
void model_pv_after_wrmsr(void);
bool model_pv_self_ipi(unsigned vector);
void model_pv_eoi(void);
/* The APIC timer, periodic on vector (-1: stopped). */
void model_apic_timer(int vector);
/* The level-triggered interrupt source behind platform/level_irq.h. */
void model_level_start(unsigned vector);
void model_level_lower(void);
void model_level_stop(void);
bool model_level_tmr(unsigned vector);
bool model_level_remote_irr(void);
bool model_in_service(unsigned vector);
bool model_requested(unsigned vector);
void model_deliver_irq(unsigned vector);

#endif
