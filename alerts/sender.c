/* sender.c: webhooks over libcurl's multi interface, driven by bt_alerts_pump() so the caller
 * never blocks: per-URL bounded queues, one delivery at a time per URL (in order), retries with
 * exponential backoff on connect errors, timeouts and 5xx, signing, and the synchronous
 * `alert-test` send.
 *
 * Why one at a time per URL: a receiver then sees notifications in the order they were made
 * (firing before its resolved), and a hanging receiver holds up only its own queue, never the
 * other URLs; its queue is bounded and drops the oldest. Each request is capped by
 * CURLOPT_TIMEOUT_MS, so a hang costs at most timeout_ms per attempt.
 *
 * Known limit: a host name is resolved by libcurl; with a libcurl built without the threaded
 * (or c-ares) resolver that lookup could block inside curl_multi_perform. Debian's libcurl uses
 * the threaded resolver. */
#include "alerts/internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BT_SENDER_UA "User-Agent: bintail-alerts/1"

static pthread_once_t bt_sender_once = PTHREAD_ONCE_INIT;
static CURLcode bt_sender_global_rc;

/* curl_global_init is not thread-safe in every libcurl version; run it exactly once. It is never
 * undone: other parts of the process may use libcurl too. */
static void bt_sender_global_init(void) {
    bt_sender_global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---------------------------------------------------------------- settings */

int bt_alerts_check_url(const char *url, char *err, size_t errlen) {
    if (!url) {
        snprintf(err, errlen, "alerts: webhook URL is missing");
        return -1;
    }
    size_t skip = strncasecmp(url, "http://", 7) == 0 ? 7 : strncasecmp(url, "https://", 8) == 0 ? 8 : 0;
    if (!skip) {
        snprintf(err, errlen, "alerts: webhook URL '%.80s' must start with http:// or https://", url);
        return -1;
    }
    if (url[skip] == '\0' || url[skip] == '/' || url[skip] == '?' || url[skip] == '#') {
        snprintf(err, errlen, "alerts: webhook URL '%.80s' has no host", url);
        return -1;
    }
    for (const char *p = url; *p; p++) {
        if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
            snprintf(err, errlen, "alerts: webhook URL '%.80s' contains a space or control character", url);
            return -1;
        }
    }
    return 0;
}

int bt_alerts_check_header(const char *h, char *err, size_t errlen) {
    const char *colon = h ? strchr(h, ':') : NULL;
    if (!colon || colon == h) {
        snprintf(err, errlen, "alerts: webhook header '%.80s' is not 'Name: value'", h ? h : "(null)");
        return -1;
    }
    for (const char *p = h; p < colon; p++) {
        /* RFC 9110 token characters, roughly: no spaces, separators or controls in a name */
        if (!isalnum((unsigned char)*p) && !strchr("!#$%&'*+-.^_`|~", *p)) {
            snprintf(err, errlen, "alerts: webhook header '%.80s' has a bad character in its name", h);
            return -1;
        }
    }
    if (strpbrk(h, "\r\n")) { /* would let a value smuggle in more headers */
        snprintf(err, errlen, "alerts: webhook header '%.80s' contains CR or LF", h);
        return -1;
    }
    const char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    if (!*v) { /* libcurl would read "Name:" as "remove this header" */
        snprintf(err, errlen, "alerts: webhook header '%.80s' has no value", h);
        return -1;
    }
    size_t nlen = (size_t)(colon - h);
    if (nlen == 19 && strncasecmp(h, "X-Bintail-Signature", 19) == 0) {
        snprintf(err, errlen, "alerts: X-Bintail-Signature is set by bintail (use a webhook secret)");
        return -1;
    }
    return 0;
}

/* "https://hooks.example.com:8443/..." : scheme, host and port only. Webhook paths and userinfo
 * are often the credential (Slack puts its token in the path), so logs never show them. */
static void bt_sender_label(const char *url, char *out, size_t cap) {
    const char *sep = strstr(url, "://"); /* present: the URL was checked */
    const char *host = sep ? sep + 3 : url;
    size_t hostlen = strcspn(host, "/?#");
    for (size_t i = hostlen; i > 0; i--) { /* the last '@': a password may contain one */
        if (host[i - 1] == '@') {
            hostlen -= i;
            host += i;
            break;
        }
    }
    snprintf(out, cap, "%.*s://%.*s%s", sep ? (int)(sep - url) : 0, url, (int)hostlen, host,
             host[hostlen] ? "/..." : "");
}

