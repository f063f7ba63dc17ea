/* The TSC's own MSRs (Intel SDM Vol. 3B, "Time-Stamp Counter" and "Time-Stamp
 * Counter Adjustment"; Vol. 4, MSRs 0x10 and 0x3b). */
#ifndef PVCHECK_TSC_MSR_H
#define PVCHECK_TSC_MSR_H

#define MSR_IA32_TSC 0x10
#define MSR_IA32_TSC_ADJUST 0x3b
#define CPUID_7_EBX_TSC_ADJUST (1u << 1) /* CPUID.(EAX=7,ECX=0):EBX[1] */

#endif
