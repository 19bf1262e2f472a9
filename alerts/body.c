/* body.c: what a webhook request carries: the JSON object of schema 1 or the Slack
 * {"text": ...} line, plus the small formatters they need (JSON strings, seconds, ISO-8601).
 * Its own escaper rather than agent/json: the library must not depend on the daemon. The
 * schema is documented in docs/alerts.md; change both together and only by adding fields. */
#include "alerts/internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Far above any real body (the message is capped at 4 KiB, 6x when every byte is escaped). */
#define BT_BODY_CAP (256 * 1024)

void bt_alerts_buf_add(bt_alerts_buf_t *b, const char *s, size_t n) {
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 512;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = cap <= BT_BODY_CAP ? realloc(b->p, cap) : NULL;
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void bt_alerts_buf_printf(bt_alerts_buf_t *b, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) { /* only short numbers and literals come through here */
        b->oom = 1;
        return;
    }
    bt_alerts_buf_add(b, tmp, (size_t)n);
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when it is not one (stray continuation,
 * overlong form, surrogate, above U+10FFFF, or cut short by the terminating NUL). */
static size_t bt_utf8_len(const unsigned char *p) {
    unsigned c = p[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return n;
}

void bt_alerts_json_str(bt_alerts_buf_t *b, const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *run = p; /* bytes that need no escaping are copied in runs */
    bt_alerts_buf_add(b, "\"", 1);
    while (*p) {
        const char *esc = NULL;
        char ubuf[8];
        size_t n = bt_utf8_len(p);
        if (n > 1) {
            p += n;
            continue;
        }
        switch (*p) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default:
            if (n == 0) {
                esc = "\\ufffd"; /* keeps the body valid JSON whatever bytes a message holds */
            } else if (*p < 0x20) {
                snprintf(ubuf, sizeof ubuf, "\\u%04x", *p);
                esc = ubuf;
            }
        }
        if (esc) {
            bt_alerts_buf_add(b, (const char *)run, (size_t)(p - run));
            bt_alerts_buf_add(b, esc, strlen(esc));
            run = p + 1;
        }
        p++;
    }
    bt_alerts_buf_add(b, (const char *)run, (size_t)(p - run));
    bt_alerts_buf_add(b, "\"", 1);
}

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
static void bt_body_seconds(bt_alerts_buf_t *b, int64_t ms) {
    uint64_t u = ms < 0 ? -(uint64_t)ms : (uint64_t)ms;
    bt_alerts_buf_printf(b, "%s%" PRIu64, ms < 0 ? "-" : "", u / 1000);
    unsigned frac = (unsigned)(u % 1000);
    if (frac) {
        char f[8];
        snprintf(f, sizeof f, ".%03u", frac);
        size_t n = strlen(f);
        while (f[n - 1] == '0')
            n--;
        bt_alerts_buf_add(b, f, n);
    }
}

static const char *const bt_body_sev[] = {"INFO", "WARNING", "CRITICAL"};

static void bt_body_json(bt_alerts_buf_t *b, const bt_alerts_config_t *cfg,
                         const bt_alerts_notification_t *n, int64_t sent_at_ms) {
    char ts[40];
    bt_alerts_buf_printf(b, "{\"alert\":");
    bt_alerts_json_str(b, n->name);
    bt_alerts_buf_printf(b, ",\"severity\":\"%s\",\"state\":\"%s\",\"value\":",
                         bt_body_sev[n->severity], n->resolved ? "resolved" : "firing");
    if (n->has_value)
        bt_body_seconds(b, n->value_ms);
    else
        bt_alerts_buf_printf(b, "null");
    bt_alerts_buf_printf(b, ",\"threshold\":");
    if (n->has_threshold)
        bt_body_seconds(b, n->threshold_ms);
    else
        bt_alerts_buf_printf(b, "null");
    bt_alerts_buf_printf(b, ",\"message\":");
    bt_alerts_json_str(b, n->message ? n->message : "");
    bt_alerts_buf_printf(b, ",\"host\":");
    bt_alerts_json_str(b, cfg->host ? cfg->host : "");
    bt_alerts_buf_printf(b, ",\"agent\":");
    bt_alerts_json_str(b, cfg->agent_name ? cfg->agent_name : "");
    /* An unknown position (nothing read yet) is null rather than a fake "" / 0. */
    bt_alerts_buf_printf(b, ",\"source\":{\"file\":");
    int have_file = n->source_file && n->source_file[0];
    if (have_file) {
        bt_alerts_json_str(b, n->source_file);
        bt_alerts_buf_printf(b, ",\"pos\":%" PRIu64, n->source_pos);
    } else {
        bt_alerts_buf_printf(b, "null,\"pos\":null");
    }
    bt_alerts_buf_printf(b, ",\"gtid\":");
    if (n->source_gtid && n->source_gtid[0])
        bt_alerts_json_str(b, n->source_gtid);
    else
        bt_alerts_buf_printf(b, "null");
    bt_alerts_fmt_iso8601(ts, sizeof ts, n->fired_at_ms);
    bt_alerts_buf_printf(b, "},\"fired_at\":\"%s\"", ts);
    bt_alerts_fmt_iso8601(ts, sizeof ts, sent_at_ms);
    bt_alerts_buf_printf(b, ",\"sent_at\":\"%s\",\"schema\":1}", ts);
}

/* Slack's text is markup: &, < and > must be entities; and the summary stays on one line. */
static void bt_body_slack_text(bt_alerts_buf_t *t, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '&': bt_alerts_buf_add(t, "&amp;", 5); break;
        case '<': bt_alerts_buf_add(t, "&lt;", 4); break;
        case '>': bt_alerts_buf_add(t, "&gt;", 4); break;
        case '\n': case '\r': case '\t': bt_alerts_buf_add(t, " ", 1); break;
        default: bt_alerts_buf_add(t, s, 1);
        }
    }
}

