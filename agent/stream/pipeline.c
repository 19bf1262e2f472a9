/* pipeline.c: the reader loop (see pipeline.h). */
#include "agent/stream/pipeline.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/binlog/binlog.h"
#include "alerts/alerts.h"
#include "agent/format/format.h"
#include "agent/json/jsonw.h"
#include "agent/stream/route.h"
#include "agent/stream/rows_change.h"
#include "agent/stream/schema.h"
#include "agent/sink/sink.h"
#include "agent/util/log.h"
#include "agent/stream/xa_spill.h"
#include "partitioner/partitioner.h"

#define MAX_DOMAINS 32
/* Returned through the producing path when a stop request cut a wait short (see wait_serving). */
#define BT_PIPE_STOPPED (-2)

typedef struct gtid_domain {
    uint32_t domain, server;
    uint64_t seq;
} gtid_domain_t;

struct bt_pipeline {
    const bt_config_t *cfg;
    bt_source_t *src;
    bt_decoder_t *dec;
    bt_format_t *fmt;
    bt_router_t *router;
    bt_sink_t *sink;
    bt_partition_spec_t pspec;
    bt_throttle_t *thr;
    volatile sig_atomic_t *stop;
    bt_alerts_t *alerts;
    bt_schema_t *schema;      /* names for MINIMAL-metadata tables */
    bool source_failed;
    bt_tracker_t tracker;
    bt_pipeline_stats_t stats;
    bt_buf_t key, val, hash;
    uint64_t rand_state;

    /* the transaction being read */
    bool in_txn;
    bool txn_body;            /* its BEGIN / XA START was read */
    bool txn_until_end;       /* it ends at XID/COMMIT only, even after a DDL (CREATE ... SELECT) */
    uint64_t txn;             /* its tracker slot; 0 until its first message */
    uint64_t txn_count;       /* transactions begun (the formats' transaction number) */
    char gtid[160];
    int64_t txn_ts_ms;
    uint64_t change_seq;
    bt_row_numbering_t rows;  /* row numbers across a TRANSACTION_PAYLOAD's inner events */

    /* where we are */
    char file[256];
    uint64_t pos;
    uint32_t file_server_id, file_created;
    bool file_identity_known;
    uint32_t route_server_id; /* ${server_id}: the id of the server bintail reads */
    char passed_file[256];    /* file of the newest position handed to the tracker */
    const bt_raw_event_t *raw; /* the event being decoded */
    uint8_t fde_raw[4096];    /* the current file's FORMAT_DESCRIPTION, for XA records */
    size_t fde_len;
    gtid_domain_t domains[MAX_DOMAINS]; /* MariaDB: last GTID per domain */
    unsigned ndomains;
    char last_gtid_text[512];
    pthread_mutex_t pos_lock;

    char fatal[1024];         /* set from a delivery report: stop with this error */
    bool needs_operator;      /* the error is one a restart cannot cure */
    bool schema_failed;       /* a schema lookup failed (the decoder's error is not the event's) */
    bool stopping;            /* a stop was requested inside a transaction: finishing it */

    /* XA: a prepared group's events are recorded, and sent at its XA COMMIT (xa_spill.h) */
    bt_xa_writer_t *xa;       /* recording the group being read */
    bt_decoder_t *xa_dec;     /* decodes records at XA COMMIT */
    char xa_dir[PATH_MAX];    /* the state dir, or a private temporary one */
    bool xa_tmpdir;
    struct xa_done {          /* committed records, removed once the checkpoint passes the commit */
        char path[PATH_MAX];
        char file[256];
        uint64_t pos;
    } *xa_done;
    size_t nxa_done;
    /* --oversize drop-columns: copies of a change's row images with columns nulled. They live
     * here, not on a stack frame, because every later message of the same change (a
     * key-changing update, a delete's tombstone) is encoded from them too. */
    bt_value_t *scratch_values; /* 2 x 4096 values, allocated on first use */
    bt_row_t scratch_rows[2];
    int64_t last_ckpt_ms;
    int64_t last_housekeeping_ms;
    uint64_t ckpt_written_changes;
};

int64_t bt_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_ack(void *ctx, void *opaque, bool ok, const char *errmsg, bool fatal) {
    bt_pipeline_t *p = ctx;
    uint64_t txn = (uint64_t)(uintptr_t)opaque;
    bt_tracker_ack(&p->tracker, txn, ok);
    if (ok) {
        atomic_fetch_add(&p->stats.acked, 1);
        return;
    }
    if (fatal && !p->fatal[0]) snprintf(p->fatal, sizeof p->fatal, "%s", errmsg ? errmsg : "delivery failed");
}

bt_pipeline_stats_t *bt_pipeline_stats(bt_pipeline_t *p) { return &p->stats; }
bool bt_pipeline_source_failed(const bt_pipeline_t *p) { return p->source_failed; }
bool bt_pipeline_needs_operator(const bt_pipeline_t *p) { return p->needs_operator; }

/* Names for MINIMAL-metadata tables. A failed lookup (the server unreachable) is one a restart
 * can cure, unlike the undecodable events the decoder otherwise fails on. */
static int schema_lookup(void *ctx, bt_table_t *t, char *err, size_t errlen) {
    bt_pipeline_t *p = ctx;
    int rc = bt_schema_lookup(p->schema, t, err, errlen);
    if (rc != 0) p->schema_failed = true;
    return rc;
}

void bt_pipeline_position(bt_pipeline_t *p, char *file, size_t filelen, uint64_t *pos, char *gtid, size_t gtidlen) {
    pthread_mutex_lock(&p->pos_lock);
    snprintf(file, filelen, "%s", p->file);
    *pos = p->pos;
    snprintf(gtid, gtidlen, "%s", p->last_gtid_text);
    pthread_mutex_unlock(&p->pos_lock);
}

/* ---------------------------------------------------------------- setup */

bt_pipeline_t *bt_pipeline_new(const bt_pipeline_init_t *in, char *err, size_t errlen) {
    const bt_config_t *cfg = in->cfg;
    bt_pipeline_t *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->cfg = cfg;
    p->src = in->source;
    p->thr = in->throttle;
    p->stop = in->stop;
    p->alerts = in->alerts;
    p->rand_state = (uint64_t)bt_now_ms();
    pthread_mutex_init(&p->pos_lock, NULL);
    /* Transactions in flight are bounded like the queue's messages (sink_kafka.c): one per 512
     * bytes of --queue-max-bytes, at least 1000. */
    int64_t max_txns = cfg->queue_max_bytes / 512;
    bt_tracker_init(&p->tracker, (size_t)(max_txns > 1000 ? max_txns : 1000));
    bt_buf_init(&p->key, 0);
    bt_buf_init(&p->val, 0);
    bt_buf_init(&p->hash, 0);
    if (in->resume) {
        p->tracker.safe = *in->resume;
        p->tracker.has_safe = true;
        snprintf(p->last_gtid_text, sizeof p->last_gtid_text, "%s", in->resume->gtid);
        snprintf(p->passed_file, sizeof p->passed_file, "%s", in->resume->file);
    }
    if (cfg->state_dir) snprintf(p->xa_dir, sizeof p->xa_dir, "%s", cfg->state_dir);

    p->schema = bt_schema_new(cfg->mysql_url, cfg->mysql_password_file);
    bt_decoder_opts_t dopts = {.schema_cb = schema_lookup, .schema_ctx = p};
    p->dec = bt_decoder_new(&dopts);
    if (!p->schema || !p->dec) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    const char *fmt_name = cfg->format ? cfg->format
                                       : (cfg->kafka && (!cfg->sink || !strcmp(cfg->sink, "kafka"))) ? "debezium"
                                                                                                     : "json";
    bt_format_kind_t kind;
    if (bt_format_parse(fmt_name, &kind, err, errlen) != 0) goto fail;
    bt_format_opts_t fo = {.tombstones = cfg->tombstones, .server_name = cfg->name, .connector = "mysql"};
    if (!(p->fmt = bt_format_new(kind, &fo, err, errlen))) goto fail;
    bt_router_opts_t ro = {
        .topic_template = cfg->topic,
        .routes = (const char *const *)cfg->routes.v,
        .nroutes = cfg->routes.n,
        .include = cfg->include,
        .exclude = cfg->exclude,
        .ddl_topic = cfg->ddl_topic,
    };
    if (!(p->router = bt_router_new(&ro, err, errlen))) goto fail;
    if (bt_partition_spec_parse(cfg->partition_by, &p->pspec, err, errlen) != 0) {
        char inner[512];
        snprintf(inner, sizeof inner, "%s", err);
        snprintf(err, errlen, "--partition-by: %s", inner);
        goto fail;
    }
    if (!(p->sink = bt_sink_from_config(cfg, err, errlen))) goto fail;
    p->sink->ack = on_ack;
    p->sink->ack_ctx = p;
    return p;
fail:
    bt_pipeline_free(p);
    return NULL;
}

