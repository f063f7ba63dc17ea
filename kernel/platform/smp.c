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
    volatile uint32_t own_apic_id; /* as the vCPU itself reads it */
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
/* The firmware's list, kept for the processors it lists absent; where the
 * per-vCPU stacks and pages start, and how many fit. */
static struct madt_info info;
static uintptr_t percpu_base;
static unsigned percpu_fit;

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
    c->own_apic_id = apic_id();
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

/* Intel SDM "MP initialization": INIT, then up to two STARTUPs, the
 * second waited for up to last_wait ticks. */
static bool start_ap_within(struct percpu *c, uint64_t last_wait)
{
    booting = c->index;
    *slot(trampoline_stack) = (uint64_t)(uintptr_t)(c->page + SMP_PAGE_BYTES + AP_STACK_BYTES);
    if (!apic_send_init(c->apic_id))
        return false;
    timer_sleep_ticks(1);
    for (unsigned attempt = 0; attempt < 2; attempt++) {
        if (!apic_send_startup(c->apic_id, TRAMPOLINE_BASE >> 12))
            return false;
        if (wait_alive(c, attempt ? last_wait : 2))
            return true;
    }
    return false;
}

static bool start_ap(struct percpu *c)
{
    return start_ap_within(c, START_TIMEOUT_TICKS);
}

static void prepare_slot(unsigned n, uint32_t apic_id)
{
    struct percpu *c = &cpus[n];
    *c = (struct percpu){ .index = n, .apic_id = apic_id,
                          .page = (uint8_t *)percpu_base + n * PER_CPU_BYTES };
    for (unsigned b = 0; b < SMP_PAGE_BYTES; b++)
        c->page[b] = 0;
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
    percpu_base = base;
    percpu_fit = fit;
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
        prepare_slot(n, id);
        if (start_ap(&cpus[n]))
            status.online++;
        else
            status.failed_apic_ids[status.n_failed++] = id;
    }
    status.not_used += info.n_ignored;
    return &status;
}

unsigned smp_absent(void)
{
    return status.initialised ? info.n_absent : 0;
}

unsigned smp_start_added(unsigned wait_ms)
{
    unsigned n = status.online;
    if (!status.initialised || !info.n_absent || n >= percpu_fit || n >= SMP_MAX_CPUS)
        return 0;
    struct percpu *c = &cpus[n];
    uint64_t ticks = (uint64_t)wait_ms * TIMER_HZ / 1000 + 1;
    for (unsigned i = 0; i < info.n_absent; i++) {
        uint32_t id = info.absent[i].apic_id;
        if (!status.x2apic && id > 0xfe)
            continue;
        /* One an earlier attempt woke late keeps its slot. */
        if (!c->alive) {
            prepare_slot(n, id);
            if (!start_ap_within(c, ticks))
                continue;
        }
        /* The vCPU that came up says which it is. */
        c->apic_id = c->own_apic_id;
        for (unsigned j = 0; j < info.n_absent; j++)
            if (info.absent[j].apic_id == c->apic_id) {
                info.absent[j] = info.absent[--info.n_absent];
                break;
            }
        status.online++;
        return n;
    }
    return 0;
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
