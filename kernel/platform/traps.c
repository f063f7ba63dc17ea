#include "platform/traps.h"

#include <stdbool.h>

#include "lib/format.h"
#include "lib/report.h"
#include "lib/runner.h"
#include "platform/cpu.h"
#include "platform/exit.h"
#include "platform/percpu.h"
#include "platform/safe.h"

struct idt_gate {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_hi;
    uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate is 16 bytes in long mode");

struct stub {
    uint64_t vector;
    uint64_t address;
};

extern const struct stub isr_stubs[];
extern void (*isr_dispatch)(struct trap_frame *f);
static void trap_dispatch(struct trap_frame *f);
extern const struct extable_entry __start_extable[], __stop_extable[];

static struct idt_gate idt[256] __attribute__((aligned(16)));
static irq_handler handlers[256];
static fault_hook fault_hooks[32];
static unsigned nesting;

static const char *const exception_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS",
    "#NP", "#SS", "#GP", "#PF", "res15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
    "res22", "res23", "res24", "res25", "res26", "res27", "#HV", "#VC", "#SX", "res31",
};

/* Each CPU loads the one shared IDT. */
void traps_load_idt(void)
{
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr));
}

void traps_init(void)
{
    isr_dispatch = trap_dispatch;
    for (const struct stub *s = isr_stubs; s->vector != 0xffffffff; s++) {
        struct idt_gate *g = &idt[s->vector];
        g->offset_lo = (uint16_t)s->address;
        g->selector = 0x08;
        g->ist = 0;
        g->type_attr = 0x8e; /* present, DPL 0, 64-bit interrupt gate */
        g->offset_mid = (uint16_t)(s->address >> 16);
        g->offset_hi = (uint32_t)(s->address >> 32);
    }
    traps_load_idt();
}

void traps_set_fault_hook(unsigned vector, fault_hook h)
{
    if (vector < 32)
        fault_hooks[vector] = h;
}

irq_handler traps_handler(unsigned vector)
{
    return vector < 256 ? handlers[vector] : 0;
}

void traps_set_handler(unsigned vector, irq_handler h)
{
    if (vector < 256)
        handlers[vector] = h;
}

uint64_t extable_lookup(uint64_t rip)
{
    for (const struct extable_entry *e = __start_extable; e < __stop_extable; e++)
        if (e->fault_ip == rip)
            return e->resume_ip;
    return 0;
}

static void dump_frame(const struct trap_frame *f)
{
    const struct check_ctx *c = runner_current();
    unsigned depth = c ? 1 : 0;
    unsigned v = (unsigned)f->vector;
    report_line(depth, "# exception: vector %u (%s) error_code=0x%llx on cpu %u during %s%s%s",
                v, v < 32 ? exception_names[v] : "irq", (unsigned long long)f->error_code,
                this_cpu(), c ? c->suite->name : "start-up", c ? "." : "",
                c ? c->check->name : "");
    report_line(depth, "# rip=0x%016llx cs=0x%llx rflags=0x%llx rsp=0x%016llx ss=0x%llx cr2=0x%016llx",
            (unsigned long long)f->rip, (unsigned long long)f->cs,
            (unsigned long long)f->rflags, (unsigned long long)f->rsp,
            (unsigned long long)f->ss, (unsigned long long)read_cr2());
    report_line(depth, "# rax=0x%016llx rbx=0x%016llx rcx=0x%016llx rdx=0x%016llx",
            (unsigned long long)f->rax, (unsigned long long)f->rbx,
            (unsigned long long)f->rcx, (unsigned long long)f->rdx);
    report_line(depth, "# rsi=0x%016llx rdi=0x%016llx rbp=0x%016llx r8=0x%016llx",
            (unsigned long long)f->rsi, (unsigned long long)f->rdi,
            (unsigned long long)f->rbp, (unsigned long long)f->r8);
    report_line(depth, "# r9=0x%016llx r10=0x%016llx r11=0x%016llx r12=0x%016llx",
            (unsigned long long)f->r9, (unsigned long long)f->r10,
            (unsigned long long)f->r11, (unsigned long long)f->r12);
    report_line(depth, "# r13=0x%016llx r14=0x%016llx r15=0x%016llx", (unsigned long long)f->r13,
            (unsigned long long)f->r14, (unsigned long long)f->r15);
}

static void trap_dispatch(struct trap_frame *f)
{
    unsigned v = (unsigned)f->vector;

    if (v < 32) {
        fault_hook hook = fault_hooks[v];
        if (hook && hook(f))
            return;
        uint64_t resume = extable_lookup(f->rip);
        if (resume) {
            f->rip = resume;
            f->rsi = v; /* safe.h: the vector comes back in %rsi */
            return;
        }
    } else if (handlers[v]) {
        handlers[v](f);
        return;
    } else if (v == 39 || v == 47 || v == 255) {
        return; /* spurious PIC/APIC interrupts need no EOI */
    }

    /* An exception while reporting one: nothing more can be said safely. */
    if (nesting++)
        guest_exit(EXIT_GUEST_ERROR);
    dump_frame(f);
    char reason[96];
    format_buf(reason, sizeof(reason), "unexpected %s %s (vector %u) at rip 0x%llx on cpu %u",
               v < 32 ? "exception" : "interrupt", v < 32 ? exception_names[v] : "",
               v, (unsigned long long)f->rip, this_cpu());
    runner_abort("ERROR exception", reason);
    guest_exit(EXIT_GUEST_ERROR);
}
