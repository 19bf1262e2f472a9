/* cmd_decode.c: `bintail decode`: reads binlog files offline and prints every row change and
 * DDL as one line through a format (default: bintail's own json lines).
 *
 * It needs nothing but the files: events are framed by the block reader (event_blocks.h) with
 * the checks every binlog reader shares (binlog_walk.h), and gzip-compressed files are read
 * transparently, in 1 MB blocks. Statement-logged DML (INSERT/UPDATE/... as SQL text) has no row images;
 * it is printed as an {"op":"statement",...} line rather than dropped, whatever the format.
 *
 * Coordinates (file, pos, row) are those of the daemon (rows_change.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "agent/binlog/binlog.h"
#include "agent/commands.h"
#include "agent/source/binlog_walk.h"
#include "agent/source/event_blocks.h"
#include "agent/format/format.h"
#include "agent/options.h"
#include "lib/lib.h"
#include "agent/stream/rows_change.h"

typedef struct decode_state {
    bt_decoder_t *dec;
    bt_format_t *fmt;
    bt_buf_t key, line;
    bt_buf_t out;             /* output not yet handed to stdout (see out_flush) */
    bt_buf_t rows_query;      /* the statement of the rows that follow (ROWS_QUERY/ANNOTATE_ROWS) */
    char gtid[160];
    bool in_txn;
    bool implicit;            /* opened by a change outside BEGIN/GTID (autocommit, non-transactional) */
    bool implicit_rows;       /* ... and rows were seen in it: the next TABLE_MAP starts another */
    int64_t commit_ts_us;     /* of the current transaction's GTID, 0 if none */
    uint64_t txn_seq, seq;
    bt_row_numbering_t rows;  /* row numbers across a TRANSACTION_PAYLOAD's inner events */
    const char *file;         /* basename for coordinates */
    char err[1024];
} decode_state_t;

/* Output is gathered in st->out and handed to stdout a megabyte at a time: messages are
 * encoded straight into it, so no byte is copied between the formatter and write(2). */
#define DECODE_FLUSH_AT ((size_t)1 << 20)

static int out_flush(decode_state_t *st) {
    if (st->out.len && fwrite(st->out.p, 1, st->out.len, stdout) != st->out.len) return -1;
    bt_buf_reset(&st->out);
    return 0;
}

static void out_line_done(decode_state_t *st) {
    bt_buf_putc(&st->out, '\n');
    if (st->out.len >= DECODE_FLUSH_AT) out_flush(st);
}

static int emit(decode_state_t *st, const bt_change_t *c) {
    unsigned n = bt_format_count(st->fmt, c);
    for (unsigned i = 0; i < n; i++) {
        bool null_value = false;
        if (bt_format_encode_append(st->fmt, c, i, &st->key, &st->out, &null_value, st->err, sizeof st->err) < 0)
            return -1;
        if (null_value) bt_buf_append(&st->out, "null", 4);
        out_line_done(st);
    }
    return 0;
}

static int64_t ts_ms(const decode_state_t *st, const bt_event_t *ev) {
    return st->commit_ts_us ? st->commit_ts_us / 1000 : (int64_t)ev->timestamp * 1000;
}

/* A transaction starts at GTID or BEGIN; a change seen outside one (a statement logged without
 * BEGIN, rows of a non-transactional engine) gets an implicit one of its own. */
static void txn_open(decode_state_t *st, bool implicit) {
    if (st->in_txn && !(st->implicit && !implicit)) return;
    st->in_txn = true;
    st->implicit = implicit;
    st->txn_seq++;
}

static void txn_close(decode_state_t *st) {
    st->in_txn = false;
    st->implicit = false;
    st->implicit_rows = false;
    st->gtid[0] = 0;
    st->commit_ts_us = 0;
    bt_buf_reset(&st->rows_query);
}

static void fill_coords(decode_state_t *st, const bt_event_t *ev, bt_change_t *c) {
    c->file = st->file;
    c->pos = ev->pos;
    c->gtid = st->gtid;
    c->server_id = ev->server_id;
    c->ts_ms = ts_ms(st, ev);
    c->txn_seq = st->txn_seq;
    c->seq = ++st->seq;
}

