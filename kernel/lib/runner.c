#include "lib/runner.h"

#include <stdbool.h>

#include "lib/format.h"
#include "lib/report.h"
#include "lib/str.h"

static struct check_ctx *current;

/* How far the report has got, so that an abort can close it. */
static struct {
    const struct suite *const *suites;
    unsigned n;
    bool planned;  /* the top-level plan is printed */
    bool in_suite; /* suites[next] has its header printed */
    unsigned next; /* the open suite, or the next to run */
    unsigned done; /* results printed in the open suite */
} progress;

#define NOT_RUN "SKIP not run: guest bailed out"

const struct check_ctx *runner_current(void)
{
    return current;
}

/* name is "suite" or "suite.check". */
static bool name_matches(const char *name, const struct suite *s, const struct check *ck)
{
    const char *p = s->name;
    const char *q = name;
    while (*p && *p == *q) {
        p++;
        q++;
    }
    if (*p)
        return false;
    if (*q == '\0')
        return true;
    return *q == '.' && ck && str_eq(q + 1, ck->name);
}

static bool list_matches(const struct name_list *l, const struct suite *s, const struct check *ck)
{
    for (unsigned i = 0; i < l->count; i++)
        if (name_matches(l->names[i], s, ck))
            return true;
    return false;
}

unsigned runner_collect(const struct suite *const *all, unsigned n_all,
                        const struct suite **sorted, unsigned max)
{
    unsigned n = 0;
    for (unsigned i = 0; i < n_all && n < max; i++) {
        const struct suite *s = all[i];
        if (s->present && !s->present())
            continue;
        /* Insertion sort by order; the table is small. */
        unsigned j = n++;
        while (j > 0 && sorted[j - 1]->order > s->order) {
            sorted[j] = sorted[j - 1];
            j--;
        }
        sorted[j] = s;
    }
    return n;
}

static int validate_list(const struct suite *const *suites, unsigned n, const struct name_list *l,
                         const char *option, char *err, size_t errlen)
{
    for (unsigned i = 0; i < l->count; i++) {
        bool found = false;
        for (unsigned k = 0; k < n && !found; k++) {
            if (name_matches(l->names[i], suites[k], 0))
                found = true;
            for (unsigned c = 0; c < suites[k]->n_checks && !found; c++)
                found = name_matches(l->names[i], suites[k], &suites[k]->checks[c]);
        }
        if (!found) {
            size_t pos = format_buf(err, errlen, "%s: no suite or check named '%s'; suites:",
                                    option, l->names[i]);
            for (unsigned k = 0; k < n && pos < errlen; k++)
                pos += format_buf(err + pos, errlen - pos, " %s", suites[k]->name);
            return -1;
        }
    }
    return 0;
}

int runner_validate_names(const struct suite *const *suites, unsigned n,
                          const struct options *o, char *err, size_t errlen)
{
    if (validate_list(suites, n, &o->only, "only=", err, errlen))
        return -1;
    return validate_list(suites, n, &o->skip, "skip=", err, errlen);
}

static void print_result(unsigned depth, enum verdict v, unsigned number, const char *name,
                         const char *skip_reason)
{
    if (v == VERDICT_SKIP)
        report_line(depth, "ok %u %s # SKIP %s", number, name, skip_reason);
    else
        report_line(depth, "%s %u %s", v == VERDICT_PASS ? "ok" : "not ok", number, name);
}

static enum verdict run_one(const struct suite *s, unsigned idx, const struct options *o,
                            const char *unavailable, const struct runner_hooks *hooks)
{
    const struct check *ck = &s->checks[idx];
    struct check_ctx c = {
        .suite = s,
        .check = ck,
        .number = idx + 1,
        .verbose = o->verbose,
    };
    enum verdict v;

    if (o->only.count && !list_matches(&o->only, s, ck)) {
        v = skip(&c, "not selected by only=");
    } else if (list_matches(&o->skip, s, ck)) {
        v = skip(&c, "excluded by skip=");
    } else if (unavailable) {
        v = skip(&c, "%s", unavailable);
    } else {
        current = &c;
        if (hooks && hooks->before_check)
            hooks->before_check(&c);
        v = ck->run(&c);
        if (hooks && hooks->after_check)
            hooks->after_check(&c);
        current = 0;
        /* A failure recorded on the way wins over whatever was returned. */
        if (c.failed)
            v = VERDICT_FAIL;
        if (v != VERDICT_PASS && v != VERDICT_SKIP)
            v = VERDICT_FAIL;
        if (v == VERDICT_SKIP && !c.skip_reason[0])
            format_buf(c.skip_reason, sizeof(c.skip_reason), "no reason given");
        static const char *const docs[] = { "", DOC_KVM_MSR_TEXT, DOC_KVM_HC_TEXT };
        unsigned doc = ck->rule && (uint8_t)ck->rule[0] < 3 ? (uint8_t)ck->rule[0] : 0;
        if (v == VERDICT_FAIL && ck->rule)
            report_line(1, "# rule: %s%s", docs[doc], ck->rule + (doc != 0));
    }
    print_result(1, v, c.number, ck->name, c.skip_reason);
    return v;
}

