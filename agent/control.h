/* control.h: the agent's side thread: a control endpoint and the once-a-second housekeeping.
 *
 * The endpoint is a Unix socket, <state-dir>/control.sock (mode 0600: only the agent's user
 * can steer it; nothing listens on the network). One request per connection, one line:
 *   throttle [NAME=N ...]   a limit of bt_limits (options.h) as its flag names it, in the flag's
 *                           unit: throttle max-rps=5000 max-mbps=20
 *   status
 * answered by one line of JSON. The thread also runs the alerts (when configured), reading
 * the pipeline's counters, so nothing here ever blocks the reader loop. */
#ifndef BT_CONTROL_H
#define BT_CONTROL_H

#include <stddef.h>

#include "agent/stream/pipeline.h"
#include "throttle/throttle.h"

typedef struct bt_control bt_control_t;
#include "alerts/alerts.h"

typedef struct bt_control_init {
    const char *state_dir;     /* NULL: no endpoint, housekeeping only */
    bt_throttle_t *throttle;
    bt_pipeline_t *pipeline;
    bt_alerts_t *alerts;       /* NULL when no webhook is configured */
    const char *name;
} bt_control_init_t;

bt_control_t *bt_control_start(const bt_control_init_t *init, char *err, size_t errlen);
void bt_control_stop(bt_control_t *c);
/* Client side (bintail throttle/status): send one request line, print the answer. */
int bt_control_request(const char *state_dir, const char *line, char *answer, size_t answerlen, char *err,
                       size_t errlen);

#endif
