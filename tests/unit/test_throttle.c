/* test_throttle.c: token buckets and the combined throttle, driven by a fake clock so every
 * number is exact: long-run rates, bursts, rate changes, extreme limits, debt for oversized
 * items, wait counters, and a multi-threaded smoke test. Only the sleep helper really sleeps. */
#include "throttle/throttle.h"
#include "lib/lib.h"
#include "tests/unit/tap.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>

#define SEC INT64_C(1000000000)
#define MS INT64_C(1000000)

/* Feeds items of `item` units from `*now` until the next one would start after `until`, always
 * waiting what the bucket says; returns the units admitted and leaves *now at the last start. */
static double run_bucket(bt_bucket_t *b, double item, int64_t *now, int64_t until) {
    double total = 0;
    for (;;) {
        int64_t w = bt_bucket_take(b, item, *now);
        if (*now + w > until)
            return total;
        *now += w;
        total += item;
    }
}

static void test_long_run(void) {
    bt_bucket_t b;
    int64_t now = 0;

    bt_bucket_init(&b, 1000, 0, now);
    double got = run_bucket(&b, 1, &now, 10 * SEC);
    is_int((int64_t)got, 11000, "1000/s for 10 s with a 1 s burst admits exactly 11000");

    now = 5 * SEC; /* any origin works */
    bt_bucket_init(&b, 333.3, 0, now);
    got = run_bucket(&b, 1, &now, now + 3600 * SEC);
    double want = 333.3 + 333.3 * 3600; /* burst + rate * time = 1200213.3 */
    ok(fabs(got - want) <= 1, "333.3/s for 1 hour admits %.0f, want %.1f within one item", got,
       want);

    now = 0;
    bt_bucket_init(&b, 1e6, 0, now); /* 1 MB/s, 1000-byte rows */
    got = run_bucket(&b, 1000, &now, 3600 * SEC);
    ok(fabs(got - (1e6 + 1e6 * 3600)) <= 1000, "1 MB/s for 1 hour admits %.0f bytes", got);

    /* Not only on average: at 50/s every whole second after the first starts exactly 50 items
     * (second 0 also spends the 50-item burst). */
    now = 0;
    bt_bucket_init(&b, 50, 0, now);
    int per_second[60] = {0};
    for (;;) {
        now += bt_bucket_take(&b, 1, now);
        if (now >= 60 * SEC)
            break;
        per_second[now / SEC]++;
    }
    int exact = per_second[0] == 99;
    for (int s = 1; s < 60; s++)
        exact &= per_second[s] == 50;
    ok(exact, "50/s: 99 items start in second 0 (burst 50 + 49), then exactly 50 a second");
}

static void test_burst(void) {
    bt_bucket_t b;
    bt_bucket_init(&b, 100, 500, 0);
    int zero = 0;
    for (int i = 0; i < 500; i++)
        zero += bt_bucket_take(&b, 1, 0) == 0;
    is_int(zero, 500, "a 500-unit burst admits 500 at once");
    is_int(bt_bucket_take(&b, 1, 0), 10 * MS, "the 501st waits 1/rate = 10 ms");

    bt_bucket_init(&b, 100, 0, 0);
    zero = 0;
    for (int i = 0; i < 100; i++)
        zero += bt_bucket_take(&b, 1, 0) == 0;
    is_int(zero, 100, "default burst is one second of budget (100)");
    is_int(bt_bucket_take(&b, 1, 0), 10 * MS, "then 10 ms per item");

    /* After a long idle period the credit is capped at the burst. */
    int64_t t = 3600 * SEC;
    is_int(bt_bucket_peek_wait(&b, 100, t), 0, "after an idle hour 100 can go at once");
    is_int(bt_bucket_peek_wait(&b, 101, t), 10 * MS, "but not 101: credit capped at the burst");
    is_int(bt_bucket_take(&b, 100, t), 0, "take the burst");
    is_int(bt_bucket_peek_wait(&b, 0, t), 0, "bucket empty, no debt");
    is_int(bt_bucket_peek_wait(&b, 0, t + 250 * MS), 0, "peek at a later time");
    is_int(bt_bucket_peek_wait(&b, 30, t + 250 * MS), 50 * MS,
           "peek: 25 earned in 250 ms, 30 needs 50 ms more");
    is_int(bt_bucket_take(&b, 30, t + 250 * MS), 50 * MS, "take agrees with peek");

    /* One item larger than the burst (5 MB at 1 MB/s) still passes, then the debt is paid. */
    bt_bucket_init(&b, 1e6, 0, 0);
    is_int(bt_bucket_take(&b, 5e6, 0), 4 * SEC, "5 MB row at 1 MB/s: admitted, wait 4 s");
    is_int(bt_bucket_peek_wait(&b, 0, 1 * SEC), 3 * SEC, "debt shrinks as time passes");
    is_int(bt_bucket_take(&b, 1, 4 * SEC), 1000, "at 4 s the debt is paid: 1 byte waits 1 us");
}

