/* main.c: bintail's entry point: picks the subcommand. */
#include <stdio.h>
#include <string.h>

#include "agent/commands.h"

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "decode")) return bt_cmd_decode(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "throttle")) return bt_cmd_throttle(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "status")) return bt_cmd_status(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "alert-test")) return bt_cmd_alert_test(argc - 1, argv + 1);
    return bt_cmd_run(argc, argv);
}
