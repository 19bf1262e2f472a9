/* cmd_ctl.c: `bintail throttle` and `bintail status`: talk to a running agent through the
 * control socket in its state directory. Their flags are rows of the flags table (options.h);
 * the limits are those of bt_limits, sent as "throttle NAME=N ..." in the flags' units. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "agent/commands.h"
#include "agent/control.h"
#include "agent/options.h"

/* The request line: "status", or "throttle" and each limit given on the command line. */
static void request_line(const bt_config_t *cfg, bool throttle, bt_buf_t *line) {
    bt_buf_printf(line, "%s", throttle ? "throttle" : "status");
    for (size_t i = 0; throttle && i < bt_nlimits; i++) {
        double v = bt_limit_get(&cfg->throttle, &bt_limits[i]);
        if (!isnan(v)) bt_buf_printf(line, " %s=%.17g", bt_limits[i].flag, v);
    }
}

static int ctl_main(int argc, char **argv, bt_cmd_id_t cmd) {
    const char *name = cmd == BT_CMD_THROTTLE ? "throttle" : "status";
    bt_config_t cfg;
    char err[1024];
    bt_config_defaults(&cfg);
    /* A limit left NaN was not given and stays as the agent has it (the parser never stores NaN). */
    for (size_t i = 0; i < bt_nlimits; i++) bt_limit_put(&cfg.throttle, &bt_limits[i], NAN);
    int rc = bt_config_parse(&cfg, cmd, argc, argv, 1, NULL, err, sizeof err);
    if (rc == 0 && !cfg.state_dir) {
        snprintf(err, sizeof err, "--state-dir DIR is required (the state directory of the agent to talk to)");
        rc = -1;
    }
    if (rc != 0) {
        if (rc < 0) fprintf(stderr, "bintail %s: %s\n", name, err);
        bt_config_free(&cfg);
        return rc < 0 ? 2 : 0;
    }
    bt_buf_t line;
    bt_buf_init(&line, 0);
    request_line(&cfg, cmd == BT_CMD_THROTTLE, &line);
    char answer[8192];
    rc = 1;
    if (line.failed)
        fprintf(stderr, "bintail %s: out of memory\n", name);
    else if (bt_control_request(cfg.state_dir, line.p, answer, sizeof answer, err, sizeof err) != 0)
        fprintf(stderr, "bintail %s: %s\n", name, err);
    else {
        fputs(answer, stdout);
        rc = strstr(answer, "\"ok\":true") ? 0 : 1;
    }
    bt_buf_free(&line);
    bt_config_free(&cfg);
    return rc;
}

int bt_cmd_throttle(int argc, char **argv) { return ctl_main(argc, argv, BT_CMD_THROTTLE); }
int bt_cmd_status(int argc, char **argv) { return ctl_main(argc, argv, BT_CMD_STATUS); }
