/* options.h: bintail's settings, its subcommands and the one table that defines their flags.
 *
 * Each flag is a row (name, kind, the subcommands that take it, default, range or choices,
 * help); the same rows drive parsing, `bintail [COMMAND] --help` and the README's flags
 * reference (`bintail --help-markdown`), so the three cannot drift apart. The rows are in
 * options_table.c; the parser in options.c; the help in options_help.c. Parsing errors name
 * the flag and what it accepts (exit 2). */
#ifndef BT_OPTIONS_H
#define BT_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/lib.h"
#include "throttle/throttle.h"

typedef struct bt_strlist {
    char **v;
    size_t n;
} bt_strlist_t;

typedef struct bt_config {
    /* source */
    char *binlog_dir;
    char *binlog_index;
    char *source;           /* "file" | "replication" */
    char *mysql_url;
    char *mysql_password_file;
    int64_t server_id;
    int64_t retry_connect_ms;
    char *start;
    bool stop_at_end;
    /* state */
    char *state_dir;
    int64_t checkpoint_interval_ms;
    bool reset_checkpoint;
    /* output */
    char *sink;             /* "stdout" | "file:PATH" | "kafka" */
    char *kafka;
    char *acks;
    char *compression;
    bt_strlist_t kafka_props; /* -X key=value */
    char *format;
    char *topic;
    bt_strlist_t routes;
    char *ddl_topic;
    char *include;
    char *exclude;
    char *partition_by;
    bt_strlist_t key_columns;
    bool tombstones;
    bool kafka_headers;
    int64_t max_record_bytes;
    char *oversize;
    int64_t queue_max_bytes;
    bool create_topics;
    int64_t topic_partitions;
    int64_t topic_replicas;
    /* snapshot */
    char *snapshot;          /* initial | never | only | when-needed */
    int64_t snapshot_chunk_rows;
    int64_t snapshot_threads;
    char *snapshot_skip;
    bt_strlist_t snapshot_where;
    /* throttle: --max-rps, --max-mbps, --snapshot-max-* (see bt_limits) and --throttle-burst,
     * already in the units the throttle takes (bytes, not megabytes) */
    bt_throttle_limits_t throttle;
    /* alerts */
    bt_strlist_t webhooks;
    bt_strlist_t webhook_headers;
    int64_t webhook_timeout_ms;
    char *webhook_secret_file;
    char *webhook_format;
    int64_t lag_warning_ms;
    int64_t lag_critical_ms;
    int64_t lag_for_ms;
    int64_t sink_down_after_ms;
    int64_t alert_interval_ms;
    bool alert_ddl;
    char *name;
    /* general */
    char *log_level;
    char *log_file;
    /* bintail decode */
    int64_t decode_start; /* byte offset in the first file; 0 = from its start */
    int64_t decode_stop;  /* byte offset in the last file; 0 = to its end */
    bool no_checksum_verify;
} bt_config_t;

/* ---- subcommands ---- */

/* One bit per subcommand: a flag row says which of them take it. */
typedef enum bt_cmd_id {
    BT_CMD_RUN = 1 << 0,
    BT_CMD_DECODE = 1 << 1,
    BT_CMD_STATUS = 1 << 2,
    BT_CMD_THROTTLE = 1 << 3,
    BT_CMD_ALERT_TEST = 1 << 4,
} bt_cmd_id_t;

typedef struct bt_command {
    const char *name; /* as typed after "bintail" */
    bt_cmd_id_t id;
    unsigned accepts;                   /* the rows it parses: its own id, and for alert-test also run's, so the
                              agent's own command line works after "bintail alert-test" */
    int (*main)(int argc, char **argv); /* argv[0] is the subcommand name; returns the exit status */
    const char *args;                   /* what follows the flags in its usage line, e.g. "FILE..." */
    const char *summary;                /* one line, for bintail --help */
    const char *about;                  /* a paragraph for bintail COMMAND --help; NULL for run */
    const char *exits;                  /* its exit statuses */
} bt_command_t;

extern const bt_command_t bt_commands[];
extern const size_t bt_ncommands;
/* The subcommand called name, or NULL. */
const bt_command_t *bt_command_find(const char *name);
const bt_command_t *bt_command_by_id(bt_cmd_id_t id);

/* ---- flags ---- */

typedef enum bt_opt_kind {
    BT_OPT_STR,      /* free text */
    BT_OPT_CHOICE,   /* one of the choices (bt_opt_choices_t) */
    BT_OPT_INT,      /* integer within [min, max] */
    BT_OPT_DOUBLE,   /* number within [min, max] */
    BT_OPT_DURATION, /* 500ms, 30s, 10m, 2h; a bare number is seconds; stored in ms */
    BT_OPT_SIZE,     /* 512, 64KB, 10MB, 1GiB; stored in bytes */
    BT_OPT_FLAG,     /* no value: sets true */
    BT_OPT_ONOFF,    /* on|off (also true|false, 1|0) */
    BT_OPT_LIST,     /* repeatable text */
    BT_OPT_LIMIT,    /* a throttle limit: the offset is of the bt_throttle_limits_t, and the row of
                        bt_limits with the same name says which field and in which unit */
} bt_opt_kind_t;

