/* The guest command-line parser: valid forms, and every way to be wrong. */
#include "lib/options.h"
#include "unit.h"

static const char *unit_name = "options";

static struct options o;
static char err[768];

static int parse(const char *cmdline)
{
    return options_parse(&o, cmdline, err, sizeof(err));
}

static void defaults(void)
{
    CHECK(parse("") == 0, "%s", err);
    CHECK(!o.verbose && o.only.count == 0 && o.skip.count == 0, "defaults changed");
    CHECK(o.check_timeout_s == 30 && o.run_timeout_s == 600, "timeouts %u %u",
          o.check_timeout_s, o.run_timeout_s);
    CHECK(o.budget_ms == 2000, "budget_ms default %u", o.budget_ms);
    CHECK(o.apf_touch_mb == 0, "apf_touch_mb default %u", o.apf_touch_mb);
    CHECK(!o.hotplug && o.hotplug_wait_s == 120, "hotplug defaults %d %u", o.hotplug,
          o.hotplug_wait_s);
    CHECK(!o.migration && o.migration_wait_s == 120, "migration defaults %d %u", o.migration,
          o.migration_wait_s);
    CHECK(parse(NULL) == 0, "NULL command line");
    CHECK(parse("   \t ") == 0, "blank command line");
}

static void valid_options(void)
{
    CHECK(parse("  verbose only=cpuid,kvmclock.rate skip=cpuid.hypervisor_bit check_timeout=5 "
                "run_timeout=86400 selftest=hang") == 0, "%s", err);
    CHECK(o.verbose, "verbose");
    CHECK(o.only.count == 2, "only count %u", o.only.count);
    CHECK_STR(o.only.names[0], "cpuid");
    CHECK_STR(o.only.names[1], "kvmclock.rate");
    CHECK(o.skip.count == 1, "skip count");
    CHECK_STR(o.skip.names[0], "cpuid.hypervisor_bit");
    CHECK(o.check_timeout_s == 5 && o.run_timeout_s == 86400, "timeouts");
    CHECK(o.selftest == SELFTEST_HANG, "selftest");
    CHECK(parse("only=a only=b") == 0 && o.only.count == 2, "repeated only= accumulates");
    CHECK(parse("") == 0 && o.tick == TICK_AUTO, "tick default");
    CHECK(parse("tick=lapic") == 0 && o.tick == TICK_LAPIC, "tick=lapic: %s", err);
    CHECK(parse("tick=measured") == 0 && o.tick == TICK_MEASURED, "tick=measured: %s", err);
    CHECK(parse("tick=measured tick=auto") == 0 && o.tick == TICK_AUTO, "tick=auto: %s", err);
    CHECK(parse("apf_touch_mb=96") == 0 && o.apf_touch_mb == 96, "apf_touch_mb=96: %s", err);
    CHECK(parse("apf_touch_mb=0") != 0 && parse("apf_touch_mb=65537") != 0 &&
          parse("apf_touch_mb=x") != 0 && parse("apf_touch_mb") != 0, "apf_touch_mb out of range accepted");
    /* Both ends of budget_ms's range are in it. */
    CHECK(parse("budget_ms=10") == 0 && o.budget_ms == 10, "budget_ms=10: %s", err);
    CHECK(parse("budget_ms=3600000") == 0 && o.budget_ms == 3600000, "budget_ms=3600000: %s", err);
    /* So are the lower ends of the others the usage line states. */
    CHECK(parse("check_timeout=1") == 0 && o.check_timeout_s == 1, "check_timeout=1: %s", err);
    CHECK(parse("run_timeout=1") == 0 && o.run_timeout_s == 1, "run_timeout=1: %s", err);
    CHECK(parse("halt_ms=10") == 0 && o.halt_ms == 10, "halt_ms=10: %s", err);
    CHECK(parse("rate_window_ms=10") == 0 && o.rate_window_ms == 10, "rate_window_ms=10: %s", err);
    CHECK(parse("") == 0 && !o.tsc_writes, "tsc_writes default");
    CHECK(parse("tsc_writes") == 0 && o.tsc_writes, "tsc_writes: %s", err);
    CHECK(parse("migration migration_wait_s=1") == 0 && o.migration && o.migration_wait_s == 1,
          "migration migration_wait_s=1: %s", err);
    CHECK(parse("hotplug hotplug_wait_s=7") == 0 && o.hotplug && o.hotplug_wait_s == 7,
          "hotplug hotplug_wait_s=7: %s", err);
    CHECK(parse("migration_wait_s=3600") == 0 && o.migration_wait_s == 3600 && !o.migration,
          "migration_wait_s=3600: %s", err);
    CHECK(parse("halt_ms=60000 rate_window_ms=60000 check_timeout=3600") == 0 &&
              o.halt_ms == 60000 && o.rate_window_ms == 60000 && o.check_timeout_s == 3600,
          "upper ends: %s", err);
}

static void rejects(const char *cmdline, const char *why)
{
    int rc = parse(cmdline);
    CHECK(rc == -1, "accepted '%s'", cmdline);
    CHECK(strstr(err, why) != NULL, "'%s': message '%s' lacks '%s'", cmdline, err, why);
    CHECK(strstr(err, "valid options") != NULL || strstr(err, "command line") != NULL,
          "'%s': message does not list the valid options: %s", cmdline, err);
}

static void invalid_options(void)
{
    rejects("bogus", "unknown option");
    rejects("verbose=1", "takes no value");
    rejects("only", "needs a value");
    rejects("only=", "empty list");
    rejects("only=a,,b", "empty name");
    rejects("skip=a,", "empty name");
    rejects("budget_ms=9", "10 to 3600000");
    rejects("migration=1", "takes no value");
    rejects("migration_wait_s=0", "1 to 3600");
    rejects("hotplug=1", "takes no value");
    rejects("hotplug_wait_s=0", "1 to 3600");
    rejects("migration_wait_s=3601", "1 to 3600");
    rejects("budget_ms=3600001", "10 to 3600000");
    rejects("budget_ms=", "10 to 3600000");
    rejects("check_timeout=0", "1 to 3600");
    rejects("check_timeout=3601", "1 to 3600");
    rejects("check_timeout=12x", "1 to 3600");
    rejects("check_timeout=99999999999999999999999", "1 to 3600");
    rejects("run_timeout=-1", "1 to 86400");
    CHECK(parse("tick=pit") == 0 && o.tick == TICK_PIT, "tick=pit: %s", err);
    rejects("tick=8254", "not auto, pit, lapic or measured");
    rejects("tick", "needs a value");
    rejects("selftest=boom", "not a selftest");
    rejects("selftest=boom", "selftest=fault|hang|hang_cli|ap_fault|ap_hang|ap_no_ipi|stuck|sti_shadow");
    rejects("=x", "unknown option");
}

static void hostile_input(void)
{
    char big[OPTIONS_CMDLINE_MAX + 10];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CHECK(parse(big) == -1 && strstr(err, "longer than"), "overlong: %s", err);
    CHECK(parse("verbose\x01") == -1 && strstr(err, "not printable"), "control byte: %s", err);
    CHECK(parse("only=\xff") == -1 && strstr(err, "not printable"), "high byte: %s", err);
    char many[512] = "only=";
    for (int i = 0; i < 40; i++)
        strcat(many, i ? ",x" : "x");
    CHECK(parse(many) == -1 && strstr(err, "too many"), "too many names: %s", err);
}

int main(void)
{
    RUN(defaults);
    RUN(valid_options);
    RUN(invalid_options);
    RUN(hostile_input);
    return unit_any_failed;
}
