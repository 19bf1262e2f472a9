/* pipeline.c: the reader loop (see pipeline.h). */
#include "agent/pipeline.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/binlog/binlog.h"
#include "alerts/alerts.h"
#include "agent/format/format.h"
#include "agent/json/jsonw.h"
#include "agent/route.h"
#include "agent/rows_change.h"
#include "agent/schema.h"
#include "agent/sink/sink.h"
#include "agent/util/log.h"
#include "partitioner/partitioner.h"

#define MAX_DOMAINS 32

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
    uint64_t txn;             /* tracker sequence number */
    char gtid[160];
    int64_t txn_ts_ms;
    uint64_t change_seq;
    bt_row_numbering_t rows;  /* row numbers across a TRANSACTION_PAYLOAD's inner events */

    /* where we are */
    char file[256];
    uint64_t pos;
    uint32_t file_server_id, file_created;
    bool file_identity_known;
    gtid_domain_t domains[MAX_DOMAINS]; /* MariaDB: last GTID per domain */
    unsigned ndomains;
    char last_gtid_text[512];
    pthread_mutex_t pos_lock;

    char fatal[1024];         /* set from a delivery report: stop with this error */
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

void bt_pipeline_position(bt_pipeline_t *p, char *file, size_t filelen, uint64_t *pos, char *gtid, size_t gtidlen) {
    pthread_mutex_lock(&p->pos_lock);
    snprintf(file, filelen, "%s", p->file);
    *pos = p->pos;
    snprintf(gtid, gtidlen, "%s", p->last_gtid_text);
    pthread_mutex_unlock(&p->pos_lock);
}

/* ---------------------------------------------------------------- setup */

static bt_sink_t *make_sink(const bt_config_t *cfg, char *err, size_t errlen) {
    const char *sink = cfg->sink ? cfg->sink : cfg->kafka ? "kafka" : "stdout";
    if (!strcmp(sink, "stdout")) return bt_sink_stdout_new(err, errlen);
    if (!strncmp(sink, "file:", 5)) return bt_sink_file_new(sink + 5, err, errlen);
    bt_kafka_opts_t ko = {
        .brokers = cfg->kafka,
        .acks = cfg->acks,
        .compression = cfg->compression,
        .queue_max_bytes = cfg->queue_max_bytes,
        .max_record_bytes = cfg->max_record_bytes,
        .props = (const char *const *)cfg->kafka_props.v,
        .nprops = cfg->kafka_props.n,
        .create_topics = cfg->create_topics,
        .topic_partitions = (int)cfg->topic_partitions,
        .topic_replicas = (int)cfg->topic_replicas,
        .compact = cfg->format && !strcmp(cfg->format, "upsert"),
    };
    return bt_sink_kafka_new(&ko, err, errlen);
}

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
    bt_tracker_init(&p->tracker);
    bt_buf_init(&p->key, 0);
    bt_buf_init(&p->val, 0);
    bt_buf_init(&p->hash, 0);
    if (in->resume) {
        p->tracker.safe = *in->resume;
        p->tracker.has_safe = true;
        snprintf(p->last_gtid_text, sizeof p->last_gtid_text, "%s", in->resume->gtid);
    }

    p->schema = bt_schema_new(cfg->mysql_url, cfg->mysql_password_file);
    bt_decoder_opts_t dopts = {.schema_cb = bt_schema_lookup, .schema_ctx = p->schema};
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
    if (!(p->sink = make_sink(cfg, err, errlen))) goto fail;
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
    pthread_mutex_destroy(&p->pos_lock);
    free(p);
}

/* ---------------------------------------------------------------- transactions */