/* {"op":"statement",...}: DML logged as SQL text (binlog_format=STATEMENT or MIXED). */
static void emit_statement(decode_state_t *st, const bt_event_t *ev) {
    bt_jw_t w;
    bt_buf_reset(&st->line);
    bt_jw_init(&w, &st->line);
    bt_jw_obj_begin(&w);
    bt_jw_key(&w, "op");
    bt_jw_str(&w, "statement");
    bt_jw_key(&w, "db");
    bt_jw_strn(&w, ev->u.query.db, ev->u.query.db_len);
    bt_jw_key(&w, "sql");
    bt_jw_strn(&w, ev->u.query.sql, ev->u.query.sql_len);
    bt_jw_key(&w, "file");
    bt_jw_str(&w, st->file);
    bt_jw_key(&w, "pos");
    bt_jw_uint(&w, ev->pos);
    bt_jw_key(&w, "gtid");
    if (st->gtid[0]) bt_jw_str(&w, st->gtid);
    else bt_jw_null(&w);
    bt_jw_key(&w, "server_id");
    bt_jw_uint(&w, ev->server_id);
    bt_jw_key(&w, "ts_ms");
    bt_jw_int(&w, ts_ms(st, ev));
    bt_jw_key(&w, "txn");
    bt_jw_uint(&w, st->txn_seq);
    bt_jw_obj_end(&w);
    st->seq++;
    bt_buf_append(&st->out, st->line.p, st->line.len);
    out_line_done(st);
}

static int handle_event(decode_state_t *st, bt_event_t *ev) {
    bt_change_t c;
    switch (ev->kind) {
    case BT_EV_GTID:
        txn_close(st);
        snprintf(st->gtid, sizeof st->gtid, "%s", ev->u.gtid.text);
        st->commit_ts_us = ev->u.gtid.commit_ts_us;
        txn_open(st, false);
        break;
    case BT_EV_BEGIN:
        if (st->implicit) txn_close(st);
        if (!st->in_txn) txn_open(st, false);
        else st->implicit = false; /* BEGIN right after a GTID */
        break;
    case BT_EV_COMMIT:
    case BT_EV_ROLLBACK:
        txn_close(st);
        break;
    case BT_EV_ROWS_QUERY:
        bt_buf_reset(&st->rows_query);
        bt_buf_append(&st->rows_query, ev->u.query.sql, ev->u.query.sql_len);
        break;
    case BT_EV_DDL:
        if (st->implicit) txn_close(st);
        txn_open(st, true);
        memset(&c, 0, sizeof c);
        c.is_ddl = true;
        c.db = ev->u.query.db;
        c.sql = ev->u.query.sql;
        c.sql_len = ev->u.query.sql_len;
        fill_coords(st, ev, &c);
        if (emit(st, &c) < 0) return -1;
        txn_close(st); /* DDL commits implicitly */
        break;
    case BT_EV_DML_STATEMENT: {
        bool standalone = !st->in_txn || st->implicit;
        if (standalone) {
            txn_close(st);
            txn_open(st, true);
        }
        emit_statement(st, ev);
        if (standalone) txn_close(st);
        break;
    }
    case BT_EV_TABLE_MAP:
        /* Outside BEGIN/COMMIT (MyISAM and the like before 5.1.? wrote no BEGIN) every
         * statement is its own transaction, and each statement's rows follow its TABLE_MAPs. */
        if (st->implicit && st->implicit_rows) txn_close(st);
        break;
    case BT_EV_ROWS: {
        txn_open(st, true);
        if (st->implicit) st->implicit_rows = true;
        const bt_row_t *before, *after;
        int r;
        while ((r = bt_rows_next(st->dec, ev, &before, &after, st->err, sizeof st->err)) == 1) {
            bt_rows_change(&c, &st->rows, st->file, ev, before, after);
            if (st->rows_query.len) {
                c.sql = st->rows_query.p;
                c.sql_len = st->rows_query.len;
            }
            fill_coords(st, ev, &c);
            if (emit(st, &c) < 0) return -1;
        }
        if (r < 0) return -1;
        break;
    }
    default:
        break;
    }
    return 0;
}

