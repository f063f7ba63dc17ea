/* The per-vCPU and cross-vCPU checks of the smp suite, for its table in
 * smp.c. */
#ifndef PVCHECK_SMP_CHECKS_H
#define PVCHECK_SMP_CHECKS_H

#include "checks/shared/aps.h"
#include "lib/suite.h"

enum verdict check_kvmclock_each_vcpu(struct check_ctx *c);
enum verdict check_steal_each_vcpu(struct check_ctx *c);
enum verdict check_cross_vcpu_monotonic(struct check_ctx *c);
enum verdict check_same_instant(struct check_ctx *c);
enum verdict check_remote_reads(struct check_ctx *c);
enum verdict check_preempted(struct check_ctx *c);
enum verdict check_wall_clock_each_vcpu(struct check_ctx *c);
enum verdict check_shared_last_value(struct check_ctx *c);

#define MSR_RST_SMP DOC_KVM_MSR

#define SMP_KVM_CHECKS                                                                        \
    { "kvmclock_each_vcpu", MSR_RST_SMP " MSR_KVM_SYSTEM_TIME_NEW is per vCPU: each vCPU's "  \
                            "area follows every kvmclock rule",                               \
      check_kvmclock_each_vcpu },                                                             \
    { "steal_each_vcpu", MSR_RST_SMP " MSR_KVM_STEAL_TIME is per vCPU: each vCPU's area "     \
                         "follows every steal rule (idle is not steal; load gives steal)",    \
      check_steal_each_vcpu },                                                                \
    { "cross_vcpu_monotonic", MSR_RST_SMP " flags bit 0 (with CPUID bit 24): time measures "  \
                              "taken across multiple cpus are guaranteed to be monotonic",    \
      check_cross_vcpu_monotonic },                                                           \
    { "same_instant", "with PVCLOCK_TSC_STABLE_BIT every vCPU's parameters describe one "     \
                      "clock: at one TSC they agree",                                         \
      check_same_instant },                                                                   \
    { "remote_reads", MSR_RST_SMP " version protocol: a reader on another vCPU never gets a " \
                      "torn snapshot while the area is updated",                              \
      check_remote_reads },                                                                   \
    { "preempted", MSR_RST_SMP " steal 'preempted': set when a vCPU is preempted, not on "    \
                   "exits to user space (Linux 54aa83c90198)",                                \
      check_preempted },                                                                      \
    { "wall_clock_each_vcpu", MSR_RST_SMP " MSR_KVM_WALL_CLOCK_NEW on every vCPU: the same "  \
                              "wall time at kvmclock 0, within the two writes' durations",     \
      check_wall_clock_each_vcpu },                                                           \
    { "shared_last_value", MSR_RST_SMP " flags bit 0: every vCPU reading at once against one " \
                           "shared latest value never reads earlier; warps, stalls and each " \
                           "vCPU's read cost counted",                                        \
      check_shared_last_value },

#endif
