#include "lib/options.h"

#include "lib/format.h"
#include "lib/str.h"

struct options pvcheck_options;

#define DEFAULT_CHECK_TIMEOUT_S 30
#define DEFAULT_RUN_TIMEOUT_S 600

#define DEFAULT_RATE_WINDOW_MS 1000
#define DEFAULT_HALT_MS 500
#define DEFAULT_BUDGET_MS 2000
#define DEFAULT_MIGRATION_WAIT_S 120
#define DEFAULT_HOTPLUG_WAIT_S 120

const char options_usage[] =
    "only=<name>[,<name>...] (suites or suite.check), skip=<name>[,<name>...], verbose, "
    "host_loaded, expect_pv_enforce, migration, migration_wait_s=<1-3600>, hotplug, hotplug_wait_s=<1-3600>, tsc_writes, wallclock=<unix seconds>, rate_window_ms=<10-60000>, "
    "halt_ms=<10-60000>, budget_ms=<10-3600000>, apf_touch_mb=<1-65536>, check_timeout=<1-3600 s>, run_timeout=<1-86400 s>, "
    "tick=auto|pit|lapic|measured, selftest=fault|hang|hang_cli|ap_fault|ap_hang|ap_no_ipi|stuck|sti_shadow";

static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > hi)
            return -1;
    }
    if (v < lo)
        return -1;
    *out = v;
    return 0;
}

static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    uint64_t v;
    if (parse_u64(s, lo, hi, &v))
        return -1;
    *out = (unsigned)v;
    return 0;
}

/* Splits "a,b,c" in place into the list; empty items are errors. */
static int parse_names(char *value, struct name_list *list, const char **why)
{
    char *item = value;
    if (!*value) {
        *why = "empty list";
        return -1;
    }
    for (char *p = value;; p++) {
        if (*p != ',' && *p != '\0')
            continue;
        bool last = *p == '\0';
        *p = '\0';
        if (!*item) {
            *why = "empty name in list";
            return -1;
        }
        if (list->count == OPTIONS_MAX_NAMES) {
            *why = "too many names (at most 32)";
            return -1;
        }
        list->names[list->count++] = item;
        if (last)
            return 0;
        item = p + 1;
    }
}

static bool *flag_option(struct options *o, const char *key)
{
    if (str_eq(key, "verbose"))
        return &o->verbose;
    if (str_eq(key, "host_loaded"))
        return &o->host_loaded;
    if (str_eq(key, "expect_pv_enforce"))
        return &o->expect_pv_enforce;
    if (str_eq(key, "migration"))
        return &o->migration;
    if (str_eq(key, "hotplug"))
        return &o->hotplug;
    if (str_eq(key, "tsc_writes"))
        return &o->tsc_writes;
    return 0;
}

