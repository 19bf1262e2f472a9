/* alerts.h: bintail's alerts: rules over the agent's state, and webhooks that never block it.
 *
 * The agent hands in a snapshot of its state about once a second (bt_alerts_evaluate); rules
 * decide which alerts fire, escalate, repeat or resolve; each notification is queued once per
 * webhook URL and sent by libcurl's multi interface from bt_alerts_pump(), which only does
 * non-blocking work. One-off events (source_error, stopped, ddl) come in via bt_alerts_raise().
 *
 * Time is a parameter: every function that depends on time takes `now_ms`, wall-clock
 * milliseconds since the Unix epoch (what bt_wall_ms() returns). Rules only look at
 * differences between the values they are given, so tests drive them with a fake clock; the
 * wall clock matters only for the fired_at/sent_at timestamps in the bodies. Only the blocking
 * helpers (bt_alerts_flush, bt_alerts_test_send) read the clock themselves.
 *
 * Threads: bt_alerts_evaluate, bt_alerts_pump, bt_alerts_wait and bt_alerts_flush belong to ONE
 * thread at a time (the agent's side thread; after it is joined, the main thread may flush).
 * bt_alerts_raise, bt_alerts_clear, bt_alerts_firing and bt_alerts_stats may be called from any
 * thread at any time (the reader thread raises ddl). bt_alerts_free when no other call runs.
 *
 * The wire format (JSON schema, Slack text, signature header) is documented in docs/alerts.md. */
#ifndef BT_ALERTS_H
#define BT_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Severity of an alert, as it appears in the body ("INFO", "WARNING", "CRITICAL"). */
typedef enum {
    BT_ALERTS_INFO = 0,
    BT_ALERTS_WARNING = 1,
    BT_ALERTS_CRITICAL = 2
} bt_alerts_severity_t;

typedef enum {
    BT_ALERTS_FORMAT_JSON = 0, /* the documented JSON object (schema 1) */
    BT_ALERTS_FORMAT_SLACK = 1 /* {"text": "<one line>"} for Slack-compatible incoming webhooks */
} bt_alerts_format_t;

/* Log levels passed to the log callback; the same numbers as the agent's BT_LOG_* levels. */
enum {
    BT_ALERTS_LOG_ERROR = 0,
    BT_ALERTS_LOG_WARN = 1,
    BT_ALERTS_LOG_INFO = 2,
    BT_ALERTS_LOG_DEBUG = 3
};

/* Longest alert name (letters, digits and '_'), without the terminating NUL. */
#define BT_ALERTS_NAME_MAX 63
/* Messages longer than this many bytes are cut (at a UTF-8 boundary) and end with "...". */
#define BT_ALERTS_MESSAGE_MAX 4096

/* One notification, as given to the on_notify callback and to bt_alerts_render(). Durations
 * are milliseconds here; the bodies carry them as seconds. Strings are never NULL; an unknown
 * source position is an empty file and gtid. */
typedef struct bt_alerts_notification {
    const char *name;              /* "lag", "sink_down", "source_error", "stopped", "ddl", ... */
    bt_alerts_severity_t severity; /* for "resolved", the severity that was firing */
    bool resolved;                 /* false = state "firing", true = state "resolved" */
    bool has_value;                /* value_ms is meaningful (lag, sink_down) */
    int64_t value_ms;              /* the measured lag / time the sink has been failing */
    bool has_threshold;
    int64_t threshold_ms; /* the threshold that was crossed */
    const char *message;  /* one human sentence, with the likely cause when known */
    int64_t fired_at_ms;  /* when this incident started firing (same for reminders and resolved) */
    int64_t at_ms;        /* when this notification was made */
    const char *source_file;
    uint64_t source_pos;
    const char *source_gtid;
} bt_alerts_notification_t;

/* One line (no newline, control characters blanked), without a prefix: the agent adds its own,
 * e.g. "alerts: ". */
typedef void (*bt_alerts_log_fn)(void *opaque, int level, const char *msg);
typedef void (*bt_alerts_notify_fn)(void *opaque, const bt_alerts_notification_t *n);