static void test_rate_change(void) {
    bt_bucket_t b;
    int64_t now = 0;
    bt_bucket_init(&b, 100, 0, now);
    double got = run_bucket(&b, 1, &now, 5 * SEC);
    is_int((int64_t)got, 600, "100/s for 5 s: 100 + 500");
    bt_bucket_set_rate(&b, 1000, 0, now);
    got = run_bucket(&b, 1, &now, 10 * SEC);
    ok(fabs(got - 5000) <= 1, "then 1000/s for 5 s admits 5000 (got %.0f), no new burst", got);

    /* Lowering the limit clamps saved credit to the new burst. */
    bt_bucket_init(&b, 1000, 0, 0);
    bt_bucket_set_rate(&b, 10, 0, 0);
    is_int(bt_bucket_peek_wait(&b, 10, 0), 0, "credit clamped to the new burst: 10 go");
    is_int(bt_bucket_peek_wait(&b, 11, 0), 100 * MS, "the 11th waits 1/10 s");

    /* Raising it does not hand out credit that was never earned. */
    bt_bucket_init(&b, 10, 0, 0);
    bt_bucket_take(&b, 10, 0);
    bt_bucket_set_rate(&b, 1000, 0, 0);
    is_int(bt_bucket_peek_wait(&b, 1, 0), 1 * MS, "raising the rate keeps the bucket empty");

    /* Credit earned before the change counts at the old rate. */
    bt_bucket_init(&b, 10, 100, 0);
    bt_bucket_take(&b, 100, 0);
    bt_bucket_set_rate(&b, 1000, 100, 2 * SEC); /* 20 earned at 10/s */
    is_int(bt_bucket_peek_wait(&b, 20, 2 * SEC), 0, "20 units earned at the old rate");
    is_int(bt_bucket_peek_wait(&b, 21, 2 * SEC), 1 * MS, "the 21st is paid at the new rate");

    /* A debt is kept and paid back at the new rate. */
    bt_bucket_init(&b, 100, 0, 0);
    is_int(bt_bucket_take(&b, 500, 0), 4 * SEC, "debt of 400 at 100/s: 4 s");
    bt_bucket_set_rate(&b, 200, 0, 0);
    is_int(bt_bucket_peek_wait(&b, 0, 0), 2 * SEC, "same debt at 200/s: 2 s");
    bt_bucket_set_rate(&b, 0, 0, 1 * SEC);
    is_int(bt_bucket_take(&b, 1e9, 1 * SEC), 0, "switched to unlimited: no wait");
    bt_bucket_set_rate(&b, 10, 0, 2 * SEC);
    is_int(bt_bucket_peek_wait(&b, 10, 2 * SEC), 0, "limited again: starts with a full burst");
    is_int(bt_bucket_peek_wait(&b, 11, 2 * SEC), 100 * MS, "and only that");
}

