/* Runs pvcheck's checks against the hypervisor model, one fault at a time,
 * and compares the verdicts with tests/model/matrix.txt.
 *
 *   matrix [--markdown FILE] [--slow-exits] [-j JOBS] [MATRIX_FILE]
 * prints PASS/FAIL per row, in the file's order, and "N passed, N failed";
 * --markdown also writes the matrix table of docs/testing.md to FILE. -j runs
 * up to JOBS rows at once (default 1). --slow-exits runs every row
 * with each exit costing 100 us: the verdicts must not change, and no check
 * may come near the guest's 30 s watchdog (each row prints its slowest).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/options.h"
#include "lib/report.h"
#include "lib/runner.h"
#include "model.h"

extern const struct suite *const __start_pvcheck_suites[], *const __stop_pvcheck_suites[];

#define ROW_TIMEOUT_S 300
/* The slow model: every exit costs 100 us, about a hundred times a
 * hardware exit; pvcheck's default watchdog is 30 s per check. */
#define SLOW_EXIT_NS 100000ull
#define CHECK_WATCHDOG_MS 30000ull
#define MAX_ROWS 256
#define FAST_ONLY "fast_exits_only"
/* The row's host migrates the VM once, 2 s after the guest's migration
 * suite says it samples (as run.sh --migrate does). */
#define HOST_MIGRATES "host_migrates"
/* The row's machine lists a vCPU absent, which its host adds 2 s after the
 * guest's hotplug suite says it samples (as run.sh --hotplug does). */
#define HOST_HOTPLUGS "host_hotplugs"
/* After host_migrates: the host also leaves the vCPU unrun for 1.5 s, 0.2 s
 * after that cue (before the migration), as a busy host may. */
#define HOST_PREEMPTS "host_preempts"
#define PREEMPT_AFTER_MS 200u
/* After those: the host carries the clocks across the stop (they run on
 * through the downtime), and with host_no_stopped_flag after it never sets
 * kvmclock's PVCLOCK_GUEST_STOPPED (model.h, model_set_migration_clock). */
#define HOST_CARRIES_CLOCK "host_carries_clock"
#define HOST_NO_STOPPED_FLAG "host_no_stopped_flag"
/* The row's machine has no HPET or PM timer: the rate checks must skip. */
#define NO_REFERENCE "no_reference"
/* The row's machine has two vCPUs (model.h, model_vcpus). */
#define TWO_VCPUS "two_vcpus"
#define MIGRATE_AFTER_MS 2000u
#define MAX_VERDICTS 128

struct row {
    int fault;
    int hv;
    char must_fail[512];
    char may_skip[512];
    char options[256];
    int line;
    bool slow;
    bool migrates;
    bool hotplugs;
    bool preempts;
    bool carries_clock, no_stopped_flag;
    bool no_reference;
    bool two_vcpus;
};

struct verdict_line {
    char check[136];
    char verdict[8]; /* ok, fail, skip */
};

static void trim(char *s)
{
    char *start = s;
    while (*start == ' ' || *start == '\t')
        start++;
    memmove(s, start, strlen(start) + 1);
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

/* The first entry of a must-fail list with an unknown mark, or NULL. */
static const char *bad_mark(const char *list)
{
    static char tok[160];
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        snprintf(tok, sizeof(tok), "%.*s", (int)len, p);
        const char *eq = strchr(tok, '=');
        if (eq && strcmp(eq, "=skip") && strcmp(eq, "=fast") && strcmp(eq, "=slow") &&
            strcmp(eq, "=may"))
            return tok;
        p += len + (p[len] == ',');
    }
    return 0;
}

/* Whether *options begins with word; if so, steps past it and the spaces
 * after it. */
static bool take_prefix(const char **options, const char *word)
{
    size_t n = strlen(word);
    if (strncmp(*options, word, n) != 0)
        return false;
    *options += n;
    while (**options == ' ')
        (*options)++;
    return true;
}

