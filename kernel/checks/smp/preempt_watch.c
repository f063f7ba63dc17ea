#include "checks/smp/preempt_watch.h"

void preempt_watch_burst(struct preempt_watch *w, bool marked, bool steal_ok, uint64_t steal)
{
    if (w->pending && steal_ok && steal > w->pending_steal)
        w->pending = 0;
    if (!marked)
        return;
    w->marked_bursts++;
    /* An unreadable steal leaves nothing to grow past: it stays pending. */
    if (!w->pending++)
        w->pending_steal = steal_ok ? steal : UINT64_MAX;
}

void preempt_watch_close(struct preempt_watch *w, bool steal_ok, uint64_t steal)
{
    preempt_watch_burst(w, false, steal_ok, steal);
    w->unaccounted = w->pending;
}
