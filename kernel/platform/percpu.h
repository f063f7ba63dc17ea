/* Which vCPU is running. %gs points at a per-vCPU block whose first 32-bit
 * word is the vCPU's index; the trap handler and the SMP code both ask, so
 * this sits below them. */
#ifndef PVCHECK_PERCPU_H
#define PVCHECK_PERCPU_H

#include <stdint.h>

/* Points %gs at block (its first word is this vCPU's index). */
void percpu_bind(const uint32_t *block);

/* The running vCPU's index: 0 until the first bind. */
unsigned this_cpu(void);

#endif