static void bt_body_slack(bt_alerts_buf_t *b, const bt_alerts_config_t *cfg,
                          const bt_alerts_notification_t *n) {
    bt_alerts_buf_t t = {0};
    bt_alerts_buf_printf(&t, "[%s] ", n->resolved ? "RESOLVED" : bt_body_sev[n->severity]);
    bt_body_slack_text(&t, cfg->agent_name ? cfg->agent_name : "");
    bt_alerts_buf_add(&t, "@", 1);
    bt_body_slack_text(&t, cfg->host ? cfg->host : "");
    bt_alerts_buf_add(&t, " ", 1);
    bt_body_slack_text(&t, n->name);
    bt_alerts_buf_add(&t, ": ", 2);
    bt_body_slack_text(&t, n->message ? n->message : "");
    if (n->source_file && n->source_file[0]) {
        bt_alerts_buf_add(&t, " (at ", 5);
        bt_body_slack_text(&t, n->source_file);
        bt_alerts_buf_printf(&t, ":%" PRIu64 ")", n->source_pos);
    }
    bt_alerts_buf_printf(b, "{\"text\":");
    if (t.oom)
        b->oom = 1;
    else
        bt_alerts_json_str(b, t.p ? t.p : "");
    bt_alerts_buf_add(b, "}", 1);
    free(t.p);
}

char *bt_alerts_body(const bt_alerts_config_t *cfg, const bt_alerts_notification_t *n,
                     int64_t sent_at_ms, size_t *len) {
    bt_alerts_buf_t b = {0};
    if ((unsigned)n->severity > BT_ALERTS_CRITICAL || !n->name)
        return NULL;
    if (cfg->format == BT_ALERTS_FORMAT_SLACK)
        bt_body_slack(&b, cfg, n);
    else
        bt_body_json(&b, cfg, n, sent_at_ms);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    if (len)
        *len = b.len;
    return b.p;
}
