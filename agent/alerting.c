/* alerting.c: the agent's side of alerts (see alerting.h). */
#include "agent/alerting.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/stream/pipeline.h"
#include "lib/lib.h"
#include "throttle/throttle.h"

static void alerts_log(void *opaque, int level, const char *msg) {
    (void)opaque;
    bt_log(level, "alerts: %s", msg);
}

/* The secret is the file's bytes, without a trailing newline (editors add one). */
static unsigned char *read_secret(const char *path, size_t *len, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "--webhook-secret-file %s: %s", path, strerror(errno));
        return NULL;
    }
    unsigned char *buf = bt_xmalloc(4097);
    size_t n = fread(buf, 1, 4096, f);
    fclose(f);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) n--;
    if (n == 0) {
        free(buf);
        snprintf(err, errlen, "--webhook-secret-file %s is empty", path);
        return NULL;
    }
    *len = n;
    return buf;
}

int bt_alerting_config(const bt_config_t *cfg, bt_alerts_config_t *ac, unsigned char **secret, char *err,
                       size_t errlen) {
    bt_alerts_config_defaults(ac);
    *secret = NULL;
    ac->urls = (const char *const *)cfg->webhooks.v;
    ac->n_urls = cfg->webhooks.n;
    ac->headers = (const char *const *)cfg->webhook_headers.v;
    ac->n_headers = cfg->webhook_headers.n;
    ac->format = !strcmp(cfg->webhook_format, "slack") ? BT_ALERTS_FORMAT_SLACK : BT_ALERTS_FORMAT_JSON;
    ac->timeout_ms = cfg->webhook_timeout_ms;
    ac->lag_warning_ms = cfg->lag_warning_ms;
    ac->lag_critical_ms = cfg->lag_critical_ms;
    ac->lag_for_ms = cfg->lag_for_ms;
    ac->sink_down_after_ms = cfg->sink_down_after_ms;
    ac->alert_interval_ms = cfg->alert_interval_ms;
    ac->agent_name = cfg->name;
    ac->log = alerts_log;
    if (cfg->webhook_secret_file) {
        *secret = read_secret(cfg->webhook_secret_file, &ac->secret_len, err, errlen);
        if (!*secret) return -1;
        ac->secret = *secret;
    }
    return 0;
}

bt_alerts_t *bt_alerting_new(const bt_config_t *cfg, char *err, size_t errlen) {
    err[0] = 0;
    if (cfg->webhooks.n == 0) return NULL;
    bt_alerts_config_t ac;
    unsigned char *secret;
    if (bt_alerting_config(cfg, &ac, &secret, err, errlen) != 0) return NULL;
    bt_alerts_t *a = bt_alerts_new(&ac, err, errlen); /* copies the settings */
    free(secret);
    if (a) bt_info("alerts go to %zu webhook(s)", cfg->webhooks.n);
    return a;
}

void bt_alerting_tick(bt_alerts_t *a, bt_pipeline_t *p, bt_throttle_t *thr, int64_t now_ms) {
    static uint64_t last_waited_ns; /* one side thread per process */
    bt_pipeline_stats_t *s = bt_pipeline_stats(p);
    bt_alerts_state_t st;
    memset(&st, 0, sizeof st);
    st.now_ms = now_ms;
    st.lag_known = atomic_load(&s->transactions) > 0 || atomic_load(&s->caught_up);
    st.lag_ms = atomic_load(&s->lag_ms);
    bt_throttle_stats_t ts;
    bt_throttle_get_stats(thr, BT_THROTTLE_STREAM, &ts);
    st.throttle_waited_ns = (int64_t)(ts.waited_ns - last_waited_ns);
    last_waited_ns = ts.waited_ns;
    int64_t failing = atomic_load(&s->sink_failing_ms);
    st.sink_ok = failing == 0;
    st.sink_failing_ms = failing;
    /* Advancing: an event arrived in the last 30 s, or the source is at the end. */
    st.source_advancing = atomic_load(&s->caught_up) || bt_mono_ms() - atomic_load(&s->last_event_ms) < 30000;
    bt_pipeline_position(p, st.source_file, sizeof st.source_file, &st.source_pos, st.source_gtid,
                         sizeof st.source_gtid);
    bt_alerts_evaluate(a, &st);
}

void bt_alerting_stopped(bt_alerts_t *a, bool source_failed, const char *err) {
    if (!a) return;
    int64_t now = bt_wall_ms();
    if (source_failed) bt_alerts_raise(a, "source_error", BT_ALERTS_CRITICAL, err, now);
    char msg[2100];
    snprintf(msg, sizeof msg, "bintail stopped: %s", err);
    bt_alerts_raise(a, "stopped", BT_ALERTS_CRITICAL, msg, now);
    size_t left = bt_alerts_flush(a, 5000);
    if (left) bt_warn("%zu alert deliveries did not complete before exit", left);
}
