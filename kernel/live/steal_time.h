/* What the steal_time suite offers other suites: the boot vCPU's KVM steal,
 * so that Xen's steal (runstate) can be reported next to it. */
#ifndef PVCHECK_STEAL_TIME_H
#define PVCHECK_STEAL_TIME_H

#include <stdbool.h>
#include <stdint.h>

struct check_ctx;
struct kvm_steal_time;

/* The boot vCPU's registered steal area (registering it at its usual slot
 * if no check has), or NULL, the check failed saying why. */
volatile struct kvm_steal_time *steal_time_area(struct check_ctx *c);

/* KVM steal so far, in ns, registering the area if no check has yet;
 * false (the check failed, saying why) if it cannot be read. */
bool steal_time_now(struct check_ctx *c, uint64_t *steal_ns);

#endif