/* The message for an error from the event reader: zlib's own words for damaged gzip data. */
static void read_failed(const decode_state_t *st, gzFile gz, uint64_t pos, long why, uint32_t size) {
    if (why == BT_EVENT_BLOCKS_NO_MEMORY) {
        fprintf(stderr, "bintail decode: %s:%" PRIu64 ": out of memory for a %u-byte event\n", st->file, pos, size);
        return;
    }
    int zerr = Z_OK;
    const char *msg = gzerror(gz, &zerr);
    if (zerr == Z_ERRNO || !msg || !*msg) msg = strerror(errno ? errno : EIO);
    fprintf(stderr, "bintail decode: %s:%" PRIu64 ": cannot read the file: %s\n", st->file, pos, msg);
}

static const char *base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Decodes one file. first/last: whether --start / --stop apply. Returns 0, 1 (runtime error). */
static int decode_file(decode_state_t *st, const char *path, bool first, uint64_t start, bool last, uint64_t stop,
                       bool *usage_error) {
    gzFile gz = gzopen(path, "rb");
    if (!gz) {
        fprintf(stderr, "bintail decode: %s: %s\n", path, strerror(errno ? errno : EIO));
        return 1;
    }
    st->file = base_name(path);
    bt_decoder_set_file(st->dec, st->file);
    int rc = 1;
    bt_event_blocks_t eb;
    bt_event_blocks_init(&eb, gz);
    const uint8_t *magic;
    long n = bt_event_blocks_take(&eb, 4, &magic);
    if (n < 0) {
        read_failed(st, gz, 0, n, 4);
        goto done;
    }
    if (n != 4 || memcmp(magic, "\xfe" "bin", 4) != 0) {
        if (n == 4 && memcmp(magic, "\xfd" "bin", 4) == 0) {
            /* MySQL 8.0.14+ binlog_encryption=ON: a 512-byte header (version 1, then the keyring
             * key id as type 1 | length | text), then encrypted events. */
            const uint8_t *h;
            long hn = bt_event_blocks_peek(&eb, 64, &h);
            char key[64] = "";
            if (hn >= 3 && h[0] == 1 && h[1] == 1 && h[2] < sizeof key && (long)(3 + h[2]) <= hn)
                snprintf(key, sizeof key, "%.*s", (int)h[2], (const char *)h + 3);
            fprintf(stderr,
                    "bintail decode: %s:0: encrypted binlog not supported: MySQL binlog_encryption=ON%s%s%s; read the "
                    "events from the server over replication instead\n",
                    st->file, key[0] ? " (keyring key " : "", key, key[0] ? ")" : "");
        } else {
            fprintf(stderr, "bintail decode: %s:0: not a binlog file (no \\xfebin magic)\n", st->file);
        }
        goto done;
    }
    uint64_t pos = 4;
    bool fde_seen = false;
    for (;;) {
        if (last && stop && pos >= stop) break;
        const uint8_t *buf;
        uint32_t size = 0;
        char ferr[512];
        n = bt_event_blocks_event(&eb, st->file, pos, &buf, &size, ferr, sizeof ferr);
        if (n == 0) break; /* a clean end */
        if (n == BT_EVENT_BLOCKS_TORN || n == BT_EVENT_BLOCKS_BAD) {
            fprintf(stderr, "bintail decode: %s\n", ferr);
            goto done;
        }
        if (n < 0) {
            read_failed(st, gz, pos, n, size ? size : 19);
            goto done;
        }
        uint8_t type = bt_event_type(buf);
        if (bt_decoder_feed(st->dec, buf, size, pos, st->err, sizeof st->err) < 0) {
            fprintf(stderr, "bintail decode: %s\n", st->err);
            goto done;
        }
        bt_event_t ev;
        int r;
        while ((r = bt_decoder_next(st->dec, &ev, st->err, sizeof st->err)) == 1) {
            if (handle_event(st, &ev) < 0) {
                fprintf(stderr, "bintail decode: %s\n", st->err);
                goto done;
            }
        }
        if (r < 0) {
            fprintf(stderr, "bintail decode: %s\n", st->err);
            goto done;
        }
        pos += size;
        if (!fde_seen && type == BT_FORMAT_DESCRIPTION_EVENT) {
            fde_seen = true;
            if (first && start > 4) {
                if (start < pos) {
                    fprintf(stderr, "bintail decode: --start %" PRIu64 " is inside the FORMAT_DESCRIPTION event of %s "
                                    "(it ends at %" PRIu64 ")\n", start, st->file, pos);
                    *usage_error = true;
                    goto done;
                }
                if (gzseek(gz, (z_off_t)start, SEEK_SET) < 0) {
                    fprintf(stderr, "bintail decode: --start %" PRIu64 ": cannot seek in %s\n", start, st->file);
                    *usage_error = true;
                    goto done;
                }
                bt_event_blocks_reset(&eb);
                pos = start;
            }
        }
    }
    if (ferror(stdout)) {
        fprintf(stderr, "bintail decode: writing to stdout failed: %s\n", strerror(errno));
        goto done;
    }
    rc = 0;
done:
    bt_event_blocks_free(&eb);
    gzclose(gz);
    return rc;
}

