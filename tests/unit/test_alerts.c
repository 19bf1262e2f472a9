/* test_alerts.c: the alerts library. Rules run on a fake clock (exact, no sleeping): lag
 * warning -> critical -> resolved, dips shorter than lag_for, de-escalation, reminders, causes,
 * sink_down, raised events and dedup. Bodies are checked byte for byte. Then the real HTTP path
 * against tests/lib/webhook_receiver.py (started here, stopped by pid even on failure): body
 * fields parsed back by Python's json, the HMAC verified by Python's hmac and by OpenSSL here,
 * 500-then-200 retried and delivered once, 4xx not retried, a hanging receiver neither blocks
 * bt_alerts_pump nor delays the other URL and is retried after its timeout, queue overflow
 * drops the oldest, flush, alert-test, and a raise from another thread waking bt_alerts_wait. */
#include "alerts/alerts.h"
#include "lib/lib.h"
#include "tests/unit/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define SEC INT64_C(1000)
#define MIN (60 * SEC)
#define T0 INT64_C(1700000000000) /* 2023-11-14T22:13:20Z */

/* ---------------------------------------------------------------- recording notifications */

#define MAXREC 256
typedef struct {
    int n;
    char name[MAXREC][32];
    int sev[MAXREC];
    bool resolved[MAXREC];
    int64_t value[MAXREC], threshold[MAXREC], at[MAXREC], fired_at[MAXREC];
    char msg[MAXREC][512];
} rec_t;

static void on_note(void *opaque, const bt_alerts_notification_t *n) {
    rec_t *r = opaque;
    if (r->n >= MAXREC)
        return;
    int i = r->n++;
    snprintf(r->name[i], sizeof r->name[i], "%s", n->name);
    r->sev[i] = n->severity;
    r->resolved[i] = n->resolved;
    r->value[i] = n->has_value ? n->value_ms : -1;
    r->threshold[i] = n->has_threshold ? n->threshold_ms : -1;
    r->at[i] = n->at_ms;
    r->fired_at[i] = n->fired_at_ms;
    snprintf(r->msg[i], sizeof r->msg[i], "%s", n->message);
}

static int quiet_logs = 0;
static void on_log(void *opaque, int level, const char *msg) {
    if (!quiet_logs)
        printf("# [%d] %s\n", level, msg);
}

static bt_alerts_t *new_rules(rec_t *r, bt_alerts_config_t *c) {
    char err[256] = "";
    memset(r, 0, sizeof *r);
    c->on_notify = on_note;
    c->notify_opaque = r;
    c->log = on_log;
    bt_alerts_t *a = bt_alerts_new(c, err, sizeof err);
    if (!a)
        printf("# bt_alerts_new: %s\n", err);
    return a;
}

static bt_alerts_state_t state(int64_t now, int64_t lag) {
    bt_alerts_state_t st;
    memset(&st, 0, sizeof st);
    st.now_ms = now;
    st.lag_known = true;
    st.lag_ms = lag;
    st.sink_ok = true;
    st.source_advancing = true;
    snprintf(st.source_file, sizeof st.source_file, "mysql-bin.000042");
    st.source_pos = 1234;
    snprintf(st.source_gtid, sizeof st.source_gtid, "0-1-99");
    return st;
}

/* Evaluates lag `lag` once a second for t in [from, to) seconds after T0. */
static void run_lag(bt_alerts_t *a, int64_t from_s, int64_t to_s, int64_t lag) {
    for (int64_t t = from_s; t < to_s; t++) {
        bt_alerts_state_t st = state(T0 + t * SEC, lag);
        bt_alerts_evaluate(a, &st);
    }
}

/* ---------------------------------------------------------------- config */

