/* internal.h: what the files of alerts/ share with each other. Private: nothing outside
 * alerts/ includes it; the public API is alerts.h.
 *
 * DESIGN. One mutex (mu) guards the rule state, the raised events and every URL's waiting
 * queue; it is held only for short in-memory work, never across libcurl calls, so a raise from
 * the reader thread waits microseconds at most. Everything that touches libcurl (the multi
 * handle, transfers in flight, retry timers) belongs to the thread that pumps, so it needs no
 * lock. A notification is made once (bt_alerts_note_t, reference-counted) and queued as one
 * item per URL; each URL sends its items one at a time, in order, so a receiver sees firing
 * before resolved and a dead receiver only ever delays (and, when its queue fills, drops) its
 * own notifications. */
#ifndef BT_ALERTS_INTERNAL_H
#define BT_ALERTS_INTERNAL_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>

#include "alerts/alerts.h"
#include "lib/lib.h"

/* Raised one-off events remembered at once (for dedup and clear); the oldest cleared ones are
 * forgotten first. Agents raise a handful of names, so a small table is enough. */
#define BT_ALERTS_EVENTS_MAX 32

/* One notification, shared by the items queued for each URL. */
typedef struct bt_alerts_note {
    atomic_int refs;
    bt_alerts_notification_t n; /* its strings point into this struct or to the strdup'ed ones */
    char name[BT_ALERTS_NAME_MAX + 1];
    char *message, *source_file, *source_gtid;
} bt_alerts_note_t;

/* One delivery: a notification to one URL. */
typedef struct bt_alerts_item {
    struct bt_alerts_item *next;
    bt_alerts_note_t *note;
    int attempts;       /* attempts started so far */
    int64_t next_at_ms; /* not before this time (retry backoff); 0 = at once */
} bt_alerts_item_t;

/* One webhook URL with its queue and its (at most one) delivery in progress. */
typedef struct bt_alerts_target {
    char *url;
    char label[160]; /* scheme://host:port/... for logs: paths and userinfo often hold tokens */
    /* waiting items, oldest first: under a->mu */
    bt_alerts_item_t *head, *tail;
    size_t n;
    /* pump thread only */
    bt_alerts_item_t *active; /* taken from the queue: in flight when easy != NULL, else backing off */
    CURL *easy;
    struct curl_slist *hdrs;
    char *body;
    char errbuf[CURL_ERROR_SIZE];
    char resp[200]; /* start of the response body, for the log line of a failure */
    size_t resp_len;
} bt_alerts_target_t;

/* State of a condition-based alert (lag, sink_down). */
typedef struct bt_alerts_rule {
    int firing;           /* severity firing, or -1 */
    int64_t fired_at_ms;  /* start of the current incident */
    int64_t last_sent_ms; /* last firing notification (first, level change or reminder) */
} bt_alerts_rule_t;

/* A raised one-off event. */
typedef struct bt_alerts_event {
    char name[BT_ALERTS_NAME_MAX + 1];
    int raised; /* not cleared since the last raise */
    bt_alerts_severity_t severity;
    char *message; /* last one sent, for dedup */
    int64_t fired_at_ms, last_sent_ms;
} bt_alerts_event_t;

struct bt_alerts {
    /* settings: a private copy; the pointers in cfg point to the copies below */
    bt_alerts_config_t cfg;
    char **headers;
    unsigned char *secret;
    char *host, *agent;

    pthread_mutex_t mu;
    /* ---- under mu ---- */
    bt_alerts_rule_t lag, sink;
    int64_t lag_warn_since, lag_crit_since; /* lag above the threshold continuously since; -1 not */
    int64_t lag_not_crit_since;             /* lag at or below critical since (de-escalation) */
    int64_t sink_failing_since;             /* first evaluation that saw the sink failing; -1 */
    char source_file[256];
    uint64_t source_pos;
    char source_gtid[1024];
    bt_alerts_event_t events[BT_ALERTS_EVENTS_MAX];
    bt_alerts_target_t *targets;
    size_t n_targets;

    /* ---- pump thread only (curl_multi_wakeup is the exception: any thread) ---- */
    CURLM *multi;

    struct {
        _Atomic uint64_t notified, suppressed, sent, failed, retried, dropped, queued;
    } stats;
};

/* alerts.c */
void bt_alerts_logf(const bt_alerts_t *a, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Makes a notification from *n (name, severity, state, values, message, fired_at, at; the source
 * position is the last one evaluated), hands it to on_notify and the log, and queues it for every
 * URL. Caller holds a->mu. */
void bt_alerts_emit(bt_alerts_t *a, const bt_alerts_notification_t *n);
void bt_alerts_note_release(bt_alerts_note_t *note);

/* rules.c (caller holds a->mu) */
void bt_alerts_rules_init(bt_alerts_t *a);
void bt_alerts_rule_lag(bt_alerts_t *a, const bt_alerts_state_t *st);
void bt_alerts_rule_sink(bt_alerts_t *a, const bt_alerts_state_t *st);

/* body.c */
/* "850ms", "45.2s", "5m3s", "2h5m": durations in messages. */
void bt_alerts_fmt_duration(char *out, size_t cap, int64_t ms);
/* "2024-05-01T12:00:00.123Z" (UTC, milliseconds); out needs 32 bytes. */
void bt_alerts_fmt_iso8601(char *out, size_t cap, int64_t epoch_ms);
/* The body for n in cfg's format with cfg's host and agent name; malloc'ed, NULL on OOM. */
char *bt_alerts_body(const bt_alerts_config_t *cfg, const bt_alerts_notification_t *n,
                     int64_t sent_at_ms, size_t *len);

/* hmac.c: lowercase hex HMAC-SHA256 of data under key into out (65 bytes). 0, or -1 on failure. */
int bt_alerts_hmac_sha256_hex(const unsigned char *key, size_t keylen, const void *data, size_t len,
                              char out[65]);

/* sender.c */
/* Sets up libcurl and one target per URL (copied). */
int bt_alerts_targets_init(bt_alerts_t *a, const char *const *urls, size_t n, char *err,
                           size_t errlen);
void bt_alerts_targets_free(bt_alerts_t *a);
/* Queues note for every URL (drops the oldest of a full queue). Caller holds a->mu. */
void bt_alerts_enqueue(bt_alerts_t *a, bt_alerts_note_t *note);
/* Checks that url is http:// or https:// with a host; -1 with a message otherwise. */
int bt_alerts_check_url(const char *url, char *err, size_t errlen);
/* Checks a "Name: value" header line; -1 with a message otherwise. */
int bt_alerts_check_header(const char *h, char *err, size_t errlen);

#endif
