/* commands.h: bintail's subcommands. Each returns the process exit status
 * (0 ok, 1 runtime error, 2 usage/configuration error). argv[0] is the subcommand name. */
#ifndef BT_COMMANDS_H
#define BT_COMMANDS_H

int bt_cmd_run(int argc, char **argv);        /* the daemon (default when no subcommand) */
int bt_cmd_decode(int argc, char **argv);     /* agent/cmd_decode.c: offline binlog decoding */
int bt_cmd_throttle(int argc, char **argv);   /* change a running agent's limits */
int bt_cmd_status(int argc, char **argv);     /* a running agent's position, lag and counters */
int bt_cmd_alert_test(int argc, char **argv); /* send one test webhook */

#endif