void bt_pipeline_free(bt_pipeline_t *p) {
    if (!p) return;
    if (p->sink) p->sink->ops->free(p->sink);
    bt_source_free(p->src);
    if (p->dec) bt_decoder_free(p->dec);
    bt_schema_free(p->schema);
    if (p->fmt) bt_format_free(p->fmt);
    bt_router_free(p->router);
    bt_partition_spec_free(&p->pspec);
    bt_tracker_free(&p->tracker);
    bt_buf_free(&p->key);
    bt_buf_free(&p->val);
    bt_buf_free(&p->hash);
    free(p->scratch_values);
    bt_xa_spill_abort(p->xa);
    if (p->xa_dec) bt_decoder_free(p->xa_dec);
    if (p->xa_tmpdir) { /* records of a run without a state dir do not outlive it */
        DIR *d = opendir(p->xa_dir);
        struct dirent *de;
        while (d && (de = readdir(d))) {
            char path[PATH_MAX + 256];
            snprintf(path, sizeof path, "%s/%s", p->xa_dir, de->d_name);
            if (!strncmp(de->d_name, "xa-", 3)) unlink(path);
        }
        if (d) closedir(d);
        rmdir(p->xa_dir);
    }
    free(p->xa_done);
    pthread_mutex_destroy(&p->pos_lock);
    free(p);
}

/* ---------------------------------------------------------------- transactions */

static void txn_begin(bt_pipeline_t *p, const char *gtid, int64_t ts_ms) {
    p->in_txn = true;
    p->txn_body = false;
    p->txn_until_end = false;
    p->txn = 0; /* a slot is taken with the first message: transactions that send nothing take none */
    p->txn_count++;
    if (gtid != p->gtid) snprintf(p->gtid, sizeof p->gtid, "%s", gtid ? gtid : "");
    p->txn_ts_ms = ts_ms;
}

/* The position "file:pos, after everything read so far" for the tracker. */
static void here(bt_pipeline_t *p, uint64_t pos, bt_position_t *out) {
    memset(out, 0, sizeof *out);
    snprintf(out->file, sizeof out->file, "%s", p->file);
    out->pos = pos;
    pthread_mutex_lock(&p->pos_lock);
    snprintf(out->gtid, sizeof out->gtid, "%s", p->last_gtid_text);
    pthread_mutex_unlock(&p->pos_lock);
    out->server_id = p->file_server_id;
    out->file_created = p->file_created;
    out->commit_ts_ms = p->txn_ts_ms ? p->txn_ts_ms : p->tracker.safe.commit_ts_ms;
}

/* Hand the end of the current transaction (or a position that needs no delivery) to the
 * tracker: with a slot it waits for its messages, without one it is safe after the others. */
static int track_end(bt_pipeline_t *p, const bt_position_t *end) {
    int rc = p->txn ? bt_tracker_end(&p->tracker, p->txn, end) : bt_tracker_pass(&p->tracker, end);
    snprintf(p->passed_file, sizeof p->passed_file, "%s", end->file);
    p->txn = 0;
    return rc;
}

/* The MariaDB GTID position after this transaction: the last GTID of every domain seen. */
static void note_gtid(bt_pipeline_t *p, const bt_event_t *ev) {
    if (ev->u.gtid.anonymous || !ev->u.gtid.text[0]) return;
    if (!bt_decoder_fde(p->dec)->mariadb) {
        pthread_mutex_lock(&p->pos_lock);
        snprintf(p->last_gtid_text, sizeof p->last_gtid_text, "%s", ev->u.gtid.text);
        pthread_mutex_unlock(&p->pos_lock);
        return;
    }
    unsigned i;
    for (i = 0; i < p->ndomains; i++)
        if (p->domains[i].domain == ev->u.gtid.domain) break;
    if (i == p->ndomains) {
        if (p->ndomains == MAX_DOMAINS) return;
        p->ndomains++;
    }
    p->domains[i].domain = ev->u.gtid.domain;
    p->domains[i].server = ev->server_id;
    p->domains[i].seq = ev->u.gtid.seq;
    char text[512];
    size_t n = 0;
    for (unsigned j = 0; j < p->ndomains && n < sizeof text; j++)
        n += (size_t)snprintf(text + n, sizeof text - n, "%s%u-%u-%" PRIu64, j ? "," : "", p->domains[j].domain,
                              p->domains[j].server, p->domains[j].seq);
    pthread_mutex_lock(&p->pos_lock);
    snprintf(p->last_gtid_text, sizeof p->last_gtid_text, "%s", text);
    pthread_mutex_unlock(&p->pos_lock);
}

static int txn_end(bt_pipeline_t *p, const bt_event_t *ev, char *err, size_t errlen) {
    if (!p->in_txn) return 0;
    bt_position_t end;
    here(p, ev->end_pos, &end);
    end.commit_ts_ms = p->txn_ts_ms;
    p->in_txn = false;
    atomic_fetch_add(&p->stats.transactions, 1);
    if (track_end(p, &end) != 0) {
        snprintf(err, errlen, "out of memory for the delivery tracker");
        return -1;
    }
    return 0;
}

/* The open transaction never ended: a new one, or a new FORMAT_DESCRIPTION, came first (the
 * server stopped while writing it; a replica drops such a group, and so do we). Its slot is
 * released with the position where the new event starts, so the checkpoint moves on. */
