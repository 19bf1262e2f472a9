/* test_options.c: the flags table and its parser: enumerated values checked at parse time with
 * one message naming the flag once, the subcommands' own subsets (--flag=value and --flag value
 * alike), the throttle limits' names and units, and the table agreeing with the parsers of the
 * libraries it stands in front of. */
#include "agent/options.h"
#include "agent/format/format.h"
#include "partitioner/partitioner.h"
#include "tests/unit/tap.h"

#include <math.h>

static char err[2048];

/* Parses the arguments (NULL-terminated) for cmd into *cfg; returns bt_config_parse's result. */
static int parse(bt_config_t *cfg, bt_cmd_id_t cmd, const char *const *args) {
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)"bintail";
    for (; *args && argc < 31; args++) argv[argc++] = (char *)*args;
    argv[argc] = NULL;
    bt_config_free(cfg);
    bt_config_defaults(cfg);
    err[0] = 0;
    return bt_config_parse(cfg, cmd, argc, argv, 1, NULL, err, sizeof err);
}

static int count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

static void test_enums(bt_config_t *cfg) {
    ok(parse(cfg, BT_CMD_RUN, (const char *[]){"--partition-by", "tabel", NULL}) < 0, "--partition-by tabel refused");
    is_str(err,
           "--partition-by: unknown value 'tabel' (expected one of: pk, table, database, "
           "column:NAME[,NAME...], transaction, partition0, random)",
           "one message, the values listed");
    is_int(count(err, "--partition-by"), 1, "the flag is named once");
    ok(parse(cfg, BT_CMD_RUN, (const char *[]){"--partition-by=column:tenant,region", NULL}) == 0,
       "--partition-by=column:tenant,region");
    is_str(cfg->partition_by, "column:tenant,region", "stored as given");
    ok(parse(cfg, BT_CMD_RUN, (const char *[]){"--partition-by", "column:a,,b", NULL}) < 0, "an empty column refused");
    is_int(count(err, "--partition-by"), 1, "named once: %s", err);
    ok(parse(cfg, BT_CMD_RUN, (const char *[]){"--partition-by", "column:", NULL}) < 0, "column: without names");
    is_str(err, "--partition-by: 'column:' needs NAME[,NAME...] after the colon (column:NAME[,NAME...])", "%s", err);
    ok(parse(cfg, BT_CMD_RUN, (const char *[]){"--oversize", "drop", NULL}) < 0, "--oversize drop refused");
    is_str(err, "--oversize: unknown value 'drop' (expected one of: fail, skip, drop-columns)", "and listed");
    ok(parse(cfg, BT_CMD_RUN, (const char *[]){"--sink", "kafak", NULL}) < 0, "--sink kafak refused");
    is_str(err, "--sink: unknown value 'kafak' (expected one of: stdout, file:PATH, kafka)", "and listed");
    ok(parse(cfg, BT_CMD_RUN, (const char *[]){"--sink=file:", NULL}) < 0, "--sink=file: refused");
    ok(parse(cfg, BT_CMD_RUN, (const char *[]){"--sink", "file:/tmp/x.zst", NULL}) == 0, "--sink file:PATH");
    is_str(cfg->sink, "file:/tmp/x.zst", "the path kept");
    ok(parse(cfg, BT_CMD_RUN, (const char *[]){"--format", "avro", NULL}) < 0, "--format avro refused");
    is_int(count(err, "--format"), 1, "named once: %s", err);
    ok(parse(cfg, BT_CMD_DECODE, (const char *[]){"--format", "JSON", NULL}) == 0, "--format JSON (any case)");
    is_str(cfg->format, "json", "stored as the table spells it");
    ok(parse(cfg, BT_CMD_RUN, (const char *[]){"--tombstones", "maybe", NULL}) < 0, "--tombstones maybe refused");
    is_str(err, "--tombstones: unknown value 'maybe' (expected one of: on, off)", "on/off listed");
    ok(parse(cfg, BT_CMD_RUN, (const char *[]){"--log-level", NULL}) < 0, "a choice without a value");
    is_str(err, "--log-level needs a value: one of: error, warn, info, debug", "lists the values");
}

