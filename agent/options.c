/* options.c: the flags table and its parser (see options.h). */
#include "agent/options.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <config.h>

#define OFF(field) offsetof(bt_config_t, field)
#define HOUR_MS (3600.0 * 1000)
#define INF 1e18

/* The flags. Order = order in --help and in the README. */
const bt_opt_t bt_options[] = {
    /* ---- source */
    {"binlog-dir", 0, BT_OPT_STR, OFF(binlog_dir), NULL, NULL, 0, 0, "Source", "DIR",
     "Read the binlog files in DIR (the replica's datadir or log-bin directory); finds the *.index file there."},
    {"binlog-index", 0, BT_OPT_STR, OFF(binlog_index), NULL, NULL, 0, 0, "Source", "FILE",
     "The binlog index file to follow, when it is not the only *.index in --binlog-dir."},
    {"source", 0, BT_OPT_CHOICE, OFF(source), "file", "file|replication", 0, 0, "Source", "KIND",
     "Where events come from: the local binlog files, or the replication protocol (needs --mysql)."},
    {"mysql", 0, BT_OPT_STR, OFF(mysql_url), NULL, NULL, 0, 0, "Source", "URL",
     "mysql://user@host:port of the replica, for the replication source, the snapshot and schema lookups. "
     "The password comes from --mysql-password-file or BINTAIL_MYSQL_PASSWORD, never from the command line."},
    {"mysql-password-file", 0, BT_OPT_STR, OFF(mysql_password_file), NULL, NULL, 0, 0, "Source", "FILE",
     "File whose first line is the MySQL password."},
    {"server-id", 0, BT_OPT_INT, OFF(server_id), "4242", NULL, 1, 4294967295.0, "Source", "N",
     "Server id bintail registers with when it reads over the replication protocol; unique among replicas."},
    {"retry-connect", 0, BT_OPT_DURATION, OFF(retry_connect_ms), "720m", NULL, 0, 30 * 24 * HOUR_MS, "Source", "DURATION",
     "How long to keep reconnecting to an unreachable server (with backoff) before giving up."},
    {"start", 0, BT_OPT_STR, OFF(start), "earliest", NULL, 0, 0, "Source", "WHERE",
     "Where to start when there is no checkpoint: earliest, latest, FILE:POS, gtid:SET or time:YYYY-MM-DDTHH:MM:SSZ."},
    {"stop-at-end", 0, BT_OPT_FLAG, OFF(stop_at_end), NULL, NULL, 0, 0, "Source", NULL,
     "Exit 0 once the current end of the binlog is reached and delivered (backfills, tests)."},
    /* ---- state */
    {"state-dir", 0, BT_OPT_STR, OFF(state_dir), NULL, NULL, 0, 0, "Checkpoint", "DIR",
     "Directory for the checkpoint (and the control socket). Without it bintail keeps no position across restarts."},
    {"checkpoint-interval", 0, BT_OPT_DURATION, OFF(checkpoint_interval_ms), "1s", NULL, 10, 3600 * 1000.0, "Checkpoint",
     "DURATION", "Write the checkpoint at most this often (and always at a clean stop)."},
    {"reset-checkpoint", 0, BT_OPT_FLAG, OFF(reset_checkpoint), NULL, NULL, 0, 0, "Checkpoint", NULL,
     "Ignore the stored checkpoint and start from --start."},
    /* ---- output */
    {"sink", 0, BT_OPT_STR, OFF(sink), NULL, NULL, 0, 0, "Output", "SINK",
     "stdout (JSON lines), file:PATH (compressed when PATH ends in .zst, .lz4, .snappy or .gz) or kafka. "
     "Default: kafka when --kafka is given, else stdout."},
    {"kafka", 0, BT_OPT_STR, OFF(kafka), NULL, NULL, 0, 0, "Output", "BROKERS",
     "Kafka bootstrap servers (host:port,...); selects the Kafka sink."},
    {"acks", 0, BT_OPT_CHOICE, OFF(acks), "all", "all|1|0", 0, 0, "Output", "N",
     "Acknowledgements the Kafka sink waits for. With all the producer is idempotent."},
    {"compression", 0, BT_OPT_CHOICE, OFF(compression), "lz4", "lz4|zstd|snappy|gzip|none", 0, 0, "Output", "CODEC",
     "Compression of Kafka batches."},
    {"kafka-property", 'X', BT_OPT_LIST, OFF(kafka_props), NULL, NULL, 0, 0, "Output", "KEY=VALUE",
     "Any librdkafka producer property (TLS, SASL, tuning); repeatable; applied last."},
    {"format", 0, BT_OPT_CHOICE, OFF(format), NULL, "json|debezium|canal|maxwell|dataworks|upsert", 0, 0, "Output", "FORMAT",
     "Message format. Default: debezium for Kafka, json for stdout and files."},
    {"topic", 0, BT_OPT_STR, OFF(topic), "${db}_${table}", NULL, 0, 0, "Output", "TEMPLATE",
     "Topic name template; variables ${db}, ${table}, ${server_id} (the id of the server bintail reads, the same for snapshot and stream rows)."},
    {"route", 0, BT_OPT_LIST, OFF(routes), NULL, NULL, 0, 0, "Output", "REGEX=TEMPLATE",
     "Topic for tables whose db.table matches REGEX (first match wins; $1.. are capture groups); repeatable."},
    {"ddl-topic", 0, BT_OPT_STR, OFF(ddl_topic), NULL, NULL, 0, 0, "Output", "NAME",
     "Topic for DDL messages. Default: the topic of the table the DDL names (its database's for database DDL)."},
    {"include", 0, BT_OPT_STR, OFF(include), NULL, NULL, 0, 0, "Output", "REGEX",
     "Only tables whose db.table matches REGEX (PCRE2, anchored)."},
    {"exclude", 0, BT_OPT_STR, OFF(exclude), "(mysql|sys|information_schema|performance_schema)\\..*", NULL, 0, 0, "Output",
     "REGEX", "Skip tables whose db.table matches REGEX (PCRE2, anchored)."},
    {"partition-by", 0, BT_OPT_STR, OFF(partition_by), "pk", NULL, 0, 0, "Output", "STRATEGY",
     "pk (murmur2 of the key, as Kafka's Java client), table, database, column:NAME[,NAME..], transaction, partition0, random."},
    {"key-columns", 0, BT_OPT_LIST, OFF(key_columns), NULL, NULL, 0, 0, "Output", "DB.TABLE:C1,C2",
     "Key columns for a table without a primary key; repeatable."},
    {"tombstones", 0, BT_OPT_ONOFF, OFF(tombstones), "on", NULL, 0, 0, "Output", "on|off",
     "debezium: a null-value message after each delete, for compacted topics."},
    {"max-record-bytes", 0, BT_OPT_SIZE, OFF(max_record_bytes), "10MB", NULL, 1024, 1e9, "Output", "SIZE",
     "Largest message (key + value) bintail will produce."},
    {"oversize", 0, BT_OPT_CHOICE, OFF(oversize), "fail", "fail|skip|drop-columns", 0, 0, "Output", "POLICY",
     "What to do with a message over --max-record-bytes: stop with an error, skip it (counted and logged), "
     "or replace the largest columns with null."},
    {"queue-max-bytes", 0, BT_OPT_SIZE, OFF(queue_max_bytes), "16MB", NULL, 1024 * 1024, 1e12, "Output", "SIZE",
     "Messages waiting for delivery, in bytes of key and value (the Kafka Java producer's buffer.memory); also at "
     "most one message, and one transaction awaiting acknowledgement, per 512 bytes of it. Reading pauses "
     "when it is full. At least --max-record-bytes."},
    {"kafka-headers", 0, BT_OPT_ONOFF, OFF(kafka_headers), "on", NULL, 0, 0, "Output", "on|off",
     "Kafka headers bintail.op, bintail.file, bintail.pos, bintail.gtid on every message; off saves about a third "
     "of the CPU per message."},
    {"create-topics", 0, BT_OPT_FLAG, OFF(create_topics), NULL, NULL, 0, 0, "Output", NULL,
     "Create missing topics with the Admin API (compacted for --format upsert)."},
    {"topic-partitions", 0, BT_OPT_INT, OFF(topic_partitions), "6", NULL, 1, 100000, "Output", "N",
     "Partitions of a topic --create-topics creates for a table with a key (tables without a key get 1)."},
    {"topic-replicas", 0, BT_OPT_INT, OFF(topic_replicas), "-1", NULL, -1, 32, "Output", "N",
     "Replication factor of created topics; -1 = the brokers' default."},
    /* ---- snapshot */
    {"snapshot", 0, BT_OPT_CHOICE, OFF(snapshot), "initial", "initial|never|only|when-needed", 0, 0, "Snapshot", "MODE",
     "Full sync of the existing rows before streaming (needs --mysql): initial = when there is no checkpoint; "
     "when-needed = also when the checkpoint's binlog was purged; only = exit after the snapshot; never."},
    {"snapshot-chunk-rows", 0, BT_OPT_INT, OFF(snapshot_chunk_rows), "10000", NULL, 1, 10000000, "Snapshot", "N",
     "Rows per primary-key chunk query."},
    {"snapshot-threads", 0, BT_OPT_INT, OFF(snapshot_threads), "1", NULL, 1, 64, "Snapshot", "N",
     "Parallel connections reading tables (more than 1 needs a brief global read lock to share one snapshot)."},
    {"snapshot-skip", 0, BT_OPT_STR, OFF(snapshot_skip), NULL, NULL, 0, 0, "Snapshot", "REGEX",
     "Do not snapshot tables whose db.table matches REGEX (they are still streamed)."},
    {"snapshot-where", 0, BT_OPT_LIST, OFF(snapshot_where), NULL, NULL, 0, 0, "Snapshot", "DB.TABLE:CONDITION",
     "Snapshot only the rows of that table matching the SQL condition; repeatable."},
    {"snapshot-max-qps", 0, BT_OPT_DOUBLE, OFF(snapshot_max_qps), "0", NULL, 0, INF, "Snapshot", "N",
     "Snapshot queries sent to the server per second; 0 = unlimited."},
    {"snapshot-max-rps", 0, BT_OPT_DOUBLE, OFF(snapshot_max_rps), "0", NULL, 0, INF, "Snapshot", "N",
     "Snapshot rows per second; 0 = unlimited."},
    {"snapshot-max-mbps", 0, BT_OPT_DOUBLE, OFF(snapshot_max_mbps), "0", NULL, 0, INF, "Snapshot", "N",
     "Snapshot megabytes (10^6) of produced messages per second; 0 = unlimited."},
    /* ---- throttle */
    {"max-rps", 0, BT_OPT_DOUBLE, OFF(max_rps), "0", NULL, 0, INF, "Throttle", "N",
     "Row changes read per second; 0 = unlimited."},
    {"max-mbps", 0, BT_OPT_DOUBLE, OFF(max_mbps), "0", NULL, 0, INF, "Throttle", "N",
     "Megabytes (10^6) of produced key+value per second; 0 = unlimited."},
    {"throttle-burst", 0, BT_OPT_DOUBLE, OFF(throttle_burst), "1", NULL, 0.001, 3600, "Throttle", "SECONDS",
     "Burst allowance, in seconds of budget."},
    /* ---- alerts */
    {"webhook", 0, BT_OPT_LIST, OFF(webhooks), NULL, NULL, 0, 0, "Alerts", "URL",
     "Send alerts to this URL; repeatable."},
    {"webhook-header", 0, BT_OPT_LIST, OFF(webhook_headers), NULL, NULL, 0, 0, "Alerts", "'NAME: VALUE'",
     "Extra HTTP header on every webhook; repeatable."},
    {"webhook-timeout", 0, BT_OPT_DURATION, OFF(webhook_timeout_ms), "5s", NULL, 100, 600 * 1000.0, "Alerts", "DURATION",
     "Timeout of one webhook request (retried with backoff on timeouts and 5xx)."},
    {"webhook-secret-file", 0, BT_OPT_STR, OFF(webhook_secret_file), NULL, NULL, 0, 0, "Alerts", "FILE",
     "Sign each body with HMAC-SHA256 using this file's contents (header X-Bintail-Signature)."},
    {"webhook-format", 0, BT_OPT_CHOICE, OFF(webhook_format), "json", "json|slack", 0, 0, "Alerts", "FORMAT",
     "Body format: bintail's JSON schema, or a Slack-compatible {\"text\": ...}."},
    {"lag-warning", 0, BT_OPT_DURATION, OFF(lag_warning_ms), "30s", NULL, 0, 30 * 24 * HOUR_MS, "Alerts", "DURATION",
     "Lag above which the lag alert fires with WARNING."},
    {"lag-critical", 0, BT_OPT_DURATION, OFF(lag_critical_ms), "300s", NULL, 0, 30 * 24 * HOUR_MS, "Alerts", "DURATION",
     "Lag above which the lag alert fires with CRITICAL."},
    {"lag-for", 0, BT_OPT_DURATION, OFF(lag_for_ms), "30s", NULL, 0, 24 * HOUR_MS, "Alerts", "DURATION",
     "How long lag must stay above a threshold before the alert fires."},
    {"sink-down-after", 0, BT_OPT_DURATION, OFF(sink_down_after_ms), "30s", NULL, 0, 24 * HOUR_MS, "Alerts", "DURATION",
     "How long the sink may fail before sink_down fires."},
    {"alert-interval", 0, BT_OPT_DURATION, OFF(alert_interval_ms), "10m", NULL, 0, 30 * 24 * HOUR_MS, "Alerts", "DURATION",
     "Minimum time between repeats of the same firing alert."},
    {"alert-ddl", 0, BT_OPT_FLAG, OFF(alert_ddl), NULL, NULL, 0, 0, "Alerts", NULL,
     "Send a ddl alert for every schema change."},
    {"name", 0, BT_OPT_STR, OFF(name), "bintail", NULL, 0, 0, "Alerts", "NAME",
     "Agent name used in alerts and logs."},
    /* ---- general */
    {"log-level", 0, BT_OPT_CHOICE, OFF(log_level), "info", "error|warn|info|debug", 0, 0, "General", "LEVEL",
     "Log verbosity (logs go to stderr)."},
    {"log-file", 0, BT_OPT_STR, OFF(log_file), NULL, NULL, 0, 0, "General", "FILE",
     "Append logs to FILE instead of stderr; SIGHUP reopens it (for logrotate)."},
};
const size_t bt_noptions = sizeof bt_options / sizeof bt_options[0];