static void test_config(void) {
    bt_alerts_config_t c;
    bt_alerts_config_defaults(&c);
    is_int(c.timeout_ms, 5000, "default webhook timeout 5 s");
    is_int(c.max_attempts, 5, "default 5 attempts");
    is_int(c.lag_warning_ms, 30 * SEC, "default lag warning 30 s");
    is_int(c.lag_critical_ms, 300 * SEC, "default lag critical 300 s");
    is_int(c.lag_for_ms, 30 * SEC, "default lag_for 30 s");
    is_int(c.sink_down_after_ms, 30 * SEC, "default sink_down_after 30 s");
    is_int(c.alert_interval_ms, 10 * MIN, "default alert interval 10 min");
    is_int(c.format, BT_ALERTS_FORMAT_JSON, "default format json");

    char err[256];
    bt_alerts_t *a = bt_alerts_new(&c, err, sizeof err);
    ok(a != NULL, "defaults without URLs are valid");
    bt_alerts_free(a);

    struct {
        const char *url, *header, *want;
        int secret_empty, crit_below;
    } bad[] = {
        {"ftp://x/hook", NULL, "http:// or https://", 0, 0},
        {"http:///hook", NULL, "no host", 0, 0},
        {"http://h/a b", NULL, "space", 0, 0},
        {NULL, "NoColon", "Name: value", 0, 0},
        {NULL, "X-A: b\r\nX-Evil: 1", "CR or LF", 0, 0},
        {NULL, "Bad Name: v", "bad character", 0, 0},
        {NULL, "X-Empty:  ", "no value", 0, 0},
        {NULL, "X-Bintail-Signature: x", "set by bintail", 0, 0},
        {NULL, NULL, "secret is empty", 1, 0},
        {NULL, NULL, "below lag-warning", 0, 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bt_alerts_config_defaults(&c);
        const char *urls[1] = {bad[i].url};
        const char *hdrs[1] = {bad[i].header};
        if (bad[i].url) {
            c.urls = urls;
            c.n_urls = 1;
        }
        if (bad[i].header) {
            c.headers = hdrs;
            c.n_headers = 1;
        }
        if (bad[i].secret_empty) {
            c.secret = (const unsigned char *)"";
            c.secret_len = 0;
        }
        if (bad[i].crit_below)
            c.lag_critical_ms = 10 * SEC;
        err[0] = '\0';
        a = bt_alerts_new(&c, err, sizeof err);
        ok(!a && strstr(err, bad[i].want), "rejected config %zu: %s", i, err);
        bt_alerts_free(a);
    }
}

/* ---------------------------------------------------------------- rules */

static void test_lag_escalation(void) {
    rec_t r;
    bt_alerts_config_t c;
    bt_alerts_config_defaults(&c);
    bt_alerts_t *a = new_rules(&r, &c);

    run_lag(a, 0, 10, 10 * SEC); /* below warning */
    is_int(r.n, 0, "lag 10 s: nothing");
    run_lag(a, 10, 40, 45 * SEC); /* above warning from t=10: 30 s complete at t=40 */
    is_int(r.n, 0, "lag 45 s for 29 s: not yet (lag_for 30 s)");
    is_int(bt_alerts_firing(a, "lag"), -1, "lag not firing yet");
    run_lag(a, 40, 41, 45 * SEC);
    is_int(r.n, 1, "lag 45 s for 30 s: fires");
    is_str(r.name[0], "lag", "alert name lag");
    is_int(r.sev[0], BT_ALERTS_WARNING, "first firing is WARNING");
    ok(!r.resolved[0], "state firing");
    is_int(r.value[0], 45 * SEC, "value is the lag");
    is_int(r.threshold[0], 30 * SEC, "threshold is lag_warning");
    is_int(r.at[0], T0 + 40 * SEC, "fired at the evaluation that completed lag_for");
    is_int(bt_alerts_firing(a, "lag"), BT_ALERTS_WARNING, "bt_alerts_firing says WARNING");
    ok(strstr(r.msg[0], "45s") && strstr(r.msg[0], "warning"), "message: %s", r.msg[0]);

    run_lag(a, 41, 50, 45 * SEC);
    run_lag(a, 50, 80, 400 * SEC); /* above critical from t=50 */
    is_int(r.n, 1, "critical for 29 s: still only WARNING");
    run_lag(a, 80, 81, 400 * SEC);
    is_int(r.n, 2, "critical for 30 s: escalates");
    is_int(r.sev[1], BT_ALERTS_CRITICAL, "second firing is CRITICAL");
    ok(!r.resolved[1], "escalation is a firing notification");
    is_int(r.threshold[1], 300 * SEC, "threshold is lag_critical");
    is_int(r.fired_at[1], T0 + 40 * SEC, "fired_at stays the start of the incident");

    run_lag(a, 81, 100, 400 * SEC);
    run_lag(a, 100, 101, 5 * SEC);
    is_int(r.n, 3, "lag back to 5 s: resolved at once");
    ok(r.resolved[2], "third is resolved");
    is_int(r.sev[2], BT_ALERTS_CRITICAL, "resolved carries the severity that fired");
    is_int(r.value[2], 5 * SEC, "resolved value is the current lag");
    is_int(bt_alerts_firing(a, "lag"), -1, "not firing after resolve");

    run_lag(a, 101, 2000, 5 * SEC);
    is_int(r.n, 3, "exactly firing(WARNING), firing(CRITICAL), resolved");
    bt_alerts_free(a);
}

static void test_lag_dips(void) {
    rec_t r;
    bt_alerts_config_t c;
    bt_alerts_config_defaults(&c);
    bt_alerts_t *a = new_rules(&r, &c);
    int64_t t = 0;
    for (int i = 0; i < 20; i++) { /* 29 s above, 1 s at the threshold: never 30 s in a row */
        run_lag(a, t, t + 29, 100 * SEC);
        run_lag(a, t + 29, t + 30, 30 * SEC); /* "above" is strict: 30 s is not above 30 s */
        t += 30;
    }
    is_int(r.n, 0, "lag dipping before lag_for never fires (10 min of dips)");
    run_lag(a, t, t + 31, 100 * SEC);
    is_int(r.n, 1, "then 30 s without a dip fires");
    bt_alerts_free(a);

    /* Spike to critical shorter than lag_for, inside a warning: stays WARNING. */
    a = new_rules(&r, &c);
    run_lag(a, 0, 31, 60 * SEC);
    run_lag(a, 31, 60, 999 * SEC);
    run_lag(a, 60, 70, 60 * SEC);
    is_int(r.n, 1, "29 s critical spike does not escalate");
    bt_alerts_free(a);

    /* lag_for 0: fires at the first evaluation above. */
    bt_alerts_config_defaults(&c);
    c.lag_for_ms = 0;
    a = new_rules(&r, &c);
    run_lag(a, 0, 1, 31 * SEC);
    is_int(r.n, 1, "lag_for 0 fires at once");
    bt_alerts_free(a);
}

static void test_lag_deescalation(void) {
    rec_t r;
    bt_alerts_config_t c;
    bt_alerts_config_defaults(&c);
    bt_alerts_t *a = new_rules(&r, &c);

    run_lag(a, 0, 31, 400 * SEC);
    is_int(r.n, 1, "jump to critical: one notification");
    is_int(r.sev[0], BT_ALERTS_CRITICAL, "straight to CRITICAL, no WARNING first");
    /* A quick catch-up through the warning band ends with one resolved. */
    run_lag(a, 31, 40, 200 * SEC);
    run_lag(a, 40, 41, 0);
    is_int(r.n, 2, "quick catch-up: only resolved");
    ok(r.resolved[1], "that is the resolved");

    /* Stuck in the warning band after critical: steps down once it held for lag_for. */
    run_lag(a, 100, 131, 400 * SEC);
    run_lag(a, 131, 161, 200 * SEC); /* in the band from t=131: 30 s complete at t=161 */
    is_int(r.n, 3, "29 s in the warning band: still CRITICAL");
    run_lag(a, 161, 162, 200 * SEC);
    is_int(r.n, 4, "30 s in the warning band: de-escalates");
    is_int(r.sev[3], BT_ALERTS_WARNING, "de-escalation is a WARNING firing");
    ok(!r.resolved[3] && strstr(r.msg[3], "below the critical"), "message: %s", r.msg[3]);
    run_lag(a, 162, 200, 200 * SEC);
    is_int(r.n, 4, "no repeat after de-escalation");
    bt_alerts_free(a);
}

static void test_lag_reminders(void) {
    rec_t r;
    bt_alerts_config_t c;
    bt_alerts_config_defaults(&c);
    bt_alerts_t *a = new_rules(&r, &c);

    run_lag(a, 0, 2 * 3600, 45 * SEC); /* fires at t=30, then every 600 s: 630, 1230 ... 6630 */
    is_int(r.n, 12, "2 hours firing: first + 11 reminders");
    int spaced = 1, same = 1;
    for (int i = 1; i < r.n; i++) {
        spaced &= r.at[i] - r.at[i - 1] == 10 * MIN;
        same &= r.sev[i] == BT_ALERTS_WARNING && !r.resolved[i] && r.fired_at[i] == T0 + 30 * SEC;
    }
    ok(spaced, "reminders exactly alert_interval apart");
    ok(same, "reminders: same severity, firing, original fired_at");
    ok(strstr(r.msg[1], "still firing"), "reminder message: %s", r.msg[1]);
    bt_alerts_free(a);

    /* Unknown lag holds still: no resolve, no reminder. */
    a = new_rules(&r, &c);
    run_lag(a, 0, 31, 45 * SEC);
    for (int64_t t = 31; t < 3600; t++) {
        bt_alerts_state_t st = state(T0 + t * SEC, 0);
        st.lag_known = false;
        bt_alerts_evaluate(a, &st);
    }
    is_int(r.n, 1, "unknown lag: no resolve");
    is_int(bt_alerts_firing(a, "lag"), BT_ALERTS_WARNING, "unknown lag: still firing");
    bt_alerts_free(a);
}

static void test_lag_causes(void) {
    rec_t r;
    bt_alerts_config_t c;
    bt_alerts_config_defaults(&c);
    c.lag_for_ms = 0;
    bt_alerts_t *a = new_rules(&r, &c);
    bt_alerts_state_t st = state(T0, 45 * SEC);
    st.throttle_waited_ns = INT64_C(850000000);
    bt_alerts_evaluate(a, &st);
    ok(r.n == 1 && strstr(r.msg[0], "likely cause: throttle active") && strstr(r.msg[0], "850ms"),
       "throttle named as the cause: %s", r.msg[0]);
    bt_alerts_free(a);

    a = new_rules(&r, &c);
    st = state(T0, 45 * SEC);
    st.sink_ok = false;
    st.sink_failing_ms = 20 * SEC;
    bt_alerts_evaluate(a, &st);
    ok(r.n == 1 && strstr(r.msg[0], "broker unreachable") && strstr(r.msg[0], "20s"),
       "failing sink named as the cause: %s", r.msg[0]);
    bt_alerts_free(a);

    a = new_rules(&r, &c);
    st = state(T0, 45 * SEC);
    st.source_advancing = false;
    bt_alerts_evaluate(a, &st);
    ok(r.n == 1 && strstr(r.msg[0], "source not advancing"), "stalled source named: %s", r.msg[0]);
    bt_alerts_free(a);

    a = new_rules(&r, &c);
    st = state(T0, 45 * SEC);
    bt_alerts_evaluate(a, &st);
    ok(r.n == 1 && !strstr(r.msg[0], "cause"), "no cause claimed when none is known: %s", r.msg[0]);
    bt_alerts_free(a);
}

static void test_sink_down(void) {
    rec_t r;
    bt_alerts_config_t c;
    bt_alerts_config_defaults(&c);
    bt_alerts_t *a = new_rules(&r, &c);

    /* The agent reports how long deliveries have failed. */
    for (int64_t t = 0; t <= 30; t++) {
        bt_alerts_state_t st = state(T0 + t * SEC, 0);
        st.sink_ok = false;
        st.sink_failing_ms = t * SEC;
        bt_alerts_evaluate(a, &st);
    }
    is_int(r.n, 0, "failing for exactly sink_down_after: not yet (longer than)");
    int64_t t = 31;
    for (; t < 31 + 3600; t++) {
        bt_alerts_state_t st = state(T0 + t * SEC, 0);
        st.sink_ok = false;
        st.sink_failing_ms = t * SEC;
        bt_alerts_evaluate(a, &st);
        if (t == 31) {
            is_int(r.n, 1, "failing for 31 s: sink_down fires");
            is_str(r.name[0], "sink_down", "name sink_down");
            is_int(r.sev[0], BT_ALERTS_CRITICAL, "sink_down is CRITICAL");
            is_int(r.value[0], 31 * SEC, "value: failing time");
            is_int(r.threshold[0], 30 * SEC, "threshold: sink_down_after");
        }
    }
    is_int(r.n, 6, "an hour down: first + 5 reminders (every 10 min)");
    bt_alerts_state_t st = state(T0 + t * SEC, 0);
    bt_alerts_evaluate(a, &st);
    is_int(r.n, 7, "sink recovers: resolved");
    ok(r.resolved[6] && strcmp(r.name[6], "sink_down") == 0, "resolved sink_down");
    run_lag(a, t, t + 100, 0);
    is_int(r.n, 7, "nothing more while healthy");
    bt_alerts_free(a);

    /* Without a duration from the agent the library counts from the first failing snapshot. */
    a = new_rules(&r, &c);
    for (t = 100; t <= 131; t++) {
        st = state(T0 + t * SEC, 0);
        st.sink_ok = false;
        bt_alerts_evaluate(a, &st);
        if (t == 130)
            is_int(r.n, 0, "unknown duration: 30 s after first seen, not yet");
    }
    is_int(r.n, 1, "unknown duration: fires 31 s after first seen");
    bt_alerts_free(a);
}

static void test_raise(void) {
    rec_t r;
    bt_alerts_config_t c;
    bt_alerts_config_defaults(&c);
    bt_alerts_t *a = new_rules(&r, &c);
    bt_alerts_stats_t s;

    is_int(bt_alerts_raise(a, "ddl", BT_ALERTS_INFO, "ALTER TABLE t ADD c INT", T0), 1, "ddl raised");
    is_int(bt_alerts_raise(a, "ddl", BT_ALERTS_INFO, "ALTER TABLE u ADD c INT", T0 + 1), 1,
           "another statement is another ddl alert");
    is_int(bt_alerts_raise(a, "ddl", BT_ALERTS_INFO, "ALTER TABLE u ADD c INT", T0 + 2), 0,
           "the same ddl again within alert_interval is suppressed");
    is_int(bt_alerts_raise(a, "ddl", BT_ALERTS_INFO, "ALTER TABLE u ADD c INT", T0 + 1 + 10 * MIN), 1,
           "the same after alert_interval goes out");
    bt_alerts_stats(a, &s);
    is_uint(s.suppressed, 1, "one suppressed");
    is_uint(s.notified, 3, "three notified");
    ok(!r.resolved[0] && r.value[0] == -1 && r.threshold[0] == -1, "events carry no value or threshold");

    is_int(bt_alerts_raise(a, "source_error", BT_ALERTS_CRITICAL, "connection refused", T0), 1,
           "source_error raised");
    is_int(bt_alerts_firing(a, "source_error"), BT_ALERTS_CRITICAL, "source_error firing");
    is_int(bt_alerts_raise(a, "source_error", BT_ALERTS_CRITICAL, "connection refused", T0 + SEC), 0,
           "repeated identical error suppressed");
    is_int(bt_alerts_clear(a, "source_error", T0 + 5 * SEC), 1, "clear sends resolved");
    ok(r.resolved[r.n - 1] && strcmp(r.name[r.n - 1], "source_error") == 0 &&
           r.sev[r.n - 1] == BT_ALERTS_CRITICAL && r.fired_at[r.n - 1] == T0,
       "resolved source_error with its severity and fired_at");
    is_int(bt_alerts_clear(a, "source_error", T0 + 6 * SEC), 0, "clearing again does nothing");
    is_int(bt_alerts_firing(a, "source_error"), -1, "not firing after clear");
    is_int(bt_alerts_raise(a, "source_error", BT_ALERTS_CRITICAL, "connection refused", T0 + 7 * SEC), 1,
           "after a clear the same error is a new incident");
    is_int(bt_alerts_clear(a, "never_raised", T0), 0, "clear of an unknown name: 0");

    is_int(bt_alerts_raise(a, "lag", BT_ALERTS_WARNING, "x", T0), -1, "lag belongs to the rules");
    is_int(bt_alerts_raise(a, "Bad-Name", BT_ALERTS_INFO, "x", T0), -1, "bad name rejected");
    is_int(bt_alerts_raise(a, "", BT_ALERTS_INFO, "x", T0), -1, "empty name rejected");
    is_int(bt_alerts_raise(a, "x", (bt_alerts_severity_t)7, "x", T0), -1, "bad severity rejected");

    /* Many names: the table forgets old ones instead of growing. */
    char name[16];
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "ev%d", i);
        bt_alerts_raise(a, name, BT_ALERTS_INFO, "m", T0 + i);
    }
    is_int(bt_alerts_firing(a, "ev99"), BT_ALERTS_INFO, "newest of 100 names remembered");

    bt_alerts_free(a);
}

