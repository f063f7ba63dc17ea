#include "platform/smp.h"

#include "boot.h"
#include "lib/format.h"
#include "platform/acpi.h"
#include "platform/apic.h"
#include "platform/bootinfo.h"
#include "platform/cpu.h"
#include "platform/mptable_find.h"
#include "platform/percpu.h"
#include "platform/timer.h"
#include "platform/traps.h"

#define AP_STACK_BYTES 16384u
#define PER_CPU_BYTES (AP_STACK_BYTES + SMP_PAGE_BYTES)
#define START_TIMEOUT_TICKS (TIMER_HZ / 5) /* 200 ms */

/* Where an AP is, for the diagnosis of one that missed its deadline. */
enum ap_state { AP_BUSY, AP_HALTED, AP_IN_JOB };

struct percpu {
    uint32_t index; /* first: read through %gs:0 */
    uint32_t apic_id;
    volatile int alive;
    volatile uint8_t state;   /* enum ap_state */
    volatile uint32_t wakes;  /* wake-up IPIs taken */
    char late[96];            /* why it missed a deadline (smp_late_reason) */
    void (*volatile job)(void *);
    void *volatile arg;
    uint8_t *page;
};

extern const uint8_t trampoline_start[], trampoline_end[], trampoline_cr3[],
    trampoline_stack[], trampoline_entry[];
extern void ap_entry64(void);
extern const uint8_t __bss_end[];

static struct percpu cpus[SMP_MAX_CPUS];
static struct smp_status status;
static volatile unsigned booting;

unsigned smp_online(void)
{
    return status.initialised ? status.online : 1;
}

uint32_t smp_apic_id(unsigned cpu)
{
    return cpus[cpu].apic_id;
}

uint8_t *smp_page(unsigned cpu)
{
    return cpus[cpu].page;
}

static void on_wake(struct trap_frame *f)
{
    (void)f;
    cpus[this_cpu()].wakes++;
    apic_eoi();
}

void ap_main(void)
{
    struct percpu *c = &cpus[booting];
    traps_load_idt();
    percpu_bind(&c->index);
    apic_enable(false);
    __asm__ volatile("" ::: "memory");
    c->alive = 1;
    for (;;) {
        irq_disable();
        void (*job)(void *) = c->job;
        if (job) {
            c->state = AP_IN_JOB;
            irq_enable();
            job(c->arg);
            c->state = AP_BUSY;
            __atomic_store_n(&c->job, 0, __ATOMIC_RELEASE);
            continue;
        }
        c->state = AP_HALTED;
        safe_halt(); /* woken by smp_start's IPI */
        c->state = AP_BUSY;
    }
}

/* The blob's data slots, at their addresses in the low-memory copy. */
static volatile uint64_t *slot(const uint8_t *symbol)
{
    uintptr_t a = TRAMPOLINE_BASE + (uintptr_t)(symbol - trampoline_start);
    __asm__("" : "+r"(a)); /* a fixed low address, not an object: hide it */
    return (volatile uint64_t *)a;
}

static void copy_trampoline(void)
{
    uintptr_t dst = TRAMPOLINE_BASE;
    __asm__("" : "+r"(dst));
    volatile uint8_t *d = (volatile uint8_t *)dst;
    for (const uint8_t *s = trampoline_start; s < trampoline_end; s++)
        *d++ = *s;
    uint64_t cr3;
    __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
    *slot(trampoline_cr3) = cr3;
    *slot(trampoline_entry) = (uint64_t)(uintptr_t)ap_entry64;
}

static bool wait_alive(struct percpu *c, uint64_t ticks)
{
    uint64_t end = timer_ticks() + ticks;
    while (timer_ticks() < end)
        if (c->alive)
            return true;
    return c->alive;
}

/* Intel SDM "MP initialization": INIT, then up to two STARTUPs. */
static bool start_ap(struct percpu *c)
{
    booting = c->index;
    *slot(trampoline_stack) = (uint64_t)(uintptr_t)(c->page + SMP_PAGE_BYTES + AP_STACK_BYTES);
    if (!apic_send_init(c->apic_id))
        return false;
    timer_sleep_ticks(1);
    for (unsigned attempt = 0; attempt < 2; attempt++) {
        if (!apic_send_startup(c->apic_id, TRAMPOLINE_BASE >> 12))
            return false;
        if (wait_alive(c, attempt ? START_TIMEOUT_TICKS : 2))
            return true;
    }
    return false;
}

