/* bt-repl-dump: reads a server's binlog over the replication protocol (the replication source)
 * and prints what the decoder makes of it, for tests and for debugging a server's stream.
 *
 * One line per decoded event: "TYPE FILE:POS" (plus " skip" for a FORMAT_DESCRIPTION replayed
 * before the start, and a detail for GTID, ROTATE and QUERY events), and per row of a rows
 * event an indented line "ROW db.table insert|update|delete" with before= and after= as JSON
 * objects of the columns present. Logs (reconnects...) go to stderr.
 *
 * usage: bt-repl-dump --mysql mysql://USER@HOST:PORT [--mysql-password-file FILE]
 *          [--server-id N] [--start FILE:POS | --gtid D-S-N[,...]] [--stop-at-end]
 *          [--heartbeat-ms N] [--retry-connect-ms N] [--delay-us N] [--verbose]
 * --delay-us sleeps after each event: a slow consumer, so that tests can fill the source's
 * queue and hold the server in the middle of a transaction.
 * Exit status: 0 at the end (--stop-at-end) or on SIGINT/SIGTERM, 1 on an error, 2 on bad usage. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/binlog/binlog.h"
#include "lib/lib.h"
#include "agent/source/mysql_url.h"
#include "agent/source/source.h"

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

typedef struct dump_opts {
    const char *url, *password_file, *start, *gtid;
    uint32_t server_id;
    int heartbeat_ms;
    int64_t retry_ms;
    long delay_us;
    int stop_at_end, verbose;
} dump_opts_t;

static void usage(void) {
    fprintf(stderr, "usage: bt-repl-dump --mysql mysql://USER@HOST:PORT [--mysql-password-file FILE] "
                    "[--server-id N] [--start FILE:POS | --gtid D-S-N[,...]] [--stop-at-end] [--heartbeat-ms N] "
                    "[--retry-connect-ms N] [--delay-us N] [--verbose]\n");
    exit(2);
}

static void parse_args(int argc, char **argv, dump_opts_t *o) {
    memset(o, 0, sizeof *o);
    o->server_id = 4243;
    o->heartbeat_ms = 1000;
    o->retry_ms = 60000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--stop-at-end")) o->stop_at_end = 1;
        else if (!strcmp(a, "--verbose")) o->verbose = 1;
        else if (!v) usage();
        else if (!strcmp(a, "--mysql")) o->url = v, i++;
        else if (!strcmp(a, "--mysql-password-file")) o->password_file = v, i++;
        else if (!strcmp(a, "--start")) o->start = v, i++;
        else if (!strcmp(a, "--gtid")) o->gtid = v, i++;
        else if (!strcmp(a, "--server-id")) o->server_id = (uint32_t)strtoul(v, NULL, 10), i++;
        else if (!strcmp(a, "--heartbeat-ms")) o->heartbeat_ms = atoi(v), i++;
        else if (!strcmp(a, "--retry-connect-ms")) o->retry_ms = strtoll(v, NULL, 10), i++;
        else if (!strcmp(a, "--delay-us")) o->delay_us = strtol(v, NULL, 10), i++;
        else usage();
    }
    if (!o->url) usage();
}

static int parse_start(const char *spec, bt_start_pos_t *start) {
    memset(start, 0, sizeof *start);
    if (!spec) return 0;
    const char *colon = strrchr(spec, ':');
    if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof start->file) return -1;
    snprintf(start->file, sizeof start->file, "%.*s", (int)(colon - spec), spec);
    start->pos = strtoull(colon + 1, NULL, 10);
    return 0;
}

/* {"col":value,...} of the columns present in a row image. */
static void print_image(bt_buf_t *b, const bt_table_t *t, const bt_row_t *row) {
    bt_jw_t w;
    bt_buf_reset(b);
    bt_jw_init(&w, b);
    bt_jw_obj_begin(&w);
    for (uint32_t i = 0; i < row->ncols && i < t->ncols; i++) {
        if (!row->v[i].present) continue;
        bt_jw_keyn(&w, t->cols[i].name, t->cols[i].name_len);
        bt_value_json(&w, &t->cols[i], &row->v[i]);
    }
    bt_jw_obj_end(&w);
    fwrite(b->p, 1, b->len, stdout);
}

