/* throttle.c: token buckets with debt, and the locked set of buckets the daemon throttles with.
 * Pure logic: time comes in as an argument; the clock and sleeping live in sleep.c. */
#include "throttle/throttle.h"
#include "lib/lib.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BT_NS_PER_SEC 1e9

static int bt_bucket_limited(double rate) {
    return isfinite(rate) && rate > 0;
}

static double bt_bucket_burst_for(double rate, double burst) {
    return isfinite(burst) && burst > 0 ? burst : rate;
}

/* Credits the tokens earned between last_ns and now_ns, up to the burst. */
static double bt_bucket_tokens_at(const bt_bucket_t *b, int64_t now_ns) {
    if (now_ns <= b->last_ns)
        return b->tokens;
    double earned = b->rate * ((double)(now_ns - b->last_ns) / BT_NS_PER_SEC);
    double t = b->tokens + earned;
    return t > b->burst ? b->burst : t;
}

static void bt_bucket_refill(bt_bucket_t *b, int64_t now_ns) {
    b->tokens = bt_bucket_tokens_at(b, now_ns);
    if (now_ns > b->last_ns)
        b->last_ns = now_ns;
}

/* Time until `tokens` climbs back to zero. Rounded up so that a caller who waits exactly this long
 * finds the debt paid; the fraction of a token that over-waiting earns stays in the bucket, so the
 * rounding does not slow the long-run rate. */
static int64_t bt_bucket_wait_for(double rate, double tokens) {
    if (tokens >= 0)
        return 0;
    /* Multiply before dividing: whole-token debts at whole rates then come out exact instead of
     * a rounding error above an integer that ceil() would turn into an extra nanosecond. */
    double ns = ceil(-tokens * BT_NS_PER_SEC / rate);
    if (!(ns < 9.2e18)) /* also catches NaN */
        return INT64_MAX;
    return ns < 1 ? 1 : (int64_t)ns;
}

void bt_bucket_init(bt_bucket_t *b, double rate, double burst, int64_t now_ns) {
    if (!bt_bucket_limited(rate)) {
        b->rate = b->burst = b->tokens = 0;
    } else {
        b->rate = rate;
        b->burst = bt_bucket_burst_for(rate, burst);
        b->tokens = b->burst;
    }
    b->last_ns = now_ns;
}

void bt_bucket_set_rate(bt_bucket_t *b, double rate, double burst, int64_t now_ns) {
    if (!bt_bucket_limited(b->rate)) {
        bt_bucket_init(b, rate, burst, now_ns > b->last_ns ? now_ns : b->last_ns);
        return;
    }
    bt_bucket_refill(b, now_ns); /* settle what was earned under the old rate */
    if (!bt_bucket_limited(rate)) {
        b->rate = b->burst = b->tokens = 0;
        return;
    }
    b->rate = rate;
    b->burst = bt_bucket_burst_for(rate, burst);
    if (b->tokens > b->burst)
        b->tokens = b->burst;
}

int64_t bt_bucket_take(bt_bucket_t *b, double n, int64_t now_ns) {
    if (!bt_bucket_limited(b->rate))
        return 0;
    bt_bucket_refill(b, now_ns);
    if (n > 0)
        b->tokens -= n;
    return bt_bucket_wait_for(b->rate, b->tokens);
}

int64_t bt_bucket_peek_wait(const bt_bucket_t *b, double n, int64_t now_ns) {
    if (!bt_bucket_limited(b->rate))
        return 0;
    return bt_bucket_wait_for(b->rate, bt_bucket_tokens_at(b, now_ns) - (n > 0 ? n : 0));
}

/* ---- bt_throttle_t ---- */

enum {
    BT_BUCKET_STREAM_ROWS,
    BT_BUCKET_STREAM_BYTES,
    BT_BUCKET_SNAPSHOT_QUERIES,
    BT_BUCKET_SNAPSHOT_ROWS,
    BT_BUCKET_SNAPSHOT_BYTES,
    BT_BUCKET_COUNT
};