/* Settings. Start from bt_alerts_config_defaults() and change what you need: zero is a
 * meaningful value for several fields (lag_for_ms = 0 fires at once), so an all-zero struct
 * is not the defaults. bt_alerts_new() copies everything; the caller's memory may go away. */
typedef struct bt_alerts_config {
    /* webhooks: every notification goes to every URL (http:// or https:// only) */
    const char *const *urls;
    size_t n_urls;
    const char *const *headers; /* extra "Name: value" headers on every request */
    size_t n_headers;
    const unsigned char *secret; /* HMAC-SHA256 key (the bytes of --webhook-secret-file); NULL = unsigned */
    size_t secret_len;
    bt_alerts_format_t format;  /* default JSON */
    int64_t timeout_ms;         /* one request, connect included; default 5000 */
    int max_attempts;           /* attempts per notification and URL, first included; default 5 */
    int64_t retry_base_ms;      /* wait before the 2nd attempt, doubling after; default 1000 */
    int64_t retry_max_ms;       /* cap on that wait; default 60000 */
    size_t queue_max;           /* notifications waiting per URL; the oldest is dropped; default 100 */
    /* rules */
    int64_t lag_warning_ms;     /* lag above this: WARNING; default 30 s */
    int64_t lag_critical_ms;    /* lag above this: CRITICAL; default 300 s */
    int64_t lag_for_ms;         /* a lag level must last this long before it fires; default 30 s */
    int64_t sink_down_after_ms; /* sink failing longer than this: sink_down; default 30 s */
    int64_t alert_interval_ms;  /* least time between repeats of one firing alert; default 10 min */
    /* identity, in every body */
    const char *host;       /* NULL = gethostname() */
    const char *agent_name; /* default "bintail" */
    /* callbacks; both may be NULL. They run in the calling thread with the library's lock held:
     * keep them short and do not call bt_alerts_* from them. */
    bt_alerts_log_fn log;
    void *log_opaque;
    bt_alerts_notify_fn on_notify; /* every notification made, before it is queued */
    void *notify_opaque;
} bt_alerts_config_t;

/* The agent's state, read by bt_alerts_evaluate(). The caller fills it from its counters. */
typedef struct bt_alerts_state {
    int64_t now_ms;
    bool lag_known;             /* false (e.g. nothing read yet): the lag rule holds still */
    int64_t lag_ms;             /* commit time of the newest delivered transaction to now */
    int64_t throttle_waited_ns; /* time the throttle made the reader wait in the last second */
    bool sink_ok;               /* the last delivery attempt succeeded (or none failed yet) */
    int64_t sink_failing_ms;    /* when !sink_ok: how long deliveries have been failing (0 = unknown,
                                   the library then counts from the first evaluation that saw it) */
    bool source_advancing;      /* the source yielded events recently, or is caught up and idle */
    char source_file[256];      /* current binlog position ("" = unknown), for the bodies */
    uint64_t source_pos;
    char source_gtid[1024];
} bt_alerts_state_t;

/* Delivery counters since bt_alerts_new(); each counts deliveries, i.e. notification x URL. */
typedef struct bt_alerts_stats {
    uint64_t notified;   /* notifications made (firing, reminders, resolved), before fan-out */
    uint64_t suppressed; /* raises dropped as repeats within alert_interval */
    uint64_t sent;       /* answered 2xx */
    uint64_t failed;     /* given up: 4xx, other permanent errors, or attempts exhausted */
    uint64_t retried;    /* attempts scheduled again after a timeout, connect error or 5xx */
    uint64_t dropped;    /* pushed out of a full queue, or still undelivered at bt_alerts_free */
    uint64_t queued;     /* waiting or in flight now (a gauge) */
} bt_alerts_stats_t;

typedef struct bt_alerts bt_alerts_t;

/* Fills *cfg with the defaults named above (no URLs, JSON, no secret, no callbacks). */
void bt_alerts_config_defaults(bt_alerts_config_t *cfg);