static int parse_matrix(const char *path, struct row *rows, bool slow)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(2);
    }
    char line[1024];
    int n = 0, lineno = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        trim(line);
        if (!line[0] || line[0] == '#')
            continue;
        char *field[4] = { 0 };
        char *p = line;
        for (int i = 0; i < 4; i++) {
            field[i] = p;
            char *bar = strchr(p, '|');
            if (i < 3) {
                if (!bar) {
                    fprintf(stderr, "%s:%d: expected 4 fields separated by '|'\n", path, lineno);
                    exit(2);
                }
                *bar = '\0';
                p = bar + 1;
            }
            trim(field[i]);
        }
        if (n == MAX_ROWS) {
            fprintf(stderr, "%s: more than %d rows\n", path, MAX_ROWS);
            exit(2);
        }
        struct row *r = &rows[n++];
        r->line = lineno;
        r->slow = slow;
        /* [hypervisor:]fault; KVM when no hypervisor is named. */
        char *colon = strchr(field[0], ':'), *fault = colon ? colon + 1 : field[0];
        if (colon)
            *colon = '\0';
        r->hv = colon ? model_hv_by_name(field[0]) : MODEL_KVM;
        if (r->hv < 0) {
            fprintf(stderr, "%s:%d: unknown hypervisor model '%s'\n", path, lineno, field[0]);
            exit(2);
        }
        r->fault = model_fault_by_name(fault);
        if (r->fault < 0) {
            fprintf(stderr, "%s:%d: unknown fault '%s'\n", path, lineno, fault);
            exit(2);
        }
        if (strlen(field[1]) >= sizeof(r->must_fail) || strlen(field[2]) >= sizeof(r->may_skip)) {
            fprintf(stderr, "%s:%d: check list too long\n", path, lineno);
            exit(2);
        }
        const char *bad = bad_mark(field[1]);
        if (bad) {
            fprintf(stderr, "%s:%d: '%s': a check may be marked only =skip, =fast, =slow or "
                            "=may\n", path, lineno, bad);
            exit(2);
        }
        snprintf(r->must_fail, sizeof(r->must_fail), "%s", strcmp(field[1], "-") ? field[1] : "");
        snprintf(r->may_skip, sizeof(r->may_skip), "%s", strcmp(field[2], "-") ? field[2] : "");
        /* A fault smaller than 100 us exits can resolve is judged only with
         * fast ones. */
        const char *options = field[3];
        r->migrates = take_prefix(&options, HOST_MIGRATES);
        r->preempts = r->migrates && take_prefix(&options, HOST_PREEMPTS);
        r->carries_clock = r->migrates && take_prefix(&options, HOST_CARRIES_CLOCK);
        r->no_stopped_flag = r->migrates && take_prefix(&options, HOST_NO_STOPPED_FLAG);
        r->hotplugs = take_prefix(&options, HOST_HOTPLUGS);
        r->no_reference = take_prefix(&options, NO_REFERENCE);
        r->two_vcpus = take_prefix(&options, TWO_VCPUS);
        if (take_prefix(&options, FAST_ONLY) && slow) {
            n--;
            continue;
        }
        snprintf(r->options, sizeof(r->options), "%s", options);
    }
    fclose(f);
    return n;
}

/* The row's host behaviour, as its options named it (" host_migrates ..."),
 * for the row's label. */
static const char *host_words(const struct row *r)
{
    static char words[128];
    snprintf(words, sizeof(words), "%s%s%s%s%s", r->migrates ? " " HOST_MIGRATES : "",
             r->preempts ? " " HOST_PREEMPTS : "", r->carries_clock ? " " HOST_CARRIES_CLOCK : "",
             r->no_stopped_flag ? " " HOST_NO_STOPPED_FLAG : "",
             r->hotplugs ? " " HOST_HOTPLUGS : "");
    return words;
}

/* The guest's output, watched line by line for the migration or hotplug
 * suite's cue when the row's host migrates or adds a vCPU. */
static bool row_migrates, row_preempts, row_hotplugs;
static char cue_line[256];
static size_t cue_len;

static void to_stdout(const char *s, size_t n)
{
    fwrite(s, 1, n, stdout);
    for (size_t i = 0; i < n && (row_migrates || row_hotplugs); i++) {
        if (s[i] != '\n') {
            if (cue_len + 1 < sizeof(cue_line))
                cue_line[cue_len++] = s[i];
            continue;
        }
        cue_line[cue_len] = '\0';
        cue_len = 0;
        if (row_migrates && strstr(cue_line, "# migration: capture started")) {
            model_migrate_after(MIGRATE_AFTER_MS);
            if (row_preempts)
                model_preempt_after(PREEMPT_AFTER_MS);
            row_migrates = false;
        }
        if (row_hotplugs && strstr(cue_line, "# hotplug: capture started")) {
            model_hotplug_after(MIGRATE_AFTER_MS);
            row_hotplugs = false;
        }
    }
}