static void txn_begin(bt_pipeline_t *p, const char *gtid, int64_t ts_ms) {
    p->in_txn = true;
    p->txn = bt_tracker_begin(&p->tracker);
    if (gtid != p->gtid) snprintf(p->gtid, sizeof p->gtid, "%s", gtid ? gtid : "");
    p->txn_ts_ms = ts_ms;
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

static void txn_end(bt_pipeline_t *p, const bt_event_t *ev) {
    if (!p->in_txn) return;
    bt_position_t end;
    memset(&end, 0, sizeof end);
    snprintf(end.file, sizeof end.file, "%s", p->file);
    end.pos = ev->end_pos;
    pthread_mutex_lock(&p->pos_lock);
    snprintf(end.gtid, sizeof end.gtid, "%s", p->last_gtid_text);
    pthread_mutex_unlock(&p->pos_lock);
    end.server_id = p->file_server_id;
    end.file_created = p->file_created;
    end.commit_ts_ms = p->txn_ts_ms;
    bt_tracker_end(&p->tracker, p->txn, &end);
    p->in_txn = false;
    atomic_fetch_add(&p->stats.transactions, 1);
}

/* ---------------------------------------------------------------- producing */

/* Offer a message until the sink takes it, serving delivery reports while its queue is full. */
static int offer(bt_pipeline_t *p, const bt_msg_t *m, char *err, size_t errlen) {
    for (;;) {
        int rc = p->sink->ops->produce(p->sink, m, err, errlen);
        if (rc <= 0) return rc;
        p->sink->ops->poll(p->sink, 100); /* queue full: reading pauses here */
        if (p->fatal[0]) {
            snprintf(err, errlen, "%s", p->fatal);
            return -1;
        }
    }
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
        /* even without every droppable column it does not fit: fall through to the error */
        policy = "fail";
    }
    if (!strcmp(policy, "skip")) {
        bt_warn("skipped a %zu-byte message for %s.%s at %s:%" PRIu64 " (over --max-record-bytes %" PRId64 ")", size,
                c->db, c->table_name ? c->table_name : "", c->file ? c->file : "snapshot", c->pos,
                p->cfg->max_record_bytes);
        atomic_fetch_add(&p->stats.skipped_oversize, 1);
        return 1;
    }
    snprintf(err, errlen, "a %zu-byte message for %s.%s (key %.*s) at %s:%" PRIu64
                          " is over --max-record-bytes %" PRId64 ": raise the limit (and the topic's "
                          "max.message.bytes), or use --oversize skip or drop-columns",
             size, c->db, c->table_name ? c->table_name : "", (int)(p->key.len > 200 ? 200 : p->key.len),
             p->key.p ? p->key.p : "", c->file ? c->file : "snapshot", c->pos, p->cfg->max_record_bytes);
    return -1;
}

/* Encode a change in the chosen format and hand its messages to the sink. */
static int emit(bt_pipeline_t *p, const bt_change_t *change, const char *topic, char *err, size_t errlen) {
    bt_change_t cc = *change, *c = &cc;
    unsigned n = bt_format_count(p->fmt, c);
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
            if (rc < 0) return -1;
            if (rc > 0) continue;
            size = p->key.len + (null_value ? 0 : p->val.len);
        }
        /* DDL counts as keyed: a CREATE TABLE usually comes first into its table's topic */
        bool keyed = !c->table || c->table->npk > 0;
        int count = p->sink->ops->partitions(p->sink, topic, keyed, err, errlen);
        if (count < 0) return -1;
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
            .opaque = (void *)(uintptr_t)p->txn,
        };
        if (p->cfg->kafka_headers) {
            add_header(&m, "bintail.op", op_name(c));
            if (c->file) {
                add_header(&m, "bintail.file", c->file);
                add_header(&m, "bintail.pos", pos_text);
            }
            if (c->gtid && c->gtid[0]) add_header(&m, "bintail.gtid", c->gtid);
        }
        if (dropped[0]) add_header(&m, "bintail.dropped", dropped); /* says that values are missing: always */
        bt_tracker_add_msg(&p->tracker, p->txn);
        if (offer(p, &m, err, errlen) != 0) return -1;
        atomic_fetch_add(&p->stats.messages, 1);
        bytes += (double)size;
    }
    if (p->thr && !c->snapshot) { /* snapshot rows are paced by the snapshot's own limits */
        int64_t wait = bt_throttle_take(p->thr, BT_THROTTLE_STREAM, c->is_ddl ? 0 : 1, bytes, 0, bt_throttle_now_ns());
        while (wait > 0) { /* reading pauses; deliveries are still served */
            int64_t slice = wait > 50000000 ? 50000000 : wait;
            bt_throttle_sleep_ns(slice);
            p->sink->ops->poll(p->sink, 0);
            wait -= slice;
        }
    }
    return 0;
}

static void change_coords(bt_pipeline_t *p, const bt_event_t *ev, bt_change_t *c) {
    c->file = p->file;
    c->pos = ev->pos;
    c->gtid = p->gtid;
    c->server_id = ev->server_id;
    c->ts_ms = p->txn_ts_ms ? p->txn_ts_ms : (int64_t)ev->timestamp * 1000;
    c->now_ms = bt_now_ms();
    c->txn_seq = p->txn;
    c->seq = ++p->change_seq;
}

