/* The rest of KVM's PV MSRs in the model, as Linux's x86.c and lapic.c
 * handle them: async page faults (with the one 'wake all' notification KVM
 * sends when interrupt delivery is enabled), PV EOI on self-IPIs, and poll
 * control; each with its faults. Interrupts are delivered synchronously on
 * the guest's thread, after the MSR write that raised them returns. */
#include "model_internal.h"

#include "iface/kvm.h"

static uint64_t apf_en, apf_int, eoi_en, poll;
static bool wake_all_pending;
static int in_service = -1; /* the vector awaiting its EOI */
static int ipi_pending = -1; /* a self-IPI held back while its vector is in service */
static unsigned due_count; /* interrupts come due, for irq_starved */
#define TIMER_PERIOD_NS 320000ull
static int timer_vector = -1; /* the APIC timer's, while periodic */
static uint64_t timer_due_ns;

/* The level-triggered source (platform/level_irq.h): a line raised every
 * LEVEL_PERIOD_NS of model time until the handler lowers it, delivered at
 * the guest's pauses while it is up, the IOAPIC's remote IRR is clear and
 * the vector is not in service. */
#define LEVEL_PERIOD_NS 976562ull /* 1024 Hz */
static int level_vector = -1;
static bool line_up, remote_irr, in_polled_handler;
static uint64_t next_raise_ns;

void model_pv_reset(void)
{
    apf_en = apf_int = eoi_en = 0;
    poll = KVM_POLL_CONTROL_ENABLED;
    wake_all_pending = false;
    in_service = -1;
    ipi_pending = -1;
    due_count = 0;
    timer_vector = -1;
    model_level_stop();
}

uint32_t model_pv_features(void)
{
    uint32_t f = 1u << KVM_FEATURE_ASYNC_PF | 1u << KVM_FEATURE_PV_EOI |
                 1u << KVM_FEATURE_POLL_CONTROL;
    if (active_fault != FAULT_apf_int_without_feature)
        f |= 1u << KVM_FEATURE_ASYNC_PF_INT;
    return f;
}

static bool has(unsigned feature)
{
    return model_pv_features() >> feature & 1;
}

/* MODEL_GP, -1 (accepted) or MODEL_NOT_MINE. */
int model_pv_wrmsr(uint32_t msr, uint64_t value)
{
    switch (msr) {
    case MSR_KVM_ASYNC_PF_EN:
        if ((value & KVM_ASYNC_PF_RESERVED) && active_fault != FAULT_apf_reserved_accepted)
            return MODEL_GP;
        if ((value & KVM_ASYNC_PF_DELIVERY_AS_PF_VMEXIT) && !has(KVM_FEATURE_ASYNC_PF_VMEXIT))
            return MODEL_GP;
        if ((value & KVM_ASYNC_PF_DELIVERY_AS_INT) && !has(KVM_FEATURE_ASYNC_PF_INT) &&
            active_fault != FAULT_apf_int_without_feature)
            return MODEL_GP;
        apf_en = value;
        /* KVM wakes every waiter when delivery is enabled; the fault sends it
         * without bit 3 too. */
        if ((value & KVM_ASYNC_PF_ENABLED) &&
            ((value & KVM_ASYNC_PF_DELIVERY_AS_INT) || active_fault == FAULT_apf_event_without_int))
            wake_all_pending = true;
        return -1;
    case MSR_KVM_ASYNC_PF_INT:
        if (value & KVM_ASYNC_PF_INT_RESERVED)
            return MODEL_GP;
        apf_int = value;
        return -1;
    case MSR_KVM_ASYNC_PF_ACK:
        return -1;
    case MSR_KVM_PV_EOI_EN:
        if ((value & KVM_PV_EOI_RESERVED) && active_fault != FAULT_eoi_reserved_accepted)
            return MODEL_GP;
        eoi_en = value;
        return -1;
    case MSR_KVM_POLL_CONTROL:
        if ((value & ~KVM_POLL_CONTROL_ENABLED) && active_fault != FAULT_poll_reserved_accepted)
            return MODEL_GP;
        poll = value;
        return -1;
    default:
        return MODEL_NOT_MINE;
    }
}

int model_pv_rdmsr(uint32_t msr, uint64_t *value)
{
    switch (msr) {
    case MSR_KVM_ASYNC_PF_EN:
        *value = apf_en;
        return -1;
    case MSR_KVM_ASYNC_PF_INT:
        *value = apf_int;
        return -1;
    case MSR_KVM_ASYNC_PF_ACK:
        *value = 0;
        return -1;
    case MSR_KVM_PV_EOI_EN:
        *value = eoi_en;
        return -1;
    case MSR_KVM_POLL_CONTROL:
        *value = poll;
        return -1;
    default:
        return MODEL_NOT_MINE;
    }
}