/* ---------------------------------------------------------------- bodies */

static void test_bodies(void) {
    bt_alerts_config_t c;
    bt_alerts_config_defaults(&c);
    c.host = "db1.example";
    c.agent_name = "bt-main";
    char err[256];
    bt_alerts_t *a = bt_alerts_new(&c, err, sizeof err);
    bt_alerts_notification_t n = {.name = "lag", .severity = BT_ALERTS_WARNING, .has_value = true,
                                  .value_ms = 45200, .has_threshold = true, .threshold_ms = 30000,
                                  .message = "q\"b\\s\nt\t\x01 caf\xc3\xa9 bad\xff end",
                                  .fired_at_ms = T0 + 123, .at_ms = T0 + 5000,
                                  .source_file = "mysql-bin.000042", .source_pos = 1234,
                                  .source_gtid = "0-1-99"};
    size_t len = 0;
    char *b = bt_alerts_render(a, &n, T0 + 61001, &len);
    is_str(b,
           "{\"alert\":\"lag\",\"severity\":\"WARNING\",\"state\":\"firing\",\"value\":45.2,"
           "\"threshold\":30,\"message\":\"q\\\"b\\\\s\\nt\\t\\u0001 caf\xc3\xa9 bad\xef\xbf\xbd end\","
           "\"host\":\"db1.example\",\"agent\":\"bt-main\",\"source\":{\"file\":\"mysql-bin.000042\","
           "\"pos\":1234,\"gtid\":\"0-1-99\"},\"fired_at\":\"2023-11-14T22:13:20.123Z\","
           "\"sent_at\":\"2023-11-14T22:14:21.001Z\",\"schema\":1}",
           "JSON body, escaped, exact");
    is_int(len, b ? strlen(b) : 0, "length returned");
    free(b);

    bt_alerts_notification_t e = {.name = "stopped", .severity = BT_ALERTS_CRITICAL, .resolved = true,
                                  .message = "", .fired_at_ms = T0, .source_file = "",
                                  .source_gtid = ""};
    b = bt_alerts_render(a, &e, T0, &len);
    is_str(b,
           "{\"alert\":\"stopped\",\"severity\":\"CRITICAL\",\"state\":\"resolved\",\"value\":null,"
           "\"threshold\":null,\"message\":\"\",\"host\":\"db1.example\",\"agent\":\"bt-main\","
           "\"source\":{\"file\":null,\"pos\":null,\"gtid\":null},"
           "\"fired_at\":\"2023-11-14T22:13:20.000Z\",\"sent_at\":\"2023-11-14T22:13:20.000Z\","
           "\"schema\":1}",
           "unknown values and position are null");
    free(b);
    bt_alerts_free(a);

    c.format = BT_ALERTS_FORMAT_SLACK;
    a = bt_alerts_new(&c, err, sizeof err);
    n.message = "lag <big> & \"rising\"\nline2";
    b = bt_alerts_render(a, &n, T0, &len);
    is_str(b,
           "{\"text\":\"[WARNING] bt-main@db1.example lag: lag &lt;big&gt; &amp; \\\"rising\\\" line2 "
           "(at mysql-bin.000042:1234)\"}",
           "slack body: one line, markup escaped");
    n.resolved = true;
    free(b);
    b = bt_alerts_render(a, &n, T0, &len);
    ok(b && strncmp(b, "{\"text\":\"[RESOLVED] ", 20) == 0, "slack resolved: %s", b ? b : "");
    free(b);
    bt_alerts_free(a);
}

