/* throttle.h: rate limits for the change stream and for snapshots (--max-rows-per-sec etc.).
 *
 * The logic is a token bucket whose functions take the current time as an argument (int64
 * nanoseconds on any monotonic clock), so it never reads a clock or sleeps itself and tests are
 * exact without waiting. Callers ask how long to wait, then sleep with bt_throttle_sleep_ns().
 *
 * A take is always recorded, even when the bucket cannot cover it: the tokens go negative (a
 * debt) and the wait returned is the time to pay it back. So an item larger than the burst, say a
 * 5 MB row under a 1 MB/s limit, still goes through (after 4 s, with a 1 MB burst available), and
 * over any long run the admitted amount is exactly rate * time + burst, never more and never
 * less by more than one item. */
#ifndef BT_THROTTLE_H
#define BT_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- token bucket (not thread-safe by itself; bt_throttle_t adds the locking) ---- */

typedef struct {
    double rate;     /* units per second; 0 = unlimited */
    double burst;    /* most tokens that can accumulate while idle */
    double tokens;   /* available now; negative = debt still to be paid back */
    int64_t last_ns; /* time tokens was last brought up to date */
} bt_bucket_t;

/* Sets up a bucket with `rate` units/s and `burst` units of idle credit; burst <= 0 means one
 * second of budget (burst = rate). The bucket starts full. rate <= 0 (or NaN/infinite) means
 * unlimited: every take returns 0. */
void bt_bucket_init(bt_bucket_t *b, double rate, double burst, int64_t now_ns);

/* Changes the limits mid-stream. Credit earned so far is kept at the old rate up to now_ns, then
 * clamped to the new burst; a debt stays and is paid back at the new rate. Going from unlimited to
 * limited starts with a full bucket. */
void bt_bucket_set_rate(bt_bucket_t *b, double rate, double burst, int64_t now_ns);

/* Records taking n units at now_ns and returns how many ns the caller must wait before it
 * proceeds (0 = go now): the time until the bucket is out of debt again. Times earlier than the
 * last one seen (another thread's older clock reading) credit nothing. Waits are rounded up to
 * whole ns, and capped at INT64_MAX. */
int64_t bt_bucket_take(bt_bucket_t *b, double n, int64_t now_ns);

/* What bt_bucket_take(b, n, now_ns) would return, without recording anything. n = 0 gives the
 * time until any current debt is paid. */
int64_t bt_bucket_peek_wait(const bt_bucket_t *b, double n, int64_t now_ns);

/* ---- the daemon's combined throttle ---- */

typedef enum {
    BT_THROTTLE_STREAM,   /* binlog events sent to Kafka: rows/s and bytes/s */
    BT_THROTTLE_SNAPSHOT, /* initial snapshot: SELECT queries/s, rows/s, bytes/s */
    BT_THROTTLE_KINDS
} bt_throttle_kind_t;

/* Limits per second; 0 = unlimited. */
typedef struct {
    double stream_rows_per_sec;
    double stream_bytes_per_sec;
    double snapshot_queries_per_sec;
    double snapshot_rows_per_sec;
    double snapshot_bytes_per_sec;
    double burst_seconds; /* idle credit of every limit, in seconds of its rate; 0 = 1 second */
} bt_throttle_limits_t;

/* Wait counters of one kind, for metrics and the "lag caused by throttling" alert. */
typedef struct {
    uint64_t waits;     /* takes that returned a non-zero wait */
    uint64_t waited_ns; /* sum of those waits */
} bt_throttle_stats_t;

typedef struct bt_throttle bt_throttle_t;

/* Checks limits without applying them: every field must be finite and >= 0. Returns 0, or -1 with
 * a message naming the bad field. */
int bt_throttle_limits_check(const bt_throttle_limits_t *limits, char *err, size_t errlen);

/* Creates a throttle with these limits (NULL = all unlimited). Returns NULL with a message if the
 * limits are invalid or memory runs out. */
bt_throttle_t *bt_throttle_new(const bt_throttle_limits_t *limits, int64_t now_ns, char *err,
                               size_t errlen);

/* Replaces the limits (each bucket as bt_bucket_set_rate()). On invalid limits returns -1 with a
 * message and keeps the old ones. Safe to call while other threads are in bt_throttle_take(). */
int bt_throttle_set_limits(bt_throttle_t *t, const bt_throttle_limits_t *limits, int64_t now_ns,
                           char *err, size_t errlen);

/* Copies the current limits to *out. Thread-safe. */
void bt_throttle_get_limits(bt_throttle_t *t, bt_throttle_limits_t *out);

/* Records rows, bytes and (snapshot only; ignored for STREAM) queries against the kind's buckets
 * and returns the longest wait any of them asks for, in ns (0 = go now). Non-zero waits are
 * counted in the kind's stats. Thread-safe. */
int64_t bt_throttle_take(bt_throttle_t *t, bt_throttle_kind_t kind, double rows, double bytes,
                         double queries, int64_t now_ns);

/* The wait the kind's debt asks for now (0 = none), without taking anything. Thread-safe. */
int64_t bt_throttle_debt_ns(bt_throttle_t *t, bt_throttle_kind_t kind, int64_t now_ns);

/* The one wait every throttled reader uses: sleeps in slices of at most BT_THROTTLE_SLICE_NS
 * until the kind's debt is paid, asking the debt afresh each slice (so a limit raised or
 * lowered meanwhile applies at once) and calling serve(ctx) before each slice (serve delivery
 * reports; return false to stop waiting). Returns true when the debt is paid, false when
 * serve said stop. */
#define BT_THROTTLE_SLICE_NS 50000000 /* 50 ms: a stop or a new limit is noticed this fast */
bool bt_throttle_wait(bt_throttle_t *t, bt_throttle_kind_t kind, bool (*serve)(void *ctx), void *ctx);

/* Reads the wait counters of one kind; lock-free. The two fields are read separately, so under
 * concurrent takes they may be one take apart. */
void bt_throttle_get_stats(const bt_throttle_t *t, bt_throttle_kind_t kind,
                           bt_throttle_stats_t *out);

void bt_throttle_free(bt_throttle_t *t);

/* ---- clock and sleep (kept apart from the logic above, which never calls them) ---- */

/* Sleeps ns nanoseconds (nothing if ns <= 0), resuming after signals until the time is up. */
void bt_throttle_sleep_ns(int64_t ns);

#endif