struct bt_throttle {
    /* One mutex for all buckets: a take touches two or three of them and holds the lock for a
     * few arithmetic operations, so contention is negligible next to producing a Kafka record. */
    pthread_mutex_t lock;
    bt_throttle_limits_t limits;
    bt_bucket_t buckets[BT_BUCKET_COUNT];
    /* Atomics so that metrics and alerts can read them without taking the lock. */
    _Atomic uint64_t waits[BT_THROTTLE_KINDS];
    _Atomic uint64_t waited_ns[BT_THROTTLE_KINDS];
};

static const struct {
    const char *name;
    size_t offset;
} bt_throttle_fields[] = {
    {"stream_rows_per_sec", offsetof(bt_throttle_limits_t, stream_rows_per_sec)},
    {"stream_bytes_per_sec", offsetof(bt_throttle_limits_t, stream_bytes_per_sec)},
    {"snapshot_queries_per_sec", offsetof(bt_throttle_limits_t, snapshot_queries_per_sec)},
    {"snapshot_rows_per_sec", offsetof(bt_throttle_limits_t, snapshot_rows_per_sec)},
    {"snapshot_bytes_per_sec", offsetof(bt_throttle_limits_t, snapshot_bytes_per_sec)},
    {"burst_seconds", offsetof(bt_throttle_limits_t, burst_seconds)},
};

int bt_throttle_limits_check(const bt_throttle_limits_t *limits, char *err, size_t errlen) {
    for (size_t i = 0; i < sizeof bt_throttle_fields / sizeof bt_throttle_fields[0]; i++) {
        double v;
        memcpy(&v, (const char *)limits + bt_throttle_fields[i].offset, sizeof v);
        if (!isfinite(v) || v < 0) {
            snprintf(err, errlen, "throttle limit %s = %g is invalid: must be a finite number >= 0 "
                                  "(0 = unlimited)",
                     bt_throttle_fields[i].name, v);
            return -1;
        }
    }
    return 0;
}

/* Applies limits to every bucket; the caller holds the lock (or owns t exclusively). */
static void bt_throttle_apply(bt_throttle_t *t, const bt_throttle_limits_t *l, int64_t now_ns,
                              int init) {
    const double rates[BT_BUCKET_COUNT] = {
        [BT_BUCKET_STREAM_ROWS] = l->stream_rows_per_sec,
        [BT_BUCKET_STREAM_BYTES] = l->stream_bytes_per_sec,
        [BT_BUCKET_SNAPSHOT_QUERIES] = l->snapshot_queries_per_sec,
        [BT_BUCKET_SNAPSHOT_ROWS] = l->snapshot_rows_per_sec,
        [BT_BUCKET_SNAPSHOT_BYTES] = l->snapshot_bytes_per_sec,
    };
    double burst_s = l->burst_seconds > 0 ? l->burst_seconds : 1.0;
    for (int i = 0; i < BT_BUCKET_COUNT; i++) {
        if (init)
            bt_bucket_init(&t->buckets[i], rates[i], rates[i] * burst_s, now_ns);
        else
            bt_bucket_set_rate(&t->buckets[i], rates[i], rates[i] * burst_s, now_ns);
    }
    t->limits = *l;
}

bt_throttle_t *bt_throttle_new(const bt_throttle_limits_t *limits, int64_t now_ns, char *err,
                               size_t errlen) {
    static const bt_throttle_limits_t unlimited;
    if (!limits)
        limits = &unlimited;
    if (bt_throttle_limits_check(limits, err, errlen) != 0)
        return NULL;
    bt_throttle_t *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "throttle: out of memory");
        return NULL;
    }
    int rc = pthread_mutex_init(&t->lock, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "throttle: pthread_mutex_init failed: %s", strerror(rc));
        free(t);
        return NULL;
    }
    for (int k = 0; k < BT_THROTTLE_KINDS; k++) {
        atomic_init(&t->waits[k], 0);
        atomic_init(&t->waited_ns[k], 0);
    }
    bt_throttle_apply(t, limits, now_ns, 1);
    return t;
}

int bt_throttle_set_limits(bt_throttle_t *t, const bt_throttle_limits_t *limits, int64_t now_ns,
                           char *err, size_t errlen) {
    if (bt_throttle_limits_check(limits, err, errlen) != 0)
        return -1;
    pthread_mutex_lock(&t->lock);
    bt_throttle_apply(t, limits, now_ns, 0);
    pthread_mutex_unlock(&t->lock);
    return 0;
}