static int apply(struct options *o, char *key, char *value, const char **why)
{
    bool *flag = flag_option(o, key);
    if (flag) {
        if (value) {
            *why = "takes no value";
            return -1;
        }
        *flag = true;
        return 0;
    }
    bool known = str_eq(key, "only") || str_eq(key, "skip") || str_eq(key, "check_timeout") ||
                 str_eq(key, "run_timeout") || str_eq(key, "selftest") ||
                 str_eq(key, "wallclock") || str_eq(key, "rate_window_ms") ||
                 str_eq(key, "halt_ms") || str_eq(key, "budget_ms") ||
                 str_eq(key, "migration_wait_s") || str_eq(key, "hotplug_wait_s") ||
                 str_eq(key, "apf_touch_mb") ||
                 str_eq(key, "tick");
    if (!known) {
        *why = "unknown option";
        return -1;
    }
    if (!value) {
        *why = "needs a value";
        return -1;
    }
    if (str_eq(key, "only"))
        return parse_names(value, &o->only, why);
    if (str_eq(key, "skip"))
        return parse_names(value, &o->skip, why);
    if (str_eq(key, "check_timeout")) {
        *why = "not a whole number of seconds from 1 to 3600";
        return parse_uint(value, 1, 3600, &o->check_timeout_s);
    }
    if (str_eq(key, "tick")) {
        *why = "not auto, pit, lapic or measured";
        if (str_eq(value, "auto"))
            o->tick = TICK_AUTO;
        else if (str_eq(value, "pit"))
            o->tick = TICK_PIT;
        else if (str_eq(value, "lapic"))
            o->tick = TICK_LAPIC;
        else if (str_eq(value, "measured"))
            o->tick = TICK_MEASURED;
        else
            return -1;
        return 0;
    }
    if (str_eq(key, "wallclock")) {
        /* 2000-01-01 .. 2100-01-01: anything else is a broken host clock. */
        *why = "not a Unix time in seconds between 946684800 and 4102444800";
        o->have_wallclock = true;
        return parse_u64(value, 946684800u, 4102444800u, &o->wallclock);
    }
    if (str_eq(key, "rate_window_ms")) {
        *why = "not a whole number of milliseconds from 10 to 60000";
        return parse_uint(value, 10, 60000, &o->rate_window_ms);
    }
    if (str_eq(key, "halt_ms")) {
        *why = "not a whole number of milliseconds from 10 to 60000";
        return parse_uint(value, 10, 60000, &o->halt_ms);
    }
    if (str_eq(key, "budget_ms")) {
        *why = "not a whole number of milliseconds from 10 to 3600000";
        return parse_uint(value, 10, 3600000, &o->budget_ms);
    }
    if (str_eq(key, "apf_touch_mb")) {
        *why = "not a whole number of MiB from 1 to 65536";
        return parse_uint(value, 1, 65536, &o->apf_touch_mb);
    }
    if (str_eq(key, "migration_wait_s")) {
        *why = "not a whole number of seconds from 1 to 3600";
        return parse_uint(value, 1, 3600, &o->migration_wait_s);
    }
    if (str_eq(key, "hotplug_wait_s")) {
        *why = "not a whole number of seconds from 1 to 3600";
        return parse_uint(value, 1, 3600, &o->hotplug_wait_s);
    }
    if (str_eq(key, "run_timeout")) {
        *why = "not a whole number of seconds from 1 to 86400";
        return parse_uint(value, 1, 86400, &o->run_timeout_s);
    }
    /* selftest */
    if (str_eq(value, "fault"))
        o->selftest = SELFTEST_FAULT;
    else if (str_eq(value, "hang"))
        o->selftest = SELFTEST_HANG;
    else if (str_eq(value, "hang_cli"))
        o->selftest = SELFTEST_HANG_CLI;
    else if (str_eq(value, "ap_fault"))
        o->selftest = SELFTEST_AP_FAULT;
    else if (str_eq(value, "ap_hang"))
        o->selftest = SELFTEST_AP_HANG;
    else if (str_eq(value, "ap_no_ipi"))
        o->selftest = SELFTEST_AP_NO_IPI;
    else if (str_eq(value, "stuck"))
        o->selftest = SELFTEST_STUCK;
    else if (str_eq(value, "sti_shadow"))
        o->selftest = SELFTEST_STI_SHADOW;
    else {
        *why = "not a selftest";
        return -1;
    }
    return 0;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int options_parse(struct options *o, const char *cmdline, char *err, size_t errlen)
{
    *o = (struct options){
        .check_timeout_s = DEFAULT_CHECK_TIMEOUT_S,
        .run_timeout_s = DEFAULT_RUN_TIMEOUT_S,
        .rate_window_ms = DEFAULT_RATE_WINDOW_MS,
        .halt_ms = DEFAULT_HALT_MS,
        .budget_ms = DEFAULT_BUDGET_MS,
        .migration_wait_s = DEFAULT_MIGRATION_WAIT_S,
        .hotplug_wait_s = DEFAULT_HOTPLUG_WAIT_S,
    };
    if (errlen)
        err[0] = '\0';
    if (!cmdline)
        return 0;

    size_t len = 0;
    while (cmdline[len]) {
        if (len + 1 >= sizeof(o->storage)) {
            format_buf(err, errlen, "command line longer than %u bytes",
                       (unsigned)sizeof(o->storage) - 1);
            return -1;
        }
        unsigned char ch = (unsigned char)cmdline[len];
        if (ch >= 0x7f || (ch < 0x20 && !is_space((char)ch))) {
            format_buf(err, errlen, "command line byte 0x%02x at offset %u is not printable",
                       ch, (unsigned)len);
            return -1;
        }
        o->storage[len] = cmdline[len];
        len++;
    }
    o->storage[len] = '\0';

    char *p = o->storage;
    for (;;) {
        while (is_space(*p))
            *p++ = '\0';
        if (!*p)
            return 0;
        char *word = p;
        while (*p && !is_space(*p))
            p++;
        if (*p)
            *p++ = '\0';

        char *value = 0;
        for (char *q = word; *q; q++) {
            if (*q == '=') {
                *q = '\0';
                value = q + 1;
                break;
            }
        }
        const char *why = "invalid";
        if (apply(o, word, value, &why) != 0) {
            format_buf(err, errlen, "option '%s%s%s': %s; valid options: %s", word,
                       value ? "=" : "", value ? value : "", why, options_usage);
            return -1;
        }
    }
}