/* The values of a BT_OPT_CHOICE flag. An entry "prefix:WORD" (file:PATH, column:NAME[,NAME...])
 * accepts "prefix:" followed by any non-empty text; the others must match exactly. */
typedef struct bt_opt_choices {
    const char *list; /* '|'-separated; shown in --help, the README and errors as "a, b, c" */
    bool any_case;    /* accept FORMAT as well as format; stored as the list spells it */
    /* Checks a value the list accepts further (e.g. the column names of column:NAME,...);
     * returns -1 with a message that names the flag. NULL = none. */
    int (*check)(const char *value, char *err, size_t errlen);
} bt_opt_choices_t;

typedef struct bt_opt {
    const char *name;     /* long name without "--" */
    char short_name;      /* 0 if none */
    bt_opt_kind_t kind;
    unsigned cmds;        /* BT_CMD_* bits: the subcommands that take it */
    size_t offset;        /* field in bt_config_t */
    const char *defval;   /* default as text (NULL = unset) */
    const bt_opt_choices_t *choices; /* BT_OPT_CHOICE only */
    double min, max;      /* INT, DOUBLE, DURATION (ms), SIZE (bytes) */
    const char *section;  /* heading in --help and the README */
    const char *metavar;  /* placeholder shown in help, e.g. "DIR" */
    const char *help;
} bt_opt_t;

#define BT_OPT_UNBOUNDED 1e18 /* the max of a number without an upper bound */

extern const bt_opt_t bt_options[];
extern const size_t bt_noptions;

/* Fill cfg with the defaults. */
void bt_config_defaults(bt_config_t *cfg);
/* Parse argv[first..argc) with the flags of subcommand cmd; --flag=value and --flag value both
 * work. Returns 0, 1 if --help/--version/--help-markdown was handled (caller exits 0), or -1
 * with err (caller exits 2). With rest != NULL the first argument that is not a flag (or the
 * one after "--") ends the flags and *rest is its index (argc if none); without, such an
 * argument is refused. */
int bt_config_parse(bt_config_t *cfg, bt_cmd_id_t cmd, int argc, char **argv, int first, int *rest, char *err,
                    size_t errlen);
/* Cross-flag checks of bintail run (e.g. --source replication needs --mysql). -1 with err. */
int bt_config_check(const bt_config_t *cfg, char *err, size_t errlen);
void bt_config_free(bt_config_t *cfg);
/* What a value of o must look like, for error messages ("a duration like 500ms, ..."). */
void bt_opt_describe(const bt_opt_t *o, char *buf, size_t len);
/* "a|b|c" as "a, b, c". */
void bt_opt_choices_text(const bt_opt_choices_t *c, char *buf, size_t len);

/* --help of a subcommand (bintail --help: the subcommands, then run's flags). */
void bt_config_print_help(bt_cmd_id_t cmd);
/* The README's flags reference. */
void bt_config_print_markdown(void);

/* Parsers shared with subcommands. */
int bt_parse_duration_ms(const char *s, int64_t *out);
int bt_parse_size(const char *s, int64_t *out);

/* The directory of the local binlog files: --binlog-dir, or the folder of --binlog-index;
 * NULL for the replication source (the server is the binlog). buf holds a derived path. */
const char *bt_config_binlog_dir(const bt_config_t *cfg, char *buf, size_t len);

/* ---- throttle limits ---- */

/* One throttle limit as people spell it: the flag (also the key of the control socket's
 * "throttle NAME=N" request), the key in the JSON answers, the field of bt_throttle_limits_t
 * and the factor from the flag's unit to the field's (1e6: megabytes to bytes). The run flags,
 * `bintail throttle`, the control socket and its answers all go through bt_limits. */
typedef struct bt_limit {
    const char *flag;
    const char *json;
    size_t field; /* offsetof(bt_throttle_limits_t, ...) */
    double scale;
} bt_limit_t;

extern const bt_limit_t bt_limits[];
extern const size_t bt_nlimits;

const bt_limit_t *bt_limit_find(const char *name, size_t len);
/* Parse text (a number >= 0, 0 = unlimited, in the flag's unit) into l's field of *lim.
 * -1 with err naming the limit. */
int bt_limit_parse(bt_throttle_limits_t *lim, const bt_limit_t *l, const char *text, char *err, size_t errlen);
/* l's value in *lim, in the flag's unit. */
double bt_limit_get(const bt_throttle_limits_t *lim, const bt_limit_t *l);
void bt_limit_put(bt_throttle_limits_t *lim, const bt_limit_t *l, double value_in_flag_unit);
/* "max-rps 4000, max-mbps 0, ..." (flag names and units), for logs. */
void bt_limits_describe(const bt_throttle_limits_t *lim, bt_buf_t *out);
/* "max_rps":4000,"max_mbps":0,... into an open JSON object. */
void bt_limits_json(const bt_throttle_limits_t *lim, bt_jw_t *w);

#endif