static int on_rows(bt_pipeline_t *p, bt_event_t *ev, char *err, size_t errlen) {
    const bt_table_t *t = ev->u.rows.table;
    const char *topic = bt_router_topic(p->router, t->db, t->name, ev->server_id);
    if (!p->in_txn) txn_begin(p, "", (int64_t)ev->timestamp * 1000);
    const bt_row_t *before, *after;
    int rc;
    while ((rc = bt_rows_next(p->dec, ev, &before, &after, err, errlen)) == 1) {
        atomic_fetch_add(&p->stats.rows, 1);
        if (!topic) continue; /* not captured: still decoded, so damage is never skipped unseen */
        bt_change_t c;
        bt_rows_change(&c, &p->rows, p->file, ev, before, after);
        change_coords(p, ev, &c);
        if (emit(p, &c, topic, err, errlen) != 0) return -1;
    }
    return rc < 0 ? -1 : 0;
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
    const char *topic = bt_router_ddl_topic(p->router, db, table[0] ? table : NULL, ev->server_id);
    if (topic) {
        bt_change_t c = {0};
        c.is_ddl = true;
        c.db = db;
        c.table_name = table[0] ? table : NULL;
        c.sql = ev->u.query.sql;
        c.sql_len = ev->u.query.sql_len;
        change_coords(p, ev, &c);
        if (emit(p, &c, topic, err, errlen) != 0) return -1;
    }
    bt_info("DDL at %s:%" PRIu64 ": %.*s", p->file, ev->pos, (int)(ev->u.query.sql_len > 300 ? 300 : ev->u.query.sql_len),
            ev->u.query.sql);
    if (p->alerts && p->cfg->alert_ddl) {
        char msg[1200];
        snprintf(msg, sizeof msg, "DDL on %s%s%s at %s:%" PRIu64 ": %.*s", db, table[0] ? "." : "", table, p->file,
                 ev->pos, (int)(ev->u.query.sql_len > 1000 ? 1000 : ev->u.query.sql_len), ev->u.query.sql);
        bt_alerts_raise(p->alerts, "ddl", BT_ALERTS_INFO, msg, bt_now_ms());
    }
    txn_end(p, ev);
    return 0;
}

