/* Every vCPU the MADT lists, started with INIT-SIPI-SIPI; the boot vCPU runs
 * functions on the others and waits for them with a timeout. Application
 * processors halt between jobs and are woken by an IPI. */
#ifndef PVCHECK_SMP_H
#define PVCHECK_SMP_H

#include <stdbool.h>
#include <stdint.h>

#include "platform/madt.h"

#define SMP_MAX_CPUS MADT_MAX_CPUS
#define SMP_PAGE_BYTES 4096u

struct smp_status {
    bool initialised;
    const char *problem;          /* why no AP was started, or NULL */
    unsigned listed;              /* processors the MADT or MP table lists (enabled) */
    unsigned online;              /* including the boot vCPU */
    unsigned not_used;            /* listed beyond what pvcheck drives */
    unsigned n_failed;
    uint32_t failed_apic_ids[SMP_MAX_CPUS];
    bool x2apic;
    const char *source;           /* "madt", "mp_table" or "none": where the vCPUs came from */
};

/* Starts the APs once; later calls return the same status. */
const struct smp_status *smp_init(void);

unsigned smp_online(void);
uint32_t smp_apic_id(unsigned cpu);

/* A page per vCPU for its paravirtual areas (zeroed at start-up). */
uint8_t *smp_page(unsigned cpu);

/* Starts fn(arg) on vCPU cpu (not 0); false if it is still busy. */
bool smp_start(unsigned cpu, void (*fn)(void *), void *arg);
/* The same, the wake-up IPI sent only if ipi (selftest: a lost IPI). */
bool smp_post(unsigned cpu, void (*fn)(void *), void *arg, bool ipi);

/* Waits until vCPU cpu finished its job; false after timeout_ms, and then
 * smp_late_reason(cpu) says where the vCPU was and whether one more wake-up
 * IPI got its job done (within 100 ms). */
bool smp_wait(unsigned cpu, unsigned timeout_ms);
const char *smp_late_reason(unsigned cpu);

/* Processors the firmware lists absent (MADT entries with the enabled
 * flag clear), which a host may add while the guest runs. */
unsigned smp_absent(void);

/* Tries once to start each absent processor (INIT, STARTUP, and a second
 * STARTUP waited for up to wait_ms): one the host has added comes up. Its
 * vCPU index (smp_online() then counts it), or 0 if none came up. */
unsigned smp_start_added(unsigned wait_ms);

/* Wakes a halted vCPU (an AP halting inside a job waits for this). */
void smp_kick(unsigned cpu);

#endif
