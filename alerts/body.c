/* body.c: what a webhook request carries: the JSON object of schema 1 or the Slack
 * {"text": ...} line, written with the JSON writer of lib/, plus the small formatters they need
 * (seconds, durations, ISO-8601). The schema is documented in docs/alerts.md; change both
 * together and only by adding fields. */
#include "alerts/internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Far above any real body (the message is capped at 4 KiB, 6x when every byte is escaped). */
#define BT_BODY_CAP (256 * 1024)

void bt_alerts_fmt_duration(char *out, size_t cap, int64_t ms) {
    const char *sign = ms < 0 ? "-" : "";
    uint64_t u = ms < 0 ? -(uint64_t)ms : (uint64_t)ms;
    uint64_t s = u / 1000, m = s / 60, h = m / 60, d = h / 24;
    if (u == 0)
        snprintf(out, cap, "0s");
    else if (u < 1000)
        snprintf(out, cap, "%s%" PRIu64 "ms", sign, u);
    else if (u < 60 * 1000 && (u % 1000) / 100)
        snprintf(out, cap, "%s%" PRIu64 ".%" PRIu64 "s", sign, s, (u % 1000) / 100);
    else if (u < 60 * 1000)
        snprintf(out, cap, "%s%" PRIu64 "s", sign, s);
    else if (h == 0)
        snprintf(out, cap, s % 60 ? "%s%" PRIu64 "m%" PRIu64 "s" : "%s%" PRIu64 "m", sign, m, s % 60);
    else if (d == 0)
        snprintf(out, cap, m % 60 ? "%s%" PRIu64 "h%" PRIu64 "m" : "%s%" PRIu64 "h", sign, h, m % 60);
    else
        snprintf(out, cap, h % 24 ? "%s%" PRIu64 "d%" PRIu64 "h" : "%s%" PRIu64 "d", sign, d, h % 24);
}

void bt_alerts_fmt_iso8601(char *out, size_t cap, int64_t epoch_ms) {
    int64_t secs = epoch_ms / 1000, msec = epoch_ms % 1000;
    if (msec < 0) { /* floor, for the (theoretical) times before 1970 */
        msec += 1000;
        secs--;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    char date[32];
    if (!gmtime_r(&t, &tm) || strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        snprintf(date, sizeof date, "1970-01-01T00:00:00");
    snprintf(out, cap, "%s.%03dZ", date, (int)msec);
}

/* Milliseconds as a JSON number of seconds, exact: 45200 -> 45.2, 30000 -> 30. */
static void bt_body_seconds(bt_jw_t *w, int64_t ms) {
    uint64_t u = ms < 0 ? -(uint64_t)ms : (uint64_t)ms;
    char num[48];
    int n = snprintf(num, sizeof num, "%s%" PRIu64, ms < 0 ? "-" : "", u / 1000);
    unsigned frac = (unsigned)(u % 1000);
    if (frac) {
        n += snprintf(num + n, sizeof num - (size_t)n, ".%03u", frac);
        while (num[n - 1] == '0') n--;
    }
    bt_jw_raw(w, num, (size_t)n);
}

/* A string member, or null when the text is absent or empty (an unknown position is null
 * rather than a fake "" or 0). */
static void bt_body_str_or_null(bt_jw_t *w, const char *key, const char *s) {
    bt_jw_key(w, key);
    if (s && s[0])
        bt_jw_str(w, s);
    else
        bt_jw_null(w);
}

static const char *const bt_body_sev[] = {"INFO", "WARNING", "CRITICAL"};

static void bt_body_json(bt_buf_t *b, const bt_alerts_config_t *cfg, const bt_alerts_notification_t *n,
                         int64_t sent_at_ms) {
    char ts[40];
    bt_jw_t w;
    bt_jw_init(&w, b);
    bt_jw_obj_begin(&w);
    bt_jw_key(&w, "alert");
    bt_jw_str(&w, n->name);
    bt_jw_key(&w, "severity");
    bt_jw_str(&w, bt_body_sev[n->severity]);
    bt_jw_key(&w, "state");
    bt_jw_str(&w, n->resolved ? "resolved" : "firing");
    bt_jw_key(&w, "value");
    if (n->has_value)
        bt_body_seconds(&w, n->value_ms);
    else
        bt_jw_null(&w);
    bt_jw_key(&w, "threshold");
    if (n->has_threshold)
        bt_body_seconds(&w, n->threshold_ms);
    else
        bt_jw_null(&w);
    bt_jw_key(&w, "message");
    bt_jw_str(&w, n->message ? n->message : "");
    bt_jw_key(&w, "host");
    bt_jw_str(&w, cfg->host ? cfg->host : "");
    bt_jw_key(&w, "agent");
    bt_jw_str(&w, cfg->agent_name ? cfg->agent_name : "");
    bt_jw_key(&w, "source");
    bt_jw_obj_begin(&w);
    bt_body_str_or_null(&w, "file", n->source_file);
    bt_jw_key(&w, "pos");
    if (n->source_file && n->source_file[0])
        bt_jw_uint(&w, n->source_pos);
    else
        bt_jw_null(&w);
    bt_body_str_or_null(&w, "gtid", n->source_gtid);
    bt_jw_obj_end(&w);
    bt_alerts_fmt_iso8601(ts, sizeof ts, n->fired_at_ms);
    bt_jw_key(&w, "fired_at");
    bt_jw_str(&w, ts);
    bt_alerts_fmt_iso8601(ts, sizeof ts, sent_at_ms);
    bt_jw_key(&w, "sent_at");
    bt_jw_str(&w, ts);
    bt_jw_key(&w, "schema");
    bt_jw_int(&w, 1);
    bt_jw_obj_end(&w);
}

/* Slack's text is markup: &, < and > must be entities; and the summary stays on one line. */
static void bt_body_slack_text(bt_buf_t *t, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '&': bt_buf_append(t, "&amp;", 5); break;
        case '<': bt_buf_append(t, "&lt;", 4); break;
        case '>': bt_buf_append(t, "&gt;", 4); break;
        case '\n':
        case '\r':
        case '\t': bt_buf_putc(t, ' '); break;
        default: bt_buf_putc(t, *s);
        }
    }
}