static void test_extremes(void) {
    bt_bucket_t b;
    int64_t now = 0;

    bt_bucket_init(&b, 1e12, 0, 0); /* 1 TB/s */
    int zero = 0;
    for (int i = 0; i < 1000000; i++)
        zero += bt_bucket_take(&b, 1e6, 0) == 0;
    is_int(zero, 1000000, "1e12/s: a million 1 MB items fit the 1e12 burst");
    is_int(bt_bucket_take(&b, 1e6, 0), 1000, "the next 1 MB waits exactly 1 us");
    bt_bucket_init(&b, 1e12, 0, 0);
    is_int(bt_bucket_take(&b, 1e12 + 1, 0), 1, "a debt of 1 byte at 1e12/s still waits 1 ns");
    now = 0;
    bt_bucket_init(&b, 1e12, 0, now);
    double got = run_bucket(&b, 1e9, &now, 10 * SEC);
    ok(fabs(got - 1.1e13) <= 1e9, "1e12/s for 10 s admits 1.1e13 (got %.4g)", got);

    bt_bucket_init(&b, 0.5, 0, 0); /* one item every two seconds, burst of half an item */
    is_int(bt_bucket_take(&b, 1, 0), 1 * SEC, "0.5/s: the first item pays off its half-item debt");
    is_int(bt_bucket_take(&b, 1, 1 * SEC), 2 * SEC, "then 2 s per item");
    now = 0;
    bt_bucket_init(&b, 0.5, 0, now);
    got = run_bucket(&b, 1, &now, 3600 * SEC);
    ok(fabs(got - (0.5 + 1800)) <= 1, "0.5/s for an hour admits %.0f (want 1800.5 +- 1)", got);

    bt_bucket_init(&b, 1e-9, 0, 0);
    is_int(bt_bucket_take(&b, 1e12, 0), INT64_MAX, "a wait beyond int64 is capped");

    /* Many small items and a few large ones get the same long-run byte rate. */
    double small, large;
    now = 0;
    bt_bucket_init(&b, 1e6, 0, now);
    small = run_bucket(&b, 100, &now, 10 * SEC);
    now = 0;
    bt_bucket_init(&b, 1e6, 0, now);
    large = run_bucket(&b, 5e6, &now, 10 * SEC);
    ok(fabs(small - 1.1e7) <= 100, "1 MB/s, 100-byte items: %.0f bytes in 10 s", small);
    ok(fabs(large - 1.1e7) <= 5e6 && large >= 1e7,
       "1 MB/s, 5 MB items: %.0f bytes in 10 s (within one item)", large);
    now = 0;
    bt_bucket_init(&b, 1e6, 0, now);
    large = run_bucket(&b, 5e6, &now, 3600 * SEC);
    ok(fabs(large - 3.601e9) <= 5e6, "1 MB/s, 5 MB items for 1 hour: %.0f bytes", large);
}

static void test_unlimited(void) {
    bt_bucket_t b;
    const double rates[] = {0, -5, NAN, INFINITY};
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        bt_bucket_init(&b, rates[i], 0, 0);
        int64_t sum = 0;
        for (int k = 0; k < 1000; k++)
            sum += bt_bucket_take(&b, 1e15, k * MS) + bt_bucket_peek_wait(&b, 1e18, k * MS);
        is_int(sum, 0, "rate %g is unlimited: never a wait", rates[i]);
    }
    bt_bucket_init(&b, 10, 0, 0);
    is_int(bt_bucket_take(&b, -3, 0) + bt_bucket_take(&b, NAN, 0), 0,
           "negative and NaN amounts take nothing");
    is_int(bt_bucket_peek_wait(&b, 10, 0), 0, "the bucket is still full");

    /* A clock that steps back credits nothing and does not rewind the bucket. */
    bt_bucket_init(&b, 10, 0, 10 * SEC);
    bt_bucket_take(&b, 10, 10 * SEC);
    is_int(bt_bucket_take(&b, 1, 5 * SEC), 100 * MS, "an older time earns nothing");
    is_int(bt_bucket_peek_wait(&b, 0, 10 * SEC + 100 * MS), 0, "time still counts from 10 s");
}