/* ---------------------------------------------------------------- targets and queues */

int bt_alerts_targets_init(bt_alerts_t *a, const char *const *urls, size_t n, char *err,
                           size_t errlen) {
    pthread_once(&bt_sender_once, bt_sender_global_init);
    if (bt_sender_global_rc != CURLE_OK) {
        snprintf(err, errlen, "alerts: libcurl initialisation failed: %s",
                 curl_easy_strerror(bt_sender_global_rc));
        return -1;
    }
    a->multi = curl_multi_init();
    if (!a->multi) {
        snprintf(err, errlen, "alerts: curl_multi_init failed");
        return -1;
    }
    if (n == 0)
        return 0;
    a->targets = calloc(n, sizeof *a->targets);
    if (!a->targets) {
        snprintf(err, errlen, "alerts: out of memory");
        return -1;
    }
    a->n_targets = n;
    for (size_t i = 0; i < n; i++) {
        a->targets[i].url = strdup(urls[i]);
        if (!a->targets[i].url) {
            snprintf(err, errlen, "alerts: out of memory");
            return -1;
        }
        bt_sender_label(urls[i], a->targets[i].label, sizeof a->targets[i].label);
    }
    return 0;
}

static void bt_sender_item_free(bt_alerts_t *a, bt_alerts_item_t *it) {
    bt_alerts_note_release(it->note);
    free(it);
    atomic_fetch_sub(&a->stats.queued, 1);
}

/* Ends the transfer of t (if any) and frees what it used; the item stays active. */
static void bt_sender_end_transfer(bt_alerts_t *a, bt_alerts_target_t *t) {
    if (t->easy) {
        curl_multi_remove_handle(a->multi, t->easy);
        curl_easy_cleanup(t->easy);
        t->easy = NULL;
    }
    curl_slist_free_all(t->hdrs);
    t->hdrs = NULL;
    free(t->body);
    t->body = NULL;
}

void bt_alerts_targets_free(bt_alerts_t *a) {
    uint64_t lost = 0;
    for (size_t i = 0; i < a->n_targets; i++) {
        bt_alerts_target_t *t = &a->targets[i];
        bt_sender_end_transfer(a, t);
        if (t->active) {
            bt_sender_item_free(a, t->active);
            lost++;
        }
        while (t->head) {
            bt_alerts_item_t *it = t->head;
            t->head = it->next;
            bt_sender_item_free(a, it);
            lost++;
        }
        free(t->url);
    }
    if (lost) {
        atomic_fetch_add(&a->stats.dropped, lost);
        bt_alerts_logf(a, BT_ALERTS_LOG_WARN, "%llu webhook deliveries not sent before shutdown",
                       (unsigned long long)lost);
    }
    free(a->targets);
    a->targets = NULL;
    a->n_targets = 0;
    if (a->multi)
        curl_multi_cleanup(a->multi);
    a->multi = NULL;
}

void bt_alerts_enqueue(bt_alerts_t *a, bt_alerts_note_t *note) {
    for (size_t i = 0; i < a->n_targets; i++) {
        bt_alerts_target_t *t = &a->targets[i];
        bt_alerts_item_t *it = calloc(1, sizeof *it);
        if (!it) {
            atomic_fetch_add(&a->stats.dropped, 1);
            continue;
        }
        atomic_fetch_add(&note->refs, 1);
        it->note = note;
        atomic_fetch_add(&a->stats.queued, 1);
        if (t->n >= a->cfg.queue_max) {
            /* Full: the newest state matters more than the oldest (a resolved supersedes the
             * firing it ends), so the head goes. */
            bt_alerts_item_t *old = t->head;
            t->head = old->next;
            if (!t->head)
                t->tail = NULL;
            t->n--;
            uint64_t d = atomic_fetch_add(&a->stats.dropped, 1) + 1;
            bt_alerts_logf(a, BT_ALERTS_LOG_WARN,
                           "queue for %s full (%zu): dropped the oldest (%s %s), %llu dropped so far",
                           t->label, a->cfg.queue_max, old->note->name,
                           old->note->n.resolved ? "resolved" : "firing", (unsigned long long)d);
            bt_sender_item_free(a, old);
        }
        if (t->tail)
            t->tail->next = it;
        else
            t->head = it;
        t->tail = it;
        t->n++;
    }
    if (a->n_targets && a->multi)
        curl_multi_wakeup(a->multi); /* a pump thread sleeping in bt_alerts_wait() sends it now */
}

