/* Host tests of the migration suite's judgements and of the CMOS clock's
 * decoding, on synthetic events and hostile values. */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "checks/migration/migration_judge.h"
#include "platform/rtc.h"
#include "unit.h"

static const char *unit_name = "migration";

#define S 1000000000ull
#define EPOCH (1796000000ull * S)

/* A wall-clock reading at guest time at, of a VM stopped for stopped_ns
 * before it (real time = epoch + guest time + the time it missed). */
static struct mig_ref wall_at(uint64_t at, uint64_t stopped_ns, uint64_t err)
{
    return (struct mig_ref){ EPOCH + at + stopped_ns, at, err };
}

static void a_stop_is_found_with_its_length(void)
{
    struct mig_ref a = wall_at(5 * S, 0, 2000), b = wall_at(5 * S + 20000000, 300000000, 3000);
    int64_t u;
    uint64_t tol;
    CHECK(mig_unaccounted(&a, &b, &u, &tol), "computable");
    CHECK(u == 300000000, "unaccounted %lld", (long long)u);
    CHECK(tol == 2000 + 3000 + 20000000 / MIG_SLEW_DIVISOR, "tolerance %llu",
          (unsigned long long)tol);
    CHECK(mig_stopped_between(&a, &b), "300 ms stop not found");
}

static void noise_and_slew_are_not_a_stop(void)
{
    /* Readings off by their whole error, the clock 500 ppm slow over 1 s. */
    struct mig_ref a = wall_at(S, 0, 50000), b = wall_at(2 * S, 500000 + 100000, 50000);
    CHECK(!mig_stopped_between(&a, &b), "slew and read error taken for a stop");
    /* The threshold: tolerance + MIG_DETECT_NS is not a stop, 1 ns more is. */
    struct mig_ref c = wall_at(S, 0, 1000), d = wall_at(S + 2000000, 0, 1000);
    uint64_t tol = 2000 + 2000000 / MIG_SLEW_DIVISOR;
    d.real_ns += tol + MIG_DETECT_NS;
    CHECK(!mig_stopped_between(&c, &d), "at the threshold");
    d.real_ns += 1;
    CHECK(mig_stopped_between(&c, &d), "one ns past the threshold");
}

static void a_carried_clock_shows_as_a_hole_and_a_small_step(void)
{
    /* 130 ms down, 1.5 ms of it missed by the clock: below MIG_DETECT_NS
     * alone, found with the hole. */
    struct mig_ref a = wall_at(5 * S, 0, 400000), b = wall_at(5 * S + 150000000, 1500000, 400000);
    CHECK(!mig_stopped_between(&a, &b), "1.5 ms taken for a stop alone");
    CHECK(mig_stopped_across_hole(&a, &b, 130000000), "130 ms hole and 1.5 ms step not found");
    CHECK(!mig_stopped_across_hole(&a, &b, MIG_STOP_HOLE_NS - 1), "a hole under the threshold");
    CHECK(mig_stopped_across_hole(&a, &b, MIG_STOP_HOLE_NS), "a hole at the threshold");
    /* A vCPU not run for a second: no real time missing beyond the error. */
    struct mig_ref c = wall_at(5 * S + S, 800000, 400000);
    CHECK(!mig_stopped_across_hole(&a, &c, S), "a preemption's hole taken for a stop");
    struct mig_ref d = wall_at(4 * S, 5 * S, 1);
    CHECK(!mig_stopped_across_hole(&a, &d, S), "readings out of order judged");
}

static void clock_back_or_hostile_readings_are_not_judged(void)
{
    struct mig_ref a = wall_at(5 * S, 0, 1), b = wall_at(4 * S, 0, 1);
    int64_t u;
    uint64_t tol;
    CHECK(!mig_unaccounted(&a, &b, &u, &tol), "guest clock back accepted");
    struct mig_ref h = { UINT64_MAX, 6 * S, 1 };
    CHECK(!mig_unaccounted(&a, &h, &u, &tol), "real time past 2^63 accepted");
    CHECK(!mig_stopped_between(&a, &h), "hostile reading taken for a stop");
    struct mig_ref e = { EPOCH, 6 * S, UINT64_MAX };
    CHECK(!mig_unaccounted(&a, &e, &u, &tol), "error overflow accepted");
    struct mig_ref far = { 0, UINT64_MAX - 1, 1 }, near = { INT64_MAX, 0, 1 };
    CHECK(!mig_unaccounted(&near, &far, &u, &tol), "subtraction overflow accepted");
}

