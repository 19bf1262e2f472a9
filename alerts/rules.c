/* rules.c: the condition-based alerts, lag and sink_down, as small state machines over the
 * snapshots that bt_alerts_evaluate() passes in. Pure logic: time is st->now_ms, nothing here
 * reads a clock or does I/O; the caller holds a->mu.
 *
 * lag: a level (WARNING above lag_warning, CRITICAL above lag_critical) fires once it has held
 * for lag_for without a break, so a short spike never pages anyone. Going up a level is a new
 * firing notification. Coming down from CRITICAL to WARNING is one too, but only after the lower
 * level has also held for lag_for: a catch-up that drops from 400 s to 0 within lag_for ends with
 * a single "resolved", not a WARNING followed by a resolved seconds later. The alert resolves as
 * soon as the lag is at or below lag_warning. An unknown lag neither fires nor resolves.
 *
 * sink_down: CRITICAL once the sink has been failing for longer than sink_down_after; resolved
 * when a delivery succeeds again.
 *
 * Both remind at most once per alert_interval while they keep firing. A resolve followed by a new
 * firing is a new incident and is always sent: the debounce above is what limits flapping. */
#include "alerts/internal.h"

#include <stdio.h>
#include <string.h>

static const char *const bt_rule_level_names[] = {"info", "warning", "critical"};

void bt_alerts_rules_init(bt_alerts_t *a) {
    a->lag.firing = a->sink.firing = -1;
    a->lag_warn_since = a->lag_crit_since = a->lag_not_crit_since = -1;
    a->sink_failing_since = -1;
}

/* Sends a firing notification for rule r at severity sev and records it. */
static void bt_rule_fire(bt_alerts_t *a, bt_alerts_rule_t *r, const char *name, int sev,
                         int64_t value_ms, int64_t threshold_ms, const char *msg, int64_t now) {
    if (r->firing < 0)
        r->fired_at_ms = now;
    r->firing = sev;
    r->last_sent_ms = now;
    bt_alerts_notification_t n = {.name = name, .severity = (bt_alerts_severity_t)sev,
                                  .has_value = true, .value_ms = value_ms, .has_threshold = true,
                                  .threshold_ms = threshold_ms, .message = msg,
                                  .fired_at_ms = r->fired_at_ms, .at_ms = now};
    bt_alerts_emit(a, &n);
}

static void bt_rule_resolve(bt_alerts_t *a, bt_alerts_rule_t *r, const char *name,
                            int64_t value_ms, int64_t threshold_ms, const char *msg, int64_t now) {
    bt_alerts_notification_t n = {.name = name, .severity = (bt_alerts_severity_t)r->firing,
                                  .resolved = true, .has_value = true, .value_ms = value_ms,
                                  .has_threshold = true, .threshold_ms = threshold_ms,
                                  .message = msg, .fired_at_ms = r->fired_at_ms, .at_ms = now};
    r->firing = -1;
    bt_alerts_emit(a, &n);
}

static int bt_rule_reminder_due(const bt_alerts_t *a, const bt_alerts_rule_t *r, int64_t now) {
    return r->firing >= 0 && now - r->last_sent_ms >= a->cfg.alert_interval_ms;
}

/* "; likely cause: ..." from what the agent knows, or "" when nothing stands out. */
static void bt_rule_lag_cause(const bt_alerts_state_t *st, int64_t sink_failing_ms, char *out,
                              size_t cap) {
    char d[32];
    size_t len = 0;
    out[0] = '\0';
#define ADD(...)                                                                                   \
    do {                                                                                           \
        int w_ = snprintf(out + len, cap - len, "%s", len ? ", " : "; likely cause: ");            \
        if (w_ > 0 && (size_t)w_ < cap - len)                                                      \
            len += (size_t)w_;                                                                     \
        w_ = snprintf(out + len, cap - len, __VA_ARGS__);                                          \
        if (w_ > 0 && (size_t)w_ < cap - len)                                                      \
            len += (size_t)w_;                                                                     \
    } while (0)
    if (!st->sink_ok) {
        bt_alerts_fmt_duration(d, sizeof d, sink_failing_ms);
        ADD("broker unreachable (deliveries failing for %s)", d);
    }
    if (st->throttle_waited_ns > 0) {
        bt_alerts_fmt_duration(d, sizeof d, st->throttle_waited_ns / 1000000);
        ADD("throttle active (reader waited %s in the last second)", d);
    }
    if (!st->source_advancing)
        ADD("source not advancing");
#undef ADD
}

