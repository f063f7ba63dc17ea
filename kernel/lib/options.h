/* Guest options from the boot command line, validated strictly: an unknown
 * option or a malformed value is an error, never ignored. */
#ifndef PVCHECK_OPTIONS_H
#define PVCHECK_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OPTIONS_CMDLINE_MAX 1024
#define OPTIONS_MAX_NAMES 32

enum selftest {
    SELFTEST_NONE,
    SELFTEST_FAULT,    /* a #UD inside a check: the crash path */
    SELFTEST_HANG,     /* spin with interrupts on: the guest watchdog */
    SELFTEST_HANG_CLI, /* spin with interrupts off: only the host timeout ends it */
    SELFTEST_AP_FAULT, /* a #UD on the second vCPU */
    SELFTEST_AP_HANG,  /* the second vCPU never finishes its job */
    SELFTEST_AP_NO_IPI, /* a job posted to the halted second vCPU without its IPI */
    SELFTEST_STUCK,     /* a safe ud2 whose #UD is retried forever, as a hypervisor
                           that never completes an instruction leaves it */
    SELFTEST_STI_SHADOW, /* not a failure on purpose: whether the machine honours
                            the interrupt shadows after STI and MOV SS */
};

enum tick_mode {
    TICK_AUTO,     /* the first tick the machine gives (docs/running.md) */
    TICK_PIT,      /* the PIT's interrupt, even where channel 0 is the only rate reference */
    TICK_LAPIC,    /* the APIC timer, even where the PIT ticks */
    TICK_MEASURED, /* the APIC timer, the TSC's rate measured whatever CPUID states */
};

struct name_list {
    const char *names[OPTIONS_MAX_NAMES];
    unsigned count;
};

struct options {
    char storage[OPTIONS_CMDLINE_MAX]; /* the command line, split in place */
    struct name_list only;
    struct name_list skip;
    bool verbose;
    bool host_loaded;        /* the host is busy: steal must accrue */
    bool expect_pv_enforce;  /* PV MSRs without their feature bit must #GP */
    bool migration;          /* run the migration suite: the host will migrate the VM */
    unsigned migration_wait_s; /* how long that suite waits for the event */
    bool hotplug;            /* run the hotplug suite: the host will add a vCPU */
    unsigned hotplug_wait_s; /* how long that suite waits for the vCPU */
    bool tsc_writes;         /* run the tsc suite: the guest writes its own TSC */
    bool have_wallclock;
    uint64_t wallclock;      /* host's Unix time when the run started */
    unsigned rate_window_ms;
    unsigned halt_ms;
    unsigned budget_ms;      /* time budget of each sampling loop */
    unsigned apf_touch_mb;   /* memory pv_msrs.async_pf_swap touches; 0: not run */
    unsigned check_timeout_s;
    unsigned run_timeout_s;
    enum selftest selftest;
    enum tick_mode tick;
};

/* Sets defaults, then applies the command line. Returns 0, or -1 with a
 * message in err naming the problem and the valid options. */
int options_parse(struct options *o, const char *cmdline, char *err, size_t errlen);

/* The run's options, parsed once at start-up; the checks read them. */
extern struct options pvcheck_options;

/* One line per option, for error messages and docs/running.md. */
extern const char options_usage[];

#endif