static const bt_opt_t *find_long(const char *name, size_t len) {
    for (size_t i = 0; i < bt_noptions; i++)
        if (strlen(bt_options[i].name) == len && !strncmp(bt_options[i].name, name, len)) return &bt_options[i];
    return NULL;
}

static const bt_opt_t *find_short(char c) {
    for (size_t i = 0; i < bt_noptions; i++)
        if (bt_options[i].short_name == c) return &bt_options[i];
    return NULL;
}

int bt_parse_duration_ms(const char *s, int64_t *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0 || !isfinite(v)) return -1;
    double mult;
    if (*end == 0 || !strcmp(end, "s")) mult = 1000;
    else if (!strcmp(end, "ms")) mult = 1;
    else if (!strcmp(end, "m")) mult = 60 * 1000;
    else if (!strcmp(end, "h")) mult = 3600 * 1000;
    else if (!strcmp(end, "d")) mult = 86400 * 1000;
    else return -1;
    *out = (int64_t)llround(v * mult);
    return 0;
}

int bt_parse_size(const char *s, int64_t *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0 || !isfinite(v)) return -1;
    static const struct { const char *suffix; double mult; } units[] = {
        {"", 1}, {"B", 1}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"KiB", 1024.0},
        {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"K", 1024.0}, {"M", 1048576.0}, {"G", 1073741824.0},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (!strcasecmp(end, units[i].suffix)) {
            *out = (int64_t)llround(v * units[i].mult);
            return 0;
        }
    }
    return -1;
}