/* ---------------------------------------------------------------- one request */

static size_t bt_sender_on_data(char *data, size_t size, size_t nmemb, void *opaque) {
    bt_alerts_target_t *t = opaque;
    size_t n = size * nmemb, room = sizeof t->resp - 1 - t->resp_len;
    memcpy(t->resp + t->resp_len, data, n < room ? n : room);
    t->resp_len += n < room ? n : room;
    t->resp[t->resp_len] = '\0';
    return n; /* the rest is read and ignored */
}

/* Headers of one request: ours, the signature of this exact body, then the configured ones. */
static struct curl_slist *bt_sender_headers(const bt_alerts_config_t *cfg, const char *body, size_t len) {
    struct curl_slist *l = NULL, *n;
    int user_ct = 0, user_ua = 0;
    for (size_t i = 0; i < cfg->n_headers; i++) {
        user_ct |= strncasecmp(cfg->headers[i], "Content-Type:", 13) == 0;
        user_ua |= strncasecmp(cfg->headers[i], "User-Agent:", 11) == 0;
    }
#define APPEND(s) do { if (!(n = curl_slist_append(l, (s)))) goto oom; l = n; } while (0)
    if (!user_ct)
        APPEND("Content-Type: application/json");
    if (!user_ua)
        APPEND(BT_SENDER_UA);
    APPEND("Expect:"); /* no 100-continue round trip */
    if (cfg->secret) {
        char hex[65], line[96];
        if (bt_alerts_hmac_sha256_hex(cfg->secret, cfg->secret_len, body, len, hex) < 0)
            goto oom;
        snprintf(line, sizeof line, "X-Bintail-Signature: sha256=%s", hex);
        APPEND(line);
    }
    for (size_t i = 0; i < cfg->n_headers; i++)
        APPEND(cfg->headers[i]);
#undef APPEND
    return l;
oom:
    curl_slist_free_all(l);
    return NULL;
}

/* Sets up t->easy for a POST of t->body; 0, or -1 with t->errbuf filled. */
static int bt_sender_prepare(const bt_alerts_config_t *cfg, bt_alerts_target_t *t, size_t len) {
    t->resp_len = 0;
    t->resp[0] = '\0';
    t->errbuf[0] = '\0';
    t->hdrs = bt_sender_headers(cfg, t->body, len);
    t->easy = t->hdrs ? curl_easy_init() : NULL;
    if (!t->easy) {
        snprintf(t->errbuf, sizeof t->errbuf, "out of memory preparing the request");
        return -1;
    }
    CURL *e = t->easy;
    CURLcode rc = CURLE_OK;
#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val); } while (0)
    SET(CURLOPT_URL, t->url);
    SET(CURLOPT_POSTFIELDS, t->body);
    SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    SET(CURLOPT_HTTPHEADER, t->hdrs);
    SET(CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms);
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->timeout_ms);
    SET(CURLOPT_NOSIGNAL, 1L); /* libcurl must not use signals in a threaded daemon */
    SET(CURLOPT_FOLLOWLOCATION, 0L); /* a redirect would re-POST signed data elsewhere */
#if LIBCURL_VERSION_NUM >= 0x075500
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
    SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    SET(CURLOPT_WRITEFUNCTION, bt_sender_on_data);
    SET(CURLOPT_WRITEDATA, t);
    SET(CURLOPT_ERRORBUFFER, t->errbuf);
    SET(CURLOPT_PRIVATE, t);
#undef SET
    if (rc != CURLE_OK) {
        snprintf(t->errbuf, sizeof t->errbuf, "%s", curl_easy_strerror(rc));
        return -1;
    }
    return 0;
}

/* Failures worth another attempt: the receiver or the network may come back. Everything else
 * (bad URL, TLS certificate rejected, ...) fails the same way next time. */
static int bt_sender_retryable(CURLcode rc) {
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
}

/* "HTTP 500: <start of the response>" or the curl error, for log lines and err. */
static void bt_sender_describe(const bt_alerts_target_t *t, CURLcode rc, long status, char *out,
                               size_t cap) {
    if (rc != CURLE_OK) {
        snprintf(out, cap, "%s", t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc));
        return;
    }
    char resp[sizeof t->resp];
    size_t n = 0;
    for (size_t i = 0; i < t->resp_len && n + 1 < sizeof resp; i++) /* keep log lines one line */
        resp[n++] = (unsigned char)t->resp[i] < 0x20 ? ' ' : t->resp[i];
    resp[n] = '\0';
    snprintf(out, cap, "HTTP %ld%s%s", status, n ? ": " : "", resp);
}