/* Hooks the full message of the last notification. */
static char last_msg[8192];
static void on_note_full(void *opaque, const bt_alerts_notification_t *n) {
    snprintf(last_msg, sizeof last_msg, "%s", n->message);
}

static void test_message_cut(void) {
    bt_alerts_config_t c;
    bt_alerts_config_defaults(&c);
    c.on_notify = on_note_full;
    char err[256];
    bt_alerts_t *a = bt_alerts_new(&c, err, sizeof err);
    char *big = malloc(10000);
    memset(big, 'x', 9998);
    big[9998] = '\0';
    /* The cut keeps 4093 bytes + "...": an é at 4092-4093 would be split, so it goes whole. */
    memcpy(big + 4092, "\xc3\xa9", 2);
    bt_alerts_raise(a, "ddl", BT_ALERTS_INFO, big, T0);
    size_t len = strlen(last_msg);
    is_int(len, 4095, "cut before a character that would be split");
    ok(strcmp(last_msg + 4089, "xxx...") == 0, "  ... and marked with ...");
    /* An é at 4091-4092 fits whole. */
    memset(big, 'y', 9998);
    memcpy(big + 4091, "\xc3\xa9", 2);
    bt_alerts_raise(a, "ddl", BT_ALERTS_INFO, big, T0);
    len = strlen(last_msg);
    ok(len == BT_ALERTS_MESSAGE_MAX && strcmp(last_msg + 4090, "y\xc3\xa9...") == 0,
       "cut to %d bytes after a whole character (got %zu)", BT_ALERTS_MESSAGE_MAX, len);
    free(big);
    bt_alerts_raise(a, "ddl", BT_ALERTS_INFO, "short", T0);
    is_str(last_msg, "short", "short messages untouched");
    bt_alerts_free(a);
}

/* ---------------------------------------------------------------- HTTP helpers */

static char tmpdir[256];
static char receiver_py[512];
static char checker_py[512];
#define MAXPIDS 16
static pid_t pids[MAXPIDS];

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void stop_receiver(pid_t pid) {
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            goto gone;
        sleep_ms(20);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
gone:
    for (int i = 0; i < MAXPIDS; i++)
        if (pids[i] == pid)
            pids[i] = 0;
}

/* At exit, whatever happened: no receiver outlives the test (they also watch their parent). */
static void stop_all(void) {
    for (int i = 0; i < MAXPIDS; i++)
        stop_receiver(pids[i]);
    if (tmpdir[0] && !getenv("BT_KEEP_TMP")) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            printf("# could not remove %s\n", tmpdir);
    }
}

/* Starts the receiver with extra arguments; fills its port and output file. */
static pid_t start_receiver(const char *name, const char *mode, const char *opt, const char *optval,
                            int *port, char *out, size_t outcap) {
    char portfile[400];
    snprintf(out, outcap, "%s/%s.jsonl", tmpdir, name);
    snprintf(portfile, sizeof portfile, "%s/%s.port", tmpdir, name);
    const char *argv[16];
    int i = 0;
    argv[i++] = "/usr/bin/python3";
    argv[i++] = receiver_py;
    argv[i++] = "--port-file";
    argv[i++] = portfile;
    argv[i++] = "--out";
    argv[i++] = out;
    argv[i++] = "--mode";
    argv[i++] = mode;
    if (opt) {
        argv[i++] = opt;
        argv[i++] = optval;
    }
    argv[i] = NULL;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    if (pid < 0)
        return -1;
    for (int k = 0; k < MAXPIDS; k++)
        if (!pids[k]) {
            pids[k] = pid;
            break;
        }
    *port = 0;
    for (int k = 0; k < 500 && !*port; k++) { /* up to 10 s */
        FILE *f = fopen(portfile, "r");
        if (f) {
            if (fscanf(f, "%d", port) != 1)
                *port = 0;
            fclose(f);
        }
        if (!*port)
            sleep_ms(20);
    }
    if (!*port) {
        printf("# receiver %s did not start\n", name);
        stop_receiver(pid);
        return -1;
    }
    return pid;
}