static bool choice_ok(const char *choices, const char *v) {
    size_t vl = strlen(v);
    const char *p = choices;
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        if (l == vl && !strncmp(p, v, l)) return true;
        if (!bar) break;
        p = bar + 1;
    }
    return false;
}

static void describe_range(const bt_opt_t *o, char *buf, size_t len) {
    switch (o->kind) {
    case BT_OPT_INT:
    case BT_OPT_DOUBLE: snprintf(buf, len, "a number from %g to %g", o->min, o->max); break;
    case BT_OPT_DURATION: snprintf(buf, len, "a duration like 500ms, 30s, 10m, 2h (from %gms to %gms)", o->min, o->max); break;
    case BT_OPT_SIZE: snprintf(buf, len, "a size like 512KB, 10MB, 1GiB (from %g to %g bytes)", o->min, o->max); break;
    case BT_OPT_CHOICE: snprintf(buf, len, "one of %s", o->choices); break;
    case BT_OPT_ONOFF: snprintf(buf, len, "on or off"); break;
    default: snprintf(buf, len, "a value"); break;
    }
}

/* Store text value v into the field of o. */
static int set_value(bt_config_t *cfg, const bt_opt_t *o, const char *v, char *err, size_t errlen) {
    char *field = (char *)cfg + o->offset;
    char range[160];
    describe_range(o, range, sizeof range);
    switch (o->kind) {
    case BT_OPT_STR:
    case BT_OPT_CHOICE:
        if (o->kind == BT_OPT_CHOICE && !choice_ok(o->choices, v)) goto bad;
        free(*(char **)field);
        *(char **)field = strdup(v);
        return 0;
    case BT_OPT_LIST: {
        bt_strlist_t *l = (bt_strlist_t *)field;
        char **nv = realloc(l->v, (l->n + 1) * sizeof *nv);
        if (!nv) goto oom;
        l->v = nv;
        l->v[l->n++] = strdup(v);
        return 0;
    }
    case BT_OPT_INT: {
        char *end;
        errno = 0;
        long long x = strtoll(v, &end, 10);
        if (end == v || *end || errno || x < o->min || x > o->max) goto bad;
        *(int64_t *)field = x;
        return 0;
    }
    case BT_OPT_DOUBLE: {
        char *end;
        errno = 0;
        double x = strtod(v, &end);
        if (end == v || *end || errno || !isfinite(x) || x < o->min || x > o->max) goto bad;
        *(double *)field = x;
        return 0;
    }
    case BT_OPT_DURATION:
    case BT_OPT_SIZE: {
        int64_t x;
        int rc = o->kind == BT_OPT_DURATION ? bt_parse_duration_ms(v, &x) : bt_parse_size(v, &x);
        if (rc || x < o->min || x > o->max) goto bad;
        *(int64_t *)field = x;
        return 0;
    }
    case BT_OPT_ONOFF:
        if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "1")) *(bool *)field = true;
        else if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "0")) *(bool *)field = false;
        else goto bad;
        return 0;
    case BT_OPT_FLAG:
        *(bool *)field = true;
        return 0;
    }
