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
 * copy breaks that. */
static volatile struct hv_ref_tsc_page page;
static atomic_bool stop;
static atomic_uint published, torn_published, torn_acked;
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
            /* Held until the reader has read once after it (race.h). */
            unsigned n = atomic_fetch_add(&torn_published, 1) + 1;
            while (atomic_load(&torn_acked) < n && !atomic_load(&stop))
                sched_yield();
            page.tsc_offset = -(int64_t)k;
        } else {
            page.tsc_sequence = 0;
            atomic_thread_fence(memory_order_seq_cst);
            page.tsc_scale = k;
            page.tsc_offset = -(int64_t)k;
            atomic_thread_fence(memory_order_seq_cst);
            seq = seq == 0xfffffffe ? 1 : seq + 1;
            page.tsc_sequence = seq;
        }
        atomic_fetch_add(&published, 1);
    }
    return 0;
}

/* Reads until the writer has published at least `updates` versions and
 * the reader has read after `torn_states` half-written ones (or
 * RACE_LIMIT_MS passed): the verdict never rests on how the threads were
 * scheduled. Returns the reads made after a half-written state. */
static unsigned run_reader(bool reuse, unsigned updates, unsigned torn_states, unsigned *torn,
                           unsigned *ok, unsigned *invalid)
{
    page.tsc_sequence = 1;
    page.tsc_scale = 1;
    page.tsc_offset = -1;
    reuse_sequence = reuse;
    atomic_store(&stop, false);
    atomic_store(&published, 0);
    atomic_store(&torn_published, 0);
    atomic_store(&torn_acked, 0);
    *torn = *ok = *invalid = 0;
    unsigned torn_seen = 0;
    pthread_t t;
    pthread_create(&t, 0, writer, 0);
    uint64_t deadline = race_now_ms() + RACE_LIMIT_MS;
    while ((atomic_load(&published) < updates || torn_seen < torn_states) &&
           race_now_ms() < deadline) {
        unsigned torn_before = atomic_load(&torn_published);
        struct hv_ref_snapshot s;
        enum hv_ref_status r = hv_ref_read(&page, 1000, &s);
        if (r == HV_REF_OK) {
            (*ok)++;
            if (s.offset != -(int64_t)s.scale)
                (*torn)++;
        } else if (r == HV_REF_INVALID) {
            (*invalid)++;
        }
        if (torn_before > atomic_load(&torn_acked)) {
            torn_seen++;
            atomic_store(&torn_acked, torn_before);
        }
    }
    atomic_store(&stop, true);
    pthread_join(t, 0);
    CHECK(atomic_load(&published) >= updates, "the writer published only %u versions in %u ms",
          atomic_load(&published), RACE_LIMIT_MS);
    CHECK(torn_seen >= torn_states, "the reader read after only %u of %u half-written versions",
          torn_seen, torn_states);
    return torn_seen;
}

static void reader_against_writer(void)
{
    unsigned torn, ok, invalid;
    run_reader(false, 200000, 0, &torn, &ok, &invalid);
    CHECK(torn == 0, "%u of %u copies torn under the sequence protocol", torn, ok);
    CHECK(ok > 0, "no consistent copy");

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
    unsigned torn, ok, invalid;
    unsigned seen = run_reader(true, 0, 200, &torn, &ok, &invalid);
    CHECK(seen >= 200 && torn >= seen, "%u torn copies in %u reads after a half-written version "
          "under a sequence that never changes", torn, seen);
}

int main(void)
{
    RUN(formula);
    RUN(implied_hz);
    RUN(bracket);
    RUN(privileges);
    RUN(reader_against_writer);
    RUN(faulty_writer_tears);
    return unit_any_failed;
}
