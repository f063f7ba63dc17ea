/* Hyper-V's reference TSC page: the formula against an independent 128-bit
 * computation, the implied frequency, the bracket evaluator, the privilege
 * rules, and the sequence protocol against a concurrent writer, correct and
 * faulty (a writer that rewrites the page under the same sequence). */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "iface/hyperv.h"
#include "race.h"
#include "unit.h"

static const char *unit_name = "hyperv";

/* The high 64 bits of a * b by 32-bit halves (not the code under test). */
static uint64_t mulhi_halves(uint64_t a, uint64_t b)
{
    uint64_t al = (uint32_t)a, ah = a >> 32, bl = (uint32_t)b, bh = b >> 32;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (uint32_t)lh + (uint32_t)hl;
    return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void formula(void)
{
    for (int i = 0; i < 100000; i++) {
        uint64_t tsc = next_random(), scale = next_random();
        int64_t offset = (int64_t)next_random();
        uint64_t want = mulhi_halves(tsc, scale) + (uint64_t)offset;
        CHECK(hv_ref_time(tsc, scale, offset) == want, "tsc=%llx scale=%llx",
              (unsigned long long)tsc, (unsigned long long)scale);
    }
    CHECK(hv_ref_time(UINT64_MAX, UINT64_MAX, 0) == UINT64_MAX - 1, "extremes");
    /* A 2.5 GHz TSC: scale 2^64/250, one unit per 250 ticks. */
    CHECK(hv_ref_time(2500000000ull, UINT64_MAX / 250, -5) == 9999999 - 5, "2.5 GHz second");
}

static void implied_hz(void)
{
    uint64_t hz = hv_ref_implied_hz(UINT64_MAX / 250);
    CHECK(hz >= 2500000000ull - 1 && hz <= 2500000000ull + 1, "2.5 GHz gave %llu",
          (unsigned long long)hz);
    hz = hv_ref_implied_hz(UINT64_MAX / 100); /* 1 GHz */
    CHECK(hz >= 1000000000ull - 1 && hz <= 1000000000ull + 1, "1 GHz gave %llu",
          (unsigned long long)hz);
    CHECK(hv_ref_implied_hz(0) == 0, "scale 0");
    CHECK(hv_ref_implied_hz(1) == UINT64_MAX, "a tiny scale saturates");
}

static void bracket(void)
{
    CHECK(hv_ref_bracket_excess(100, 100, 100) == 0, "equal");
    CHECK(hv_ref_bracket_excess(100, 99, 105) == 0, "one unit behind is rounding");
    CHECK(hv_ref_bracket_excess(100, 106, 105) == 0, "one unit ahead is rounding");
    CHECK(hv_ref_bracket_excess(100, 98, 105) == -1, "two behind");
    CHECK(hv_ref_bracket_excess(100, 107, 105) == 1, "two ahead");
    CHECK(hv_ref_bracket_excess(0, 0, 0) == 0, "zero");
    CHECK(hv_ref_bracket_excess(UINT64_MAX, 0, UINT64_MAX) == -INT64_MAX, "saturates behind");
    CHECK(hv_ref_bracket_excess(0, UINT64_MAX, 0) == INT64_MAX, "saturates ahead");
}

static void privileges(void)
{
    uint32_t all = HV_PRIV_TIME_REF_COUNT | HV_PRIV_REFERENCE_TSC | HV_PRIV_FREQUENCY_MSRS;
    CHECK(hv_missing_privilege(HV_INTERFACE_HV1, all, all) == NULL, "all granted");
    CHECK(hv_missing_privilege(0, all, HV_PRIV_TIME_REF_COUNT) != NULL, "no Hv#1");
    const char *why = hv_missing_privilege(HV_INTERFACE_HV1, HV_PRIV_TIME_REF_COUNT,
                                           HV_PRIV_REFERENCE_TSC);
    CHECK(why && strstr(why, "AccessPartitionReferenceTsc"), "reference TSC not named: %s", why);
    why = hv_missing_privilege(HV_INTERFACE_HV1, HV_PRIV_REFERENCE_TSC, HV_PRIV_FREQUENCY_MSRS);
    CHECK(why && strstr(why, "AccessFrequencyRegs"), "frequency not named: %s", why);
}

/* The writer keeps offset == -scale in every version it publishes; a torn
 * copy breaks that. Each version (or, reusing the sequence, each half
 * written one) stays up until the reader has read once after it (race.h). */
static volatile struct hv_ref_tsc_page page;
static atomic_int stop;
static struct race_step step;
static bool reuse_sequence;

static void *writer(void *arg)
{
    (void)arg;
    uint64_t k = 1;
    uint32_t seq = 1;
    while (!atomic_load(&stop)) {
        k++;
        if (reuse_sequence) {
            page.tsc_scale = k; /* same sequence: a reader cannot tell */
            atomic_thread_fence(memory_order_seq_cst);
            race_published(&step, &stop);
            page.tsc_offset = -(int64_t)k;
        } else {
            page.tsc_sequence = 0;
            atomic_thread_fence(memory_order_seq_cst);
            page.tsc_scale = k;
            page.tsc_offset = -(int64_t)k;
            atomic_thread_fence(memory_order_seq_cst);
            seq = seq == 0xfffffffe ? 1 : seq + 1;
            page.tsc_sequence = seq;
            race_published(&step, &stop);
        }
    }
    return 0;
}

struct hv_race {
    unsigned settled; /* reads begun after a state no write followed */
    unsigned settled_ok, settled_torn, ok, torn;
};

/* Reads until the reader has read after `states` published states (or
 * RACE_LIMIT_MS passed): the verdict never rests on how the threads were
 * scheduled. */
static struct hv_race run_reader(bool reuse, unsigned states)
{
    struct hv_race h = { 0 };
    page.tsc_sequence = 1;
    page.tsc_scale = 1;
    page.tsc_offset = -1;
    reuse_sequence = reuse;
    atomic_store(&stop, 0);
    race_step_reset(&step);
    pthread_t t;
    pthread_create(&t, 0, writer, 0);
    uint64_t deadline = race_now_ms() + RACE_LIMIT_MS;
    while (h.settled < states && race_now_ms() < deadline) {
        unsigned before = race_before(&step);
        struct hv_ref_snapshot s;
        enum hv_ref_status r = hv_ref_read(&page, 1000, &s);
        bool torn = r == HV_REF_OK && s.offset != -(int64_t)s.scale;
        h.ok += r == HV_REF_OK;
        h.torn += torn;
        if (race_after(&step, before)) {
            h.settled++;
            h.settled_ok += r == HV_REF_OK;
            h.settled_torn += torn;
        }
    }
    atomic_store(&stop, 1);
    pthread_join(t, 0);
    CHECK(h.settled >= states, "the reader read after only %u of %u published states in %u ms",
          h.settled, states, RACE_LIMIT_MS);
    return h;
}

/* Every read after a whole version met no write and must be accepted;
 * none, racing the writer or not, may be torn. */
static void reader_against_writer(void)
{
    struct hv_race h = run_reader(false, 2000);
    CHECK(h.torn == 0, "%u of %u copies torn under the sequence protocol", h.torn, h.ok);
    CHECK(h.settled_ok == h.settled, "%u of %u reads of a settled page not accepted",
          h.settled - h.settled_ok, h.settled);

    struct hv_ref_snapshot s;
    page.tsc_sequence = 0;
    CHECK(hv_ref_read(&page, 10, &s) == HV_REF_INVALID, "sequence 0 is not 'invalid'");
}

/* The same reader against a writer that never changes the sequence sees torn
 * copies: the protocol is what keeps them out. Each half-written version
 * stays up until the reader has read once after it, so every such read is
 * torn. */
static void faulty_writer_tears(void)
{
    struct hv_race h = run_reader(true, 200);
    CHECK(h.settled_torn == h.settled, "%u torn copies in %u reads after a half-written version "
          "under a sequence that never changes", h.settled_torn, h.settled);
}

/* A re-base at one TSC: the same line, a whole-unit offset's rounding, and
 * a jump of two units either way; a new scale whose offset puts the same
 * TSC at the same time is no jump. */
static void rebase_budget(void)
{
    struct hv_ref_snapshot a = { 1, UINT64_MAX / 250, -1000 }, b = a;
    uint64_t tsc = 25000000000ull;
    CHECK(hv_ref_rebase_jump(&a, &b, tsc) == 0, "same line: %lld",
          (long long)hv_ref_rebase_jump(&a, &b, tsc));
    b.offset = a.offset + 1;
    CHECK(hv_ref_rebase_within(hv_ref_rebase_jump(&a, &b, tsc)), "one unit ahead refused");
    b.offset = a.offset - 1;
    CHECK(hv_ref_rebase_within(hv_ref_rebase_jump(&a, &b, tsc)), "one unit back refused");
    b.offset = a.offset + 2;
    CHECK(!hv_ref_rebase_within(hv_ref_rebase_jump(&a, &b, tsc)), "two units ahead accepted");
    b.offset = a.offset - 2;
    CHECK(!hv_ref_rebase_within(hv_ref_rebase_jump(&a, &b, tsc)), "two units back accepted");
    /* A scale 1 ppm higher, the offset moved so that tsc reads the same. */
    b.scale = a.scale + a.scale / 1000000;
    b.offset = a.offset - (int64_t)(hv_ref_time(tsc, b.scale, 0) - hv_ref_time(tsc, a.scale, 0));
    CHECK(hv_ref_rebase_jump(&a, &b, tsc) == 0, "re-based scale: %lld",
          (long long)hv_ref_rebase_jump(&a, &b, tsc));
}

int main(void)
{
    RUN(rebase_budget);
    RUN(formula);
    RUN(implied_hz);
    RUN(bracket);
    RUN(privileges);
    RUN(reader_against_writer);
    RUN(faulty_writer_tears);
    return unit_any_failed;
}
