#include "platform/percpu.h"

#include <stdbool.h>

#include "platform/cpu.h"

#define MSR_GS_BASE 0xc0000101

static bool bound;

void percpu_bind(const uint32_t *block)
{
    wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)block);
    bound = true;
}

unsigned this_cpu(void)
{
    uint32_t index;
    if (!bound)
        return 0;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(index));
    return index;
}