bad:
    snprintf(err, errlen, "--%s: invalid value '%s': expected %s", o->name, v, range);
    return -1;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

void bt_config_defaults(bt_config_t *cfg) {
    memset(cfg, 0, sizeof *cfg);
    char err[256];
    for (size_t i = 0; i < bt_noptions; i++) {
        const bt_opt_t *o = &bt_options[i];
        if (o->defval && set_value(cfg, o, o->defval, err, sizeof err) != 0) {
            fprintf(stderr, "bintail: internal error in the default of --%s: %s\n", o->name, err);
            abort();
        }
    }
}

int bt_config_parse(bt_config_t *cfg, int argc, char **argv, int first, char *err, size_t errlen) {
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        const bt_opt_t *o = NULL;
        const char *val = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            bt_config_print_help(argv[0]);
            return 1;
        }
        if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
            printf("bintail %s\n", PACKAGE_VERSION);
            return 1;
        }
        if (!strcmp(a, "--help-markdown")) {
            bt_config_print_markdown();
            return 1;
        }
        if (a[0] == '-' && a[1] == '-' && a[2]) {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t nl = eq ? (size_t)(eq - name) : strlen(name);
            o = find_long(name, nl);
            if (!o) {
                snprintf(err, errlen, "unknown flag '%.*s' (see bintail --help)", (int)(nl + 2), a);
                return -1;
            }
            if (eq) val = eq + 1;
        } else if (a[0] == '-' && a[1] && !a[2]) {
            o = find_short(a[1]);
            if (!o) {
                snprintf(err, errlen, "unknown flag '%s' (see bintail --help)", a);
                return -1;
            }
        } else if (a[0] == '-' && a[1] && a[2]) {
            o = find_short(a[1]); /* -Xkey=value */
            if (!o) {
                snprintf(err, errlen, "unknown flag '%s' (see bintail --help)", a);
                return -1;
            }
            val = a + 2;
        } else {
            snprintf(err, errlen, "unexpected argument '%s' (flags start with --; see bintail --help)", a);
            return -1;
        }
        if (o->kind == BT_OPT_FLAG) {
            if (val) {
                snprintf(err, errlen, "--%s takes no value", o->name);
                return -1;
            }
            *(bool *)((char *)cfg + o->offset) = true;
            continue;
        }
        if (!val) {
            if (i + 1 >= argc) {
                char range[160];
                describe_range(o, range, sizeof range);
                snprintf(err, errlen, "--%s needs a value: %s", o->name, range);
                return -1;
            }
            val = argv[++i];
        }
        if (set_value(cfg, o, val, err, errlen) != 0) return -1;
    }
    return 0;
}