void runner_prepare(const struct suite *const *suites, unsigned n)
{
    progress.suites = suites;
    progress.n = n;
    progress.planned = progress.in_suite = false;
    progress.next = progress.done = 0;
}

static const char *run_unavailable;

void runner_make_unavailable(const char *why)
{
    run_unavailable = why;
}

void runner_run(const struct suite *const *suites, unsigned n, const struct options *o,
                const struct runner_hooks *hooks, struct run_totals *t)
{
    *t = (struct run_totals){ 0 };
    runner_prepare(suites, n);
    report_line(0, "1..%u", n);
    progress.planned = true;
    for (unsigned i = 0; i < n; i++) {
        const struct suite *s = suites[i];
        const char *unavailable = run_unavailable ? run_unavailable
                                  : s->unavailable       ? s->unavailable()
                                                         : 0;
        unsigned passed = 0, failed = 0, skipped = 0;

        report_line(1, "KTAP version 1");
        report_line(1, "# Subtest: %s", s->name);
        report_line(1, "1..%u", s->n_checks);
        progress.in_suite = true;
        progress.done = 0;
        for (unsigned k = 0; k < s->n_checks; k++) {
            enum verdict v = run_one(s, k, o, unavailable, hooks);
            progress.done = k + 1;
            switch (v) {
            case VERDICT_PASS:
                passed++;
                break;
            case VERDICT_SKIP:
                skipped++;
                break;
            default:
                failed++;
                break;
            }
        }
        t->passed += passed;
        t->failed += failed;
        t->skipped += skipped;
        if (failed)
            print_result(0, VERDICT_FAIL, i + 1, s->name, 0);
        else if (passed == 0)
            print_result(0, VERDICT_SKIP, i + 1, s->name,
                         unavailable ? unavailable : "every check skipped");
        else
            print_result(0, VERDICT_PASS, i + 1, s->name, 0);
        progress.in_suite = false;
        progress.next = i + 1;
    }
}

void runner_print_summary(const struct run_totals *t)
{
    report_line(0, "# pvcheck: %u passed, %u failed, %u skipped", t->passed, t->failed,
                t->skipped);
}

void runner_refuse(const char *what)
{
    report_line(0, "1..%u", progress.n);
    for (unsigned i = 0; i < progress.n; i++)
        report_line(0, "not ok %u %s # ERROR not run: %s", i + 1, progress.suites[i]->name, what);
    progress.planned = true;
    progress.next = progress.n;
    report_line(0, "Bail out! %s", what);
}

/* Closes every open level of the report: the running check (or, between
 * checks, the open suite or the next one) carries the directive, whatever
 * had not run yet is "not ok # SKIP", and the plan is complete before the
 * bail-out, so that KTAP and TAP parsers read the log without a parse error. */
void runner_abort(const char *directive, const char *reason)
{
    struct check_ctx *c = current;
    current = 0;
    if (!progress.planned) {
        report_line(0, "# FAIL: %s", reason);
        runner_refuse(reason);
        return;
    }
    bool closed = false;
    if (progress.in_suite) {
        const struct suite *s = progress.suites[progress.next];
        report_line(1, "# FAIL: %s", reason);
        if (c) {
            report_line(1, "not ok %u %s # %s", c->number, c->check->name, directive);
            progress.done = c->number;
            closed = true;
        }
        for (unsigned k = progress.done; k < s->n_checks; k++)
            report_line(1, "not ok %u %s # " NOT_RUN, k + 1, s->checks[k].name);
        if (closed)
            report_line(0, "not ok %u %s", progress.next + 1, s->name);
        else
            report_line(0, "not ok %u %s # %s", progress.next + 1, s->name, directive);
        closed = true;
        progress.in_suite = false;
        progress.next++;
    } else if (progress.next < progress.n) {
        report_line(0, "# FAIL: %s", reason);
    }
    for (unsigned i = progress.next; i < progress.n; i++) {
        if (closed)
            report_line(0, "not ok %u %s # " NOT_RUN, i + 1, progress.suites[i]->name);
        else
            report_line(0, "not ok %u %s # %s", i + 1, progress.suites[i]->name, directive);
        closed = true;
    }
    progress.next = progress.n;
    report_line(0, "Bail out! %s", reason);
}