void model_pv_after_wrmsr(void)
{
    if (!wake_all_pending)
        return;
    wake_all_pending = false;
    volatile struct kvm_vcpu_pv_apf_data *d = (void *)(uintptr_t)(apf_en & ~63ull);
    d->token = 0xffffffffu;
    model_deliver_irq((unsigned)(apf_int & 0xff));
}

/* A fixed edge-triggered interrupt: not delivered while its vector is in
 * service; with PV EOI on, the flag is set at injection and a guest
 * clearing it is the EOI. */
static void deliver_edge(unsigned vector)
{
    in_service = (int)vector;
    volatile uint32_t *word = (void *)(uintptr_t)(eoi_en & ~3ull);
    bool pv = (eoi_en & KVM_PV_EOI_ENABLED) && active_fault != FAULT_eoi_flag_never_set;
    if (pv)
        *word |= 1;
    model_deliver_irq(vector);
    if (pv && !(*word & 1) && active_fault != FAULT_eoi_flag_ignored)
        in_service = -1;
    if (pv)
        *word &= ~1u;
}

bool model_pv_self_ipi(unsigned vector)
{
    if (in_service != (int)vector)
        deliver_edge(vector);
    else
        ipi_pending = (int)vector; /* as the APIC's IRR would hold it */
    return true;
}

/* The APIC timer, periodic: due every TIMER_PERIOD_NS of model time,
 * delivered at the guest's pauses once nothing is in service. */

void model_apic_timer(int vector)
{
    timer_vector = vector;
    timer_due_ns = model_now_ns() + TIMER_PERIOD_NS;
}

void model_pv_eoi(void)
{
    if (in_service >= 0 && in_service == level_vector)
        remote_irr = false; /* the EOI broadcast reaches the IOAPIC */
    in_service = -1;
}

void model_level_start(unsigned vector)
{
    level_vector = (int)vector;
    line_up = remote_irr = false;
    next_raise_ns = model_now_ns() + LEVEL_PERIOD_NS;
}

void model_level_lower(void)
{
    line_up = false;
}

void model_level_stop(void)
{
    level_vector = -1;
    line_up = remote_irr = false;
}

bool model_level_remote_irr(void)
{
    return level_vector >= 0 && remote_irr;
}

bool model_in_service(unsigned vector)
{
    return in_service == (int)vector;
}

bool model_requested(unsigned vector)
{
    bool timer_due = timer_vector == (int)vector && model_now_ns() >= timer_due_ns;
    return ipi_pending == (int)vector || (timer_due && in_service >= 0);
}

/* irq_starved: every STARVE_EVERY-th interrupt to come due finds the vCPU
 * unrun, and comes STARVE_NS later. */
#define STARVE_EVERY 64u
#define STARVE_NS 300000000ull

static bool starved(uint64_t *due_ns)
{
    if (active_fault != FAULT_irq_starved || ++due_count % STARVE_EVERY)
        return false;
    *due_ns = model_now_ns() + STARVE_NS;
    return true;
}

bool model_level_tmr(unsigned vector)
{
    return (int)vector == level_vector && in_service == level_vector &&
           active_fault != FAULT_level_irq_as_edge;
}

/* The APIC timer's interrupt, then a level interrupt, when due. With PV EOI
 * on, a correct host never sets the flag for a level one (lapic.c); the
 * fault sets it and takes the cleared flag as the local EOI only, so the
 * IOAPIC's remote IRR stays set. */
void model_poll_interrupts(void)
{
    if (in_polled_handler)
        return;
    if (timer_vector >= 0 && model_now_ns() >= timer_due_ns && in_service < 0 &&
        !starved(&timer_due_ns)) {
        timer_due_ns = model_now_ns() + TIMER_PERIOD_NS;
        in_polled_handler = true;
        deliver_edge((unsigned)timer_vector);
        in_polled_handler = false;
    }
    if (level_vector < 0)
        return;
    uint64_t now = model_now_ns();
    if (now >= next_raise_ns && !starved(&next_raise_ns)) {
        line_up = true;
        next_raise_ns = now + LEVEL_PERIOD_NS;
    }
    if (!line_up || remote_irr || in_service >= 0)
        return;
    remote_irr = true;
    in_service = level_vector;
    volatile uint32_t *word = (void *)(uintptr_t)(eoi_en & ~3ull);
    bool pv = (eoi_en & KVM_PV_EOI_ENABLED) && active_fault == FAULT_eoi_flag_level;
    if (pv)
        *word |= 1;
    in_polled_handler = true;
    model_deliver_irq((unsigned)level_vector);
    in_polled_handler = false;
    if (pv && !(*word & 1))
        in_service = -1;
    if (pv)
        *word &= ~1u;
}