static void test_throttle_api(void) {
    char err[256];
    bt_throttle_limits_t l = {.stream_rows_per_sec = 100, .stream_bytes_per_sec = 1000};
    bt_throttle_t *t = bt_throttle_new(&l, 0, err, sizeof err);
    ok(t != NULL, "throttle_new: %s", t ? "ok" : err);
    if (!t)
        return;
    /* 50-byte rows: bytes (1000/s = 20 rows/s) bind before rows (100/s). */
    int64_t now = 0;
    int rows = 0;
    for (;;) {
        int64_t w = bt_throttle_take(t, BT_THROTTLE_STREAM, 1, 50, 0, now);
        if (now + w > 10 * SEC)
            break;
        now += w;
        rows++;
    }
    is_int(rows, 20 + 200, "stream limited by bytes/s: 20 burst + 20/s * 10 s rows");
    bt_throttle_stats_t st;
    bt_throttle_get_stats(t, BT_THROTTLE_STREAM, &st);
    /* The 21st..221st takes each waited 50 ms (the last one over the horizon counts too). */
    is_uint(st.waits, 201, "stream waits counted");
    is_uint(st.waited_ns, 201 * 50 * MS, "stream waited ns summed");
    bt_throttle_get_stats(t, BT_THROTTLE_SNAPSHOT, &st);
    ok(st.waits == 0 && st.waited_ns == 0, "snapshot counters untouched");
    is_int(bt_throttle_take(t, BT_THROTTLE_SNAPSHOT, 1e9, 1e12, 1e6, now), 0,
           "snapshot unlimited while only stream limits are set");

    /* Longest wait wins across the snapshot's three buckets. */
    l.snapshot_queries_per_sec = 2;
    l.snapshot_rows_per_sec = 1000;
    l.snapshot_bytes_per_sec = 1e6;
    ok(bt_throttle_set_limits(t, &l, now, err, sizeof err) == 0, "set snapshot limits");
    is_int(bt_throttle_take(t, BT_THROTTLE_SNAPSHOT, 1000, 1e6, 1, now), 0, "burst covers it");
    is_int(bt_throttle_take(t, BT_THROTTLE_SNAPSHOT, 0, 1e5, 2, now), 500 * MS,
           "queries bind: 3 queries in one instant at 2/s wait 500 ms (bytes only 100 ms)");
    is_int(bt_throttle_take(t, BT_THROTTLE_SNAPSHOT, 0, 3e6, 0, now), 3100 * MS,
           "bytes dominate: 3.1 MB of debt at 1 MB/s");
    is_int(bt_throttle_take(t, BT_THROTTLE_STREAM, 0, 0, 1e9, now + 10 * SEC), 0,
           "queries are ignored for the stream");
    bt_throttle_get_stats(t, BT_THROTTLE_SNAPSHOT, &st);
    ok(st.waits == 2 && st.waited_ns == (uint64_t)(3600 * MS), "snapshot: 2 waits, 3.6 s");

    /* Invalid limits are refused by name and leave the old ones in force. */
    bt_throttle_limits_t badl = l;
    badl.snapshot_rows_per_sec = -1;
    ok(bt_throttle_set_limits(t, &badl, now, err, sizeof err) == -1 &&
           strstr(err, "snapshot_rows_per_sec") && strstr(err, "-1"),
       "negative limit refused: %s", err);
    badl = l;
    badl.burst_seconds = NAN;
    ok(bt_throttle_set_limits(t, &badl, now, err, sizeof err) == -1 &&
           strstr(err, "burst_seconds"),
       "NaN burst refused: %s", err);
    bt_throttle_limits_t cur;
    bt_throttle_get_limits(t, &cur);
    ok(cur.snapshot_rows_per_sec == 1000 && isfinite(cur.burst_seconds), "old limits kept");
    badl = l;
    badl.stream_bytes_per_sec = INFINITY;
    ok(bt_throttle_new(&badl, 0, err, sizeof err) == NULL && strstr(err, "stream_bytes_per_sec"),
       "new refuses an infinite limit: %s", err);
    bt_throttle_free(t);

    /* burst_seconds scales every bucket's idle credit. */
    bt_throttle_limits_t b2 = {.stream_rows_per_sec = 10, .burst_seconds = 3};
    t = bt_throttle_new(&b2, 0, err, sizeof err);
    is_int(bt_throttle_take(t, BT_THROTTLE_STREAM, 30, 0, 0, 0), 0, "3 s of burst: 30 at once");
    is_int(bt_throttle_take(t, BT_THROTTLE_STREAM, 1, 0, 0, 0), 100 * MS, "then 10/s");
    bt_throttle_free(t);

    t = bt_throttle_new(NULL, 0, err, sizeof err);
    int64_t sum = 0;
    for (int i = 0; i < 1000; i++)
        sum += bt_throttle_take(t, (bt_throttle_kind_t)(i % 2), 1e6, 1e9, 1e3, 0);
    is_int(sum, 0, "NULL limits: unlimited");
    bt_throttle_free(t);
    bt_throttle_free(NULL);
}

