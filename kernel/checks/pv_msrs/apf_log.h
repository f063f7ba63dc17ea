/* The bookkeeping of real asynchronous page faults, pure so that the host
 * tests can drive it: every 'page not present' token (CR2 at the #PF) must
 * be answered by one 'page ready' carrying the same token (msr.rst), and
 * the 'wake all' token 0xffffffff answers none. */
#ifndef PVCHECK_APF_LOG_H
#define PVCHECK_APF_LOG_H

#include <stdbool.h>
#include <stdint.h>

#define APF_LOG_MAX_OUTSTANDING 64
#define APF_WAKE_ALL 0xffffffffu

struct apf_log {
    uint32_t outstanding[APF_LOG_MAX_OUTSTANDING];
    unsigned n_outstanding;
    unsigned not_present, ready, wake_all;
    unsigned duplicate;     /* 'page not present' with a token already waiting */
    unsigned unannounced;   /* 'page ready' for a token never announced */
    unsigned overflow;      /* more waiting tokens than the table holds */
    uint32_t first_duplicate, first_unannounced;
};

void apf_log_reset(struct apf_log *l);
void apf_log_not_present(struct apf_log *l, uint32_t token);
void apf_log_ready(struct apf_log *l, uint32_t token);
bool apf_log_waiting(const struct apf_log *l, uint32_t token);

#endif