/* Each check's duration, as a figure the parent reads: with slow exits no
 * check may come near the guest's watchdog. */
static uint64_t check_started_ns;

static void start_clock(const struct check_ctx *c)
{
    (void)c;
    check_started_ns = model_now_ns();
}

static void report_clock(const struct check_ctx *c)
{
    report_line(1, "# check_ms=%llu %s.%s",
                (unsigned long long)((model_now_ns() - check_started_ns) / 1000000),
                c->suite->name, c->check->name);
}

/* In a child: the model with the fault, the checks, KTAP on stdout. */
static void run_child(const struct row *r)
{
    char cmdline[512], err[768];
    /* Defaults first: a row's own options override them. */
    snprintf(cmdline, sizeof(cmdline), "wallclock=%lld rate_window_ms=100 halt_ms=100 %s",
             (long long)time(0), r->options);
    if (options_parse(&pvcheck_options, cmdline, err, sizeof(err))) {
        fprintf(stderr, "matrix line %d: %s\n", r->line, err);
        exit(2);
    }
    model_set_exit_ns(r->slow ? SLOW_EXIT_NS : 0);
    model_set_no_reference(r->no_reference);
    model_set_migration_clock(r->carries_clock, !r->no_stopped_flag);
    model_vcpus = r->two_vcpus ? 2 : 1;
    model_hotplug_slot = r->hotplugs;
    model_start((enum model_fault)r->fault, (enum model_hv)r->hv, pvcheck_options.host_loaded);
    row_migrates = r->migrates;
    row_preempts = r->preempts;
    row_hotplugs = r->hotplugs;
    report_set_sink(to_stdout);
    const struct suite *suites[RUNNER_MAX_SUITES];
    unsigned n = runner_collect(__start_pvcheck_suites,
                                (unsigned)(__stop_pvcheck_suites - __start_pvcheck_suites), suites,
                                RUNNER_MAX_SUITES);
    struct run_totals totals;
    struct runner_hooks hooks = { start_clock, report_clock };
    runner_run(suites, n, &pvcheck_options, &hooks, &totals);
    runner_print_summary(&totals);
    fflush(stdout);
    model_stop();
    exit(0);
}

/* The longest check of a row, from its check_ms figures. */
struct slowest {
    unsigned long long ms;
    char check[136];
};

/* A row running in a child process (a crash or hang stays contained),
 * its output going to a temporary file. */
struct running {
    pid_t pid;
    FILE *out;
    int status;
    bool done;
};

static void start_row(const struct row *r, struct running *run)
{
    fflush(0); /* or the child would write the parent's buffered output again */
    *run = (struct running){ 0 };
    if (!(run->out = tmpfile())) {
        perror("tmpfile");
        exit(2);
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(2);
    }
    if (pid == 0) {
        dup2(fileno(run->out), 1);
        alarm(ROW_TIMEOUT_S);
        run_child(r);
    }
    run->pid = pid;
}

/* Reads a finished row's verdicts; -1 when the child did not exit cleanly. */
static int read_row(struct running *run, struct verdict_line *v, char *log, size_t loglen,
                    struct slowest *slowest)
{
    char line[512], suite[64] = "";
    int n = 0;
    size_t used = 0;
    log[0] = '\0';
    *slowest = (struct slowest){ 0 };
    rewind(run->out);
    while (fgets(line, sizeof(line), run->out)) {
        size_t len = strlen(line);
        if (used + len < loglen) {
            memcpy(log + used, line, len + 1);
            used += len;
        }
        unsigned num;
        char name[64];
        if (sscanf(line, "    # Subtest: %63s", suite) == 1)
            continue;
        unsigned long long ms;
        char check[136];
        if (sscanf(line, "    # check_ms=%llu %135s", &ms, check) == 2 && ms >= slowest->ms) {
            slowest->ms = ms;
            snprintf(slowest->check, sizeof(slowest->check), "%s", check);
            continue;
        }
        bool failed = strncmp(line, "    not ok ", 11) == 0;
        bool passed = strncmp(line, "    ok ", 7) == 0;
        if ((failed || passed) && n < MAX_VERDICTS &&
            sscanf(line + (failed ? 11 : 7), "%u %63s", &num, name) == 2) {
            snprintf(v[n].check, sizeof(v[n].check), "%s.%s", suite, name);
            snprintf(v[n].verdict, sizeof(v[n].verdict), "%s",
                     failed ? "fail" : strstr(line, "# SKIP") ? "skip" : "ok");
            n++;
        }
    }
    fclose(run->out);
    if (!WIFEXITED(run->status) || WEXITSTATUS(run->status) != 0)
        return -1;
    return n;
}