int bt_config_check(const bt_config_t *cfg, char *err, size_t errlen) {
    if (!strcmp(cfg->source, "replication") && !cfg->mysql_url) {
        snprintf(err, errlen, "--source replication needs --mysql mysql://user@host:port");
        return -1;
    }
    if (!strcmp(cfg->source, "file") && !cfg->binlog_dir && !cfg->binlog_index) {
        snprintf(err, errlen, "no source: give --binlog-dir DIR (the replica's binlog directory), "
                              "or --source replication --mysql URL");
        return -1;
    }
    if (cfg->sink && strcmp(cfg->sink, "stdout") && strcmp(cfg->sink, "kafka") && strncmp(cfg->sink, "file:", 5)) {
        snprintf(err, errlen, "--sink: invalid value '%s': expected stdout, kafka or file:PATH", cfg->sink);
        return -1;
    }
    if (cfg->sink && !strcmp(cfg->sink, "kafka") && !cfg->kafka) {
        snprintf(err, errlen, "--sink kafka needs --kafka BROKERS");
        return -1;
    }
    if (cfg->sink && !strncmp(cfg->sink, "file:", 5) && !cfg->sink[5]) {
        snprintf(err, errlen, "--sink file:PATH needs a path");
        return -1;
    }
    if (cfg->queue_max_bytes < cfg->max_record_bytes) {
        snprintf(err, errlen, "--queue-max-bytes (%lld) is smaller than --max-record-bytes (%lld): a message that "
                 "size could never be queued; raise --queue-max-bytes", (long long)cfg->queue_max_bytes,
                 (long long)cfg->max_record_bytes);
        return -1;
    }
    if (cfg->lag_critical_ms < cfg->lag_warning_ms) {
        snprintf(err, errlen, "--lag-critical must not be below --lag-warning");
        return -1;
    }
    for (size_t i = 0; i < cfg->kafka_props.n; i++) {
        if (!strchr(cfg->kafka_props.v[i], '=')) {
            snprintf(err, errlen, "-X: invalid value '%s': expected KEY=VALUE", cfg->kafka_props.v[i]);
            return -1;
        }
    }
    return 0;
}