static int64_t bt_sender_backoff(const bt_alerts_config_t *cfg, int attempts) {
    int64_t d = cfg->retry_base_ms;
    for (int i = 1; i < attempts && d < cfg->retry_max_ms; i++)
        d *= 2;
    return d < cfg->retry_max_ms ? d : cfg->retry_max_ms;
}

static void bt_sender_start(bt_alerts_t *a, bt_alerts_target_t *t, int64_t now) {
    bt_alerts_item_t *it = t->active;
    size_t len = 0;
    it->attempts++;
    /* Built per attempt: sent_at is the time of this attempt, and the signature covers it. */
    t->body = bt_alerts_body(&a->cfg, &it->note->n, now, &len);
    int ok = t->body && bt_sender_prepare(&a->cfg, t, len) == 0;
    if (ok && curl_multi_add_handle(a->multi, t->easy) == CURLM_OK)
        return;
    bt_alerts_logf(a, BT_ALERTS_LOG_ERROR, "cannot send %s to %s: %s", it->note->name, t->label,
                   t->body ? t->errbuf : "out of memory");
    bt_sender_end_transfer(a, t);
    atomic_fetch_add(&a->stats.failed, 1);
    t->active = NULL;
    bt_sender_item_free(a, it);
}

static void bt_sender_done(bt_alerts_t *a, bt_alerts_target_t *t, CURLcode rc, int64_t now) {
    bt_alerts_item_t *it = t->active;
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    const char *what = it->note->n.resolved ? "resolved" : "firing";
    if (rc == CURLE_OK && status >= 200 && status < 300) {
        atomic_fetch_add(&a->stats.sent, 1);
        bt_alerts_logf(a, BT_ALERTS_LOG_DEBUG, "%s %s delivered to %s (HTTP %ld, attempt %d)",
                       it->note->name, what, t->label, status, it->attempts);
        bt_sender_end_transfer(a, t);
        t->active = NULL;
        bt_sender_item_free(a, it);
        return;
    }
    char desc[320];
    bt_sender_describe(t, rc, status, desc, sizeof desc);
    bt_sender_end_transfer(a, t);
    int retry = rc != CURLE_OK ? bt_sender_retryable(rc) : status >= 500;
    if (retry && it->attempts < a->cfg.max_attempts) {
        int64_t wait = bt_sender_backoff(&a->cfg, it->attempts);
        char w[32];
        bt_alerts_fmt_duration(w, sizeof w, wait);
        it->next_at_ms = now + wait;
        atomic_fetch_add(&a->stats.retried, 1);
        bt_alerts_logf(a, BT_ALERTS_LOG_WARN, "%s %s to %s failed (attempt %d of %d): %s; retrying in %s",
                       it->note->name, what, t->label, it->attempts, a->cfg.max_attempts, desc, w);
        return; /* stays active: the next pump after next_at_ms sends it again */
    }
    atomic_fetch_add(&a->stats.failed, 1);
    bt_alerts_logf(a, BT_ALERTS_LOG_ERROR, "%s %s to %s failed%s: %s", it->note->name, what,
                   t->label, retry ? " after every attempt" : " (not retried)", desc);
    t->active = NULL;
    bt_sender_item_free(a, it);
}

/* ---------------------------------------------------------------- driving */

/* Moves the head of each idle URL's queue to active. Only here does the pump thread take mu. */
static void bt_sender_take(bt_alerts_t *a) {
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < a->n_targets; i++) {
        bt_alerts_target_t *t = &a->targets[i];
        if (t->active || !t->head)
            continue;
        t->active = t->head;
        t->head = t->head->next;
        if (!t->head)
            t->tail = NULL;
        t->n--;
        t->active->next = NULL;
    }
    pthread_mutex_unlock(&a->mu);
}