static void test_subcommands(bt_config_t *cfg) {
    ok(parse(cfg, BT_CMD_STATUS, (const char *[]){"--state-dir=/x", NULL}) == 0, "status --state-dir=/x");
    is_str(cfg->state_dir, "/x", "state dir");
    ok(parse(cfg, BT_CMD_STATUS, (const char *[]){"--state-dir", "/y", NULL}) == 0, "status --state-dir /y");
    is_str(cfg->state_dir, "/y", "state dir");
    ok(parse(cfg, BT_CMD_STATUS, (const char *[]){"--max-rps", "5", NULL}) < 0, "status refuses --max-rps");
    ok(strstr(err, "--max-rps is a flag of bintail run or bintail throttle, not of bintail status") != NULL, "%s", err);
    ok(parse(cfg, BT_CMD_THROTTLE, (const char *[]){"--state-dir", "/x", "--max-mbps=20", "--max-rps", "4000", NULL}) ==
           0,
       "throttle --max-mbps=20 --max-rps 4000");
    ok(cfg->throttle.stream_bytes_per_sec == 20e6, "--max-mbps in bytes per second");
    ok(cfg->throttle.stream_rows_per_sec == 4000, "--max-rps in rows per second");
    ok(parse(cfg, BT_CMD_THROTTLE, (const char *[]){"--max-rps", "-1", NULL}) < 0, "a negative limit refused");
    is_str(err, "--max-rps: invalid value '-1': expected a number >= 0 (0 = unlimited)", "%s", err);
    ok(parse(cfg, BT_CMD_THROTTLE, (const char *[]){"--max-rps", "nan", NULL}) < 0, "nan refused");
    ok(parse(cfg, BT_CMD_THROTTLE, (const char *[]){"--throttle-burst", "2", NULL}) < 0, "throttle refuses a run flag");
    ok(parse(cfg, BT_CMD_DECODE, (const char *[]){"--start=120", "--stop", "900", "--no-checksum-verify", NULL}) == 0,
       "decode --start=120 --stop 900 --no-checksum-verify");
    ok(cfg->decode_start == 120 && cfg->decode_stop == 900 && cfg->no_checksum_verify, "decode's own fields");
    is_str(cfg->start, "earliest", "run's --start untouched");
    ok(parse(cfg, BT_CMD_DECODE, (const char *[]){"--kafka", "k:9092", NULL}) < 0, "decode refuses --kafka");
    ok(parse(cfg, BT_CMD_RUN, (const char *[]){"--no-checksum-verify", NULL}) < 0, "run refuses a decode flag");
    ok(parse(cfg, BT_CMD_ALERT_TEST, (const char *[]){"--webhook", "http://h/", "--binlog-dir", "/d", NULL}) == 0,
       "alert-test takes the agent's command line");
    ok(parse(cfg, BT_CMD_RUN, (const char *[]){"--no-such-flag", NULL}) < 0, "unknown flag");
    is_str(err, "unknown flag '--no-such-flag' (see bintail --help)", "%s", err);

    char *argv[] = {"decode", "--format", "canal", "a.bin", "--format", NULL};
    int rest = -1;
    bt_config_free(cfg);
    bt_config_defaults(cfg);
    ok(bt_config_parse(cfg, BT_CMD_DECODE, 5, argv, 1, &rest, err, sizeof err) == 0, "decode: flags, then files");
    is_int(rest, 3, "the files start at the first argument that is not a flag");
    ok(bt_command_find("alert-test") && !bt_command_find("nope"), "bt_command_find");
}

static void test_limits(void) {
    size_t rows = 0;
    for (size_t i = 0; i < bt_noptions; i++) {
        if (bt_options[i].kind != BT_OPT_LIMIT) continue;
        rows++;
        ok(bt_limit_find(bt_options[i].name, strlen(bt_options[i].name)) != NULL, "--%s is in bt_limits",
           bt_options[i].name);
    }
    is_int(rows, bt_nlimits, "every limit is a flag");
    bt_throttle_limits_t lim = {0};
    const bt_limit_t *mb = bt_limit_find("max-mbps", 8);
    ok(mb && bt_limit_parse(&lim, mb, "2.5", err, sizeof err) == 0, "max-mbps 2.5");
    ok(lim.stream_bytes_per_sec == 2.5e6 && bt_limit_get(&lim, mb) == 2.5, "stored in bytes, read in MB");
    bt_buf_t b;
    bt_buf_init(&b, 0);
    bt_limits_describe(&lim, &b);
    is_str(b.p, "max-rps 0, max-mbps 2.5, snapshot-max-qps 0, snapshot-max-rps 0, snapshot-max-mbps 0", "described");
    bt_buf_reset(&b);
    bt_jw_t w;
    bt_jw_init(&w, &b);
    bt_jw_obj_begin(&w);
    bt_limits_json(&lim, &w);
    bt_jw_obj_end(&w);
    is_str(b.p,
           "{\"max_rps\":0,\"max_mbps\":2.5,\"snapshot_max_qps\":0,\"snapshot_max_rps\":0,"
           "\"snapshot_max_mbps\":0}",
           "as JSON");
    bt_buf_free(&b);
}

/* Each named choice must be one its library takes, or a valid flag would fail later. */
static void test_table_agrees(void) {
    for (size_t i = 0; i < bt_noptions; i++) {
        const bt_opt_t *o = &bt_options[i];
        if (o->kind != BT_OPT_CHOICE || (strcmp(o->name, "format") && strcmp(o->name, "partition-by"))) continue;
        char list[256];
        snprintf(list, sizeof list, "%s", o->choices->list);
        for (char *save = NULL, *v = strtok_r(list, "|", &save); v; v = strtok_r(NULL, "|", &save)) {
            int rc;
            if (!strcmp(o->name, "format")) {
                bt_format_kind_t k;
                rc = bt_format_parse(v, &k, err, sizeof err);
            } else {
                bt_partition_spec_t spec;
                rc = bt_partition_spec_parse(strchr(v, ':') ? "column:c" : v, &spec, err, sizeof err);
                bt_partition_spec_free(&spec);
            }
            ok(rc == 0, "--%s %s is known to its library", o->name, v);
        }
    }
}

int main(void) {
    bt_config_t cfg;
    bt_config_defaults(&cfg);
    test_enums(&cfg);
    test_subcommands(&cfg);
    test_limits();
    test_table_agrees();
    bt_config_free(&cfg);
    return tap_done();
}