void bt_alerts_rule_lag(bt_alerts_t *a, const bt_alerts_state_t *st) {
    if (!st->lag_known)
        return;
    const int64_t now = st->now_ms, lag = st->lag_ms;
    const int64_t warn = a->cfg.lag_warning_ms, crit = a->cfg.lag_critical_ms;
    const int64_t hold = a->cfg.lag_for_ms;
    bt_alerts_rule_t *r = &a->lag;

    /* How long each level has held without a break. */
    if (lag > warn) {
        if (a->lag_warn_since < 0)
            a->lag_warn_since = now;
    } else {
        a->lag_warn_since = -1;
    }
    if (lag > crit) {
        if (a->lag_crit_since < 0)
            a->lag_crit_since = now;
        a->lag_not_crit_since = -1;
    } else {
        a->lag_crit_since = -1;
        if (a->lag_not_crit_since < 0)
            a->lag_not_crit_since = now;
    }

    char lagtxt[32], thrtxt[32], fortxt[32], cause[256], msg[512];
    bt_alerts_fmt_duration(lagtxt, sizeof lagtxt, lag);

    if (lag <= warn) {
        if (r->firing >= 0) {
            bt_alerts_fmt_duration(thrtxt, sizeof thrtxt, warn);
            snprintf(msg, sizeof msg, "replication lag back to %s (at or below %s)", lagtxt, thrtxt);
            int64_t thr = r->firing == BT_ALERTS_CRITICAL ? crit : warn;
            bt_rule_resolve(a, r, "lag", lag, thr, msg, now);
        }
        return;
    }

    int want = -1; /* the level the lag has held long enough to fire */
    int64_t since = -1;
    if (a->lag_crit_since >= 0 && now - a->lag_crit_since >= hold) {
        want = BT_ALERTS_CRITICAL;
        since = a->lag_crit_since;
    } else if (a->lag_warn_since >= 0 && now - a->lag_warn_since >= hold) {
        want = BT_ALERTS_WARNING;
        since = a->lag_warn_since;
    }
    /* The sink rule ran first in this evaluation, so sink_failing_since is current. */
    int64_t sink_failing = !st->sink_ok && a->sink_failing_since >= 0 ? now - a->sink_failing_since : 0;
    bt_rule_lag_cause(st, sink_failing, cause, sizeof cause);

    int64_t thr = want == BT_ALERTS_CRITICAL ? crit : warn;
    bt_alerts_fmt_duration(thrtxt, sizeof thrtxt, thr);
    if (want > r->firing) {
        fortxt[0] = '\0';
        if (now > since) { /* with lag_for 0 there is no "for" to tell */
            memcpy(fortxt, " for ", 6);
            bt_alerts_fmt_duration(fortxt + 5, sizeof fortxt - 5, now - since);
        }
        snprintf(msg, sizeof msg, "replication lag %s, above the %s threshold %s%s%s", lagtxt,
                 bt_rule_level_names[want], thrtxt, fortxt, cause);
        bt_rule_fire(a, r, "lag", want, lag, thr, msg, now);
    } else if (r->firing == BT_ALERTS_CRITICAL && lag <= crit) {
        /* In the WARNING band: step down once that has held for lag_for too. */
        if (now - a->lag_not_crit_since >= hold) {
            char crittxt[32];
            bt_alerts_fmt_duration(crittxt, sizeof crittxt, crit);
            snprintf(msg, sizeof msg,
                     "replication lag %s, down below the critical threshold %s but above %s%s",
                     lagtxt, crittxt, thrtxt, cause);
            bt_rule_fire(a, r, "lag", BT_ALERTS_WARNING, lag, warn, msg, now);
        }
    } else if (bt_rule_reminder_due(a, r, now)) {
        int64_t rthr = r->firing == BT_ALERTS_CRITICAL ? crit : warn;
        bt_alerts_fmt_duration(thrtxt, sizeof thrtxt, rthr);
        bt_alerts_fmt_duration(fortxt, sizeof fortxt, now - r->fired_at_ms);
        snprintf(msg, sizeof msg, "still firing for %s: replication lag %s, above the %s threshold %s%s",
                 fortxt, lagtxt, bt_rule_level_names[r->firing], thrtxt, cause);
        bt_rule_fire(a, r, "lag", r->firing, lag, rthr, msg, now);
    }
}

void bt_alerts_rule_sink(bt_alerts_t *a, const bt_alerts_state_t *st) {
    const int64_t now = st->now_ms, after = a->cfg.sink_down_after_ms;
    bt_alerts_rule_t *r = &a->sink;
    char dtxt[32], thrtxt[32], msg[512];
    bt_alerts_fmt_duration(thrtxt, sizeof thrtxt, after);

    if (st->sink_ok) {
        if (r->firing >= 0) {
            int64_t down = a->sink_failing_since >= 0 ? now - a->sink_failing_since : 0;
            bt_alerts_fmt_duration(dtxt, sizeof dtxt, down);
            snprintf(msg, sizeof msg, "sink delivering again after failing for about %s", dtxt);
            bt_rule_resolve(a, r, "sink_down", 0, after, msg, now);
        }
        a->sink_failing_since = -1;
        return;
    }
    /* The agent may know when failures began (sink_failing_ms); otherwise count from the first
     * snapshot that showed them. */
    int64_t start = st->sink_failing_ms > 0 ? now - st->sink_failing_ms : now;
    if (a->sink_failing_since < 0 || start < a->sink_failing_since)
        a->sink_failing_since = start;
    int64_t failing = now - a->sink_failing_since;
    if (failing <= after)
        return;
    bt_alerts_fmt_duration(dtxt, sizeof dtxt, failing);
    if (r->firing < 0) {
        snprintf(msg, sizeof msg,
                 "sink failing for %s (longer than %s): changes are not being delivered and the "
                 "checkpoint cannot advance", dtxt, thrtxt);
        bt_rule_fire(a, r, "sink_down", BT_ALERTS_CRITICAL, failing, after, msg, now);
    } else if (bt_rule_reminder_due(a, r, now)) {
        snprintf(msg, sizeof msg, "still firing: sink failing for %s (longer than %s)", dtxt, thrtxt);
        bt_rule_fire(a, r, "sink_down", BT_ALERTS_CRITICAL, failing, after, msg, now);
    }
}