static bool listed(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; (p = strstr(p, name)); p += len)
        if ((p == list || p[-1] == ',') && (p[len] == ',' || p[len] == '\0'))
            return true;
    return false;
}

/* A list names suite.check, or a whole suite. */
static bool in_list(const char *list, const char *check)
{
    char suite[136];
    snprintf(suite, sizeof(suite), "%s", check);
    char *dot = strchr(suite, '.');
    if (dot)
        *dot = '\0';
    return listed(list, check) || listed(list, suite);
}

/* A fault row's list names suite.check, optionally with =skip or =fast. */
static bool listed_check(const char *list, const char *check)
{
    size_t len = strlen(check);
    for (const char *p = list; (p = strstr(p, check)); p += len)
        if ((p == list || p[-1] == ',') && (p[len] == ',' || p[len] == '=' || p[len] == '\0'))
            return true;
    return false;
}

static const char *verdict_of(const struct verdict_line *v, int n, const char *check)
{
    for (int i = 0; i < n; i++)
        if (strcmp(v[i].check, check) == 0)
            return v[i].verdict;
    return "absent";
}

/* Judges one row; fills caught with every failing check. Returns problems. */
static int judge(const struct row *r, const struct verdict_line *v, int n, char *caught,
                 size_t caughtlen, char *why, size_t whylen)
{
    int problems = 0;
    caught[0] = why[0] = '\0';
    for (int i = 0; i < n; i++)
        if (strcmp(v[i].verdict, "fail") == 0)
            snprintf(caught + strlen(caught), caughtlen - strlen(caught), "%s%s",
                     caught[0] ? ", " : "", v[i].check);
    /* A correct model, or one whose difference is allowed (no check must
     * fail): no check fails, and only the listed ones skip. (A correct
     * model may name checks that must fail: the host's part went wrong,
     * as when it never migrates.) */
    if (!r->must_fail[0]) {
        for (int i = 0; i < n; i++) {
            bool bad = strcmp(v[i].verdict, "fail") == 0 ||
                       (strcmp(v[i].verdict, "skip") == 0 && !in_list(r->may_skip, v[i].check));
            if (bad) {
                problems++;
                snprintf(why + strlen(why), whylen - strlen(why), " %s %s;", v[i].check,
                         strcmp(v[i].verdict, "fail") == 0 ? "failed on the correct model"
                                                           : "skipped (did not look)");
            }
        }
        return problems;
    }
    char list[512];
    snprintf(list, sizeof(list), "%s", r->must_fail);
    for (char *tok = strtok(list, ","); tok; tok = strtok(0, ",")) {
        /* check=skip: the fault leaves that check nothing to judge, and it
         * must say so rather than pass. check=fast: the fault trips it
         * where exits are fast; with slow exits (100 us each) its effect is
         * below what the check resolves, and it may pass. check=slow: the
         * fault trips it only where slow exits hold a faulty state up long
         * enough for a second check to read it; with fast exits it may pass.
         * check=may: a check the fault reaches only through timing it does
         * not control (whether its read run spans an MSR write's re-base,
         * whether one of its reads lands in a torn state, which of the
         * fault's alternating states a halt spans, or an
         * allowance the check measures and a loaded host widens): listed so
         * that its failing is expected, never required. */
        char *eq = strchr(tok, '=');
        const char *mark = eq ? eq + 1 : "";
        const char *want = strcmp(mark, "skip") == 0 ? "skip" : "fail";
        if (eq)
            *eq = '\0';
        const char *got = verdict_of(v, n, tok);
        if (strcmp(got, "fail") != 0 &&
            (strcmp(mark, "may") == 0 || (strcmp(mark, "fast") == 0 && r->slow) ||
             (strcmp(mark, "slow") == 0 && !r->slow)))
            continue;
        if (strcmp(got, want) != 0) {
            problems++;
            snprintf(why + strlen(why), whylen - strlen(why), " %s %s (%s);", tok,
                     strcmp(want, "skip") ? "did not catch it" : "did not skip", got);
        }
    }
    /* A row names every check its fault trips, so that each check's share
     * of the catching is on record and a check failing more than it should
     * is seen too. */
    for (int i = 0; i < n; i++)
        if (strcmp(v[i].verdict, "fail") == 0 && !listed_check(r->must_fail, v[i].check)) {
            problems++;
            snprintf(why + strlen(why), whylen - strlen(why), " %s failed, not listed;",
                     v[i].check);
        }
    return problems;
}

