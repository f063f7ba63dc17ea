/* The runner and report: KTAP shape, verdict rules, filters, name validation. */
#include <setjmp.h>
#include <stdlib.h>

#include "lib/options.h"
#include "lib/report.h"
#include "lib/runner.h"
#include "unit.h"

static const char *unit_name = "runner";

static char out[16384];
static size_t out_len;

static void sink(const char *s, size_t n)
{
    if (out_len + n < sizeof(out)) {
        memcpy(out + out_len, s, n);
        out_len += n;
        out[out_len] = '\0';
    }
}

static enum verdict ok_check(struct check_ctx *c)
{
    figure(c, "reads=%d", 10);
    return pass(c);
}
static enum verdict failing_check(struct check_ctx *c)
{
    return fail(c, "expected 1, saw %d", 2);
}
static enum verdict expect_then_pass(struct check_ctx *c)
{
    expect(c, 1 == 2, "one is not two");
    return pass(c); /* must still fail */
}
static enum verdict expect_then_skip(struct check_ctx *c)
{
    expect(c, 0, "failed before skipping");
    return skip(c, "late skip");
}
static enum verdict skipping_check(struct check_ctx *c)
{
    return skip(c, "feature %s absent", "X");
}
static enum verdict garbage_verdict(struct check_ctx *c)
{
    (void)c;
    return (enum verdict)77;
}
static enum verdict silent_skip(struct check_ctx *c)
{
    (void)c;
    return VERDICT_SKIP;
}

static const struct check alpha_checks[] = {
    { "good", "rule A", ok_check },
    { "bad", DOC_KVM_MSR " rule B", failing_check },
    { "sneaky", "rule C", expect_then_pass },
};
static const struct check beta_checks[] = {
    { "absent", "rule D", skipping_check },
    { "late", "rule E", expect_then_skip },
    { "garbage", "rule F", garbage_verdict },
    { "silent", "rule G", silent_skip },
};
static const struct check gamma_checks[] = {
    { "fine", "rule H", ok_check },
};
static const char *gone(void)
{
    return "interface not advertised";
}
static bool absent(void)
{
    return false;
}

static const struct suite alpha = { "alpha", 1, alpha_checks, 3, NULL, NULL };
static const struct suite beta = { "beta", 2, beta_checks, 4, NULL, NULL };
static const struct suite gamma_s = { "gamma", 0, gamma_checks, 1, NULL, NULL };
static const struct suite delta = { "delta", 3, gamma_checks, 1, NULL, gone };
static const struct suite hidden = { "hidden", 4, gamma_checks, 1, absent, NULL };
static const struct suite *const all[] = { &alpha, &beta, &gamma_s, &delta, &hidden };

static struct run_totals run(const char *cmdline)
{
    struct options o;
    char err[256];
    const struct suite *sorted[8];
    struct run_totals t;
    out_len = 0;
    out[0] = '\0';
    report_set_sink(sink);
    CHECK(options_parse(&o, cmdline, err, sizeof(err)) == 0, "%s", err);
    unsigned n = runner_collect(all, 5, sorted, 8);
    runner_run(sorted, n, &o, NULL, &t);
    runner_print_summary(&t);
    return t;
}

static void order_and_presence(void)
{
    const struct suite *sorted[8];
    unsigned n = runner_collect(all, 5, sorted, 8);
    CHECK(n == 4, "collected %u", n);
    CHECK(sorted[0] == &gamma_s && sorted[1] == &alpha && sorted[2] == &beta &&
          sorted[3] == &delta, "wrong order");
}

