/* alerts.c: the alerts object: settings, the lock, notifications (emit), raised one-off events,
 * evaluation entry point and counters. Rules live in rules.c, bodies in body.c, sending in
 * sender.c. */
#include "alerts/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void bt_alerts_config_defaults(bt_alerts_config_t *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->format = BT_ALERTS_FORMAT_JSON;
    cfg->timeout_ms = 5000;
    cfg->max_attempts = 5;
    cfg->retry_base_ms = 1000;
    cfg->retry_max_ms = 60000;
    cfg->queue_max = 100;
    cfg->lag_warning_ms = 30 * 1000;
    cfg->lag_critical_ms = 300 * 1000;
    cfg->lag_for_ms = 30 * 1000;
    cfg->sink_down_after_ms = 30 * 1000;
    cfg->alert_interval_ms = 10 * 60 * 1000;
    cfg->agent_name = "bintail";
}

void bt_alerts_logf(const bt_alerts_t *a, int level, const char *fmt, ...) {
    if (!a->cfg.log)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* One line per message in the agent's log, whatever an alert's text holds. */
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    a->cfg.log(a->cfg.log_opaque, level, msg);
}

static const char *const bt_alerts_sev_names[] = {"INFO", "WARNING", "CRITICAL"};

/* ---------------------------------------------------------------- settings */

static int bt_alerts_check_config(const bt_alerts_config_t *c, char *err, size_t errlen) {
#define BAD(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)
    if (c->n_urls && !c->urls)
        BAD("alerts: %zu webhook URLs but no array", c->n_urls);
    for (size_t i = 0; i < c->n_urls; i++)
        if (bt_alerts_check_url(c->urls[i], err, errlen) < 0)
            return -1;
    if (c->n_headers && !c->headers)
        BAD("alerts: %zu webhook headers but no array", c->n_headers);
    for (size_t i = 0; i < c->n_headers; i++)
        if (bt_alerts_check_header(c->headers[i], err, errlen) < 0)
            return -1;
    if (c->secret && c->secret_len == 0)
        BAD("alerts: the webhook secret is empty (an empty key would make signatures forgeable)");
    if (c->format != BT_ALERTS_FORMAT_JSON && c->format != BT_ALERTS_FORMAT_SLACK)
        BAD("alerts: unknown webhook format %d", (int)c->format);
    if (c->timeout_ms <= 0)
        BAD("alerts: webhook timeout must be > 0 ms (got %lld)", (long long)c->timeout_ms);
    if (c->max_attempts < 1)
        BAD("alerts: max attempts must be >= 1 (got %d)", c->max_attempts);
    if (c->retry_base_ms < 0 || c->retry_max_ms < c->retry_base_ms)
        BAD("alerts: retry backoff must satisfy 0 <= base (%lld ms) <= max (%lld ms)",
            (long long)c->retry_base_ms, (long long)c->retry_max_ms);
    if (c->queue_max < 1)
        BAD("alerts: queue size must be >= 1");
    if (c->lag_warning_ms < 0 || c->lag_critical_ms < 0 || c->lag_for_ms < 0 ||
        c->sink_down_after_ms < 0 || c->alert_interval_ms < 0)
        BAD("alerts: thresholds and intervals must be >= 0");
    if (c->lag_critical_ms < c->lag_warning_ms)
        BAD("alerts: lag-critical (%lld ms) is below lag-warning (%lld ms)",
            (long long)c->lag_critical_ms, (long long)c->lag_warning_ms);
    return 0;
#undef BAD
}

static char *bt_alerts_strdup_or(const char *s, const char *dflt) {
    return strdup(s ? s : dflt);
}

bt_alerts_t *bt_alerts_new(const bt_alerts_config_t *cfg, char *err, size_t errlen) {
    if (!cfg) {
        snprintf(err, errlen, "alerts: no configuration");
        return NULL;
    }
    if (bt_alerts_check_config(cfg, err, errlen) < 0)
        return NULL;
    bt_alerts_t *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "alerts: out of memory");
        return NULL;
    }
    a->cfg = *cfg;
    pthread_mutex_init(&a->mu, NULL);
    bt_alerts_rules_init(a);

    /* Copies, so the caller's config (often argv and a file buffer) may go away. */
    int oom = 0;
    char hostbuf[256] = "";
    if (!cfg->host) {
        if (gethostname(hostbuf, sizeof hostbuf - 1) != 0)
            snprintf(hostbuf, sizeof hostbuf, "unknown");
    }
    a->host = bt_alerts_strdup_or(cfg->host, hostbuf);
    a->agent = bt_alerts_strdup_or(cfg->agent_name, "bintail");
    oom |= !a->host || !a->agent;
    a->cfg.host = a->host;
    a->cfg.agent_name = a->agent;
    if (cfg->n_headers) {
        a->headers = calloc(cfg->n_headers, sizeof *a->headers);
        oom |= !a->headers;
        for (size_t i = 0; a->headers && i < cfg->n_headers; i++)
            oom |= !(a->headers[i] = strdup(cfg->headers[i]));
    }
    a->cfg.headers = (const char *const *)a->headers;
    if (cfg->secret) {
        a->secret = malloc(cfg->secret_len);
        oom |= !a->secret;
        if (a->secret)
            memcpy(a->secret, cfg->secret, cfg->secret_len);
    }
    a->cfg.secret = a->secret;
    /* The targets own the URLs from here on. */
    a->cfg.urls = NULL;
    a->cfg.n_urls = 0;
    if (oom) {
        snprintf(err, errlen, "alerts: out of memory");
        bt_alerts_free(a);
        return NULL;
    }
    if (bt_alerts_targets_init(a, cfg->urls, cfg->n_urls, err, errlen) < 0) {
        bt_alerts_free(a);
        return NULL;
    }
    return a;
}

