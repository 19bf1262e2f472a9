/* alerting.h: connects the alerts library to the agent: settings from the flags, state from
 * the pipeline's counters once a second, one-off alerts (ddl, source_error, stopped). */
#ifndef BT_ALERTING_H
#define BT_ALERTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/options.h"
#include "alerts/alerts.h"

struct bt_pipeline;
struct bt_throttle;

/* The alerts library's configuration from the --webhook* and --lag-* flags (also for
 * `bintail alert-test`); *secret (the --webhook-secret-file bytes) is the caller's to free.
 * 0, or -1 with err. */
int bt_alerting_config(const bt_config_t *cfg, bt_alerts_config_t *ac, unsigned char **secret, char *err,
                       size_t errlen);

/* Builds the alerts from --webhook* and --lag-* flags. Returns NULL: with err[0] == 0 when no
 * webhook is configured, or with a message (exit 2) when a setting is wrong. */
bt_alerts_t *bt_alerting_new(const bt_config_t *cfg, char *err, size_t errlen);

/* Once a second from the side thread: evaluate the rules on the pipeline's state. */
void bt_alerting_tick(bt_alerts_t *a, struct bt_pipeline *p, struct bt_throttle *thr, int64_t now_ms);

/* The agent is exiting because of err: raise source_error (when the source failed) and
 * stopped, and send them with a short timeout. */
void bt_alerting_stopped(bt_alerts_t *a, bool source_failed, const char *err);

#endif