static void verdicts_and_ktap(void)
{
    struct run_totals t = run("");
    CHECK(t.passed == 2 && t.failed == 4 && t.skipped == 3, "totals %u/%u/%u", t.passed,
          t.failed, t.skipped);
    const char *expected =
        "1..4\n"
        "    KTAP version 1\n"
        "    # Subtest: gamma\n"
        "    1..1\n"
        "    # reads=10\n"
        "    ok 1 fine\n"
        "ok 1 gamma\n"
        "    KTAP version 1\n"
        "    # Subtest: alpha\n"
        "    1..3\n"
        "    # reads=10\n"
        "    ok 1 good\n"
        "    # FAIL: expected 1, saw 2\n"
        "    # rule: Linux Documentation/virt/kvm/x86/msr.rst rule B\n"
        "    not ok 2 bad\n"
        "    # FAIL: one is not two\n"
        "    # rule: rule C\n"
        "    not ok 3 sneaky\n"
        "not ok 2 alpha\n"
        "    KTAP version 1\n"
        "    # Subtest: beta\n"
        "    1..4\n"
        "    ok 1 absent # SKIP feature X absent\n"
        "    # FAIL: failed before skipping\n"
        "    # rule: rule E\n"
        "    not ok 2 late\n"
        "    # rule: rule F\n"
        "    not ok 3 garbage\n"
        "    ok 4 silent # SKIP no reason given\n"
        "not ok 3 beta\n"
        "    KTAP version 1\n"
        "    # Subtest: delta\n"
        "    1..1\n"
        "    ok 1 fine # SKIP interface not advertised\n"
        "ok 4 delta # SKIP interface not advertised\n"
        "# pvcheck: 2 passed, 4 failed, 3 skipped\n";
    CHECK_STR(out, expected);
}

static void filters(void)
{
    struct run_totals t = run("only=alpha.good,gamma skip=gamma.fine");
    CHECK(t.passed == 1 && t.failed == 0, "totals %u/%u/%u", t.passed, t.failed, t.skipped);
    CHECK(strstr(out, "    ok 1 fine # SKIP excluded by skip=\n") != NULL, "%s", out);
    CHECK(strstr(out, "    ok 2 bad # SKIP not selected by only=\n") != NULL, "%s", out);
    CHECK(strstr(out, "ok 1 gamma # SKIP every check skipped\n") != NULL, "%s", out);
}

static void name_validation(void)
{
    const struct suite *sorted[8];
    unsigned n = runner_collect(all, 5, sorted, 8);
    struct options o;
    char err[256];
    const char *good[] = { "only=alpha", "only=alpha.bad", "skip=beta.silent,delta" };
    for (unsigned i = 0; i < 3; i++) {
        options_parse(&o, good[i], err, sizeof(err));
        CHECK(runner_validate_names(sorted, n, &o, err, sizeof(err)) == 0, "%s: %s", good[i], err);
    }
    const char *bad[] = { "only=alph", "only=alpha.", "only=alpha.nope", "skip=alphax",
                          "skip=hidden", "only=.good" };
    for (unsigned i = 0; i < 6; i++) {
        options_parse(&o, bad[i], err, sizeof(err));
        CHECK(runner_validate_names(sorted, n, &o, err, sizeof(err)) == -1, "accepted %s", bad[i]);
        CHECK(strstr(err, "suites: gamma alpha beta delta") != NULL, "%s", err);
    }
}

static jmp_buf escape;

static enum verdict aborting_check(struct check_ctx *c)
{
    figure(c, "about to hang");
    /* What the watchdog does; in the guest guest_exit() follows. */
    runner_abort("TIMEOUT", "the check did not finish within 1 s (watchdog)");
    longjmp(escape, 1);
}

static void reset_out(void)
{
    out_len = 0;
    out[0] = '\0';
    report_set_sink(sink);
}

static void abort_marks_running_check(void)
{
    /* Nothing prepared: an empty plan, closed, then the bail-out. */
    runner_prepare(NULL, 0);
    reset_out();
    runner_abort("ERROR exception", "outside any check");
    CHECK_STR(out, "# FAIL: outside any check\n"
                   "1..0\n"
                   "Bail out! outside any check\n");

    static const struct check one[] = { { "stuck", "r", aborting_check } };
    static const struct suite s = { "solo", 0, one, 1, NULL, NULL };
    const struct suite *list[] = { &s };
    struct options o;
    char err[64];
    struct run_totals t;
    options_parse(&o, "", err, sizeof(err));
    reset_out();
    if (setjmp(escape) == 0)
        runner_run(list, 1, &o, NULL, &t);
    CHECK_STR(out, "1..1\n"
                   "    KTAP version 1\n"
                   "    # Subtest: solo\n"
                   "    1..1\n"
                   "    # about to hang\n"
                   "    # FAIL: the check did not finish within 1 s (watchdog)\n"
                   "    not ok 1 stuck # TIMEOUT\n"
                   "not ok 1 solo\n"
                   "Bail out! the check did not finish within 1 s (watchdog)\n");
    CHECK(runner_current() == NULL, "abort left a current check");
}

