#include "lib/report.h"

#include "lib/format.h"

#define CHECK_DEPTH 1
#define INDENT "    "

static report_sink out;

void report_set_sink(report_sink sink)
{
    out = sink;
}

static void out_sink(void *ctx, char c)
{
    (void)ctx;
    out(&c, 1);
}

void report_vline(unsigned depth, const char *fmt, va_list ap)
{
    if (!out)
        return;
    for (unsigned i = 0; i < depth; i++)
        out(INDENT, sizeof(INDENT) - 1);
    format_v(out_sink, 0, fmt, ap);
    out("\n", 1);
}

void report_line(unsigned depth, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report_vline(depth, fmt, ap);
    va_end(ap);
}

void report_wrapped(unsigned depth, const char *lead, const char *text)
{
    bool first = true;
    while (*text) {
        size_t n = 0, cut = 0;
        while (text[n] && n < REPORT_WRAP) {
            if (text[n] == ' ')
                cut = n;
            n++;
        }
        /* The rest fits, or a word longer than a line is cut where it must be. */
        if (!text[n] || cut == 0)
            cut = n;
        char chunk[REPORT_WRAP + 1];
        for (size_t i = 0; i < cut; i++)
            chunk[i] = text[i];
        chunk[cut] = '\0';
        report_line(depth, "# %s%s", first ? lead : "  ", chunk);
        text += cut;
        while (*text == ' ')
            text++;
        first = false;
    }
}

/* A diagnostic line: "# " then the formatted text. */
static void diag_v(const char *prefix, const char *fmt, va_list ap)
{
    char line[256];
    format_buf_v(line, sizeof(line), fmt, ap);
    report_line(CHECK_DEPTH, "# %s%s", prefix, line);
}

void figure(struct check_ctx *c, const char *fmt, ...)
{
    (void)c;
    va_list ap;
    va_start(ap, fmt);
    diag_v("", fmt, ap);
    va_end(ap);
}

void detail(struct check_ctx *c, const char *fmt, ...)
{
    if (!c->verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    diag_v("", fmt, ap);
    va_end(ap);
}

static void mark_failed(struct check_ctx *c, const char *fmt, va_list ap)
{
    diag_v("FAIL: ", fmt, ap);
    c->failed = true;
}

bool expect(struct check_ctx *c, bool cond, const char *fmt, ...)
{
    if (!cond) {
        va_list ap;
        va_start(ap, fmt);
        mark_failed(c, fmt, ap);
        va_end(ap);
    }
    return cond;
}

enum verdict fail(struct check_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mark_failed(c, fmt, ap);
    va_end(ap);
    return VERDICT_FAIL;
}

enum verdict skip(struct check_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    format_buf_v(c->skip_reason, sizeof(c->skip_reason), fmt, ap);
    va_end(ap);
    return VERDICT_SKIP;
}

enum verdict pass(struct check_ctx *c)
{
    /* A helper that took too few samples to judge left its reason. */
    if (c->failed)
        return VERDICT_FAIL;
    return c->skip_reason[0] ? VERDICT_SKIP : VERDICT_PASS;
}