static void forward_step_past_real_time_fails(void)
{
    /* The clock re-based 1 s forward while 300 ms passed. */
    struct mig_ref a = wall_at(5 * S, 0, 1000);
    struct mig_ref b = { EPOCH + 5 * S + 300000000, 6 * S + 300000000, 1000 };
    int64_t excess;
    CHECK(!mig_step_within_real(&a, &b, &excess), "1 s forward step passed");
    CHECK(mig_clock_outran(&a, &b), "1 s forward step not taken for an event");
    CHECK(!mig_stopped_between(&a, &b), "a forward step taken for a stop");
    CHECK(excess == (int64_t)S, "excess %lld", (long long)excess);
    /* Exactly the tolerance ahead passes; one more ns fails. */
    uint64_t span = 10000000, tol = 2000 + span / MIG_SLEW_DIVISOR;
    struct mig_ref c = wall_at(S, 0, 1000), d = { EPOCH + S + span, S + span + tol, 1000 };
    CHECK(mig_step_within_real(&c, &d, &excess), "at the tolerance failed");
    d.at_ns++;
    uint64_t tol2 = 2000 + (span + tol + 1) / MIG_SLEW_DIVISOR;
    d.at_ns += tol2 - tol; /* the slew term grows with the span */
    CHECK(!mig_step_within_real(&c, &d, &excess), "past the tolerance passed");
    /* An event is 1 ms past the tolerance, as for a stop. */
    struct mig_ref e = { EPOCH + S + span, S + span + tol + MIG_DETECT_NS, 1000 };
    CHECK(!mig_clock_outran(&c, &e), "at the threshold taken for an event");
    e.at_ns += 1 + (MIG_DETECT_NS + tol) / MIG_SLEW_DIVISOR + 1;
    CHECK(mig_clock_outran(&c, &e), "past the threshold not taken for an event");
    /* A stopped clock (QEMU's kvmclock while paused) steps not at all. */
    struct mig_ref p = wall_at(S + 1000, 300000000, 1000);
    CHECK(mig_step_within_real(&c, &p, &excess) && excess == 0, "a paused clock failed");
}

static void tsc_across_the_event(void)
{
    const uint64_t hz = 2500000000ull;
    struct mig_ref a = wall_at(S, 0, 1000), b = wall_at(S + 1000000, 300000000, 1000);
    uint64_t tsc_ns, real;
    /* Carried and paused: 1 ms of TSC over 301 ms of real time. */
    CHECK(mig_judge_tsc(&a, &b, 10 * hz, 10 * hz + hz / 1000, hz, &tsc_ns, &real) == MIG_TSC_OK,
          "paused TSC refused");
    CHECK(tsc_ns == 1000000 && real == 301000000, "tsc_ns %llu real %llu",
          (unsigned long long)tsc_ns, (unsigned long long)real);
    CHECK(mig_judge_tsc(&a, &b, 10 * hz, 9 * hz, hz, &tsc_ns, &real) == MIG_TSC_BACKWARDS,
          "TSC 1 s back passed");
    CHECK(mig_judge_tsc(&a, &b, 10 * hz, 11 * hz, hz, &tsc_ns, &real) == MIG_TSC_AHEAD,
          "TSC 1 s ahead over 301 ms passed");
    CHECK(mig_judge_tsc(&a, &b, 1, 2, 0, &tsc_ns, &real) == MIG_TSC_UNJUDGED, "no rate judged");
    /* Hostile: the whole 64-bit range at 1 Hz saturates, never wraps. */
    CHECK(mig_judge_tsc(&a, &b, 0, UINT64_MAX, 1, &tsc_ns, &real) != MIG_TSC_OK,
          "2^64 cycles at 1 Hz passed");
}

static void wall_clock_against_the_cmos_clock(void)
{
    struct mig_ref e0 = { EPOCH + 3 * S, S + 400000000, 20000 };
    struct mig_ref e1 = { EPOCH + 5 * S, 2 * S + 100000000, 20000 }; /* 300 ms stopped */
    struct mig_ref w0 = { EPOCH + 3 * S + 123, e0.at_ns, 5000 };
    struct mig_ref w1 = { EPOCH + 5 * S + 123 + 4000, e1.at_ns, 5000 };
    int64_t diff;
    uint64_t tol;
    CHECK(mig_wall_agrees(&e0, &e1, &w0, &w1, &diff, &tol), "agreeing clocks refused");
    CHECK(diff == 4000 && tol == 50000 + 2 * S / MIG_SLEW_DIVISOR, "diff %lld tol %llu",
          (long long)diff, (unsigned long long)tol);
    w1.real_ns += S;
    CHECK(!mig_wall_agrees(&e0, &e1, &w0, &w1, &diff, &tol) && diff == (int64_t)S + 4000,
          "wall clock 1 s ahead passed");
    w1.real_ns = w0.real_ns - S; /* the wall clock went back */
    CHECK(!mig_wall_agrees(&e0, &e1, &w0, &w1, &diff, &tol) && diff < 0, "wall clock back passed");
    w1.real_ns = UINT64_MAX;
    CHECK(!mig_wall_agrees(&e0, &e1, &w0, &w1, &diff, &tol), "hostile wall clock passed");
    /* Tolerance exactly, then one ns past it. */
    w1.real_ns = w0.real_ns + 2 * S;
    w1.real_ns += 50000 + 2 * S / MIG_SLEW_DIVISOR;
    CHECK(mig_wall_agrees(&e0, &e1, &w0, &w1, &diff, &tol), "at the tolerance refused");
    w1.real_ns++;
    CHECK(!mig_wall_agrees(&e0, &e1, &w0, &w1, &diff, &tol), "past the tolerance passed");
}