static int print_rows(bt_decoder_t *dec, bt_event_t *ev, bt_buf_t *b, char *err, size_t errlen) {
    static const char *const ops[] = {"?", "insert", "update", "delete", "read"};
    const bt_table_t *t = ev->u.rows.table;
    const bt_row_t *before, *after;
    int rc;
    while ((rc = bt_rows_next(dec, ev, &before, &after, err, errlen)) == 1) {
        printf("  ROW %s.%s %s", t->db, t->name, ops[ev->u.rows.op <= BT_OP_READ ? ev->u.rows.op : 0]);
        if (before) {
            fputs(" before=", stdout);
            print_image(b, t, before);
        }
        if (after) {
            fputs(" after=", stdout);
            print_image(b, t, after);
        }
        putchar('\n');
    }
    return rc;
}

static void print_event(const bt_event_t *ev, bool skip) {
    printf("%s %s:%" PRIu64 "%s", bt_event_type_name(ev->type), ev->file ? ev->file : "?", ev->pos,
           skip ? " skip" : "");
    switch (ev->kind) {
    case BT_EV_GTID:
        printf(" %s", ev->u.gtid.text);
        break;
    case BT_EV_ROTATE:
        printf(" %s:%" PRIu64, ev->u.rotate.next_file, ev->u.rotate.pos);
        break;
    case BT_EV_DDL:
    case BT_EV_BEGIN:
    case BT_EV_DML_STATEMENT:
        printf(" %.*s", (int)(ev->u.query.sql_len > 200 ? 200 : ev->u.query.sql_len), ev->u.query.sql);
        break;
    default:
        break;
    }
    putchar('\n');
}

/* Feed one raw event and print everything it decodes to. */
static int dump_event(bt_decoder_t *dec, const bt_raw_event_t *raw, bt_buf_t *b, char *err, size_t errlen) {
    bt_event_t ev;
    int rc;
    bt_decoder_set_file(dec, raw->file);
    if (bt_decoder_feed(dec, raw->data, raw->len, raw->pos, err, errlen) != 0) return -1;
    while ((rc = bt_decoder_next(dec, &ev, err, errlen)) == 1) {
        print_event(&ev, raw->skip);
        if (ev.kind == BT_EV_ROWS && print_rows(dec, &ev, b, err, errlen) != 0) return -1;
    }
    return rc;
}

static bt_source_t *open_source(const dump_opts_t *o, char *err, size_t errlen) {
    bt_mysql_url_t url;
    bt_start_pos_t start;
    char *password = NULL;
    if (bt_mysql_url_parse(o->url, &url, err, errlen) != 0) return NULL;
    if (parse_start(o->start, &start) != 0) {
        snprintf(err, errlen, "--start %s: expected FILE:POS", o->start);
        return NULL;
    }
    if (bt_mysql_password(o->password_file, &password, err, errlen) != 0) return NULL;
    bt_repl_opts_t ro = {
        .host = url.host,
        .port = url.port,
        .user = url.user,
        .password = password,
        .server_id = o->server_id,
        .gtid = o->gtid,
        .retry_connect_ms = o->retry_ms,
        .heartbeat_ms = o->heartbeat_ms,
    };
    bt_source_t *src = bt_source_repl_new(&ro, &start, err, errlen);
    free(password);
    return src;
}

int main(int argc, char **argv) {
    dump_opts_t o;
    char err[2048] = "";
    parse_args(argc, argv, &o);
    bt_log_set_level(o.verbose ? BT_LOG_DEBUG : BT_LOG_INFO);
    setvbuf(stdout, NULL, _IOLBF, 0); /* tests watch the output while it runs */
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);

    bt_source_t *src = open_source(&o, err, sizeof err);
    if (!src) {
        fprintf(stderr, "bt-repl-dump: %s\n", err);
        return 1;
    }
    bt_decoder_opts_t dopts = {0};
    bt_decoder_t *dec = bt_decoder_new(&dopts);
    bt_buf_t b;
    bt_buf_init(&b, 0);
    bt_decoder_set_checksum(dec, bt_source_repl_checksum(src));
    int rc = 0;
    while (!stop_requested) {
        bt_raw_event_t raw;
        int got = bt_source_next(src, &raw, 200, err, sizeof err);
        if (got < 0 || (got == 1 && dump_event(dec, &raw, &b, err, sizeof err) != 0)) {
            fprintf(stderr, "bt-repl-dump: %s\n", err);
            rc = 1;
            break;
        }
        if (got == 1 && o.delay_us > 0) usleep((useconds_t)o.delay_us);
        if (got == 0 && o.stop_at_end && src->ops->at_end(src)) break;
    }
    bt_buf_free(&b);
    bt_decoder_free(dec);
    bt_source_free(src);
    return rc;
}