static int count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    int n = 0, ch;
    if (!f)
        return 0;
    while ((ch = fgetc(f)) != EOF)
        n += ch == '\n';
    fclose(f);
    return n;
}

/* Fields of request n (1-based) of a receiver's log, as parsed by Python: "key=value" lines,
 * JSON values in JSON text, plus checks (json=ok, sig=ok, times=ok). */
typedef struct {
    char buf[16384];
    char *key[128], *val[128];
    int n;
} kv_t;

static const char *CHECKER =
    "import base64, datetime, hashlib, hmac, json, sys\n"
    "recs = [json.loads(l) for l in open(sys.argv[1])]\n"
    "print('count=%d' % len(recs))\n"
    "r = recs[int(sys.argv[2]) - 1]\n"
    "body = base64.b64decode(r['body_b64'])\n"
    "print('status=%s' % r['status'])\n"
    "print('method=' + r['method'])\n"
    "print('path=' + r['path'])\n"
    "print('t=%.3f' % r['t'])\n"
    "h = {k.lower(): v for k, v in r['headers'].items()}\n"
    "for k in ('content-type', 'user-agent', 'x-team', 'x-bintail-signature'):\n"
    "    print('h.' + k + '=' + h.get(k, ''))\n"
    "if len(sys.argv) > 3:\n"
    "    want = 'sha256=' + hmac.new(sys.argv[3].encode(), body, hashlib.sha256).hexdigest()\n"
    "    print('sig=' + ('ok' if hmac.compare_digest(want, h.get('x-bintail-signature', '')) else 'bad'))\n"
    "try:\n"
    "    j = json.loads(body.decode('utf-8'))\n"
    "except Exception as e:\n"
    "    print('json=bad ' + str(e)); sys.exit(0)\n"
    "print('json=ok')\n"
    "print('keys=' + ','.join(j.keys()))\n"
    "def flat(p, o):\n"
    "    if isinstance(o, dict):\n"
    "        for k, v in o.items(): flat(p + k + '.', v)\n"
    "    else: print(p[:-1] + '=' + json.dumps(o, ensure_ascii=False))\n"
    "flat('', j)\n"
    "if 'fired_at' in j:\n"
    "    f = '%Y-%m-%dT%H:%M:%S.%fZ'\n"
    "    a = datetime.datetime.strptime(j['fired_at'], f); b = datetime.datetime.strptime(j['sent_at'], f)\n"
    "    print('times=' + ('ok' if b >= a else 'sent_at before fired_at'))\n";

static int parse_request(const char *out, int n, const char *secret, kv_t *kv) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s' %d %s%s%s", checker_py, out, n,
             secret ? "'" : "", secret ? secret : "", secret ? "'" : "");
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t len = fread(kv->buf, 1, sizeof kv->buf - 1, p);
    pclose(p);
    kv->buf[len] = '\0';
    kv->n = 0;
    for (char *line = strtok(kv->buf, "\n"); line && kv->n < 128; line = strtok(NULL, "\n")) {
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        kv->key[kv->n] = line;
        kv->val[kv->n++] = eq + 1;
    }
    return 0;
}

static const char *kv_get(const kv_t *kv, const char *key) {
    for (int i = 0; i < kv->n; i++)
        if (strcmp(kv->key[i], key) == 0)
            return kv->val[i];
    return "";
}

/* Pumps on the real clock until nothing is queued (or until `until_sent` deliveries succeeded
 * when > 0), at most max_ms; records the slowest pump call. Returns what is left queued. */
static int64_t slowest_pump;
static size_t pump_until(bt_alerts_t *a, uint64_t until_sent, int64_t max_ms) {
    int64_t end = mono_ms() + max_ms;
    size_t left = 0;
    for (;;) {
        int64_t t0 = mono_ms();
        left = bt_alerts_pump(a, bt_wall_ms());
        int64_t took = mono_ms() - t0;
        if (took > slowest_pump)
            slowest_pump = took;
        bt_alerts_stats_t s;
        bt_alerts_stats(a, &s);
        if (until_sent ? s.sent >= until_sent : left == 0)
            return left;
        if (mono_ms() >= end)
            return left;
        bt_alerts_wait(a, -1, 20);
    }
}

static bt_alerts_t *new_http(bt_alerts_config_t *c, const char *const *urls, size_t n) {
    char err[256] = "";
    c->urls = urls;
    c->n_urls = n;
    c->log = on_log;
    bt_alerts_t *a = bt_alerts_new(c, err, sizeof err);
    if (!a)
        printf("# bt_alerts_new: %s\n", err);
    return a;
}

static void url_of(char *buf, size_t cap, int port, const char *path) {
    snprintf(buf, cap, "http://127.0.0.1:%d%s", port, path);
}

/* ---------------------------------------------------------------- HTTP tests */

