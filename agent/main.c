/* main.c: bintail's entry point: picks the subcommand (the table is in options_table.c). */
#include "agent/commands.h"
#include "agent/options.h"

int main(int argc, char **argv) {
    const bt_command_t *c = argc > 1 ? bt_command_find(argv[1]) : NULL;
    if (c) return c->main(argc - 1, argv + 1);
    return bt_cmd_run(argc, argv); /* no subcommand named: run, the default */
}