static int txn_abandon(bt_pipeline_t *p, const bt_event_t *ev, const char *what, char *err, size_t errlen) {
    if (!p->in_txn) return 0;
    bt_warn("%s:%" PRIu64 ": a %s follows a transaction that never ended (the server stopped while writing it): "
            "that transaction never committed; dropped%s", p->file, ev->pos, what,
            p->txn ? " (some of its rows had already been sent)" : "");
    if (p->xa) {
        bt_xa_spill_abort(p->xa);
        p->xa = NULL;
    }
    bt_position_t at;
    here(p, ev->pos, &at);
    p->in_txn = false;
    if (track_end(p, &at) != 0) {
        snprintf(err, errlen, "out of memory for the delivery tracker");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- producing */

static void update_lag(bt_pipeline_t *p, bool idle);

/* One slice of a wait that must not block the reader: deliveries are served (the checkpoint
 * and lag move on) for up to 100 ms. false when a stop was requested: every wait of the
 * reader loop returns at once then. */
static bool wait_serving(bt_pipeline_t *p, int ms) {
    if (*p->stop) return false;
    p->sink->ops->poll(p->sink, ms > 100 ? 100 : ms);
    update_lag(p, false);
    return !*p->stop;
}

/* Offer a message until the sink takes it, serving delivery reports while its queue is full.
 * 0 taken, -1 error, BT_PIPE_STOPPED a stop was requested while the queue was full. */
static int offer(bt_pipeline_t *p, const bt_msg_t *m, char *err, size_t errlen) {
    for (;;) {
        int rc = p->sink->ops->produce(p->sink, m, err, errlen);
        if (rc <= 0) return rc;
        if (!wait_serving(p, 100)) return BT_PIPE_STOPPED; /* queue full: reading pauses here */
        if (p->fatal[0]) {
            snprintf(err, errlen, "%s", p->fatal);
            p->needs_operator = true;
            return -1;
        }
    }
}

/* The partition count of a topic, waiting (serving deliveries, raising sink_down) while the
 * cluster cannot tell: >0, -1 error, BT_PIPE_STOPPED. */
static int topic_partitions(bt_pipeline_t *p, const char *topic, bool keyed, char *err, size_t errlen) {
    for (;;) {
        int count = p->sink->ops->partitions(p->sink, topic, keyed, err, errlen);
        if (count != 0) {
            if (count < 0) p->needs_operator = true; /* the cluster answered: the topic cannot be had */
            return count;
        }
        if (!wait_serving(p, 100)) return BT_PIPE_STOPPED;
    }
}

/* The tracker slot of the current transaction, taken with its first message; while as many
 * transactions as the bound allows wait for acknowledgements, reading pauses. */
static int txn_slot(bt_pipeline_t *p, char *err, size_t errlen) {
    while (!p->txn) {
        if (!bt_tracker_full(&p->tracker)) {
            if (!(p->txn = bt_tracker_open(&p->tracker))) {
                snprintf(err, errlen, "out of memory for the delivery tracker");
                return -1;
            }
            break;
        }
        if (!wait_serving(p, 100)) return BT_PIPE_STOPPED;
    }
    return 0;
}

/* --max-rps / --max-mbps: pause reading (serving deliveries) until the throttle allows more.
 * Limits changed meanwhile (bintail throttle) apply to the wait at once. A stop ends the wait
 * and the throttling: the rest of the transaction is read at full speed, so that the stop
 * lands on a transaction boundary and nothing is sent twice after the restart. */
static void note_stop(bt_pipeline_t *p) {
    if (p->stopping) return;
    p->stopping = true; /* finish the transaction, as long as that needs no waiting */
    bt_info("stop requested inside a transaction at %s:%" PRIu64 ": finishing it first", p->file, p->pos);
}

static bool serve_while_throttled(void *ctx) {
    bt_pipeline_t *p = ctx;
    if (wait_serving(p, 0)) return true;
    note_stop(p);
    return false;
}

static int throttle_stream(bt_pipeline_t *p, double rows, double bytes) {
    if (!p->thr || p->stopping) return 0;
    if (bt_throttle_take(p->thr, BT_THROTTLE_STREAM, rows, bytes, 0, bt_throttle_now_ns()) <= 0) return 0;
    bt_throttle_wait(p->thr, BT_THROTTLE_STREAM, serve_while_throttled, p);
    return 0;
}

/* The bytes the partitioner hashes for this change. */
static void partition_input(bt_pipeline_t *p, const bt_change_t *c, const bt_buf_t *key) {
    bt_buf_reset(&p->hash);
    switch (p->pspec.strategy) {
    case BT_PARTITION_PK:
        if (key->len) {
            bt_buf_append(&p->hash, key->p, key->len);
            return;
        }
        /* no key (a table without a primary key): per-table order */
        /* fall through */
    case BT_PARTITION_TABLE:
        bt_buf_puts(&p->hash, c->db ? c->db : "");
        bt_buf_putc(&p->hash, '.');
        bt_buf_puts(&p->hash, c->table_name ? c->table_name : "");
        return;
    case BT_PARTITION_DATABASE:
        bt_buf_puts(&p->hash, c->db ? c->db : "");
        return;
    case BT_PARTITION_COLUMN: {
        const bt_row_t *row = c->after ? c->after : c->before;
        bt_jw_t w;
        bt_jw_init(&w, &p->hash);
        bt_jw_arr_begin(&w);
        for (size_t i = 0; i < p->pspec.ncolumns && c->table && row; i++) {
            for (uint32_t j = 0; j < c->table->ncols; j++) {
                if (!strcmp(c->table->cols[j].name, p->pspec.columns[i]) && row->v[j].present) {
                    bt_value_json(&w, &c->table->cols[j], &row->v[j]);
                    break;
                }
            }
        }
        bt_jw_arr_end(&w);
        return;
    }
    default:
        return;
    }
}

static void add_header(bt_msg_t *m, const char *name, const char *val) {
    if (m->nheaders < BT_MSG_MAX_HEADERS) {
        m->hname[m->nheaders] = name;
        m->hval[m->nheaders] = val;
        m->nheaders++;
    }
}

static const char *op_name(const bt_change_t *c) {
    if (c->is_ddl) return "ddl";
    switch (c->op) {
    case BT_OP_INSERT: return "insert";
    case BT_OP_UPDATE: return "update";
    case BT_OP_DELETE: return "delete";
    default: return "read";
    }
}

/* Rough encoded size of a value, for choosing which columns --oversize drop-columns nulls. */
static size_t value_weight(const bt_value_t *v) {
    if (!v->present || v->kind == BT_VAL_NULL) return 0;
    return v->s ? v->len : 8;
}

/* --oversize drop-columns: copy the row images with the largest columns set to NULL, one
 * more column each round, until the message fits (or nothing is left to drop). The copies
 * stay in c (pointing at p->scratch_rows) for the change's later messages; the names of the
 * dropped columns accumulate in `dropped` (the bintail.dropped header of every later message). */
static int shrink_change(bt_pipeline_t *p, bt_change_t *c, unsigned idx, bool *null_value, char *dropped,
                         size_t droppedlen, char *err, size_t errlen) {
    const bt_table_t *t = c->table;
    if (!t || t->ncols > 4096) return 1;
    bt_value_t *vb = p->scratch_values, *va = p->scratch_values + 4096;
    bt_row_t *rb = &p->scratch_rows[0], *ra = &p->scratch_rows[1];
    if (c->before && c->before != rb) {
        memcpy(vb, c->before->v, t->ncols * sizeof *vb);
        *rb = (bt_row_t){t->ncols, vb};
        c->before = rb;
    }
    if (c->after && c->after != ra) {
        memcpy(va, c->after->v, t->ncols * sizeof *va);
        *ra = (bt_row_t){t->ncols, va};
        c->after = ra;
    }
    size_t n = strlen(dropped);
    for (;;) {
        uint32_t best = UINT32_MAX;
        size_t best_w = 0;
        for (uint32_t i = 0; i < t->ncols; i++) {
            if (t->cols[i].pk) continue; /* the key must stay: it identifies the row */
            size_t w = (c->before ? value_weight(&vb[i]) : 0) + (c->after ? value_weight(&va[i]) : 0);
            if (w > best_w) best_w = w, best = i;
        }
        if (best == UINT32_MAX) return 1; /* nothing left to drop */
        if (c->before && vb[best].present) vb[best].kind = BT_VAL_NULL, vb[best].s = NULL, vb[best].len = 0;
        if (c->after && va[best].present) va[best].kind = BT_VAL_NULL, va[best].s = NULL, va[best].len = 0;
        n += (size_t)snprintf(dropped + n, n < droppedlen ? droppedlen - n : 0, "%s%s", n ? "," : "",
                              t->cols[best].name);
        if (n >= droppedlen) n = droppedlen - 1;
        if (bt_format_encode(p->fmt, c, idx, &p->key, &p->val, null_value, err, errlen) != 0) return -1;
        size_t size = p->key.len + (*null_value ? 0 : p->val.len);
        if ((int64_t)size <= p->cfg->max_record_bytes) return 0;
    }
}

static void skip_warning(bt_pipeline_t *p, const bt_change_t *c, size_t size) {
    bt_warn("skipped a change of %s.%s (key %.*s) at %s:%" PRIu64 ": a %zu-byte message, over --max-record-bytes %"
            PRId64 " (--oversize skip)", c->db, c->table_name ? c->table_name : "",
            (int)(p->key.len > 200 ? 200 : p->key.len), p->key.p ? (const char *)p->key.p : "",
            c->file ? c->file : "snapshot", c->pos, size, p->cfg->max_record_bytes);
    atomic_fetch_add(&p->stats.skipped_oversize, 1);
}

/* A message over --max-record-bytes: 0 = go on with what is in key/val now (shrunk), 1 = skip
 * it, -1 = stop with err. */
static int handle_oversize(bt_pipeline_t *p, bt_change_t *c, unsigned idx, bool *null_value, size_t size,
                           char *dropped, size_t droppedlen, char *err, size_t errlen) {
    const char *policy = p->cfg->oversize;
    if (!strcmp(policy, "drop-columns") && c->table) {
        if (!p->scratch_values && !(p->scratch_values = malloc(2 * 4096 * sizeof(bt_value_t)))) {
            snprintf(err, errlen, "out of memory for --oversize drop-columns");
            return -1;
        }
        int rc = shrink_change(p, c, idx, null_value, dropped, droppedlen, err, errlen);
        if (rc <= 0) {
            if (rc == 0)
                bt_warn("%s.%s at %s:%" PRIu64 ": a %zu-byte message was over --max-record-bytes; sent with "
                        "columns %s set to null", c->db, c->table_name, c->file ? c->file : "snapshot", c->pos,
                        size, dropped);
            return rc;
        }
        /* even with every column but the key set to null it does not fit */
        snprintf(err, errlen, "a %zu-byte message for %s.%s (key %.*s) at %s:%" PRIu64 " is over --max-record-bytes "
                 "%" PRId64 " even with every column but the key set to null (--oversize drop-columns): raise the "
                 "limit (and the topic's max.message.bytes), or use --oversize skip", size, c->db,
                 c->table_name ? c->table_name : "", (int)(p->key.len > 200 ? 200 : p->key.len),
                 p->key.p ? (const char *)p->key.p : "", c->file ? c->file : "snapshot", c->pos,
                 p->cfg->max_record_bytes);
        return -1;
    }
    if (!strcmp(policy, "skip")) {
        skip_warning(p, c, size);
        return 1;
    }
    snprintf(err, errlen, "a %zu-byte message for %s.%s (key %.*s) at %s:%" PRIu64
                          " is over --max-record-bytes %" PRId64 ": raise the limit (and the topic's "
                          "max.message.bytes), or use --oversize skip or drop-columns",
             size, c->db, c->table_name ? c->table_name : "", (int)(p->key.len > 200 ? 200 : p->key.len),
             p->key.p ? (const char *)p->key.p : "", c->file ? c->file : "snapshot", c->pos, p->cfg->max_record_bytes);
    return -1;
}

/* --oversize skip drops a whole change, never a part of it (a delete without its tombstone, a
 * key-changing update's delete without its create): a change of several messages is checked
 * whole before any of them goes out. 1 = skip it, 0 = it fits, -1 = error. */
static int oversize_skips_change(bt_pipeline_t *p, const bt_change_t *c, unsigned n, char *err, size_t errlen) {
    if (n < 2 || strcmp(p->cfg->oversize, "skip") != 0) return 0;
    for (unsigned idx = 0; idx < n; idx++) {
        bool null_value = false;
        if (bt_format_encode(p->fmt, c, idx, &p->key, &p->val, &null_value, err, errlen) != 0) return -1;
        size_t size = p->key.len + (null_value ? 0 : p->val.len);
        if ((int64_t)size > p->cfg->max_record_bytes) {
            skip_warning(p, c, size);
            return 1;
        }
    }
    return 0;
}

/* Encode a change in the chosen format and hand its messages to the sink. */
static int emit(bt_pipeline_t *p, const bt_change_t *change, const char *topic, char *err, size_t errlen) {
    bt_change_t cc = *change, *c = &cc;
    unsigned n = bt_format_count(p->fmt, c);
    int skip = oversize_skips_change(p, c, n, err, errlen);
    if (skip < 0) return -1;
    if (skip) return 0;
    double bytes = 0;
    char pos_text[24] = "";
    if (p->cfg->kafka_headers) pos_text[bt_fmt_u64(pos_text, c->pos)] = 0; /* per change: no printf */
    char dropped[1024]; /* columns nulled by --oversize drop-columns, for all later messages too */
    dropped[0] = 0;     /* not `= ""`: that clears all 1024 bytes for every change */
    for (unsigned idx = 0; idx < n; idx++) {
        bool null_value = false;
        if (bt_format_encode(p->fmt, c, idx, &p->key, &p->val, &null_value, err, errlen) != 0) return -1;
        size_t size = p->key.len + (null_value ? 0 : p->val.len);
        if ((int64_t)size > p->cfg->max_record_bytes) {
            int rc = handle_oversize(p, c, idx, &null_value, size, dropped, sizeof dropped, err, errlen);
            if (rc < 0) {
                p->needs_operator = true; /* --oversize fail: the limit or the policy must change */
                return -1;
            }
            if (rc > 0) continue;
            size = p->key.len + (null_value ? 0 : p->val.len);
        }
        /* DDL counts as keyed: a CREATE TABLE usually comes first into its table's topic */
        bool keyed = !c->table || c->table->npk > 0;
        int count = topic_partitions(p, topic, keyed, err, errlen);
        if (count < 0) return count;
        partition_input(p, c, &p->key);
        int32_t part = bt_partition_choose(&p->pspec, p->hash.p, p->hash.len, c->txn_seq, count, &p->rand_state);
        bt_msg_t m = {
            .topic = topic,
            .partition = part,
            .key = p->key.p,
            .klen = p->key.len,
            .val = p->val.p,
            .vlen = p->val.len,
            .tombstone = null_value,
        };
        int rc = txn_slot(p, err, errlen);
        if (rc != 0) return rc;
        m.opaque = (void *)(uintptr_t)p->txn;
        if (p->cfg->kafka_headers) {
            add_header(&m, "bintail.op", op_name(c));
            if (c->file) {
                add_header(&m, "bintail.file", c->file);
                add_header(&m, "bintail.pos", pos_text);
            }
            if (c->gtid && c->gtid[0]) add_header(&m, "bintail.gtid", c->gtid);
        }
        if (dropped[0]) add_header(&m, "bintail.dropped", dropped); /* says that values are missing: always */
        /* counted before it is offered: stdout and file sinks report delivery inside produce().
         * A message a stop leaves unsent keeps its transaction (never ended then) unsafe. */
        bt_tracker_add_msg(&p->tracker, p->txn);
        if ((rc = offer(p, &m, err, errlen)) != 0) return rc;
        atomic_fetch_add(&p->stats.messages, 1);
        bytes += (double)size;
    }
    if (c->snapshot) return 0; /* snapshot rows are paced by the snapshot's own limits */
    return throttle_stream(p, c->is_ddl ? 0 : 1, bytes);
}

static void change_coords(bt_pipeline_t *p, const bt_event_t *ev, bt_change_t *c) {
    c->file = p->file;
    c->pos = ev->pos;
    c->gtid = p->gtid;
    c->server_id = ev->server_id;
    c->ts_ms = p->txn_ts_ms ? p->txn_ts_ms : (int64_t)ev->timestamp * 1000;
    c->now_ms = bt_now_ms();
    c->txn_seq = p->txn_count;
    c->seq = ++p->change_seq;
}

/* The rows of one rows event. file names the binlog file the event was read from (an XA
 * record's events keep theirs). 0, -1 error, BT_PIPE_STOPPED. */
static int send_rows(bt_pipeline_t *p, bt_decoder_t *dec, bt_event_t *ev, const char *file, char *err,
                     size_t errlen) {
    const bt_table_t *t = ev->u.rows.table;
    const char *topic = bt_router_topic(p->router, t->db, t->name, p->route_server_id);
    const bt_row_t *before, *after;
    int rc;
    while ((rc = bt_rows_next(dec, ev, &before, &after, err, errlen)) == 1) {
        atomic_fetch_add(&p->stats.rows, 1);
        if (!topic) continue; /* not captured: still decoded, so damage is never skipped unseen */
        bt_change_t c;
        bt_rows_change(&c, &p->rows, file, ev, before, after);
        change_coords(p, ev, &c);
        c.file = file;
        if ((rc = emit(p, &c, topic, err, errlen)) != 0) return rc;
    }
    if (rc < 0 && !p->schema_failed) p->needs_operator = true; /* an undecodable row */
    return rc < 0 ? -1 : 0;
}

/* ---------------------------------------------------------------- XA transactions */

/* Where XA records go: the state dir, or (no checkpoint, so nothing outlives the run) a
 * private temporary directory. */
static int xa_dir(bt_pipeline_t *p, char *err, size_t errlen) {
    if (p->xa_dir[0]) return 0;
    const char *tmp = getenv("TMPDIR");
    snprintf(p->xa_dir, sizeof p->xa_dir, "%s/bintail-xa-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(p->xa_dir)) {
        snprintf(err, errlen, "cannot make a directory for XA records in %s: %s (set TMPDIR, or give --state-dir)",
                 tmp && *tmp ? tmp : "/tmp", strerror(errno));
        p->xa_dir[0] = 0;
        return -1;
    }
    p->xa_tmpdir = true;
    return 0;
}

/* The prepared half of an XA transaction starts (MySQL: XA START; MariaDB: a GTID flagged
 * FL_PREPARED_XA): its events are recorded instead of sent. */
static int xa_start(bt_pipeline_t *p, const bt_event_t *ev, char *err, size_t errlen) {
    if (!p->fde_len) {
        snprintf(err, errlen, "%s:%" PRIu64 ": an XA transaction before any FORMAT_DESCRIPTION", p->file, ev->pos);
        return -1;
    }
    if (xa_dir(p, err, errlen) != 0) return -1;
    bt_xa_spill_abort(p->xa);
    p->xa = bt_xa_spill_begin(p->xa_dir, p->fde_raw, p->fde_len, err, errlen);
    return p->xa ? 0 : -1;
}

static int xa_record(bt_pipeline_t *p, const bt_event_t *ev, char *err, size_t errlen) {
    if (ev->in_payload) {
        snprintf(err, errlen, "%s:%" PRIu64 ": an XA transaction inside a compressed TRANSACTION_PAYLOAD is not "
                 "supported", p->file, ev->pos);
        p->needs_operator = true;
        return -1;
    }
    return bt_xa_spill_add(p->xa, p->file, p->raw->pos, p->raw->data, p->raw->len, err, errlen);
}

/* Send the rows of the recorded XA group xid now (its XA COMMIT is being read). */
static int xa_replay(bt_pipeline_t *p, const char *xid, size_t xl, const bt_event_t *at, char *err, size_t errlen) {
    bt_xa_reader_t *r;
    const uint8_t *fde, *data;
    size_t fdelen, len;
    const char *file;
    uint64_t pos;
    char path[PATH_MAX];
    int rc = p->xa_dir[0] && bt_xa_spill_find(p->xa_dir, xid, xl, p->file, at->pos, path, sizeof path)
                 ? bt_xa_replay_open(path, &r, &fde, &fdelen, err, errlen)
                 : 0;
    if (rc <= 0) {
        if (rc == 0)
            bt_warn("%s:%" PRIu64 ": XA COMMIT %.*s: its XA PREPARE lies before where bintail began reading (the "
                    "start position, or the snapshot's point when the transaction was prepared while the snapshot "
                    "was taken), so its rows are not known and are not sent; they are in the table: a new snapshot "
                    "of it (--reset-checkpoint) would include them", p->file, at->pos, (int)xl, xid);
        return rc;
    }
    if (!p->xa_dec) {
        bt_decoder_opts_t dopts = {.schema_cb = schema_lookup, .schema_ctx = p};
        if (!(p->xa_dec = bt_decoder_new(&dopts))) {
            bt_xa_replay_close(r);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    bt_event_t ev;
    rc = bt_decoder_feed(p->xa_dec, fde, fdelen, 4, err, errlen);
    if (rc == 0) { /* the FORMAT_DESCRIPTION: checksums, post-header lengths */
        while ((rc = bt_decoder_next(p->xa_dec, &ev, err, errlen)) == 1) {
        }
    }
    while (rc == 0 && (rc = bt_xa_replay_next(r, &data, &len, &file, &pos, err, errlen)) == 1) {
        bt_decoder_set_file(p->xa_dec, file);
        if ((rc = bt_decoder_feed(p->xa_dec, data, len, pos, err, errlen)) != 0) break;
        while ((rc = bt_decoder_next(p->xa_dec, &ev, err, errlen)) == 1)
            if (ev.kind == BT_EV_ROWS && (rc = send_rows(p, p->xa_dec, &ev, file, err, errlen)) != 0) break;
        if (rc != 0) break;
    }
    bt_xa_replay_close(r);
    if (rc == -1 && !p->needs_operator) p->needs_operator = true; /* a damaged record or event */
    if (rc != 0) return rc;
    /* The record is removed once the checkpoint has passed this commit (a crash before that
     * reads the XA COMMIT again, and needs the record again). */
    struct xa_done *nd = realloc(p->xa_done, (p->nxa_done + 1) * sizeof *nd);
    if (!nd) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    p->xa_done = nd;
    struct xa_done *d = &p->xa_done[p->nxa_done++];
    snprintf(d->path, sizeof d->path, "%s", path);
    snprintf(d->file, sizeof d->file, "%s", p->file);
    d->pos = at->end_pos;
    return 0;
}

/* A binlog file name's order: longer suffixes are later (.999999 < .1000000). */
static bool position_passed(const bt_position_t *ck, const char *file, uint64_t pos) {
    size_t a = strlen(ck->file), b = strlen(file);
    int c = a != b ? (a < b ? -1 : 1) : strcmp(ck->file, file);
    return c > 0 || (c == 0 && ck->pos >= pos);
}

static void xa_forget_committed(bt_pipeline_t *p) {
    size_t kept = 0;
    for (size_t i = 0; i < p->nxa_done; i++) {
        if (position_passed(&p->tracker.safe, p->xa_done[i].file, p->xa_done[i].pos)) unlink(p->xa_done[i].path);
        else p->xa_done[kept++] = p->xa_done[i];
    }
    p->nxa_done = kept;
}

/* The end of an XA group: XA_PREPARE (record kept; sent now only if it was a one-phase
 * commit), XA COMMIT (send the record), XA ROLLBACK (drop it). 1 = handled, 0 = not XA. */
static int xa_end(bt_pipeline_t *p, const bt_event_t *ev, char *err, size_t errlen) {
    size_t xl;
    const char *xid;
    if (ev->type == BT_XA_PREPARE_LOG_EVENT) {
        if (!p->xa) return 0;
        const char *id = ev->u.xa.xid;
        int rc = bt_xa_spill_seal(p->xa, id, strlen(id), p->file, ev->pos, err, errlen);
        p->xa = NULL;
        if (rc != 0) return -1;
        if (!ev->u.xa.one_phase) return 1;
        /* MySQL's XA COMMIT ... ONE PHASE is written as a prepare that is also the commit */
        rc = xa_replay(p, id, strlen(id), ev, err, errlen);
        return rc < 0 ? rc : 1;
    }
    if (ev->kind == BT_EV_COMMIT && ev->type != BT_XID_EVENT &&
        (xid = bt_xa_statement_xid(ev->u.query.sql, ev->u.query.sql_len, "COMMIT", &xl))) {
        int rc = xa_replay(p, xid, xl, ev, err, errlen);
        return rc < 0 ? rc : 1;
    }
    if (ev->kind == BT_EV_ROLLBACK && (xid = bt_xa_statement_xid(ev->u.query.sql, ev->u.query.sql_len, "ROLLBACK",
                                                                   &xl))) {
        char path[PATH_MAX];
        if (p->xa_dir[0] && bt_xa_spill_find(p->xa_dir, xid, xl, p->file, ev->pos, path, sizeof path))
            unlink(path); /* never committed: its rows are never sent */
        return 1;
    }
    return 0;
}

static int on_rows(bt_pipeline_t *p, bt_event_t *ev, char *err, size_t errlen) {
    if (!p->in_txn) txn_begin(p, "", (int64_t)ev->timestamp * 1000);
    if (p->xa) return xa_record(p, ev, err, errlen); /* sent at its XA COMMIT */
    return send_rows(p, p->dec, ev, p->file, err, errlen);
}

/* The table a DDL statement names, when it is a simple CREATE/ALTER/DROP/TRUNCATE/RENAME TABLE. */
static void ddl_table(const char *sql, size_t len, char *db, size_t dblen, char *table, size_t tlen) {
    char buf[512];
    size_t n = len < sizeof buf - 1 ? len : sizeof buf - 1;
    memcpy(buf, sql, n);
    buf[n] = 0;
    table[0] = 0;
    static const char *const kws[] = {"table if not exists ", "table if exists ", "table ", NULL};
    for (char *c = buf; *c; c++) *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
    char *hit = NULL;
    for (int i = 0; kws[i] && !hit; i++) {
        hit = strstr(buf, kws[i]);
        if (hit) hit += strlen(kws[i]);
    }
    if (!hit) return;
    /* take the identifier from the original text (case preserved) */
    const char *s = sql + (hit - buf);
    char ident[256];
    size_t k = 0;
    while (s < sql + len && (*s == ' ')) s++;
    while (s < sql + len && k + 1 < sizeof ident && *s != ' ' && *s != '(' && *s != ';' && *s != '\n' && *s != ',') {
        if (*s != '`') ident[k++] = *s;
        s++;
    }
    ident[k] = 0;
    char *dot = strchr(ident, '.');
    if (dot) {
        *dot = 0;
        snprintf(db, dblen, "%s", ident);
        snprintf(table, tlen, "%s", dot + 1);
    } else {
        snprintf(table, tlen, "%s", ident);
    }
}

static int on_ddl(bt_pipeline_t *p, bt_event_t *ev, char *err, size_t errlen) {
    if (!p->in_txn) txn_begin(p, p->gtid, (int64_t)ev->timestamp * 1000);
    char db[256], table[256];
    snprintf(db, sizeof db, "%.*s", (int)ev->u.query.db_len, ev->u.query.db ? ev->u.query.db : "");
    ddl_table(ev->u.query.sql, ev->u.query.sql_len, db, sizeof db, table, sizeof table);
    bt_schema_invalidate(p->schema, db, table);
    const char *topic = bt_router_ddl_topic(p->router, db, table[0] ? table : NULL, p->route_server_id);
    if (topic) {
        bt_change_t c = {0};
        c.is_ddl = true;
        c.db = db;
        c.table_name = table[0] ? table : NULL;
        c.sql = ev->u.query.sql;
        c.sql_len = ev->u.query.sql_len;
        change_coords(p, ev, &c);
        int rc = emit(p, &c, topic, err, errlen);
        if (rc != 0) return rc;
    }
    bt_info("DDL at %s:%" PRIu64 ": %.*s", p->file, ev->pos, (int)(ev->u.query.sql_len > 300 ? 300 : ev->u.query.sql_len),
            ev->u.query.sql);
    if (p->alerts && p->cfg->alert_ddl) {
        char msg[1200];
        snprintf(msg, sizeof msg, "DDL on %s%s%s at %s:%" PRIu64 ": %.*s", db, table[0] ? "." : "", table, p->file,
                 ev->pos, (int)(ev->u.query.sql_len > 1000 ? 1000 : ev->u.query.sql_len), ev->u.query.sql);
        bt_alerts_raise(p->alerts, "ddl", BT_ALERTS_INFO, msg, bt_now_ms());
    }
    /* CREATE TABLE ... SELECT: its rows and XID follow in the same group (MariaDB: a group not
     * marked standalone; MySQL 8.0.21+: the statement ends in START TRANSACTION) */
    if (p->txn_until_end || p->txn_body || bt_query_starts_transaction(ev->u.query.sql, ev->u.query.sql_len))
        return 0;
    return txn_end(p, ev, err, errlen);
}

/* A FORMAT_DESCRIPTION: which server wrote the file, and (at the start of a new file) a
 * position the checkpoint may take even before the file's first transaction, so that a file
 * read to its end can be purged without blocking a restart. */
static int on_format(bt_pipeline_t *p, const bt_event_t *ev, bool replay, char *err, size_t errlen) {
    if (ev->in_payload) return 0;
    if (p->raw && p->raw->len <= sizeof p->fde_raw) {
        memcpy(p->fde_raw, p->raw->data, p->raw->len);
        p->fde_len = p->raw->len;
    }
    p->route_server_id = ev->server_id;
    if (ev->timestamp) {
        p->file_server_id = ev->server_id;
        p->file_created = ev->timestamp;
        p->file_identity_known = true;
    }
    if (p->in_txn && txn_abandon(p, ev, "FORMAT_DESCRIPTION (a new binlog file)", err, errlen) != 0) return -1;
    if (!ev->timestamp || replay || !strcmp(p->passed_file, p->file)) return 0; /* not a new file */
    bt_position_t at;
    here(p, 4, &at);
    if (track_end(p, &at) != 0) {
        snprintf(err, errlen, "out of memory for the delivery tracker");
        return -1;
    }
    return 0;
}

static int on_begin(bt_pipeline_t *p, bt_event_t *ev, char *err, size_t errlen) {
    if (p->in_txn && p->txn_body && txn_abandon(p, ev, "BEGIN", err, errlen) != 0) return -1;
    if (!p->in_txn) txn_begin(p, "", (int64_t)ev->timestamp * 1000);
    p->txn_body = true;
    size_t xl;
    if (bt_xa_statement_xid(ev->u.query.sql, ev->u.query.sql_len, "START", &xl)) return xa_start(p, ev, err, errlen);
    return 0;
}

static int on_end(bt_pipeline_t *p, bt_event_t *ev, char *err, size_t errlen) {
    int rc = xa_end(p, ev, err, errlen);
    if (rc < 0) return rc;
    return txn_end(p, ev, err, errlen);
}

/* A statement about accounts, privileges or the server: no schema change, and its text may
 * hold credentials, so it is neither published nor logged. */
static int on_admin(bt_pipeline_t *p, bt_event_t *ev, char *err, size_t errlen) {
    if (!p->in_txn) txn_begin(p, p->gtid, (int64_t)ev->timestamp * 1000);
    atomic_fetch_add(&p->stats.skipped_statements, 1);
    bt_debug("%s:%" PRIu64 ": an account or server statement (not a schema change): not published", p->file,
             ev->pos);
    return txn_end(p, ev, err, errlen);
}

static int on_event(bt_pipeline_t *p, bt_event_t *ev, bool replay, char *err, size_t errlen) {
    switch (ev->kind) {
    case BT_EV_FORMAT:
        return on_format(p, ev, replay, err, errlen);
    case BT_EV_GTID:
        if (replay) return 0;
        if (p->in_txn && txn_abandon(p, ev, "GTID", err, errlen) != 0) return -1;
        note_gtid(p, ev);
        txn_begin(p, ev->u.gtid.text,
                  ev->u.gtid.commit_ts_us ? ev->u.gtid.commit_ts_us / 1000 : (int64_t)ev->timestamp * 1000);
        /* MariaDB marks a group that is one statement; one that is not ends at its XID */
        p->txn_until_end = bt_decoder_fde(p->dec)->mariadb && !ev->u.gtid.standalone;
        return ev->u.gtid.xa_prepared ? xa_start(p, ev, err, errlen) : 0;
    case BT_EV_BEGIN:
        return on_begin(p, ev, err, errlen);
    case BT_EV_TABLE_MAP:
        return p->xa ? xa_record(p, ev, err, errlen) : 0;
    case BT_EV_ROWS:
        return on_rows(p, ev, err, errlen);
    case BT_EV_COMMIT:
    case BT_EV_ROLLBACK:
        return on_end(p, ev, err, errlen);
    case BT_EV_DDL:
        return on_ddl(p, ev, err, errlen);
    case BT_EV_ADMIN:
        return on_admin(p, ev, err, errlen);
    case BT_EV_DML_STATEMENT:
        snprintf(err, errlen, "%s:%" PRIu64 ": a statement-based change (%.*s...): bintail reads row events only; "
                 "set binlog_format=ROW on the server (and on its primary when this is a replica)",
                 p->file, ev->pos, (int)(ev->u.query.sql_len > 80 ? 80 : ev->u.query.sql_len), ev->u.query.sql);
        p->needs_operator = true;
        return -1;
    default:
        return 0;
    }
}

/* ---------------------------------------------------------------- checkpoint and lag */

static int write_checkpoint(bt_pipeline_t *p, bool force, char *err, size_t errlen) {
    if (!p->cfg->state_dir || !p->tracker.has_safe) return 0;
    int64_t now = bt_now_ms();
    if (!force && now - p->last_ckpt_ms < p->cfg->checkpoint_interval_ms) return 0;
    if (p->tracker.safe_changes == p->ckpt_written_changes) return 0;
    if (p->sink->ops->sync(p->sink, err, errlen) != 0) return -1;
    if (bt_checkpoint_write(p->cfg->state_dir, &p->tracker.safe, err, errlen) != 0) return -1;
    p->last_ckpt_ms = now;
    p->ckpt_written_changes = p->tracker.safe_changes;
    if (p->nxa_done) xa_forget_committed(p);
    bt_debug("checkpoint %s:%" PRIu64 " %s", p->tracker.safe.file, p->tracker.safe.pos, p->tracker.safe.gtid);
    return 0;
}

static void update_lag(bt_pipeline_t *p, bool idle) {
    int64_t now = bt_now_ms();
    /* Without a checkpoint nothing is read again: a committed XA record can go once its
     * messages are delivered (with one, once the checkpoint file is past it). */
    if (bt_tracker_advance(&p->tracker) && p->nxa_done && !p->cfg->state_dir) xa_forget_committed(p);
    int64_t lag = 0;
    if (!idle || !bt_tracker_idle(&p->tracker) || p->in_txn) {
        int64_t ts = p->tracker.safe.commit_ts_ms;
        if (ts > 0 && p->tracker.has_safe) lag = now - ts;
        if (lag < 0) lag = 0;
    }
    atomic_store(&p->stats.lag_ms, lag);
    atomic_store(&p->stats.sink_failing_ms, p->sink->ops->failing_ms(p->sink, now));
}

int bt_pipeline_start_at(bt_pipeline_t *p, const bt_position_t *start, char *err, size_t errlen) {
    p->tracker.safe = *start;
    p->tracker.has_safe = true;
    p->tracker.safe_changes++;
    snprintf(p->passed_file, sizeof p->passed_file, "%s", start->file);
    return write_checkpoint(p, true, err, errlen);
}

/* ---------------------------------------------------------------- full sync */

void bt_pipeline_set_server_id(bt_pipeline_t *p, uint32_t server_id) { p->route_server_id = server_id; }

void bt_pipeline_chunk_begin(bt_pipeline_t *p) { txn_begin(p, "", bt_now_ms()); }

int bt_pipeline_snapshot_row(bt_pipeline_t *p, const bt_table_t *t, const bt_row_t *row, bool last, char *err,
                             size_t errlen) {
    const char *topic = bt_router_topic(p->router, t->db, t->name, p->route_server_id);
    if (!topic) return 0;
    if (!p->in_txn) bt_pipeline_chunk_begin(p);
    bt_change_t c = {0};
    c.op = BT_OP_READ;
    c.table = t;
    c.after = row;
    c.db = t->db;
    c.table_name = t->name;
    c.snapshot = true;
    c.snapshot_last = last;
    c.gtid = "";
    c.ts_ms = c.now_ms = bt_now_ms();
    c.txn_seq = p->txn_count;
    c.seq = ++p->change_seq;
    atomic_fetch_add(&p->stats.rows, 1);
    if (p->fatal[0]) {
        snprintf(err, errlen, "%s", p->fatal);
        return -1;
    }
    int rc = emit(p, &c, topic, err, errlen);
    if (rc == BT_PIPE_STOPPED) snprintf(err, errlen, "stopped");
    return rc == 0 ? 0 : -1;
}

int bt_pipeline_chunk_end(bt_pipeline_t *p, const bt_position_t *progress, char *err, size_t errlen) {
    if (!p->in_txn) bt_pipeline_chunk_begin(p);
    p->in_txn = false;
    if (track_end(p, progress) != 0) {
        snprintf(err, errlen, "out of memory for the delivery tracker");
        return -1;
    }
    return 0;
}

int bt_pipeline_service(bt_pipeline_t *p, int timeout_ms, char *err, size_t errlen) {
    p->sink->ops->poll(p->sink, timeout_ms);
    if (p->fatal[0]) {
        snprintf(err, errlen, "%s", p->fatal);
        return -1;
    }
    update_lag(p, false);
    return write_checkpoint(p, false, err, errlen);
}

static int drain(bt_pipeline_t *p, int timeout_ms);

int bt_pipeline_settle(bt_pipeline_t *p, int timeout_ms, char *err, size_t errlen) {
    if (drain(p, timeout_ms) != 0) {
        snprintf(err, errlen, "%" PRIu64 " messages were not acknowledged within %d ms",
                 p->sink->ops->in_flight(p->sink), timeout_ms);
        return -1;
    }
    if (p->fatal[0]) {
        snprintf(err, errlen, "%s", p->fatal);
        return -1;
    }
    return write_checkpoint(p, true, err, errlen);
}

bool bt_pipeline_captures(bt_pipeline_t *p, const char *db, const char *table) {
    return bt_router_topic(p->router, db, table, 0) != NULL;
}

void bt_pipeline_set_source(bt_pipeline_t *p, bt_source_t *src) {
    bt_source_free(p->src);
    p->src = src;
    /* A replication stream may carry checksums before its first FORMAT_DESCRIPTION. */
    bt_decoder_set_checksum(p->dec, bt_source_repl_checksum(src));
}

/* ---------------------------------------------------------------- the loop */

/* Deliver what was produced, up to timeout_ms (a stop request does not cut this short: it is
 * the bounded drain of a stop). */
static int drain(bt_pipeline_t *p, int timeout_ms) {
    int64_t now = bt_now_ms(), deadline = now + timeout_ms, progress_ms = now;
    uint64_t left = p->sink->ops->in_flight(p->sink);
    while (left > 0 && now < deadline) {
        p->sink->ops->poll(p->sink, 100);
        now = bt_now_ms();
        uint64_t l = p->sink->ops->in_flight(p->sink);
        if (l < left) progress_ms = now;
        left = l;
        /* the sink is down and nothing moved for 3 s: waiting longer would only delay the exit */
        if (now - progress_ms > 3000 && p->sink->ops->failing_ms(p->sink, now) > 0) break;
    }
    bt_tracker_advance(&p->tracker);
    return left > 0 ? -1 : 0;
}

/* A failure: BT_RUN_OPERATOR when a restart cannot cure it, else BT_RUN_RETRY. */
static int failed(bt_pipeline_t *p, bool needs_operator) {
    p->needs_operator |= needs_operator;
    return p->needs_operator ? BT_RUN_OPERATOR : BT_RUN_RETRY;
}

/* Nothing new from the source: lag, checkpoint, and the end for --stop-at-end. 1 = stop now. */
static int on_idle(bt_pipeline_t *p, int *rc, char *err, size_t errlen) {
    bool at_end = p->src->ops->at_end(p->src);
    atomic_store(&p->stats.caught_up, at_end);
    update_lag(p, at_end);
    if (write_checkpoint(p, false, err, errlen) != 0) {
        *rc = failed(p, false);
        return 1;
    }
    if (!p->cfg->stop_at_end || !at_end || p->in_txn) return 0;
    int64_t until = bt_now_ms() + 60000;
    while (bt_now_ms() < until && drain(p, 1000) != 0 && !*p->stop) {
    } /* (a stop meanwhile ends this wait: the stop's own drain follows) */
    if (p->sink->ops->in_flight(p->sink) > 0 && !*p->stop) {
        snprintf(err, errlen, "reached the end, but %" PRIu64 " messages were still not delivered after 60 s: is "
                 "Kafka reachable? (a restart sends them again)", p->sink->ops->in_flight(p->sink));
        *rc = failed(p, false);
    }
    return 1;
}

/* Decode one raw event and act on what it holds. 0 go on, 1 stop (rc set). */
static int on_raw(bt_pipeline_t *p, const bt_raw_event_t *raw, int *rc, char *err, size_t errlen) {
    atomic_store(&p->stats.last_event_ms, bt_now_ms());
    if (strcmp(p->file, raw->file)) {
        pthread_mutex_lock(&p->pos_lock);
        snprintf(p->file, sizeof p->file, "%s", raw->file);
        pthread_mutex_unlock(&p->pos_lock);
        bt_decoder_set_file(p->dec, p->file);
    }
    pthread_mutex_lock(&p->pos_lock);
    p->pos = raw->pos;
    pthread_mutex_unlock(&p->pos_lock);
    p->raw = raw;
    if (bt_decoder_feed(p->dec, raw->data, raw->len, raw->pos, err, errlen) != 0) {
        p->source_failed = true;
        *rc = failed(p, !p->schema_failed); /* an event that cannot be decoded stays so */
        return 1;
    }
    bt_event_t ev;
    int n, r = 0;
    while ((n = bt_decoder_next(p->dec, &ev, err, errlen)) == 1)
        if ((r = on_event(p, &ev, raw->skip, err, errlen)) != 0) break;
    if (n < 0) {
        p->source_failed = true;
        *rc = failed(p, !p->schema_failed);
        return 1;
    }
    if (r == BT_PIPE_STOPPED) return 1; /* a stop cut a wait inside a transaction short */
    if (r != 0) {
        *rc = failed(p, false);
        return 1;
    }
    return 0;
}

int bt_pipeline_run(bt_pipeline_t *p, char *err, size_t errlen) {
    bt_raw_event_t raw;
    int rc = BT_RUN_OK;
    for (;;) {
        if (*p->stop) {
            if (!p->in_txn) break; /* between transactions: stop here */
            note_stop(p);
        }
        p->sink->ops->poll(p->sink, 0);
        if (p->fatal[0]) {
            snprintf(err, errlen, "%s", p->fatal);
            rc = failed(p, true); /* delivery errors that reach a report are permanent */
            break;
        }
        int got = bt_source_next(p->src, &raw, p->stopping ? 0 : 100, err, errlen);
        if (got < 0) {
            p->source_failed = true;
            rc = failed(p, p->src->needs_operator);
            break;
        }
        if (got == 0) {
            if (p->stopping) break; /* the rest of the transaction is not there yet */
            if (on_idle(p, &rc, err, errlen)) break;
            continue;
        }
        if (on_raw(p, &raw, &rc, err, errlen)) break;
        p->raw = NULL;
        /* While a backlog is read the source never idles: move the safe position, lag and
         * checkpoint on time, a few times a second. */
        int64_t now = bt_now_ms();
        if (now - p->last_housekeeping_ms >= 100) {
            p->last_housekeeping_ms = now;
            update_lag(p, false);
        }
        if (write_checkpoint(p, false, err, errlen) != 0) {
            rc = failed(p, false);
            break;
        }
    }
    p->raw = NULL;
    if (*p->stop && p->in_txn && rc == BT_RUN_OK)
        bt_warn("stopped inside the transaction at %s:%" PRIu64 " (finishing it would have meant waiting): it is "
                "sent again after the restart", p->file, p->pos);
    /* Stopping: deliver what was produced (for a bounded time), then record how far that got. */
    char err2[512];
    if (drain(p, rc ? 5000 : 10000) != 0)
        bt_warn("%" PRIu64 " messages were not acknowledged before exit; they will be sent again after a restart",
                p->sink->ops->in_flight(p->sink));
    if (write_checkpoint(p, true, err2, sizeof err2) != 0) {
        bt_error("%s", err2);
        if (!rc) {
            snprintf(err, errlen, "%s", err2);
            rc = BT_RUN_RETRY;
        }
    }
    return rc;
}