static void test_http_json_and_signature(void) {
    int port;
    char out[400], url[128];
    pid_t pid = start_receiver("ok", "ok", NULL, NULL, &port, out, sizeof out);
    if (pid < 0) {
        ok(0, "receiver started");
        return;
    }
    url_of(url, sizeof url, port, "/hook?token=abc");
    const char *urls[] = {url};
    const char *hdrs[] = {"X-Team: dba"};
    bt_alerts_config_t c;
    bt_alerts_config_defaults(&c);
    c.headers = hdrs;
    c.n_headers = 1;
    c.secret = (const unsigned char *)"s3cret";
    c.secret_len = 6;
    c.host = "db1";
    c.agent_name = "bt-test";
    c.lag_for_ms = 0;
    bt_alerts_t *a = new_http(&c, urls, 1);
    if (!a)
        return;

    int64_t now = bt_wall_ms();
    bt_alerts_state_t st = state(now, 45200);
    st.throttle_waited_ns = 500 * INT64_C(1000000);
    bt_alerts_evaluate(a, &st);
    is_int(pump_until(a, 0, 5000), 0, "lag notification delivered");
    bt_alerts_stats_t s;
    bt_alerts_stats(a, &s);
    is_uint(s.sent, 1, "stats: 1 sent");
    is_uint(s.failed + s.retried + s.dropped, 0, "stats: nothing failed, retried or dropped");
    is_int(count_lines(out), 1, "receiver got one request");

    kv_t kv;
    parse_request(out, 1, "s3cret", &kv);
    is_str(kv_get(&kv, "json"), "ok", "body is valid JSON");
    is_str(kv_get(&kv, "method"), "POST", "POST");
    is_str(kv_get(&kv, "path"), "/hook?token=abc", "path and query kept");
    is_str(kv_get(&kv, "keys"),
           "alert,severity,state,value,threshold,message,host,agent,source,fired_at,sent_at,schema",
           "schema keys in order");
    is_str(kv_get(&kv, "alert"), "\"lag\"", "alert");
    is_str(kv_get(&kv, "severity"), "\"WARNING\"", "severity");
    is_str(kv_get(&kv, "state"), "\"firing\"", "state");
    is_str(kv_get(&kv, "value"), "45.2", "value in seconds");
    is_str(kv_get(&kv, "threshold"), "30", "threshold in seconds");
    ok(strstr(kv_get(&kv, "message"), "throttle active"), "message names the cause: %s",
       kv_get(&kv, "message"));
    is_str(kv_get(&kv, "host"), "\"db1\"", "host");
    is_str(kv_get(&kv, "agent"), "\"bt-test\"", "agent");
    is_str(kv_get(&kv, "source.file"), "\"mysql-bin.000042\"", "source.file");
    is_str(kv_get(&kv, "source.pos"), "1234", "source.pos");
    is_str(kv_get(&kv, "source.gtid"), "\"0-1-99\"", "source.gtid");
    is_str(kv_get(&kv, "schema"), "1", "schema 1");
    is_str(kv_get(&kv, "times"), "ok", "fired_at and sent_at are ISO-8601 UTC, in order");
    is_str(kv_get(&kv, "h.content-type"), "application/json", "Content-Type");
    is_str(kv_get(&kv, "h.x-team"), "dba", "extra header sent");
    is_str(kv_get(&kv, "sig"), "ok", "X-Bintail-Signature verifies with Python's hmac");

    /* And with OpenSSL here, over the bytes Python saw. */
    char cmd[900], body[8192] = "";
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c 'import json,sys,base64; sys.stdout.buffer.write(base64.b64decode("
             "json.loads(open(sys.argv[1]).readline())[\"body_b64\"]))' '%s'", out);
    FILE *p = popen(cmd, "r");
    size_t blen = p ? fread(body, 1, sizeof body - 1, p) : 0;
    if (p)
        pclose(p);
    unsigned char md[32];
    unsigned mdlen = 0;
    HMAC(EVP_sha256(), "s3cret", 6, (unsigned char *)body, blen, md, &mdlen);
    char want[80] = "sha256=";
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(want + 7 + 2 * i, 3, "%02x", md[i]);
    is_str(kv_get(&kv, "h.x-bintail-signature"), want, "signature = HMAC-SHA256(secret, exact body)");

    /* A raised event with awkward text, then its resolve: order kept. */
    bt_alerts_raise(a, "source_error", BT_ALERTS_CRITICAL, "bad \"event\" at mysql-bin.000042:1234\n\xff",
                    bt_wall_ms());
    bt_alerts_clear(a, "source_error", bt_wall_ms());
    is_int(pump_until(a, 0, 5000), 0, "raise and clear delivered");
    is_int(count_lines(out), 3, "receiver has 3 requests");
    parse_request(out, 2, "s3cret", &kv);
    is_str(kv_get(&kv, "json"), "ok", "escaped message still valid JSON");
    is_str(kv_get(&kv, "message"), "\"bad \\\"event\\\" at mysql-bin.000042:1234\\n\xef\xbf\xbd\"",
           "message round-trips (invalid byte as U+FFFD)");
    is_str(kv_get(&kv, "value"), "null", "event value null");
    is_str(kv_get(&kv, "sig"), "ok", "signature ok on the event");
    parse_request(out, 3, "s3cret", &kv);
    is_str(kv_get(&kv, "state"), "\"resolved\"", "resolved comes after firing");
    bt_alerts_free(a);
    stop_receiver(pid);

    /* Slack format over the wire. */
    pid = start_receiver("slack", "ok", NULL, NULL, &port, out, sizeof out);
    url_of(url, sizeof url, port, "/services/T0/B0/secret");
    bt_alerts_config_defaults(&c);
    c.format = BT_ALERTS_FORMAT_SLACK;
    c.host = "db1";
    a = new_http(&c, urls, 1);
    bt_alerts_raise(a, "stopped", BT_ALERTS_WARNING, "agent stopped: SIGTERM", bt_wall_ms());
    pump_until(a, 0, 5000);
    parse_request(out, 1, NULL, &kv);
    is_str(kv_get(&kv, "keys"), "text", "slack body has only text");
    is_str(kv_get(&kv, "text"), "\"[WARNING] bintail@db1 stopped: agent stopped: SIGTERM\"",
           "slack text");
    is_str(kv_get(&kv, "h.x-bintail-signature"), "", "no signature without a secret");
    bt_alerts_free(a);
    stop_receiver(pid);
}

static void test_http_retry(void) {
    int port;
    char out[400], url[128];
    pid_t pid = start_receiver("retry", "ok", "--fail-first", "2", &port, out, sizeof out);
    url_of(url, sizeof url, port, "/");
    const char *urls[] = {url};
    bt_alerts_config_t c;
    bt_alerts_config_defaults(&c);
    c.retry_base_ms = 100;
    bt_alerts_t *a = new_http(&c, urls, 1);
    bt_alerts_raise(a, "stopped", BT_ALERTS_WARNING, "bye", bt_wall_ms());
    is_int(pump_until(a, 0, 5000), 0, "500, 500, then 200: delivered");
    bt_alerts_stats_t s;
    bt_alerts_stats(a, &s);
    is_uint(s.sent, 1, "sent once");
    is_uint(s.retried, 2, "retried twice");
    is_uint(s.failed, 0, "not failed");
    is_int(count_lines(out), 3, "three requests");
    kv_t k1, k2, k3;
    parse_request(out, 1, NULL, &k1);
    parse_request(out, 2, NULL, &k2);
    parse_request(out, 3, NULL, &k3);
    ok(strcmp(kv_get(&k1, "status"), "500") == 0 && strcmp(kv_get(&k3, "status"), "200") == 0,
       "answers 500 then 200");
    double gap1 = atof(kv_get(&k2, "t")) - atof(kv_get(&k1, "t"));
    double gap2 = atof(kv_get(&k3, "t")) - atof(kv_get(&k2, "t"));
    ok(gap1 >= 0.09 && gap2 >= 0.19, "exponential backoff: %.3f s then %.3f s (100 ms, 200 ms)", gap1, gap2);
    is_str(kv_get(&k3, "alert"), "\"stopped\"", "same notification retried");
    bt_alerts_free(a);
    stop_receiver(pid);

    /* Always 500: gives up after max_attempts. */
    pid = start_receiver("fail500", "fail500", NULL, NULL, &port, out, sizeof out);
    url_of(url, sizeof url, port, "/");
    c.max_attempts = 3;
    c.retry_base_ms = 20;
    a = new_http(&c, urls, 1);
    bt_alerts_raise(a, "stopped", BT_ALERTS_WARNING, "bye", bt_wall_ms());
    is_int(pump_until(a, 0, 5000), 0, "always 500: gives up");
    bt_alerts_stats(a, &s);
    ok(s.sent == 0 && s.retried == 2 && s.failed == 1, "3 attempts: 2 retried, 1 failed");
    is_int(count_lines(out), 3, "exactly max_attempts requests");
    bt_alerts_free(a);
    stop_receiver(pid);

    /* 4xx: not retried. */
    pid = start_receiver("fail400", "fail400", NULL, NULL, &port, out, sizeof out);
    url_of(url, sizeof url, port, "/");
    a = new_http(&c, urls, 1);
    bt_alerts_raise(a, "stopped", BT_ALERTS_WARNING, "bye", bt_wall_ms());
    pump_until(a, 0, 5000);
    bt_alerts_stats(a, &s);
    ok(s.sent == 0 && s.retried == 0 && s.failed == 1, "400: failed, not retried");
    is_int(count_lines(out), 1, "one request for a 4xx");
    bt_alerts_free(a);
    stop_receiver(pid);

    /* Nobody listening: connect errors are retried, then fail. */
    int closed = port; /* the 400 receiver is gone; its port is free */
    url_of(url, sizeof url, closed, "/");
    a = new_http(&c, urls, 1);
    bt_alerts_raise(a, "stopped", BT_ALERTS_WARNING, "bye", bt_wall_ms());
    pump_until(a, 0, 5000);
    bt_alerts_stats(a, &s);
    ok(s.retried == 2 && s.failed == 1, "connection refused: retried %llu, failed %llu",
       (unsigned long long)s.retried, (unsigned long long)s.failed);
    bt_alerts_free(a);
}