static void mul_div_matches_128_bits(void)
{
    srand(7);
    for (int i = 0; i < 100000; i++) {
        uint64_t a = ((uint64_t)rand() << 33) ^ ((uint64_t)rand() << 11) ^ (uint64_t)rand();
        uint64_t b = (uint64_t)rand() % 2000000000u, c = 1 + (uint64_t)rand() % 4000000000u;
        unsigned __int128 want = (unsigned __int128)a * b / c;
        uint64_t got = mig_mul_div(a, b, c);
        if (want > UINT64_MAX)
            CHECK(got == UINT64_MAX, "%llu*%llu/%llu not saturated", (unsigned long long)a,
                  (unsigned long long)b, (unsigned long long)c);
        else if (got != UINT64_MAX)
            CHECK(got == (uint64_t)want, "%llu*%llu/%llu = %llu", (unsigned long long)a,
                  (unsigned long long)b, (unsigned long long)c, (unsigned long long)got);
    }
    CHECK(mig_mul_div(1, 1, 0) == UINT64_MAX, "divide by zero");
}

static uint8_t bcd(unsigned v) { return (uint8_t)((v / 10) << 4 | v % 10); }

static void cmos_dates_decode_like_timegm(void)
{
    srand(11);
    for (int i = 0; i < 20000; i++) {
        time_t t = (time_t)(946684800ll + (long long)((uint64_t)rand() * 2 % 3155760000ull));
        struct tm tm;
        gmtime_r(&t, &tm);
        unsigned year = (unsigned)tm.tm_year + 1900;
        struct rtc_raw bcd24 = { bcd((unsigned)tm.tm_sec), bcd((unsigned)tm.tm_min),
                                 bcd((unsigned)tm.tm_hour), bcd((unsigned)tm.tm_mday),
                                 bcd((unsigned)tm.tm_mon + 1), bcd(year % 100), bcd(year / 100),
                                 0x02 };
        uint64_t got = 0;
        CHECK(rtc_decode(&bcd24, &got) && got == (uint64_t)t, "BCD %lld decoded as %llu",
              (long long)t, (unsigned long long)got);
        unsigned h12 = tm.tm_hour % 12 ? (unsigned)tm.tm_hour % 12 : 12;
        struct rtc_raw bin12 = { (uint8_t)tm.tm_sec, (uint8_t)tm.tm_min,
                                 (uint8_t)(h12 | (tm.tm_hour >= 12 ? 0x80 : 0)),
                                 (uint8_t)tm.tm_mday, (uint8_t)(tm.tm_mon + 1),
                                 (uint8_t)(year % 100), (uint8_t)(year / 100), 0x04 };
        CHECK(rtc_decode(&bin12, &got) && got == (uint64_t)t, "binary 12 h %lld decoded as %llu",
              (long long)t, (unsigned long long)got);
    }
}

static void bad_cmos_values_are_refused(void)
{
    uint64_t s;
    struct rtc_raw ok = { 0x20, 0x28, 0x04, 0x02, 0x12, 0x26, 0x20, 0x02 };
    CHECK(rtc_decode(&ok, &s) && s == 1796185700ull, "2026-12-02 04:28:20 gave %llu",
          (unsigned long long)s);
    struct rtc_raw nibble = ok, feb30 = ok, month13 = ok, hour24 = ok, h12zero = ok, ones = ok;
    nibble.sec = 0x1a;
    feb30.mon = 0x02;
    feb30.day = 0x30;
    month13.mon = 0x13;
    hour24.hour = 0x24;
    h12zero.status_b = 0x00;
    h12zero.hour = 0x00;
    ones = (struct rtc_raw){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    CHECK(!rtc_decode(&nibble, &s), "BCD nibble 0xa accepted");
    CHECK(!rtc_decode(&feb30, &s), "February 30 accepted");
    CHECK(!rtc_decode(&month13, &s), "month 13 accepted");
    CHECK(!rtc_decode(&hour24, &s), "hour 24 accepted");
    CHECK(!rtc_decode(&h12zero, &s), "12-hour clock at hour 0 accepted");
    CHECK(!rtc_decode(&ones, &s), "all ones accepted");
    struct rtc_raw leap = { 0x00, 0x00, 0x00, 0x29, 0x02, 0x24, 0x20, 0x02 };
    CHECK(rtc_decode(&leap, &s) && s == 1709164800ull, "2024-02-29 gave %llu",
          (unsigned long long)s);
    struct rtc_raw no_century = ok;
    no_century.century = 0;
    CHECK(rtc_decode(&no_century, &s) && s == 1796185700ull, "no century register: 20xx");
}

int main(void)
{
    RUN(a_stop_is_found_with_its_length);
    RUN(noise_and_slew_are_not_a_stop);
    RUN(a_carried_clock_shows_as_a_hole_and_a_small_step);
    RUN(clock_back_or_hostile_readings_are_not_judged);
    RUN(forward_step_past_real_time_fails);
    RUN(tsc_across_the_event);
    RUN(wall_clock_against_the_cmos_clock);
    RUN(mul_div_matches_128_bits);
    RUN(cmos_dates_decode_like_timegm);
    RUN(bad_cmos_values_are_refused);
    return unit_any_failed;
}