/* ---- threads ---- */

enum { THREADS = 4, TAKES = 10000 };
static bt_throttle_t *shared;
static atomic_int stop_flag;

static void *taker(void *arg) {
    (void)arg;
    for (int i = 0; i < TAKES; i++)
        bt_throttle_take(shared, BT_THROTTLE_STREAM, 1, 0, 0, 0);
    return NULL;
}

static void *setter(void *arg) {
    const bt_throttle_limits_t *l = arg;
    char err[128];
    bt_throttle_stats_t st;
    while (!atomic_load(&stop_flag)) {
        bt_throttle_set_limits(shared, l, 0, err, sizeof err);
        bt_throttle_get_stats(shared, BT_THROTTLE_STREAM, &st);
    }
    return NULL;
}

static void test_threads(void) {
    char err[128];
    /* Everything happens at time 0, so the result is exact only if no take is lost: 40000 rows
     * against a burst of 1000 at 1000/s. The setter re-applies the same limits all along, which
     * must not disturb the state. */
    bt_throttle_limits_t l = {.stream_rows_per_sec = 1000};
    shared = bt_throttle_new(&l, 0, err, sizeof err);
    pthread_t th[THREADS], st;
    atomic_store(&stop_flag, 0);
    pthread_create(&st, NULL, setter, &l);
    for (int i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, taker, NULL);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    atomic_store(&stop_flag, 1);
    pthread_join(st, NULL);

    const int64_t debt = THREADS * TAKES - 1000;
    is_int(bt_throttle_take(shared, BT_THROTTLE_STREAM, 0, 0, 0, 0), debt * MS,
           "after %d concurrent takes the debt is exactly %lld rows", THREADS * TAKES,
           (long long)debt);
    bt_throttle_stats_t s;
    bt_throttle_get_stats(shared, BT_THROTTLE_STREAM, &s);
    /* The k-th take past the burst waited k ms: waits 1..debt, in whatever order. */
    is_uint(s.waits, (uint64_t)debt + 1, "every waiting take counted (plus the final probe)");
    is_uint(s.waited_ns, (uint64_t)(debt * (debt + 1) / 2 + debt) * (uint64_t)MS,
            "waited ns sum exact");
    bt_throttle_free(shared);
}

static void test_sleep(void) {
    int64_t t0 = bt_mono_ns();
    bt_throttle_sleep_ns(0);
    bt_throttle_sleep_ns(-5);
    int64_t t1 = bt_mono_ns();
    bt_throttle_sleep_ns(3 * MS);
    int64_t t2 = bt_mono_ns();
    ok(t1 >= t0 && t1 - t0 < 2 * MS, "sleep of <= 0 returns at once (%lld ns)",
       (long long)(t1 - t0));
    ok(t2 - t1 >= 3 * MS, "sleep 3 ms lasts at least 3 ms (%lld ns)", (long long)(t2 - t1));
}

int main(void) {
    test_long_run();
    test_burst();
    test_rate_change();
    test_extremes();
    test_unlimited();
    test_throttle_api();
    test_threads();
    test_sleep();
    return tap_done();
}