static void test_http_hang(void) {
    int port1, port2;
    char out1[400], out2[400], url1[128], url2[128];
    pid_t p1 = start_receiver("hang", "ok", "--hang-first", "1", &port1, out1, sizeof out1);
    pid_t p2 = start_receiver("fast", "ok", NULL, NULL, &port2, out2, sizeof out2);
    url_of(url1, sizeof url1, port1, "/");
    url_of(url2, sizeof url2, port2, "/");
    const char *urls[] = {url1, url2};
    bt_alerts_config_t c;
    bt_alerts_config_defaults(&c);
    c.timeout_ms = 800;
    c.retry_base_ms = 100;
    bt_alerts_t *a = new_http(&c, urls, 2);

    slowest_pump = 0;
    int64_t t0 = mono_ms();
    bt_alerts_raise(a, "source_error", BT_ALERTS_CRITICAL, "boom", bt_wall_ms());
    pump_until(a, 1, 5000);
    int64_t fast = mono_ms() - t0;
    bt_alerts_stats_t s;
    bt_alerts_stats(a, &s);
    ok(s.sent == 1 && s.retried == 0, "the other URL is delivered while the first hangs");
    ok(fast < c.timeout_ms, "  ... within %lld ms, before the hanging request times out",
       (long long)fast);
    is_int(count_lines(out2), 1, "fast receiver has it");

    pump_until(a, 2, 5000);
    int64_t total = mono_ms() - t0;
    bt_alerts_stats(a, &s);
    is_uint(s.sent, 2, "hanging receiver: timed out, retried, delivered");
    is_uint(s.retried, 1, "one retry after the timeout");
    ok(total >= c.timeout_ms && total < c.timeout_ms + 2000, "took %lld ms (timeout %lld ms + backoff)",
       (long long)total, (long long)c.timeout_ms);
    is_int(count_lines(out1), 2, "hanging receiver saw two attempts");
    ok(slowest_pump < 200, "bt_alerts_pump never blocked: slowest call %lld ms", (long long)slowest_pump);

    /* bt_alerts_wait honours its timeout and an extra fd. */
    int64_t w0 = mono_ms();
    bt_alerts_wait(a, -1, 150);
    int64_t waited = mono_ms() - w0;
    ok(waited >= 100 && waited < 1000, "bt_alerts_wait idles for its timeout (%lld ms)", (long long)waited);
    int fds[2];
    if (pipe(fds) == 0) {
        if (write(fds[1], "x", 1) != 1)
            printf("# pipe write failed\n");
        w0 = mono_ms();
        int rc = bt_alerts_wait(a, fds[0], 2000);
        is_int(rc, 1, "bt_alerts_wait reports the extra fd readable");
        ok(mono_ms() - w0 < 1000, "  ... at once");
        close(fds[0]);
        close(fds[1]);
    }
    bt_alerts_free(a);
    stop_receiver(p1);
    stop_receiver(p2);

    /* A receiver that never answers: free() aborts the transfer in flight and counts it. */
    p1 = start_receiver("hangall", "hang", NULL, NULL, &port1, out1, sizeof out1);
    url_of(url1, sizeof url1, port1, "/");
    c.timeout_ms = 5000;
    a = new_http(&c, urls, 1);
    bt_alerts_raise(a, "stopped", BT_ALERTS_WARNING, "bye", bt_wall_ms());
    slowest_pump = 0;
    for (int i = 0; i < 10; i++) {
        int64_t c0 = mono_ms();
        bt_alerts_pump(a, bt_wall_ms());
        if (mono_ms() - c0 > slowest_pump)
            slowest_pump = mono_ms() - c0;
        sleep_ms(20);
    }
    ok(slowest_pump < 200, "pump with a request hanging returns at once (slowest %lld ms)",
       (long long)slowest_pump);
    int64_t f0 = mono_ms();
    size_t left = bt_alerts_flush(a, 300);
    int64_t flushed = mono_ms() - f0;
    is_int(left, 1, "flush against a hang leaves it undelivered");
    ok(flushed >= 250 && flushed < 1500, "flush gives up after its timeout (%lld ms)", (long long)flushed);
    quiet_logs = 1;
    bt_alerts_free(a);
    quiet_logs = 0;
    stop_receiver(p1);
}

static void test_http_overflow(void) {
    int port;
    char out[400], url[128];
    pid_t pid = start_receiver("overflow", "ok", NULL, NULL, &port, out, sizeof out);
    url_of(url, sizeof url, port, "/");
    const char *urls[] = {url};
    bt_alerts_config_t c;
    bt_alerts_config_defaults(&c);
    c.queue_max = 3;
    bt_alerts_t *a = new_http(&c, urls, 1);
    char msg[32];
    for (int i = 1; i <= 5; i++) {
        snprintf(msg, sizeof msg, "event %d", i);
        bt_alerts_raise(a, "ddl", BT_ALERTS_INFO, msg, bt_wall_ms());
    }
    bt_alerts_stats_t s;
    bt_alerts_stats(a, &s);
    is_uint(s.dropped, 2, "5 into a queue of 3: 2 dropped");
    is_uint(s.queued, 3, "3 queued");
    is_int(pump_until(a, 0, 5000), 0, "the rest delivered");
    is_int(count_lines(out), 3, "receiver got 3");
    kv_t kv;
    const char *want[] = {"\"event 3\"", "\"event 4\"", "\"event 5\""};
    for (int i = 0; i < 3; i++) {
        parse_request(out, i + 1, NULL, &kv);
        is_str(kv_get(&kv, "message"), want[i], "oldest dropped, rest in order (%d)", i + 1);
    }
    bt_alerts_free(a);
    stop_receiver(pid);
}