const struct smp_status *smp_init(void)
{
    if (status.initialised)
        return &status;
    status.initialised = true;
    status.online = 1;
    cpus[0].index = 0;
    percpu_bind(&cpus[0].index);
    apic_enable(true);
    status.x2apic = apic_x2apic();
    cpus[0].apic_id = apic_id();
    traps_set_handler(APIC_WAKE_VECTOR, on_wake);

    const struct acpi_sdt_header *madt = acpi_find_table("APIC");
    static struct madt_info info;
    if (madt) {
        madt_parse((const uint8_t *)madt, madt->length, &info);
        status.source = "madt";
        if (info.problem)
            status.problem = info.problem;
    } else {
        const char *why;
        if (!mptable_find(&info, &why)) {
            status.source = "none";
            status.problem = why;
            status.listed = 1;
            return &status;
        }
        status.source = "mp_table";
        status.problem = info.problem ? info.problem : info.note;
    }
    status.listed = info.n_cpus + info.n_ignored;

    /* Per-vCPU stacks and pages after the image, inside the RAM it sits in. */
    uintptr_t base = ((uintptr_t)__bss_end + 0xffff) & ~(uintptr_t)0xffff;
    uint64_t top = pvcheck_boot.mem_top ? pvcheck_boot.mem_top : 16ull << 20;
    unsigned fit = (unsigned)((top > base ? top - base : 0) / PER_CPU_BYTES);
    cpus[0].page = (uint8_t *)base;
    for (unsigned i = 0; i < SMP_PAGE_BYTES; i++)
        cpus[0].page[i] = 0;

    copy_trampoline();
    for (unsigned i = 0; i < info.n_cpus; i++) {
        uint32_t id = info.cpus[i].apic_id;
        if (id == cpus[0].apic_id)
            continue;
        unsigned n = status.online;
        if (n >= fit || n >= SMP_MAX_CPUS || (!status.x2apic && id > 0xfe)) {
            status.not_used++;
            continue;
        }
        struct percpu *c = &cpus[n];
        *c = (struct percpu){ .index = n, .apic_id = id, .page = (uint8_t *)base + n * PER_CPU_BYTES };
        for (unsigned b = 0; b < SMP_PAGE_BYTES; b++)
            c->page[b] = 0;
        if (start_ap(c))
            status.online++;
        else
            status.failed_apic_ids[status.n_failed++] = id;
    }
    status.not_used += info.n_ignored;
    return &status;
}

void smp_kick(unsigned cpu)
{
    if (cpu && cpu < status.online)
        apic_send_fixed(cpus[cpu].apic_id, APIC_WAKE_VECTOR);
}

bool smp_post(unsigned cpu, void (*fn)(void *), void *arg, bool ipi)
{
    if (cpu == 0 || cpu >= status.online || __atomic_load_n(&cpus[cpu].job, __ATOMIC_ACQUIRE))
        return false;
    cpus[cpu].arg = arg;
    __atomic_store_n(&cpus[cpu].job, fn, __ATOMIC_RELEASE);
    if (ipi)
        smp_kick(cpu);
    return true;
}

bool smp_start(unsigned cpu, void (*fn)(void *), void *arg)
{
    return smp_post(cpu, fn, arg, true);
}

static bool job_done_by(unsigned cpu, uint64_t end)
{
    while (__atomic_load_n(&cpus[cpu].job, __ATOMIC_ACQUIRE)) {
        if (timer_ticks() > end)
            return false;
        cpu_relax();
    }
    return true;
}

/* A late AP is described, then sent one more wake-up IPI: one halted with
 * its job waiting that a second IPI starts lost the first. */
static void diagnose_late(unsigned cpu)
{
    struct percpu *c = &cpus[cpu];
    static const char *const where[] = { "running outside a job", "halted", "inside its job" };
    unsigned state = c->state < 3 ? c->state : 0;
    uint32_t wakes = c->wakes;
    smp_kick(cpu);
    bool done = job_done_by(cpu, timer_ticks() + TIMER_HZ / 10 + 1);
    format_buf(c->late, sizeof(c->late), "%s, %u wake-up IPIs taken; one more IPI: %s", where[state],
               wakes, done ? "job done" : "still late");
}

bool smp_wait(unsigned cpu, unsigned timeout_ms)
{
    if (job_done_by(cpu, timer_ticks() + (uint64_t)timeout_ms * TIMER_HZ / 1000 + 1))
        return true;
    diagnose_late(cpu);
    return false;
}

const char *smp_late_reason(unsigned cpu)
{
    return cpus[cpu].late;
}
