/* options_help.c: `bintail [COMMAND] --help` and the README's flags reference
 * (`bintail --help-markdown`), both printed from the rows of options_table.c. */
#include <stdio.h>
#include <string.h>

#include <config.h>

#include "agent/options.h"

static void flag_label(const bt_opt_t *o, char *buf, size_t len) {
    if (o->short_name)
        snprintf(buf, len, "-%c, --%s%s%s", o->short_name, o->name, o->metavar ? " " : "",
                 o->metavar ? o->metavar : "");
    else
        snprintf(buf, len, "--%s%s%s", o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
}

/* "bintail decode [FLAGS] FILE..." ("bintail [run] [FLAGS]" for the default command). */
static void usage_line(const bt_command_t *c, char *buf, size_t len) {
    snprintf(buf, len, c->id == BT_CMD_RUN ? "bintail [%s] [FLAGS]%s" : "bintail %s [FLAGS]%s", c->name, c->args);
}

static void print_commands(void) {
    for (size_t i = 0; i < bt_ncommands; i++) {
        char usage[96];
        usage_line(&bt_commands[i], usage, sizeof usage);
        printf("%s %-34s %s\n", i ? "      " : "Usage:", usage, bt_commands[i].summary);
    }
    printf("\n`bintail COMMAND --help` shows the flags of that command.\n");
}

static void print_flags(unsigned cmd) {
    const char *section = "";
    for (size_t i = 0; i < bt_noptions; i++) {
        const bt_opt_t *o = &bt_options[i];
        if (!(o->cmds & cmd)) continue;
        if (strcmp(section, o->section)) {
            section = o->section;
            printf("\n%s:\n", section);
        }
        char label[96], list[256];
        flag_label(o, label, sizeof label);
        printf("  %-34s %s", label, o->help);
        if (o->kind == BT_OPT_CHOICE) {
            bt_opt_choices_text(o->choices, list, sizeof list);
            printf(" [one of: %s]", list);
        }
        /* a limit bintail throttle is not given stays as it is: run's default is no default there */
        if (o->defval && o->kind != BT_OPT_FLAG && (o->kind != BT_OPT_LIMIT || cmd == BT_CMD_RUN))
            printf(" [default: %s]", o->defval);
        printf("\n");
    }
    printf("\n  %-34s %s\n  %-34s %s\n", "-h, --help", "Show this help.", "-V, --version", "Show the version.");
}

void bt_config_print_help(bt_cmd_id_t cmd) {
    const bt_command_t *c = bt_command_by_id(cmd);
    if (cmd == BT_CMD_RUN) {
        printf("bintail %s: MySQL/MariaDB binlog to Kafka change data capture.\n\n", PACKAGE_VERSION);
        print_commands();
        printf("\nThe flags of bintail [run]:\n");
    } else {
        char usage[96];
        usage_line(c, usage, sizeof usage);
        printf("usage: %s\n\n%s\n", usage, c->about);
    }
    print_flags(cmd);
    printf("\n%s\n", c->exits);
}

/* Markdown table cells cannot hold a bare '|'. */
static void md_cell(const char *text) {
    for (const char *p = text; *p; p++) {
        if (*p == '|')
            fputs("\\|", stdout);
        else
            putchar(*p);
    }
}

/* One row of the commands table: the command, what it does and its flags. */
static void md_command(const bt_command_t *c) {
    char usage[96];
    usage_line(c, usage, sizeof usage);
    printf("| `%s` | %s | ", usage, c->summary);
    if (c->id == BT_CMD_RUN) { /* too many to list: name their sections */
        const char *section = "";
        printf("those under ");
        for (size_t i = 0; i < bt_noptions; i++) {
            const bt_opt_t *o = &bt_options[i];
            if (!(o->cmds & BT_CMD_RUN) || !strcmp(section, o->section)) continue;
            printf("%s%s", *section ? ", " : "", o->section);
            section = o->section;
        }
        printf(" |\n");
        return;
    }
    bool first = true;
    for (size_t i = 0; i < bt_noptions; i++) {
        if (!(bt_options[i].cmds & c->id)) continue;
        printf("%s`--%s`", first ? "" : ", ", bt_options[i].name);
        first = false;
    }
    printf(" |\n");
}

static void md_flag(const bt_opt_t *o) {
    char label[96];
    flag_label(o, label, sizeof label);
    printf("| `");
    md_cell(label);
    printf("` | ");
    if (o->defval && o->kind != BT_OPT_FLAG) {
        printf("`");
        md_cell(o->defval);
        printf("`");
    }
    printf(" | ");
    md_cell(o->help);
    if (o->kind == BT_OPT_CHOICE) {
        printf(" One of: `");
        for (const char *p = o->choices->list; *p; p++) {
            if (*p == '|')
                printf("`, `");
            else
                putchar(*p);
        }
        printf("`.");
    }
    printf(" |\n");
}

void bt_config_print_markdown(void) {
    printf("#### Commands\n\n| command | what it does | its flags |\n|---|---|---|\n");
    for (size_t i = 0; i < bt_ncommands; i++) md_command(&bt_commands[i]);
    const char *section = "";
    for (size_t i = 0; i < bt_noptions; i++) {
        const bt_opt_t *o = &bt_options[i];
        if (strcmp(section, o->section)) {
            printf("\n#### %s\n\n| flag | default | meaning |\n|---|---|---|\n", o->section);
            section = o->section;
        }
        md_flag(o);
    }
}