void bt_alerts_free(bt_alerts_t *a) {
    if (!a)
        return;
    bt_alerts_targets_free(a);
    for (size_t i = 0; i < BT_ALERTS_EVENTS_MAX; i++)
        free(a->events[i].message);
    if (a->headers)
        for (size_t i = 0; i < a->cfg.n_headers; i++)
            free(a->headers[i]);
    free(a->headers);
    if (a->secret) /* a key: do not leave it in freed memory */
        memset(a->secret, 0, a->cfg.secret_len);
    free(a->secret);
    free(a->host);
    free(a->agent);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

/* ---------------------------------------------------------------- notifications */

void bt_alerts_note_release(bt_alerts_note_t *note) {
    if (!note || atomic_fetch_sub(&note->refs, 1) != 1)
        return;
    free(note->message);
    free(note->source_file);
    free(note->source_gtid);
    free(note);
}

/* Copies s cut to at most max bytes, not inside a UTF-8 sequence, with "..." marking a cut. */
static char *bt_alerts_cut_copy(const char *s, size_t max) {
    size_t n = strlen(s);
    if (n <= max)
        return strdup(s);
    size_t keep = max - 3;
    while (keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80) /* s[keep] continues a sequence */
        keep--;
    char *c = malloc(keep + 4);
    if (c) {
        memcpy(c, s, keep);
        memcpy(c + keep, "...", 4);
    }
    return c;
}

void bt_alerts_emit(bt_alerts_t *a, const bt_alerts_notification_t *n) {
    atomic_fetch_add(&a->stats.notified, 1);
    bt_alerts_note_t *note = calloc(1, sizeof *note);
    if (note) {
        atomic_init(&note->refs, 1);
        note->n = *n;
        snprintf(note->name, sizeof note->name, "%s", n->name);
        note->message = bt_alerts_cut_copy(n->message ? n->message : "", BT_ALERTS_MESSAGE_MAX);
        note->source_file = strdup(a->source_file);
        note->source_gtid = strdup(a->source_gtid);
        note->n.name = note->name;
        note->n.message = note->message;
        note->n.source_file = note->source_file;
        note->n.source_pos = a->source_pos;
        note->n.source_gtid = note->source_gtid;
        if (!note->message || !note->source_file || !note->source_gtid) {
            bt_alerts_note_release(note);
            note = NULL;
        }
    }
    const bt_alerts_notification_t *shown = note ? &note->n : n;
    if (a->cfg.on_notify)
        a->cfg.on_notify(a->cfg.notify_opaque, shown);
    int level = shown->resolved ? BT_ALERTS_LOG_INFO
                : shown->severity == BT_ALERTS_CRITICAL ? BT_ALERTS_LOG_ERROR
                : shown->severity == BT_ALERTS_WARNING ? BT_ALERTS_LOG_WARN
                                                       : BT_ALERTS_LOG_INFO;
    bt_alerts_logf(a, level, "alert %s %s%s%s: %s", shown->name,
                   shown->resolved ? "resolved (was " : "firing ", bt_alerts_sev_names[shown->severity],
                   shown->resolved ? ")" : "", shown->message ? shown->message : "");
    if (!note) {
        bt_alerts_logf(a, BT_ALERTS_LOG_ERROR, "alert %s: out of memory, not sent", n->name);
        atomic_fetch_add(&a->stats.dropped, a->n_targets);
        return;
    }
    bt_alerts_enqueue(a, note);
    bt_alerts_note_release(note);
}

/* ---------------------------------------------------------------- rules and events */

void bt_alerts_evaluate(bt_alerts_t *a, const bt_alerts_state_t *st) {
    pthread_mutex_lock(&a->mu);
    /* Position first: the notifications made below carry it. */
    snprintf(a->source_file, sizeof a->source_file, "%s", st->source_file);
    a->source_pos = st->source_pos;
    snprintf(a->source_gtid, sizeof a->source_gtid, "%s", st->source_gtid);
    /* sink first: the lag rule names a failing sink as the likely cause. */
    bt_alerts_rule_sink(a, st);
    bt_alerts_rule_lag(a, st);
    pthread_mutex_unlock(&a->mu);
}

static int bt_alerts_name_ok(const char *name) {
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > BT_ALERTS_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    /* The rules own these: a raise or clear would confuse their state. */
    return strcmp(name, "lag") != 0 && strcmp(name, "sink_down") != 0;
}

static bt_alerts_event_t *bt_alerts_event_find(bt_alerts_t *a, const char *name) {
    for (size_t i = 0; i < BT_ALERTS_EVENTS_MAX; i++)
        if (a->events[i].name[0] && strcmp(a->events[i].name, name) == 0)
            return &a->events[i];
    return NULL;
}

/* A free slot, else the cleared event sent longest ago, else the raised one sent longest ago:
 * forgetting an event only costs a possible duplicate later. */
static bt_alerts_event_t *bt_alerts_event_slot(bt_alerts_t *a) {
    bt_alerts_event_t *best = NULL;
    for (size_t i = 0; i < BT_ALERTS_EVENTS_MAX; i++) {
        bt_alerts_event_t *e = &a->events[i];
        if (!e->name[0])
            return e;
        if (!best || (e->raised < best->raised) ||
            (e->raised == best->raised && e->last_sent_ms < best->last_sent_ms))
            best = e;
    }
    free(best->message);
    memset(best, 0, sizeof *best);
    return best;
}

int bt_alerts_raise(bt_alerts_t *a, const char *name, bt_alerts_severity_t severity,
                    const char *message, int64_t now_ms) {
    if (!bt_alerts_name_ok(name) || (unsigned)severity > BT_ALERTS_CRITICAL) {
        bt_alerts_logf(a, BT_ALERTS_LOG_ERROR, "cannot raise '%s': bad name or severity",
                       name ? name : "(null)");
        return -1;
    }
    if (!message)
        message = "";
    int queued = 0;
    pthread_mutex_lock(&a->mu);
    bt_alerts_event_t *e = bt_alerts_event_find(a, name);
    if (e && e->severity == severity && e->message && strcmp(e->message, message) == 0 &&
        now_ms - e->last_sent_ms < a->cfg.alert_interval_ms) {
        atomic_fetch_add(&a->stats.suppressed, 1);
        bt_alerts_logf(a, BT_ALERTS_LOG_DEBUG, "alert %s: same as %lld ms ago, suppressed", name,
                       (long long)(now_ms - e->last_sent_ms));
    } else {
        if (!e) {
            e = bt_alerts_event_slot(a);
            snprintf(e->name, sizeof e->name, "%s", name);
        }
        if (!e->raised)
            e->fired_at_ms = now_ms;
        e->raised = 1;
        e->severity = severity;
        e->last_sent_ms = now_ms;
        free(e->message);
        e->message = strdup(message); /* NULL on OOM only weakens dedup */
        bt_alerts_notification_t n = {.name = name, .severity = severity, .message = message,
                                      .fired_at_ms = e->fired_at_ms, .at_ms = now_ms};
        bt_alerts_emit(a, &n);
        queued = 1;
    }
    pthread_mutex_unlock(&a->mu);
    return queued;
}

int bt_alerts_clear(bt_alerts_t *a, const char *name, int64_t now_ms) {
    if (!bt_alerts_name_ok(name))
        return 0;
    int done = 0;
    pthread_mutex_lock(&a->mu);
    bt_alerts_event_t *e = bt_alerts_event_find(a, name);
    if (e && e->raised) {
        e->raised = 0;
        /* A new raise after this is a new incident, even with the same message. */
        free(e->message);
        e->message = NULL;
        bt_alerts_notification_t n = {.name = name, .severity = e->severity, .resolved = true,
                                      .message = "cleared", .fired_at_ms = e->fired_at_ms,
                                      .at_ms = now_ms};
        bt_alerts_emit(a, &n);
        done = 1;
    }
    pthread_mutex_unlock(&a->mu);
    return done;
}

int bt_alerts_firing(bt_alerts_t *a, const char *name) {
    int sev = -1;
    if (!name)
        return -1;
    pthread_mutex_lock(&a->mu);
    if (strcmp(name, "lag") == 0) {
        sev = a->lag.firing;
    } else if (strcmp(name, "sink_down") == 0) {
        sev = a->sink.firing;
    } else {
        bt_alerts_event_t *e = bt_alerts_event_find(a, name);
        if (e && e->raised)
            sev = (int)e->severity;
    }
    pthread_mutex_unlock(&a->mu);
    return sev;
}

void bt_alerts_stats(const bt_alerts_t *a, bt_alerts_stats_t *out) {
    out->notified = atomic_load(&a->stats.notified);
    out->suppressed = atomic_load(&a->stats.suppressed);
    out->sent = atomic_load(&a->stats.sent);
    out->failed = atomic_load(&a->stats.failed);
    out->retried = atomic_load(&a->stats.retried);
    out->dropped = atomic_load(&a->stats.dropped);
    out->queued = atomic_load(&a->stats.queued);
}

char *bt_alerts_render(const bt_alerts_t *a, const bt_alerts_notification_t *n, int64_t sent_at_ms,
                       size_t *len) {
    return bt_alerts_body(&a->cfg, n, sent_at_ms, len);
}
