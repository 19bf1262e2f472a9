/* queue.c: the bounded queue between the reader threads and the caller's thread, and the
 * messages it carries (a row, a table's start, a chunk's end).
 *
 * DESIGN: the pipeline is single-threaded, so readers convert rows into typed values and hand
 * them over here, and only the caller's thread calls bt_pipeline_*. The queue is bounded by
 * count and by bytes: a full queue stops the readers, whose streaming SELECTs then wait on the
 * network (their sessions get a long net_write_timeout for that), so memory stays bounded by
 * the queue whatever the table sizes. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/snapshot/internal.h"
#include "lib/lib.h"

#define QUEUE_MAX_ROWS  8192
#define QUEUE_MAX_BYTES ((size_t)64 << 20)

/* ---------------------------------------------------------------- messages */

bt_snap_msg_t *bt_snap_msg_new(bt_snap_msg_kind_t kind, size_t entry, bt_snap_table_t *st) {
    bt_snap_msg_t *m = bt_xcalloc(1, sizeof *m);
    m->kind = kind;
    m->entry = entry;
    m->st = st;
    m->bytes = sizeof *m;
    return m;
}

void bt_snap_msg_free(bt_snap_msg_t *m) {
    if (!m) return;
    free(m->key);
    free(m);
}

/* ---------------------------------------------------------------- the queue */

void bt_snap_queue_init(bt_snap_queue_t *q) {
    memset(q, 0, sizeof *q);
    pthread_mutex_init(&q->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->not_empty, &ca);
    pthread_cond_init(&q->not_full, &ca);
    pthread_condattr_destroy(&ca);
}

void bt_snap_queue_destroy(bt_snap_queue_t *q) {
    bt_snap_msg_t *m = q->head;
    while (m) {
        bt_snap_msg_t *next = m->next;
        bt_snap_msg_free(m);
        m = next;
    }
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
}

/* Wakes every waiter: the run is ending. */
void bt_snap_queue_wake(bt_snap_queue_t *q) {
    pthread_mutex_lock(&q->lock);
    pthread_cond_broadcast(&q->not_full);
    pthread_cond_broadcast(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
}

/* Hands m over (the queue owns it from here, even on failure). -1 when the run is ending. */
int bt_snap_queue_push(bt_snap_run_t *run, bt_snap_msg_t *m) {
    bt_snap_queue_t *q = &run->q;
    pthread_mutex_lock(&q->lock);
    /* A row larger than the byte bound still goes, alone. */
    while (!bt_snap_pace_stopped(&run->pace) &&
           (q->count >= QUEUE_MAX_ROWS || (q->count > 0 && q->bytes + m->bytes > QUEUE_MAX_BYTES))) {
        struct timespec ts;
        bt_mono_deadline(&ts, 100); /* recheck the stop flag (a signal cannot signal a condvar) */
        pthread_cond_timedwait(&q->not_full, &q->lock, &ts);
    }
    if (bt_snap_pace_stopped(&run->pace)) {
        pthread_mutex_unlock(&q->lock);
        bt_snap_msg_free(m);
        return -1;
    }
    m->next = NULL;
    if (q->tail)
        q->tail->next = m;
    else
        q->head = m;
    q->tail = m;
    q->count++;
    q->bytes += m->bytes;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

/* Takes everything queued (a list), waiting up to timeout_ms for something. */
bt_snap_msg_t *bt_snap_queue_take_all(bt_snap_queue_t *q, int timeout_ms) {
    pthread_mutex_lock(&q->lock);
    if (!q->head && timeout_ms > 0) {
        struct timespec ts;
        bt_mono_deadline(&ts, timeout_ms);
        pthread_cond_timedwait(&q->not_empty, &q->lock, &ts);
    }
    bt_snap_msg_t *m = q->head;
    q->head = q->tail = NULL;
    q->count = 0;
    q->bytes = 0;
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->lock);
    return m;
}
