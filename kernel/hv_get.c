/* The discovery for this boot, made once from the real CPUID. */
#include "hv_cpuid.h"

static struct hv_discovery discovery;
static bool done;

const struct hv_discovery *hv_get(void)
{
    if (!done) {
        hv_discover(cpuid_count, &discovery);
        done = true;
    }
    return &discovery;
}