static int on_event(bt_pipeline_t *p, bt_event_t *ev, bool replay, char *err, size_t errlen) {
    switch (ev->kind) {
    case BT_EV_FORMAT:
        if (!ev->in_payload && ev->timestamp) {
            p->file_server_id = ev->server_id;
            p->file_created = ev->timestamp;
            p->file_identity_known = true;
        }
        return 0;
    case BT_EV_GTID:
        if (replay) return 0;
        note_gtid(p, ev);
        txn_begin(p, ev->u.gtid.text,
                  ev->u.gtid.commit_ts_us ? ev->u.gtid.commit_ts_us / 1000 : (int64_t)ev->timestamp * 1000);
        return 0;
    case BT_EV_BEGIN:
        if (!p->in_txn) txn_begin(p, "", (int64_t)ev->timestamp * 1000);
        return 0;
    case BT_EV_ROWS:
        return on_rows(p, ev, err, errlen);
    case BT_EV_COMMIT:
    case BT_EV_ROLLBACK:
        txn_end(p, ev);
        return 0;
    case BT_EV_DDL:
        return on_ddl(p, ev, err, errlen);
    case BT_EV_DML_STATEMENT:
        snprintf(err, errlen, "%s:%" PRIu64 ": a statement-based change (%.*s...): bintail reads row events only; "
                 "set binlog_format=ROW on the server (and on its primary when this is a replica)",
                 p->file, ev->pos, (int)(ev->u.query.sql_len > 80 ? 80 : ev->u.query.sql_len), ev->u.query.sql);
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
    bt_debug("checkpoint %s:%" PRIu64 " %s", p->tracker.safe.file, p->tracker.safe.pos, p->tracker.safe.gtid);
    return 0;
}

static void update_lag(bt_pipeline_t *p, bool idle) {
    int64_t now = bt_now_ms();
    bt_tracker_advance(&p->tracker);
    int64_t lag = 0;
    if (!idle || !bt_tracker_idle(&p->tracker) || p->in_txn) {
        int64_t ts = p->tracker.safe.commit_ts_ms;
        if (ts > 0 && p->tracker.has_safe) lag = now - ts;
        if (lag < 0) lag = 0;
    }
    atomic_store(&p->stats.lag_ms, lag);
    atomic_store(&p->stats.sink_failing_ms, p->sink->ops->failing_ms(p->sink, now));
}

/* ---------------------------------------------------------------- full sync */

void bt_pipeline_chunk_begin(bt_pipeline_t *p) { txn_begin(p, "", bt_now_ms()); }

int bt_pipeline_snapshot_row(bt_pipeline_t *p, const bt_table_t *t, const bt_row_t *row, bool last, char *err,
                             size_t errlen) {
    const char *topic = bt_router_topic(p->router, t->db, t->name, 0);
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
    c.txn_seq = p->txn;
    c.seq = ++p->change_seq;
    atomic_fetch_add(&p->stats.rows, 1);
    if (p->fatal[0]) {
        snprintf(err, errlen, "%s", p->fatal);
        return -1;
    }
    return emit(p, &c, topic, err, errlen);
}

void bt_pipeline_chunk_end(bt_pipeline_t *p, const bt_position_t *progress) {
    if (!p->in_txn) bt_pipeline_chunk_begin(p);
    bt_tracker_end(&p->tracker, p->txn, progress);
    p->in_txn = false;
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

static int drain(bt_pipeline_t *p, int timeout_ms) {
    int64_t deadline = bt_now_ms() + timeout_ms;
    while (p->sink->ops->in_flight(p->sink) > 0 && bt_now_ms() < deadline) p->sink->ops->poll(p->sink, 100);
    bt_tracker_advance(&p->tracker);
    return p->sink->ops->in_flight(p->sink) > 0 ? -1 : 0;
}

int bt_pipeline_run(bt_pipeline_t *p, char *err, size_t errlen) {
    bt_raw_event_t raw;
    bt_event_t ev;
    int rc = 0;
    while (!*p->stop) {
        p->sink->ops->poll(p->sink, 0);
        if (p->fatal[0]) {
            snprintf(err, errlen, "%s", p->fatal);
            rc = 1;
            break;
        }
        int got = bt_source_next(p->src, &raw, 100, err, errlen);
        if (got < 0) {
            p->source_failed = true;
            rc = 1;
            break;
        }
        if (got == 0) {
            bool at_end = p->src->ops->at_end(p->src);
            atomic_store(&p->stats.caught_up, at_end);
            update_lag(p, at_end);
            if (write_checkpoint(p, false, err, errlen) != 0) {
                rc = 1;
                break;
            }
            if (p->cfg->stop_at_end && at_end && !p->in_txn) {
                if (drain(p, 60000) != 0) {
                    snprintf(err, errlen, "reached the end, but %" PRIu64 " messages were still not delivered after 60 s",
                             p->sink->ops->in_flight(p->sink));
                    rc = 1;
                }
                break;
            }
            continue;
        }
        atomic_store(&p->stats.last_event_ms, bt_now_ms());
        if (strcmp(p->file, raw.file)) {
            pthread_mutex_lock(&p->pos_lock);
            snprintf(p->file, sizeof p->file, "%s", raw.file);
            pthread_mutex_unlock(&p->pos_lock);
            bt_decoder_set_file(p->dec, p->file);
        }
        pthread_mutex_lock(&p->pos_lock);
        p->pos = raw.pos;
        pthread_mutex_unlock(&p->pos_lock);
        if (bt_decoder_feed(p->dec, raw.data, raw.len, raw.pos, err, errlen) != 0) {
            p->source_failed = true;
            rc = 1;
            break;
        }
        int n;
        while ((n = bt_decoder_next(p->dec, &ev, err, errlen)) == 1) {
            if (on_event(p, &ev, raw.skip, err, errlen) != 0) {
                n = -2;
                break;
            }
        }
        if (n < 0) {
            p->source_failed = n == -1; /* a decoding error, not one of ours further down */
            rc = 1;
            break;
        }
        /* While a backlog is read the source never idles: move the safe position, lag and
         * checkpoint on time, a few times a second. */
        int64_t now = bt_now_ms();
        if (now - p->last_housekeeping_ms >= 100) {
            p->last_housekeeping_ms = now;
            update_lag(p, false);
        }
        if (write_checkpoint(p, false, err, errlen) != 0) {
            rc = 1;
            break;
        }
    }
    /* Stopping: deliver what was produced, then record how far that got. */
    char err2[512];
    if (drain(p, rc ? 5000 : 10000) != 0)
        bt_warn("%" PRIu64 " messages were not acknowledged before exit; they will be sent again after a restart",
                p->sink->ops->in_flight(p->sink));
    if (write_checkpoint(p, true, err2, sizeof err2) != 0) {
        bt_error("%s", err2);
        if (!rc) {
            snprintf(err, errlen, "%s", err2);
            rc = 1;
        }
    }
    return rc;
}