void bt_throttle_get_limits(bt_throttle_t *t, bt_throttle_limits_t *out) {
    pthread_mutex_lock(&t->lock);
    *out = t->limits;
    pthread_mutex_unlock(&t->lock);
}

int64_t bt_throttle_take(bt_throttle_t *t, bt_throttle_kind_t kind, double rows, double bytes,
                         double queries, int64_t now_ns) {
    if ((unsigned)kind >= BT_THROTTLE_KINDS)
        return 0;
    int64_t wait = 0, w;
    pthread_mutex_lock(&t->lock);
    if (kind == BT_THROTTLE_STREAM) {
        wait = bt_bucket_take(&t->buckets[BT_BUCKET_STREAM_ROWS], rows, now_ns);
        w = bt_bucket_take(&t->buckets[BT_BUCKET_STREAM_BYTES], bytes, now_ns);
        wait = w > wait ? w : wait;
    } else {
        wait = bt_bucket_take(&t->buckets[BT_BUCKET_SNAPSHOT_QUERIES], queries, now_ns);
        w = bt_bucket_take(&t->buckets[BT_BUCKET_SNAPSHOT_ROWS], rows, now_ns);
        wait = w > wait ? w : wait;
        w = bt_bucket_take(&t->buckets[BT_BUCKET_SNAPSHOT_BYTES], bytes, now_ns);
        wait = w > wait ? w : wait;
    }
    pthread_mutex_unlock(&t->lock);
    if (wait > 0) {
        atomic_fetch_add_explicit(&t->waits[kind], 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&t->waited_ns[kind], (uint64_t)wait, memory_order_relaxed);
    }
    return wait;
}

int64_t bt_throttle_debt_ns(bt_throttle_t *t, bt_throttle_kind_t kind, int64_t now_ns) {
    if ((unsigned)kind >= BT_THROTTLE_KINDS)
        return 0;
    int first = kind == BT_THROTTLE_STREAM ? BT_BUCKET_STREAM_ROWS : BT_BUCKET_SNAPSHOT_QUERIES;
    int last = kind == BT_THROTTLE_STREAM ? BT_BUCKET_STREAM_BYTES : BT_BUCKET_SNAPSHOT_BYTES;
    int64_t wait = 0;
    pthread_mutex_lock(&t->lock);
    for (int i = first; i <= last; i++) {
        int64_t w = bt_bucket_peek_wait(&t->buckets[i], 0, now_ns);
        wait = w > wait ? w : wait;
    }
    pthread_mutex_unlock(&t->lock);
    return wait;
}

bool bt_throttle_wait(bt_throttle_t *t, bt_throttle_kind_t kind, bool (*serve)(void *ctx), void *ctx) {
    for (;;) {
        /* asked afresh each slice: a limit changed meanwhile pays the debt back at its new rate */
        int64_t w = bt_throttle_debt_ns(t, kind, bt_mono_ns());
        if (w <= 0)
            return true;
        if (serve && !serve(ctx))
            return false;
        bt_throttle_sleep_ns(w < BT_THROTTLE_SLICE_NS ? w : BT_THROTTLE_SLICE_NS);
    }
}

void bt_throttle_get_stats(const bt_throttle_t *t, bt_throttle_kind_t kind,
                           bt_throttle_stats_t *out) {
    if ((unsigned)kind >= BT_THROTTLE_KINDS) {
        out->waits = out->waited_ns = 0;
        return;
    }
    /* atomic_load takes a non-const pointer in older C11 libraries; the cast only drops const. */
    bt_throttle_t *mt = (bt_throttle_t *)(uintptr_t)t;
    out->waits = atomic_load_explicit(&mt->waits[kind], memory_order_relaxed);
    out->waited_ns = atomic_load_explicit(&mt->waited_ns[kind], memory_order_relaxed);
}

void bt_throttle_free(bt_throttle_t *t) {
    if (!t)
        return;
    pthread_mutex_destroy(&t->lock);
    free(t);
}