static enum verdict crashing_check(struct check_ctx *c)
{
    (void)c;
    runner_abort("ERROR exception", "unexpected exception #UD");
    longjmp(escape, 1);
}

static const char *crashing_unavailable(void)
{
    runner_abort("ERROR exception", "unexpected exception #UD");
    longjmp(escape, 1);
}

/* A crash in the middle closes the rest of its suite and every later suite
 * as not run, so the plan a parser counts is complete. */
static void abort_closes_the_plan(void)
{
    static const struct check first[] = { { "a", "r", ok_check } };
    static const struct check middle[] = {
        { "before", "r", ok_check },
        { "crash", "r", crashing_check },
        { "after", "r", ok_check },
    };
    static const struct check last[] = { { "z", "r", ok_check } };
    static const struct suite s1 = { "one", 0, first, 1, NULL, NULL };
    static const struct suite s2 = { "two", 1, middle, 3, NULL, NULL };
    static const struct suite s3 = { "three", 2, last, 1, NULL, NULL };
    const struct suite *list[] = { &s1, &s2, &s3 };
    struct options o;
    char err[64];
    struct run_totals t;
    options_parse(&o, "", err, sizeof(err));
    reset_out();
    if (setjmp(escape) == 0)
        runner_run(list, 3, &o, NULL, &t);
    CHECK_STR(out, "1..3\n"
                   "    KTAP version 1\n"
                   "    # Subtest: one\n"
                   "    1..1\n"
                   "    # reads=10\n"
                   "    ok 1 a\n"
                   "ok 1 one\n"
                   "    KTAP version 1\n"
                   "    # Subtest: two\n"
                   "    1..3\n"
                   "    # reads=10\n"
                   "    ok 1 before\n"
                   "    # FAIL: unexpected exception #UD\n"
                   "    not ok 2 crash # ERROR exception\n"
                   "    not ok 3 after # SKIP not run: guest bailed out\n"
                   "not ok 2 two\n"
                   "not ok 3 three # SKIP not run: guest bailed out\n"
                   "Bail out! unexpected exception #UD\n");

    /* Between suites (a crash deciding whether "two" is available): the
     * next suite carries the directive, the rest are not run. */
    static const struct suite s2u = { "two", 1, middle, 3, NULL, crashing_unavailable };
    const struct suite *list2[] = { &s1, &s2u, &s3 };
    reset_out();
    if (setjmp(escape) == 0)
        runner_run(list2, 3, &o, NULL, &t);
    CHECK_STR(out, "1..3\n"
                   "    KTAP version 1\n"
                   "    # Subtest: one\n"
                   "    1..1\n"
                   "    # reads=10\n"
                   "    ok 1 a\n"
                   "ok 1 one\n"
                   "# FAIL: unexpected exception #UD\n"
                   "not ok 2 two # ERROR exception\n"
                   "not ok 3 three # SKIP not run: guest bailed out\n"
                   "Bail out! unexpected exception #UD\n");

    /* Before the plan (prepared, not yet run): every suite an error. */
    runner_prepare(list, 3);
    reset_out();
    runner_abort("TIMEOUT", "the run did not finish within 1 s (watchdog)");
    CHECK_STR(out, "# FAIL: the run did not finish within 1 s (watchdog)\n"
                   "1..3\n"
                   "not ok 1 one # ERROR not run: the run did not finish within 1 s (watchdog)\n"
                   "not ok 2 two # ERROR not run: the run did not finish within 1 s (watchdog)\n"
                   "not ok 3 three # ERROR not run: the run did not finish within 1 s (watchdog)\n"
                   "Bail out! the run did not finish within 1 s (watchdog)\n");
}

