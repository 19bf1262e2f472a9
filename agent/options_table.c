/* options_table.c: the data behind bintail's command line (see options.h): the subcommands,
 * the flags, the values of the enumerated flags and the throttle limits. Parsing is in
 * options.c, --help and the README's reference in options_help.c. */
#include "agent/options.h"

#include "agent/commands.h"
#include "partitioner/partitioner.h"

#define OFF(field) offsetof(bt_config_t, field)
#define LIM(field) offsetof(bt_throttle_limits_t, field)
#define HOUR_MS    (3600.0 * 1000)

/* Which subcommands take a flag. */
#define RUN      BT_CMD_RUN
#define DECODE   BT_CMD_DECODE
#define CTL      (BT_CMD_STATUS | BT_CMD_THROTTLE)
#define THROTTLE BT_CMD_THROTTLE
#define ALERT    BT_CMD_ALERT_TEST

#define CHOICES(list) (&(const bt_opt_choices_t){list, false, NULL})

const bt_command_t bt_commands[] = {
    {"run", BT_CMD_RUN, BT_CMD_RUN, bt_cmd_run, "", "stream changes to Kafka, a file or stdout (the default command)",
     NULL,
     "Exit status: 0 ok, 1 runtime error (a restart may cure it), 2 bad flags or configuration, 3 a failure\n"
     "that needs an operator (restarting would fail the same way)."},
    {"decode", BT_CMD_DECODE, BT_CMD_DECODE, bt_cmd_decode, " FILE...", "decode binlog files to JSON lines, offline",
     "Decodes MySQL/MariaDB binlog files (plain or gzip-compressed) and prints one line per row\n"
     "change, DDL statement and statement-logged DML to stdout.",
     "Exit status: 0 success, 1 undecodable input (the message names file:offset and event type),\n"
     "2 bad usage."},
    {"status", BT_CMD_STATUS, BT_CMD_STATUS, bt_cmd_status, "", "print a running agent's position, lag and counters",
     "Asks the agent running with that state directory for its position, lag and counters, and\n"
     "prints its answer (one line of JSON).",
     "Exit status: 0 ok, 1 no agent answered, or it refused the request, 2 bad flags."},
    {"throttle", BT_CMD_THROTTLE, BT_CMD_THROTTLE, bt_cmd_throttle, "", "change a running agent's limits, or show them",
     "Changes the limits of the agent running with that state directory (0 = unlimited); they\n"
     "apply within a second; those not given stay as they are. Without limits, prints the limits\n"
     "in force.",
     "Exit status: 0 ok, 1 no agent answered, or it refused the request, 2 bad flags."},
    {"alert-test", BT_CMD_ALERT_TEST, BT_CMD_ALERT_TEST | BT_CMD_RUN, bt_cmd_alert_test, "",
     "send one test alert to each webhook",
     "Sends one test alert to each --webhook, with the headers, signature and body format the\n"
     "agent would use, and prints each answer. It takes the agent's whole command line (every\n"
     "flag of bintail run); the ones below are those that matter.",
     "Exit status: 0 every webhook answered with success, 1 one did not, 2 bad flags."},
};
const size_t bt_ncommands = sizeof bt_commands / sizeof bt_commands[0];

/* column:NAME[,NAME...]: the partitioner's own parser checks the names (empty, repeated, with
 * spaces), so a mistake stops bintail here rather than once the pipeline is built. */
static int check_partition_by(const char *value, char *err, size_t errlen) {
    bt_partition_spec_t spec;
    if (bt_partition_spec_parse(value, &spec, err, errlen) != 0) return -1;
    bt_partition_spec_free(&spec);
    return 0;
}

