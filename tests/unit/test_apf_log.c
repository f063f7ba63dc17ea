/* apf_log.c: the token bookkeeping of real async page faults. */
#include <stdint.h>

#include "checks/pv_msrs/apf_log.h"
#include "unit.h"

static const char *unit_name = "apf_log";

static void answered_in_any_order(void)
{
    struct apf_log l;
    apf_log_reset(&l);
    apf_log_not_present(&l, 0x1000);
    apf_log_not_present(&l, 0x2000);
    CHECK(apf_log_waiting(&l, 0x1000) && apf_log_waiting(&l, 0x2000), "both wait");
    apf_log_ready(&l, 0x2000);
    CHECK(apf_log_waiting(&l, 0x1000) && !apf_log_waiting(&l, 0x2000), "one answered");
    apf_log_ready(&l, 0x1000);
    CHECK(l.n_outstanding == 0 && l.not_present == 2 && l.ready == 2, "all answered");
    CHECK(l.unannounced == 0 && l.duplicate == 0 && l.overflow == 0, "nothing wrong");
}

static void wake_all_answers_every_waiter(void)
{
    struct apf_log l;
    apf_log_reset(&l);
    apf_log_ready(&l, APF_WAKE_ALL); /* KVM's at enabling, with nothing waiting */
    apf_log_not_present(&l, 0x3000);
    apf_log_not_present(&l, 0x4000);
    apf_log_ready(&l, APF_WAKE_ALL);
    CHECK(l.n_outstanding == 0 && l.wake_all == 2 && l.ready == 0, "wake all");
    CHECK(l.unannounced == 0, "wake all is not an unannounced token");
}

static void faults_counted(void)
{
    struct apf_log l;
    apf_log_reset(&l);
    apf_log_ready(&l, 0x5000);
    CHECK(l.unannounced == 1 && l.first_unannounced == 0x5000, "unannounced 'page ready'");
    apf_log_not_present(&l, 0x6000);
    apf_log_not_present(&l, 0x6000);
    CHECK(l.duplicate == 1 && l.first_duplicate == 0x6000 && l.n_outstanding == 1,
          "a token repeated while waiting");
    apf_log_ready(&l, 0x6000);
    apf_log_ready(&l, 0x6000);
    CHECK(l.unannounced == 2 && l.n_outstanding == 0, "a token answered twice");
}

static void table_full(void)
{
    struct apf_log l;
    apf_log_reset(&l);
    for (uint32_t i = 0; i < APF_LOG_MAX_OUTSTANDING + 3; i++)
        apf_log_not_present(&l, 0x10000 + i);
    CHECK(l.n_outstanding == APF_LOG_MAX_OUTSTANDING && l.overflow == 3, "overflow %u",
          l.overflow);
    CHECK(!apf_log_waiting(&l, 0x10000 + APF_LOG_MAX_OUTSTANDING), "untracked token");
}

int main(void)
{
    RUN(answered_in_any_order);
    RUN(wake_all_answers_every_waiter);
    RUN(faults_counted);
    RUN(table_full);
    return unit_any_failed;
}
