#include "checks/pv_msrs/apf_log.h"

void apf_log_reset(struct apf_log *l)
{
    *l = (struct apf_log){ 0 };
}

static int find(const struct apf_log *l, uint32_t token)
{
    for (unsigned i = 0; i < l->n_outstanding; i++)
        if (l->outstanding[i] == token)
            return (int)i;
    return -1;
}

bool apf_log_waiting(const struct apf_log *l, uint32_t token)
{
    return find(l, token) >= 0;
}

void apf_log_not_present(struct apf_log *l, uint32_t token)
{
    l->not_present++;
    if (find(l, token) >= 0) {
        if (!l->duplicate++)
            l->first_duplicate = token;
        return;
    }
    if (l->n_outstanding == APF_LOG_MAX_OUTSTANDING) {
        l->overflow++;
        return;
    }
    l->outstanding[l->n_outstanding++] = token;
}

void apf_log_ready(struct apf_log *l, uint32_t token)
{
    if (token == APF_WAKE_ALL) {
        l->wake_all++;
        l->n_outstanding = 0; /* every waiter wakes */
        return;
    }
    l->ready++;
    int i = find(l, token);
    if (i < 0) {
        if (!l->unannounced++)
            l->first_unannounced = token;
        return;
    }
    l->outstanding[i] = l->outstanding[--l->n_outstanding];
}
