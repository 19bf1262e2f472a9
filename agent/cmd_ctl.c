/* cmd_ctl.c: subcommands that talk to a running agent or to webhook receivers. */
#include <stdio.h>

#include "agent/commands.h"

int bt_cmd_throttle(int argc, char **argv) {
    (void)argc, (void)argv;
    fprintf(stderr, "bintail throttle: the control endpoint is not part of this build yet; restart the agent "
                    "with new --max-rps/--max-mbps values\n");
    return 2;
}

int bt_cmd_alert_test(int argc, char **argv) {
    (void)argc, (void)argv;
    fprintf(stderr, "bintail alert-test: alerts are not part of this build yet\n");
    return 2;
}