/* The flags: the decode rows of the flags table (options.h), then the files. Returns 0, 1 when
 * --help was printed, or 2. */
static int decode_args(bt_config_t *cfg, int argc, char **argv, int *files, bt_format_kind_t *kind) {
    char err[1024];
    int rc = bt_config_parse(cfg, BT_CMD_DECODE, argc, argv, 1, files, err, sizeof err);
    if (rc != 0) {
        if (rc < 0) fprintf(stderr, "bintail decode: %s\n", err);
        return rc < 0 ? 2 : 1;
    }
    uint64_t start = (uint64_t)cfg->decode_start, stop = (uint64_t)cfg->decode_stop;
    if (*files >= argc) {
        fprintf(stderr, "bintail decode: no binlog file given (usage: bintail decode [FLAGS] FILE...; "
                        "see bintail decode --help)\n");
        return 2;
    }
    if (start && start < 4) {
        fprintf(stderr, "bintail decode: --start %" PRIu64 " is inside the file header (events begin at 4)\n", start);
        return 2;
    }
    if (start && stop && argc - *files == 1 && stop < start) {
        fprintf(stderr, "bintail decode: --stop %" PRIu64 " is before --start %" PRIu64 "\n", stop, start);
        return 2;
    }
    /* the table took any of the names; the formats' parser maps it */
    if (bt_format_parse(cfg->format ? cfg->format : "json", kind, err, sizeof err) < 0) {
        fprintf(stderr, "bintail decode: --format: %s\n", err);
        return 2;
    }
    return 0;
}

int bt_cmd_decode(int argc, char **argv) {
    bt_config_t cfg;
    int i;
    bt_format_kind_t kind;
    bt_config_defaults(&cfg);
    int arc = decode_args(&cfg, argc, argv, &i, &kind);
    uint64_t start = (uint64_t)cfg.decode_start, stop = (uint64_t)cfg.decode_stop;
    bool no_verify = cfg.no_checksum_verify;
    bt_config_free(&cfg);
    if (arc) return arc == 1 ? 0 : 2;

    char err[512];
    decode_state_t *st = bt_xcalloc(1, sizeof *st);
    bt_decoder_opts_t opts = {.skip_checksum = no_verify};
    bt_format_opts_t fopts = {.tombstones = true};
    st->dec = bt_decoder_new(&opts);
    st->fmt = bt_format_new(kind, &fopts, err, sizeof err);
    bt_buf_init(&st->key, 0);
    bt_buf_init(&st->out, 0);
    bt_buf_init(&st->line, 0);
    bt_buf_init(&st->rows_query, 0);
    int rc = 1;
    if (!st->dec || !st->fmt) {
        fprintf(stderr, "bintail decode: %s\n", st->fmt ? "out of memory" : err);
        goto out;
    }
    for (int f = i; f < argc; f++) {
        bool usage_error = false;
        int r = decode_file(st, argv[f], f == i, start, f == argc - 1, stop, &usage_error);
        if (r) {
            rc = usage_error ? 2 : 1;
            goto out;
        }
    }
    rc = 0;
out:
    if ((out_flush(st) != 0 || fflush(stdout) != 0) && rc == 0) {
        fprintf(stderr, "bintail decode: writing to stdout failed: %s\n", strerror(errno));
        rc = 1;
    }
    bt_format_free(st->fmt);
    bt_decoder_free(st->dec);
    bt_buf_free(&st->key);
    bt_buf_free(&st->out);
    bt_buf_free(&st->line);
    bt_buf_free(&st->rows_query);
    free(st);
    return rc;
}