/* Checks and copies the settings. Returns NULL with a message naming the bad setting (a URL
 * that is not http(s), a header without ':' or with CR/LF, an empty secret, lag_critical below
 * lag_warning, ...) or when memory or libcurl setup fails. No URLs is valid: alerts are then
 * only logged and passed to on_notify. */
bt_alerts_t *bt_alerts_new(const bt_alerts_config_t *cfg, char *err, size_t errlen);

/* Aborts transfers in flight, counts what is still queued as dropped, frees everything. */
void bt_alerts_free(bt_alerts_t *a);

/* Runs the rules (lag, sink_down) on this state and queues what they decide: a first firing,
 * a severity change, a reminder once per alert_interval while firing, a resolved when the
 * condition clears. Also remembers the source position for later raises. Never blocks on I/O. */
void bt_alerts_evaluate(bt_alerts_t *a, const bt_alerts_state_t *st);

/* Raises a one-off event such as "source_error", "stopped" or "ddl" (state "firing", no value).
 * The same name, severity and message within alert_interval of the last one sent is suppressed
 * (counted), so a retry loop that keeps failing the same way does not flood receivers. The
 * event stays raised until bt_alerts_clear(). Returns 1 queued, 0 suppressed, -1 for a bad
 * name (not [a-z0-9_]{1,63}, or "lag"/"sink_down", which belong to the rules). Thread-safe;
 * wakes a bt_alerts_wait() in progress so that it goes out promptly. */
int bt_alerts_raise(bt_alerts_t *a, const char *name, bt_alerts_severity_t severity,
                    const char *message, int64_t now_ms);

/* Resolves a raised event (e.g. source_error once reading works again): queues one "resolved"
 * if it was raised. Returns 1 when a resolved was queued, 0 when it was not raised. */
int bt_alerts_clear(bt_alerts_t *a, const char *name, int64_t now_ms);

/* The severity that `name` is firing with now, or -1 when it is not firing. */
int bt_alerts_firing(bt_alerts_t *a, const char *name);

/* Non-blocking send work: starts queued deliveries whose time has come, lets libcurl move
 * transfers along (curl_multi_perform), and handles the finished ones (retry with backoff on
 * connect errors, timeouts and 5xx; give up on 4xx). Call it every ~100 ms and after
 * bt_alerts_wait() returns. Returns the deliveries still waiting or in flight. */
size_t bt_alerts_pump(bt_alerts_t *a, int64_t now_ms);

/* Sleeps until libcurl has something to do on its sockets, a raise arrives from another thread,
 * `extra_fd` (>= 0; -1 = none) becomes readable, or timeout_ms passes (curl_multi_poll). Lets
 * the side thread serve another socket in the same loop. Returns 1 if extra_fd is readable,
 * 0 otherwise, -1 on a libcurl error. */
int bt_alerts_wait(bt_alerts_t *a, int extra_fd, int timeout_ms);

/* Before exit: sends what is queued (stopped, source_error), pumping and waiting for at most
 * timeout_ms of real time, retries included if they fit. Returns the deliveries left over. */
size_t bt_alerts_flush(bt_alerts_t *a, int timeout_ms);

/* Counters, read with atomics: safe from any thread. */
void bt_alerts_stats(const bt_alerts_t *a, bt_alerts_stats_t *out);

/* The body this instance would send for n at sent_at_ms (its format, host and agent name), as
 * a malloc'ed NUL-terminated string with its length in *len; NULL if memory runs out. */
char *bt_alerts_render(const bt_alerts_t *a, const bt_alerts_notification_t *n, int64_t sent_at_ms,
                       size_t *len);

/* `bintail alert-test`: sends one "test" alert (INFO, firing) synchronously to `url` (NULL = the
 * first of cfg->urls) with cfg's format, headers and secret, one attempt of cfg->timeout_ms.
 * Returns 0 when the receiver answered 2xx; -1 otherwise with a message in err. *http_status
 * (may be NULL) gets the HTTP status, 0 when no response came. */
int bt_alerts_test_send(const bt_alerts_config_t *cfg, const char *url, char *err, size_t errlen,
                        long *http_status);

#endif