int main(int argc, char **argv)
{
    const char *md_path = 0, *path = "tests/model/matrix.txt";
    bool slow = false;
    int jobs = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--markdown") == 0 && i + 1 < argc)
            md_path = argv[++i];
        else if (strcmp(argv[i], "--slow-exits") == 0)
            slow = true;
        else if (strcmp(argv[i], "-j") == 0 && i + 1 < argc) {
            char *end;
            long j = strtol(argv[++i], &end, 10);
            if (*end || j < 1 || j > 16) {
                fprintf(stderr, "matrix: -j must be a number from 1 to 16\n");
                return 2;
            }
            jobs = (int)j;
        } else
            path = argv[i];
    }
    FILE *md = 0;
    if (md_path && !(md = fopen(md_path, "w"))) {
        perror(md_path);
        return 2;
    }
    static struct row rows[MAX_ROWS];
    int nrows = parse_matrix(path, rows, slow);
    int passed = 0, failed = 0;
    if (md)
        fprintf(md, "| model | what it does | checks that must fail | verdict |\n"
                    "|---|---|---|---|\n");
    static struct running runs[MAX_ROWS];
    int started = 0, active = 0;
    for (int i = 0; i < nrows; i++) {
        /* Keep up to jobs rows running until row i has finished. */
        while (!runs[i].done) {
            if (started < nrows && active < jobs) {
                start_row(&rows[started], &runs[started]);
                started++;
                active++;
                continue;
            }
            int status;
            pid_t pid = wait(&status);
            if (pid < 0) {
                perror("wait");
                return 2;
            }
            for (int k = 0; k < started; k++)
                if (runs[k].pid == pid && !runs[k].done) {
                    runs[k].status = status;
                    runs[k].done = true;
                    active--;
                }
        }
        const struct row *r = &rows[i];
        static struct verdict_line v[MAX_VERDICTS];
        static char log[65536];
        char caught[2048], why[2048];
        struct slowest slowest;
        int n = read_row(&runs[i], v, log, sizeof(log), &slowest);
        char name[96];
        snprintf(name, sizeof(name), "%s%s%s%s", r->slow ? "slow:" : "",
                 r->hv == MODEL_KVM ? "" : model_hv_name(r->hv), r->hv == MODEL_KVM ? "" : ":",
                 model_fault_name((enum model_fault)r->fault));
        int problems;
        if (n <= 0) {
            problems = 1;
            snprintf(why, sizeof(why), " the model run crashed, hung or reported nothing");
            caught[0] = '\0';
        } else {
            problems = judge(r, v, n, caught, sizeof(caught), why, sizeof(why));
            if (slowest.ms >= CHECK_WATCHDOG_MS) {
                problems++;
                snprintf(why + strlen(why), sizeof(why) - strlen(why),
                         " %s took %llu ms, past the guest's %llu ms watchdog;", slowest.check,
                         slowest.ms, CHECK_WATCHDOG_MS);
            }
        }
        if (md)
            fprintf(md, "| `%s`%s%s%s%s%s | %s | %s | %s |\n", name, host_words(r),
                    r->no_reference ? " no_reference" : "", r->two_vcpus ? " two_vcpus" : "",
                    r->options[0] ? " " : "",
                    r->options, model_fault_text((enum model_fault)r->fault),
                    r->must_fail[0] ? r->must_fail : "none",
                    problems ? "**MISSED**"
                    : (r->fault == FAULT_correct || !r->must_fail[0]) ? "no check fails" : "caught");
        if (problems) {
            failed++;
            printf("FAIL matrix.%s (line %d):%s\n", name, r->line, why);
            fputs(log, stdout);
        } else {
            passed++;
            printf("PASS matrix.%s%s%s%s: failing checks: %s; slowest check %s %llu ms\n", name,
                   host_words(r), r->options[0] ? " " : "", r->options, caught[0] ? caught : "none",
                   slowest.check, slowest.ms);
        }
        fflush(stdout);
    }
    if (md)
        fclose(md);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