static void bt_body_slack(bt_buf_t *b, const bt_alerts_config_t *cfg, const bt_alerts_notification_t *n) {
    bt_buf_t t;
    bt_buf_init(&t, BT_BODY_CAP);
    bt_buf_printf(&t, "[%s] ", n->resolved ? "RESOLVED" : bt_body_sev[n->severity]);
    bt_body_slack_text(&t, cfg->agent_name ? cfg->agent_name : "");
    bt_buf_putc(&t, '@');
    bt_body_slack_text(&t, cfg->host ? cfg->host : "");
    bt_buf_putc(&t, ' ');
    bt_body_slack_text(&t, n->name);
    bt_buf_puts(&t, ": ");
    bt_body_slack_text(&t, n->message ? n->message : "");
    if (n->source_file && n->source_file[0]) {
        bt_buf_puts(&t, " (at ");
        bt_body_slack_text(&t, n->source_file);
        bt_buf_printf(&t, ":%" PRIu64 ")", n->source_pos);
    }
    if (t.failed) {
        b->failed = true;
    } else {
        bt_jw_t w;
        bt_jw_init(&w, b);
        bt_jw_obj_begin(&w);
        bt_jw_key(&w, "text");
        bt_jw_strn(&w, t.p ? t.p : "", t.len);
        bt_jw_obj_end(&w);
    }
    bt_buf_free(&t);
}

char *bt_alerts_body(const bt_alerts_config_t *cfg, const bt_alerts_notification_t *n, int64_t sent_at_ms,
                     size_t *len) {
    if ((unsigned)n->severity > BT_ALERTS_CRITICAL || !n->name)
        return NULL;
    bt_buf_t b;
    bt_buf_init(&b, BT_BODY_CAP);
    if (cfg->format == BT_ALERTS_FORMAT_SLACK)
        bt_body_slack(&b, cfg, n);
    else
        bt_body_json(&b, cfg, n, sent_at_ms);
    if (b.failed || !b.p) {
        bt_buf_free(&b);
        return NULL;
    }
    if (len)
        *len = b.len;
    return b.p; /* the buffer's storage, handed over; the caller frees it */
}
