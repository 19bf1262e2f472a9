/* options.h: bintail's settings and the one table that defines its command-line flags.
 *
 * Each flag is a row (name, kind, default, range or choices, help); the same rows drive
 * parsing, `bintail --help` and the README's flags reference (`bintail --help-markdown`), so
 * the three cannot drift apart. Parsing errors name the flag and what it accepts (exit 2). */
#ifndef BT_OPTIONS_H
#define BT_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
    double snapshot_max_qps;
    double snapshot_max_rps;
    double snapshot_max_mbps;
    /* throttle */
    double max_rps;
    double max_mbps;
    double throttle_burst;
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
} bt_config_t;

typedef enum bt_opt_kind {
    BT_OPT_STR,      /* free text */
    BT_OPT_CHOICE,   /* one of the '|'-separated choices */
    BT_OPT_INT,      /* integer within [min, max] */
    BT_OPT_DOUBLE,   /* number within [min, max] */
    BT_OPT_DURATION, /* 500ms, 30s, 10m, 2h; a bare number is seconds; stored in ms */
    BT_OPT_SIZE,     /* 512, 64KB, 10MB, 1GiB; stored in bytes */
    BT_OPT_FLAG,     /* no value: sets true */
    BT_OPT_ONOFF,    /* on|off */
    BT_OPT_LIST,     /* repeatable text */
} bt_opt_kind_t;

typedef struct bt_opt {
    const char *name;     /* long name without "--" */
    char short_name;      /* 0 if none */
    bt_opt_kind_t kind;
    size_t offset;        /* field in bt_config_t */
    const char *defval;   /* default as text (NULL = unset) */
    const char *choices;  /* BT_OPT_CHOICE: "a|b|c" */
    double min, max;      /* INT, DOUBLE, DURATION (ms), SIZE (bytes) */
    const char *section;  /* heading in --help and the README */
    const char *metavar;  /* placeholder shown in help, e.g. "DIR" */
    const char *help;
} bt_opt_t;

extern const bt_opt_t bt_options[];
extern const size_t bt_noptions;

/* Fill cfg with the defaults. */
void bt_config_defaults(bt_config_t *cfg);
/* Parse argv[first..argc). Returns 0, 1 if --help/--version/--help-markdown was handled
 * (caller exits 0), or -1 with err (caller exits 2). Positional arguments are refused. */
int bt_config_parse(bt_config_t *cfg, int argc, char **argv, int first, char *err, size_t errlen);
/* Cross-flag checks (e.g. --source replication needs --mysql). -1 with err on a conflict. */
int bt_config_check(const bt_config_t *cfg, char *err, size_t errlen);
void bt_config_free(bt_config_t *cfg);
void bt_config_print_help(const char *prog);
void bt_config_print_markdown(void);

/* Parsers shared with subcommands. */
int bt_parse_duration_ms(const char *s, int64_t *out);
int bt_parse_size(const char *s, int64_t *out);

/* The directory of the local binlog files: --binlog-dir, or the folder of --binlog-index;
 * NULL for the replication source (the server is the binlog). buf holds a derived path. */
const char *bt_config_binlog_dir(const bt_config_t *cfg, char *buf, size_t len);

#endif