void bt_config_free(bt_config_t *cfg) {
    for (size_t i = 0; i < bt_noptions; i++) {
        const bt_opt_t *o = &bt_options[i];
        char *field = (char *)cfg + o->offset;
        if (o->kind == BT_OPT_STR || o->kind == BT_OPT_CHOICE) {
            free(*(char **)field);
            *(char **)field = NULL;
        } else if (o->kind == BT_OPT_LIST) {
            bt_strlist_t *l = (bt_strlist_t *)field;
            for (size_t j = 0; j < l->n; j++) free(l->v[j]);
            free(l->v);
            l->v = NULL;
            l->n = 0;
        }
    }
}

static void flag_label(const bt_opt_t *o, char *buf, size_t len) {
    if (o->short_name)
        snprintf(buf, len, "-%c, --%s%s%s", o->short_name, o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
    else
        snprintf(buf, len, "--%s%s%s", o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
}

void bt_config_print_help(const char *prog) {
    (void)prog;
    printf("bintail %s: MySQL/MariaDB binlog to Kafka change data capture.\n\n"
           "Usage: bintail [run] [FLAGS]          stream changes (the default command)\n"
           "       bintail decode [FLAGS] FILE... decode binlog files to JSON lines (bintail decode --help)\n"
           "       bintail throttle [FLAGS]       change the limits of a running agent\n"
           "       bintail alert-test [FLAGS]     send one test alert\n",
           PACKAGE_VERSION);
    const char *section = "";
    for (size_t i = 0; i < bt_noptions; i++) {
        const bt_opt_t *o = &bt_options[i];
        if (strcmp(section, o->section)) {
            section = o->section;
            printf("\n%s:\n", section);
        }
        char label[96];
        flag_label(o, label, sizeof label);
        printf("  %-34s %s", label, o->help);
        if (o->defval && o->kind != BT_OPT_FLAG) printf(" [default: %s]", o->defval);
        printf("\n");
    }
    printf("\n  %-34s %s\n  %-34s %s\n", "-h, --help", "Show this help.", "-V, --version", "Show the version.");
    printf("\nExit status: 0 ok, 1 runtime error, 2 bad flags or configuration.\n");
}

/* Markdown table cells cannot hold a bare '|'. */
static void md_cell(const char *text) {
    for (const char *p = text; *p; p++) {
        if (*p == '|') fputs("\\|", stdout);
        else putchar(*p);
    }
}

void bt_config_print_markdown(void) {
    const char *section = "";
    for (size_t i = 0; i < bt_noptions; i++) {
        const bt_opt_t *o = &bt_options[i];
        if (strcmp(section, o->section)) {
            printf("%s#### %s\n\n| flag | default | meaning |\n|---|---|---|\n", *section ? "\n" : "", o->section);
            section = o->section;
        }
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
        printf(" |\n");
    }
}

const char *bt_config_binlog_dir(const bt_config_t *cfg, char *buf, size_t len) {
    if (cfg->source && !strcmp(cfg->source, "replication")) return NULL; /* the server is the binlog */
    if (cfg->binlog_dir) return cfg->binlog_dir;
    if (!cfg->binlog_index) return NULL;
    snprintf(buf, len, "%s", cfg->binlog_index);
    char *slash = strrchr(buf, '/');
    if (slash) *slash = 0;
    else snprintf(buf, len, ".");
    return buf;
}