size_t bt_alerts_pump(bt_alerts_t *a, int64_t now_ms) {
    /* Another round whenever something finished, so the next item of that URL starts at once
     * instead of a pump later (a fast receiver can answer within the same perform). Bounded, so
     * one call stays short however long the queues are. */
    for (int round = 0; round < 8; round++) {
        bt_sender_take(a);
        for (size_t i = 0; i < a->n_targets; i++) {
            bt_alerts_target_t *t = &a->targets[i];
            if (t->active && !t->easy && now_ms >= t->active->next_at_ms)
                bt_sender_start(a, t, now_ms);
        }
        int running = 0, finished = 0, left;
        CURLMcode mc = curl_multi_perform(a->multi, &running);
        if (mc != CURLM_OK)
            bt_alerts_logf(a, BT_ALERTS_LOG_ERROR, "curl_multi_perform: %s", curl_multi_strerror(mc));
        CURLMsg *m;
        while ((m = curl_multi_info_read(a->multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            /* Copy out: m is invalid once the handle is removed. */
            CURL *e = m->easy_handle;
            CURLcode rc = m->data.result;
            char *priv = NULL;
            curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
            bt_alerts_target_t *t = (bt_alerts_target_t *)priv;
            if (t && t->easy == e) {
                bt_sender_done(a, t, rc, now_ms);
                finished++;
            }
        }
        if (!finished)
            break;
    }
    return (size_t)atomic_load(&a->stats.queued);
}

int bt_alerts_wait(bt_alerts_t *a, int extra_fd, int timeout_ms) {
    struct curl_waitfd w = {.fd = extra_fd, .events = CURL_WAIT_POLLIN, .revents = 0};
    int numfds = 0;
    if (timeout_ms < 0)
        timeout_ms = 0;
    CURLMcode mc = curl_multi_poll(a->multi, extra_fd >= 0 ? &w : NULL, extra_fd >= 0 ? 1 : 0,
                                   timeout_ms, &numfds);
    if (mc != CURLM_OK) {
        bt_alerts_logf(a, BT_ALERTS_LOG_ERROR, "curl_multi_poll: %s", curl_multi_strerror(mc));
        return -1;
    }
    return extra_fd >= 0 && (w.revents & CURL_WAIT_POLLIN) ? 1 : 0;
}

size_t bt_alerts_flush(bt_alerts_t *a, int timeout_ms) {
    int64_t deadline = bt_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        size_t left = bt_alerts_pump(a, bt_wall_ms());
        int64_t now = bt_mono_ms();
        if (left == 0 || now >= deadline)
            return left;
        int64_t wait = deadline - now;
        /* Short naps: a retry's backoff ends without any socket activity to wake us. */
        bt_alerts_wait(a, -1, wait < 50 ? (int)wait : 50);
    }
}

/* ---------------------------------------------------------------- alert-test */

int bt_alerts_test_send(const bt_alerts_config_t *cfg, const char *url, char *err, size_t errlen,
                        long *http_status) {
    if (http_status)
        *http_status = 0;
    if (!cfg) {
        snprintf(err, errlen, "alerts: no configuration");
        return -1;
    }
    if (!url) {
        if (cfg->n_urls == 0 || !cfg->urls) {
            snprintf(err, errlen, "alerts: no webhook URL configured (--webhook)");
            return -1;
        }
        url = cfg->urls[0];
    }
    bt_alerts_config_t c = *cfg;
    c.urls = &url;
    c.n_urls = 1;
    c.on_notify = NULL;
    bt_alerts_t *a = bt_alerts_new(&c, err, errlen);
    if (!a)
        return -1;
    bt_alerts_target_t *t = &a->targets[0];
    int64_t now = bt_wall_ms();
    char msg[512];
    snprintf(msg, sizeof msg, "test alert from %s on %s: this webhook receives bintail's alerts",
             a->agent, a->host);
    bt_alerts_notification_t n = {.name = "test", .severity = BT_ALERTS_INFO, .message = msg,
                                  .fired_at_ms = now, .at_ms = now, .source_file = "",
                                  .source_gtid = ""};
    size_t len = 0;
    int ret = -1;
    t->body = bt_alerts_body(&a->cfg, &n, now, &len);
    if (!t->body || bt_sender_prepare(&a->cfg, t, len) < 0) {
        snprintf(err, errlen, "alerts: cannot send to %s: %s", t->label, t->body ? t->errbuf : "out of memory");
    } else {
        CURLcode rc = curl_easy_perform(t->easy);
        long status = 0;
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
        if (http_status)
            *http_status = status;
        if (rc == CURLE_OK && status >= 200 && status < 300) {
            ret = 0;
        } else {
            char desc[320];
            bt_sender_describe(t, rc, status, desc, sizeof desc);
            snprintf(err, errlen, "alerts: test alert to %s failed: %s", t->label, desc);
        }
    }
    /* The easy handle was never added to the multi; end_transfer's remove is then a no-op. */
    bt_sender_end_transfer(a, t);
    bt_alerts_free(a);
    return ret;
}