/* A refused command line still prints a whole plan, every suite an error. */
static void refuse_prints_the_plan(void)
{
    static const struct check c1[] = { { "a", "r", ok_check } };
    static const struct suite s1 = { "one", 0, c1, 1, NULL, NULL };
    static const struct suite s2 = { "two", 1, c1, 1, NULL, NULL };
    const struct suite *list[] = { &s1, &s2 };
    runner_prepare(list, 2);
    reset_out();
    runner_refuse("bad command line");
    CHECK_STR(out, "1..2\n"
                   "not ok 1 one # ERROR not run: bad command line\n"
                   "not ok 2 two # ERROR not run: bad command line\n"
                   "Bail out! bad command line\n");
}

/* A helper that found too few samples leaves a skip reason; the check's
 * closing pass() then skips, unless a rule already failed. */
static void pass_after_inconclusive_helper(void)
{
    struct check_ctx c = { 0 };
    CHECK(pass(&c) == VERDICT_PASS, "a clean check passes");
    skip(&c, "only %d samples", 3);
    CHECK(pass(&c) == VERDICT_SKIP, "pass() after an inconclusive helper did not skip");
    CHECK_STR(c.skip_reason, "only 3 samples");
    c.failed = true;
    CHECK(pass(&c) == VERDICT_FAIL, "a failure must outrank the skip reason");
}

/* report_wrapped: no line carries more than REPORT_WRAP characters of text,
 * breaks fall at spaces, a word longer than a line is cut, nothing is lost. */
static void wrapped_lines_stay_short(void)
{
    char text[700], joined[800];
    size_t n = 0;
    for (int w = 0; n + 12 < sizeof(text) && w < 60; w++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%sword%02d=abc", w ? " " : "", w);
    reset_out();
    report_wrapped(0, "error: ", text);
    size_t j = 0, lines = 0;
    for (char *line = out; *line; lines++) {
        char *end = strchr(line, '\n');
        CHECK(end != NULL, "unterminated line");
        if (!end)
            break;
        size_t len = (size_t)(end - line);
        const char *lead = lines == 0 ? "# error: " : "#   ";
        CHECK(strncmp(line, lead, strlen(lead)) == 0, "line %zu starts \"%.12s\"", lines, line);
        CHECK(len - strlen(lead) <= REPORT_WRAP, "line %zu carries %zu characters", lines,
              len - strlen(lead));
        CHECK(end[-1] != ' ', "line %zu ends in a space", lines);
        if (j)
            joined[j++] = ' ';
        memcpy(joined + j, line + strlen(lead), len - strlen(lead));
        j += len - strlen(lead);
        line = end + 1;
    }
    joined[j] = '\0';
    CHECK(lines >= 4, "%zu lines for %zu characters", lines, n);
    CHECK_STR(joined, text);

    /* One word longer than a line: cut at REPORT_WRAP, the rest continued. */
    char word[REPORT_WRAP + 21];
    memset(word, 'x', sizeof(word) - 1);
    word[sizeof(word) - 1] = '\0';
    reset_out();
    report_wrapped(0, "", word);
    char want[400];
    snprintf(want, sizeof(want), "# %.*s\n#   %s\n", REPORT_WRAP, word, word + REPORT_WRAP);
    CHECK_STR(out, want);

    /* Short text: one line, as report_line would print it. */
    reset_out();
    report_wrapped(0, "error: ", "option 'x': unknown");
    CHECK_STR(out, "# error: option 'x': unknown\n");
}

int main(void)
{
    RUN(order_and_presence);
    RUN(verdicts_and_ktap);
    RUN(filters);
    RUN(name_validation);
    RUN(abort_marks_running_check);
    RUN(abort_closes_the_plan);
    RUN(refuse_prints_the_plan);
    RUN(pass_after_inconclusive_helper);
    RUN(wrapped_lines_stay_short);
    return unit_any_failed;
}