static void test_flush_and_test_send(void) {
    int port;
    char out[400], url[128], err[256];
    pid_t pid = start_receiver("flush", "ok", NULL, NULL, &port, out, sizeof out);
    url_of(url, sizeof url, port, "/");
    const char *urls[] = {url};
    bt_alerts_config_t c;
    bt_alerts_config_defaults(&c);
    c.secret = (const unsigned char *)"k";
    c.secret_len = 1;
    bt_alerts_t *a = new_http(&c, urls, 1);
    bt_alerts_raise(a, "source_error", BT_ALERTS_CRITICAL, "fatal", bt_wall_ms());
    bt_alerts_raise(a, "stopped", BT_ALERTS_CRITICAL, "exiting", bt_wall_ms());
    int64_t f0 = mono_ms();
    is_int(bt_alerts_flush(a, 3000), 0, "flush sends what is queued");
    ok(mono_ms() - f0 < 2000, "  ... promptly");
    is_int(count_lines(out), 2, "both arrived");
    bt_alerts_free(a);

    long status = -1;
    err[0] = '\0';
    is_int(bt_alerts_test_send(&c, NULL, err, sizeof err, &status), 0, "alert-test succeeds: %s", err);
    is_int(status, 200, "alert-test returns HTTP 200");
    kv_t kv;
    parse_request(out, 3, "k", &kv);
    is_str(kv_get(&kv, "alert"), "\"test\"", "test alert name");
    is_str(kv_get(&kv, "severity"), "\"INFO\"", "test alert INFO");
    is_str(kv_get(&kv, "sig"), "ok", "test alert signed");
    stop_receiver(pid);

    pid = start_receiver("t500", "fail500", NULL, NULL, &port, out, sizeof out);
    url_of(url, sizeof url, port, "/x");
    is_int(bt_alerts_test_send(&c, url, err, sizeof err, &status), -1, "alert-test against 500 fails");
    is_int(status, 500, "status 500 reported");
    ok(strstr(err, "HTTP 500") && strstr(err, "127.0.0.1") && !strstr(err, "/x"),
       "error names status and host, not the path: %s", err);
    stop_receiver(pid);
    is_int(count_lines(out), 1, "alert-test does not retry");

    is_int(bt_alerts_test_send(&c, url, err, sizeof err, &status), -1, "alert-test, nobody listening");
    is_int(status, 0, "status 0 without a response");
    bt_alerts_config_defaults(&c);
    is_int(bt_alerts_test_send(&c, NULL, err, sizeof err, &status), -1, "alert-test without URL");
    ok(strstr(err, "no webhook URL"), "says so: %s", err);
}

/* A raise from another thread wakes a bt_alerts_wait() in progress. */
typedef struct {
    bt_alerts_t *a;
} raiser_t;
static void *raiser(void *arg) {
    raiser_t *r = arg;
    sleep_ms(100);
    bt_alerts_raise(r->a, "ddl", BT_ALERTS_INFO, "from another thread", bt_wall_ms());
    return NULL;
}

/* The reader thread's pattern: many raises while the side thread pumps and evaluates. */
#define STRESS_N 200
static void *stress_raiser(void *arg) {
    raiser_t *r = arg;
    char msg[64];
    for (int i = 0; i < STRESS_N; i++) {
        snprintf(msg, sizeof msg, "ALTER TABLE t%d ADD c INT", i);
        bt_alerts_raise(r->a, "ddl", BT_ALERTS_INFO, msg, bt_wall_ms());
        if (i % 20 == 0)
            sleep_ms(1);
    }
    return NULL;
}

static void test_threads(void) {
    int port;
    char out[400], url[128];
    pid_t pid = start_receiver("threads", "ok", NULL, NULL, &port, out, sizeof out);
    url_of(url, sizeof url, port, "/");
    const char *urls[] = {url};
    bt_alerts_config_t c;
    bt_alerts_config_defaults(&c);
    c.queue_max = 1000;
    bt_alerts_t *a = new_http(&c, urls, 1);
    raiser_t r = {a};
    pthread_t th;
    pthread_create(&th, NULL, raiser, &r);
    int64_t w0 = mono_ms();
    bt_alerts_wait(a, -1, 5000);
    int64_t woke = mono_ms() - w0;
    pthread_join(th, NULL);
    ok(woke < 2000, "raise from another thread woke bt_alerts_wait after %lld ms", (long long)woke);
    is_int(pump_until(a, 0, 5000), 0, "and it was sent");
    is_int(count_lines(out), 1, "receiver got it");

    pthread_create(&th, NULL, stress_raiser, &r);
    for (int i = 0; i < 50; i++) { /* the side thread meanwhile */
        bt_alerts_state_t st = state(bt_wall_ms(), 0);
        bt_alerts_evaluate(a, &st);
        bt_alerts_pump(a, bt_wall_ms());
        bt_alerts_wait(a, -1, 2);
    }
    pthread_join(th, NULL);
    is_int(pump_until(a, 0, 20000), 0, "%d raises from another thread while pumping: all sent", STRESS_N);
    bt_alerts_stats_t s;
    bt_alerts_stats(a, &s);
    is_uint(s.sent, STRESS_N + 1, "stats agree");
    is_int(count_lines(out), STRESS_N + 1, "receiver got them all");
    kv_t kv;
    parse_request(out, STRESS_N + 1, NULL, &kv);
    is_str(kv_get(&kv, "message"), "\"ALTER TABLE t199 ADD c INT\"", "in order: the last is last");
    bt_alerts_free(a);
    stop_receiver(pid);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    test_config();
    test_lag_escalation();
    test_lag_dips();
    test_lag_deescalation();
    test_lag_reminders();
    test_lag_causes();
    test_sink_down();
    test_raise();
    test_bodies();
    test_message_cut();

    const char *src = getenv("BT_SRCDIR");
    if (!src || !*src)
        src = BT_TEST_SRCDIR;
    snprintf(receiver_py, sizeof receiver_py, "%s/tests/lib/webhook_receiver.py", src);
    if (access("/usr/bin/python3", X_OK) != 0 || access(receiver_py, R_OK) != 0) {
        ok(1, "# SKIP HTTP tests: /usr/bin/python3 or %s missing", receiver_py);
        return tap_done();
    }
    snprintf(tmpdir, sizeof tmpdir, "%s/bt-alerts.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) {
        tmpdir[0] = '\0';
        ok(0, "scratch directory");
        return tap_done();
    }
    atexit(stop_all);
    snprintf(checker_py, sizeof checker_py, "%s/check.py", tmpdir);
    FILE *f = fopen(checker_py, "w");
    if (f) {
        fputs(CHECKER, f);
        fclose(f);
    }
    test_http_json_and_signature();
    test_http_retry();
    test_http_hang();
    test_http_overflow();
    test_flush_and_test_send();
    test_threads();
    return tap_done();
}
