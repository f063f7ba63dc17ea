/* The guest command line: parser and name validation never crash, and a
 * rejected line always says why. */
#include <stdint.h>
#include <string.h>

#include "lib/options.h"
#include "lib/runner.h"

static enum verdict nothing(struct check_ctx *c)
{
    (void)c;
    return VERDICT_PASS;
}

static const struct check checks[] = { { "alpha", "r", nothing }, { "beta", "r", nothing } };
static const struct suite one = { "one", 0, checks, 2, 0, 0 };
static const struct suite two = { "two", 1, checks, 1, 0, 0 };
static const struct suite *const suites[] = { &one, &two };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char line[2 * OPTIONS_CMDLINE_MAX];
    if (size >= sizeof(line))
        size = sizeof(line) - 1;
    memcpy(line, data, size);
    line[size] = '\0';
    static struct options o;
    char err[512];
    if (options_parse(&o, line, err, sizeof(err)) != 0) {
        if (!err[0])
            __builtin_trap(); /* a rejection must say why */
        return 0;
    }
    runner_validate_names(suites, 2, &o, err, sizeof(err));
    return 0;
}