/* The flags. Order = order in --help and in the README. */
const bt_opt_t bt_options[] = {
    /* ---- source */
    {"binlog-dir", 0, BT_OPT_STR, RUN, OFF(binlog_dir), NULL, NULL, 0, 0, "Source", "DIR",
     "Read the binlog files in DIR (the replica's datadir or log-bin directory); finds the *.index file there."},
    {"binlog-index", 0, BT_OPT_STR, RUN, OFF(binlog_index), NULL, NULL, 0, 0, "Source", "FILE",
     "The binlog index file to follow, when it is not the only *.index in --binlog-dir."},
    {"source", 0, BT_OPT_CHOICE, RUN, OFF(source), "file", CHOICES("file|replication"), 0, 0, "Source", "KIND",
     "Where events come from: the local binlog files, or the replication protocol (needs --mysql)."},
    {"mysql", 0, BT_OPT_STR, RUN, OFF(mysql_url), NULL, NULL, 0, 0, "Source", "URL",
     "mysql://user@host:port of the replica, for the replication source, the snapshot and schema lookups. "
     "The password comes from --mysql-password-file or BINTAIL_MYSQL_PASSWORD, never from the command line."},
    {"mysql-password-file", 0, BT_OPT_STR, RUN, OFF(mysql_password_file), NULL, NULL, 0, 0, "Source", "FILE",
     "File whose first line is the MySQL password."},
    {"server-id", 0, BT_OPT_INT, RUN, OFF(server_id), "4242", NULL, 1, 4294967295.0, "Source", "N",
     "Server id bintail registers with when it reads over the replication protocol; unique among replicas."},
    {"retry-connect", 0, BT_OPT_DURATION, RUN, OFF(retry_connect_ms), "720m", NULL, 0, 30 * 24 * HOUR_MS, "Source",
     "DURATION", "How long to keep reconnecting to an unreachable server (with backoff) before giving up."},
    {"start", 0, BT_OPT_STR, RUN, OFF(start), "earliest", NULL, 0, 0, "Source", "WHERE",
     "Where to start when there is no checkpoint: earliest, latest, FILE:POS, time:YYYY-MM-DDTHH:MM:SSZ, or "
     "gtid:SET in the server's form (MySQL uuid:1-5:7,... or MariaDB 0-1-100,...): the first transaction SET lacks."},
    {"stop-at-end", 0, BT_OPT_FLAG, RUN, OFF(stop_at_end), NULL, NULL, 0, 0, "Source", NULL,
     "Exit 0 once the current end of the binlog is reached and delivered (backfills, tests)."},
    /* ---- state */
    {"state-dir", 0, BT_OPT_STR, RUN, OFF(state_dir), NULL, NULL, 0, 0, "Checkpoint", "DIR",
     "Directory for the checkpoint (and the control socket). Without it bintail keeps no position across restarts."},
    {"checkpoint-interval", 0, BT_OPT_DURATION, RUN, OFF(checkpoint_interval_ms), "1s", NULL, 10, 3600 * 1000.0,
     "Checkpoint", "DURATION", "Write the checkpoint at most this often (and always at a clean stop)."},
    {"reset-checkpoint", 0, BT_OPT_FLAG, RUN, OFF(reset_checkpoint), NULL, NULL, 0, 0, "Checkpoint", NULL,
     "Ignore the stored checkpoint and start from --start."},
    /* ---- output */
    {"sink", 0, BT_OPT_CHOICE, RUN, OFF(sink), NULL, CHOICES("stdout|file:PATH|kafka"), 0, 0, "Output", "SINK",
     "Where messages go: stdout (JSON lines), a file (compressed when PATH ends in .zst, .lz4, .snappy or .gz) "
     "or Kafka. Default: kafka when --kafka is given, else stdout."},
    {"kafka", 0, BT_OPT_STR, RUN, OFF(kafka), NULL, NULL, 0, 0, "Output", "BROKERS",
     "Kafka bootstrap servers (host:port,...); selects the Kafka sink."},
    {"acks", 0, BT_OPT_CHOICE, RUN, OFF(acks), "all", CHOICES("all|1|0"), 0, 0, "Output", "N",
     "Acknowledgements the Kafka sink waits for. With all the producer is idempotent."},
    {"compression", 0, BT_OPT_CHOICE, RUN, OFF(compression), "lz4", CHOICES("lz4|zstd|snappy|gzip|none"), 0, 0,
     "Output", "CODEC", "Compression of Kafka batches."},
    {"kafka-property", 'X', BT_OPT_LIST, RUN, OFF(kafka_props), NULL, NULL, 0, 0, "Output", "KEY=VALUE",
     "Any librdkafka producer property (TLS, SASL, tuning); repeatable; applied last."},
    /* any case: bintail decode always took --format JSON (the formats' own parser ignores case) */
    {"format", 0, BT_OPT_CHOICE, RUN | DECODE, OFF(format), NULL,
     &(const bt_opt_choices_t){"json|debezium|canal|maxwell|dataworks|upsert", true, NULL}, 0, 0, "Output", "FORMAT",
     "Message format. Default: debezium for Kafka, json for stdout and files."},
    {"topic", 0, BT_OPT_STR, RUN, OFF(topic), "${db}_${table}", NULL, 0, 0, "Output", "TEMPLATE",
     "Topic name template; variables ${db}, ${table}, ${server_id} (the id of the server bintail reads, the same "
     "for snapshot and stream rows)."},
    {"route", 0, BT_OPT_LIST, RUN, OFF(routes), NULL, NULL, 0, 0, "Output", "REGEX=TEMPLATE",
     "Topic for tables whose db.table matches REGEX (first match wins; $1.. are capture groups); repeatable."},
    {"ddl-topic", 0, BT_OPT_STR, RUN, OFF(ddl_topic), NULL, NULL, 0, 0, "Output", "NAME",
     "Topic for DDL messages. Default: the topic of the table the DDL names (its database's for database DDL)."},
    {"include", 0, BT_OPT_STR, RUN, OFF(include), NULL, NULL, 0, 0, "Output", "REGEX",
     "Only tables whose db.table matches REGEX (PCRE2, anchored)."},
    {"exclude", 0, BT_OPT_STR, RUN, OFF(exclude), "(mysql|sys|information_schema|performance_schema)\\..*", NULL, 0, 0,
     "Output", "REGEX", "Skip tables whose db.table matches REGEX (PCRE2, anchored)."},
    {"partition-by", 0, BT_OPT_CHOICE, RUN, OFF(partition_by), "pk",
     &(const bt_opt_choices_t){"pk|table|database|column:NAME[,NAME...]|transaction|partition0|random", false,
                               check_partition_by},
     0, 0, "Output", "STRATEGY",
     "Which partition a message goes to: pk = murmur2 of its key, as Kafka's Java client; table, database, "
     "column:NAME,... and transaction = murmur2 of db.table, of the database, of those columns' values or of the "
     "transaction; partition0 = always 0; random = spread evenly."},
    {"key-columns", 0, BT_OPT_LIST, RUN, OFF(key_columns), NULL, NULL, 0, 0, "Output", "DB.TABLE:C1,C2",
     "Key columns for a table without a primary key; repeatable."},
    {"tombstones", 0, BT_OPT_ONOFF, RUN, OFF(tombstones), "on", NULL, 0, 0, "Output", "on|off",
     "debezium: a null-value message after each delete, for compacted topics."},
    {"max-record-bytes", 0, BT_OPT_SIZE, RUN, OFF(max_record_bytes), "10MB", NULL, 1024, 1e9, "Output", "SIZE",
     "Largest message (key + value) bintail will produce."},
    {"oversize", 0, BT_OPT_CHOICE, RUN, OFF(oversize), "fail", CHOICES("fail|skip|drop-columns"), 0, 0, "Output",
     "POLICY",
     "What to do with a message over --max-record-bytes: fail = stop with an error, skip = skip it (counted and "
     "logged), drop-columns = replace the largest columns with null."},
    {"queue-max-bytes", 0, BT_OPT_SIZE, RUN, OFF(queue_max_bytes), "16MB", NULL, 1024 * 1024, 1e12, "Output", "SIZE",
     "Messages waiting for delivery, in bytes of key and value (the Kafka Java producer's buffer.memory); also at "
     "most one message, and one transaction awaiting acknowledgement, per 512 bytes of it. Reading pauses "
     "when it is full. At least --max-record-bytes."},
    {"kafka-headers", 0, BT_OPT_ONOFF, RUN, OFF(kafka_headers), "on", NULL, 0, 0, "Output", "on|off",
     "Kafka headers bintail.op, bintail.file, bintail.pos, bintail.gtid on every message; off saves about a third "
     "of the CPU per message."},
    {"create-topics", 0, BT_OPT_FLAG, RUN, OFF(create_topics), NULL, NULL, 0, 0, "Output", NULL,
     "Create missing topics with the Admin API (compacted for --format upsert)."},
    {"topic-partitions", 0, BT_OPT_INT, RUN, OFF(topic_partitions), "6", NULL, 1, 100000, "Output", "N",
     "Partitions of a topic --create-topics creates for a table with a key (tables without a key get 1)."},
    {"topic-replicas", 0, BT_OPT_INT, RUN, OFF(topic_replicas), "-1", NULL, -1, 32, "Output", "N",
     "Replication factor of created topics; -1 = the brokers' default."},
    /* ---- snapshot */
    {"snapshot", 0, BT_OPT_CHOICE, RUN, OFF(snapshot), "initial", CHOICES("initial|never|only|when-needed"), 0, 0,
     "Snapshot", "MODE",
     "Full sync of the existing rows before streaming (needs --mysql): initial = when there is no checkpoint; "
     "when-needed = also when the checkpoint's binlog was purged; only = exit after the snapshot; never."},
    {"snapshot-chunk-rows", 0, BT_OPT_INT, RUN, OFF(snapshot_chunk_rows), "10000", NULL, 1, 10000000, "Snapshot", "N",
     "Rows per primary-key chunk query."},
    {"snapshot-threads", 0, BT_OPT_INT, RUN, OFF(snapshot_threads), "1", NULL, 1, 64, "Snapshot", "N",
     "Parallel connections reading tables (more than 1 needs a brief global read lock to share one snapshot)."},
    {"snapshot-skip", 0, BT_OPT_STR, RUN, OFF(snapshot_skip), NULL, NULL, 0, 0, "Snapshot", "REGEX",
     "Do not snapshot tables whose db.table matches REGEX (they are still streamed)."},
    {"snapshot-where", 0, BT_OPT_LIST, RUN, OFF(snapshot_where), NULL, NULL, 0, 0, "Snapshot", "DB.TABLE:CONDITION",
     "Snapshot only the rows of that table matching the SQL condition; repeatable."},
    {"snapshot-max-qps", 0, BT_OPT_LIMIT, RUN | THROTTLE, OFF(throttle), "0", NULL, 0, 0, "Snapshot", "N",
     "Snapshot queries sent to the server per second; 0 = unlimited."},
    {"snapshot-max-rps", 0, BT_OPT_LIMIT, RUN | THROTTLE, OFF(throttle), "0", NULL, 0, 0, "Snapshot", "N",
     "Snapshot rows per second; 0 = unlimited."},
    {"snapshot-max-mbps", 0, BT_OPT_LIMIT, RUN | THROTTLE, OFF(throttle), "0", NULL, 0, 0, "Snapshot", "N",
     "Snapshot megabytes (10^6) of produced messages per second; 0 = unlimited."},
    /* ---- throttle */
    {"max-rps", 0, BT_OPT_LIMIT, RUN | THROTTLE, OFF(throttle), "0", NULL, 0, 0, "Throttle", "N",
     "Row changes read per second; 0 = unlimited."},
    {"max-mbps", 0, BT_OPT_LIMIT, RUN | THROTTLE, OFF(throttle), "0", NULL, 0, 0, "Throttle", "N",
     "Megabytes (10^6) of produced key+value per second; 0 = unlimited."},
    {"throttle-burst", 0, BT_OPT_DOUBLE, RUN, OFF(throttle.burst_seconds), "1", NULL, 0.001, 3600, "Throttle",
     "SECONDS", "Burst allowance, in seconds of budget."},
    /* ---- alerts */
    {"webhook", 0, BT_OPT_LIST, RUN | ALERT, OFF(webhooks), NULL, NULL, 0, 0, "Alerts", "URL",
     "Send alerts to this URL; repeatable."},
    {"webhook-header", 0, BT_OPT_LIST, RUN | ALERT, OFF(webhook_headers), NULL, NULL, 0, 0, "Alerts", "'NAME: VALUE'",
     "Extra HTTP header on every webhook; repeatable."},
    {"webhook-timeout", 0, BT_OPT_DURATION, RUN | ALERT, OFF(webhook_timeout_ms), "5s", NULL, 100, 600 * 1000.0,
     "Alerts", "DURATION", "Timeout of one webhook request (retried with backoff on timeouts and 5xx)."},
    {"webhook-secret-file", 0, BT_OPT_STR, RUN | ALERT, OFF(webhook_secret_file), NULL, NULL, 0, 0, "Alerts", "FILE",
     "Sign each body with HMAC-SHA256 using this file's contents (header X-Bintail-Signature)."},
    {"webhook-format", 0, BT_OPT_CHOICE, RUN | ALERT, OFF(webhook_format), "json", CHOICES("json|slack"), 0, 0,
     "Alerts", "FORMAT", "Body format: json = bintail's JSON schema, slack = a Slack-compatible {\"text\": ...}."},
    {"lag-warning", 0, BT_OPT_DURATION, RUN, OFF(lag_warning_ms), "30s", NULL, 0, 30 * 24 * HOUR_MS, "Alerts",
     "DURATION", "Lag above which the lag alert fires with WARNING."},
    {"lag-critical", 0, BT_OPT_DURATION, RUN, OFF(lag_critical_ms), "300s", NULL, 0, 30 * 24 * HOUR_MS, "Alerts",
     "DURATION", "Lag above which the lag alert fires with CRITICAL."},
    {"lag-for", 0, BT_OPT_DURATION, RUN, OFF(lag_for_ms), "30s", NULL, 0, 24 * HOUR_MS, "Alerts", "DURATION",
     "How long lag must stay above a threshold before the alert fires."},
    {"sink-down-after", 0, BT_OPT_DURATION, RUN, OFF(sink_down_after_ms), "30s", NULL, 0, 24 * HOUR_MS, "Alerts",
     "DURATION", "How long the sink may fail before sink_down fires."},
    {"alert-interval", 0, BT_OPT_DURATION, RUN, OFF(alert_interval_ms), "10m", NULL, 0, 30 * 24 * HOUR_MS, "Alerts",
     "DURATION", "Minimum time between repeats of the same firing alert."},
    {"alert-ddl", 0, BT_OPT_FLAG, RUN, OFF(alert_ddl), NULL, NULL, 0, 0, "Alerts", NULL,
     "Send a ddl alert for every schema change."},
    {"name", 0, BT_OPT_STR, RUN | ALERT, OFF(name), "bintail", NULL, 0, 0, "Alerts", "NAME",
     "Agent name used in alerts and logs."},
    /* ---- general */
    {"log-level", 0, BT_OPT_CHOICE, RUN, OFF(log_level), "info", CHOICES("error|warn|info|debug"), 0, 0, "General",
     "LEVEL", "Log verbosity (logs go to stderr)."},
    {"log-file", 0, BT_OPT_STR, RUN, OFF(log_file), NULL, NULL, 0, 0, "General", "FILE",
     "Append logs to FILE instead of stderr; SIGHUP reopens it (for logrotate)."},
    /* ---- bintail decode (its --start is a byte offset, not run's --start) */
    {"start", 0, BT_OPT_INT, DECODE, OFF(decode_start), NULL, NULL, 0, BT_OPT_UNBOUNDED, "Decode", "POS",
     "Begin at byte offset POS of the first file (an event boundary after its FORMAT_DESCRIPTION event, which is "
     "always read first)."},
    {"stop", 0, BT_OPT_INT, DECODE, OFF(decode_stop), NULL, NULL, 0, BT_OPT_UNBOUNDED, "Decode", "POS",
     "Stop before the first event at or after byte offset POS of the last file."},
    {"no-checksum-verify", 0, BT_OPT_FLAG, DECODE, OFF(no_checksum_verify), NULL, NULL, 0, 0, "Decode", NULL,
     "Do not verify CRC32 event checksums."},
    /* ---- bintail status and throttle */
    {"state-dir", 0, BT_OPT_STR, CTL, OFF(state_dir), NULL, NULL, 0, 0, "A running agent", "DIR",
     "The --state-dir of the running agent to talk to (its control.sock is there); required."},
};
const size_t bt_noptions = sizeof bt_options / sizeof bt_options[0];

/* The throttle limits (see bt_limit_t): the BT_OPT_LIMIT rows above, `bintail throttle` and the
 * control socket take them by these names and units. */
const bt_limit_t bt_limits[] = {
    {"max-rps", "max_rps", LIM(stream_rows_per_sec), 1},
    {"max-mbps", "max_mbps", LIM(stream_bytes_per_sec), 1e6},
    {"snapshot-max-qps", "snapshot_max_qps", LIM(snapshot_queries_per_sec), 1},
    {"snapshot-max-rps", "snapshot_max_rps", LIM(snapshot_rows_per_sec), 1},
    {"snapshot-max-mbps", "snapshot_max_mbps", LIM(snapshot_bytes_per_sec), 1e6},
};
const size_t bt_nlimits = sizeof bt_limits / sizeof bt_limits[0];
