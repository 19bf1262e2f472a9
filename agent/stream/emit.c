/* emit.c: one row change -> its messages -> the sink, and the waits on that path (full queue,
 * topic metadata, tracker slots, throttle), which all return at once on a stop. */
#include "agent/stream/internal.h"

/* One slice of a wait that must not block the reader: deliveries are served (the checkpoint
 * and lag move on) for up to 100 ms. false when a stop was requested: every wait of the
 * reader loop returns at once then. */
bool bt_pl_wait_serving(bt_pipeline_t *p, int ms) {
    if (*p->stop) return false;
    p->sink->ops->poll(p->sink, ms > 100 ? 100 : ms);
    bt_pl_update_lag(p, false);
    return !*p->stop;
}

/* Offer a message until the sink takes it, serving delivery reports while its queue is full.
 * 0 taken, -1 error, BT_PIPE_STOPPED a stop was requested while the queue was full. */
static int offer(bt_pipeline_t *p, const bt_msg_t *m, char *err, size_t errlen) {
    for (;;) {
        int rc = p->sink->ops->produce(p->sink, m, err, errlen);
        if (rc <= 0) return rc;
        if (!bt_pl_wait_serving(p, 100)) return BT_PIPE_STOPPED; /* queue full: reading pauses here */
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
        if (!bt_pl_wait_serving(p, 100)) return BT_PIPE_STOPPED;
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
        if (!bt_pl_wait_serving(p, 100)) return BT_PIPE_STOPPED;
    }
    return 0;
}

/* --max-rps / --max-mbps: pause reading (serving deliveries) until the throttle allows more.
 * Limits changed meanwhile (bintail throttle) apply to the wait at once. A stop ends the wait
 * and the throttling: the rest of the transaction is read at full speed, so that the stop
 * lands on a transaction boundary and nothing is sent twice after the restart. */
void bt_pl_note_stop(bt_pipeline_t *p) {
    if (p->stopping) return;
    p->stopping = true; /* finish the transaction, as long as that needs no waiting */
    bt_info("stop requested inside a transaction at %s:%" PRIu64 ": finishing it first", p->file, p->pos);
}

static bool serve_while_throttled(void *ctx) {
    bt_pipeline_t *p = ctx;
    if (bt_pl_wait_serving(p, 0)) return true;
    bt_pl_note_stop(p);
    return false;
}

static int throttle_stream(bt_pipeline_t *p, double rows, double bytes) {
    if (!p->thr || p->stopping) return 0;
    if (bt_throttle_take(p->thr, BT_THROTTLE_STREAM, rows, bytes, 0, bt_mono_ns()) <= 0) return 0;
    bt_throttle_wait(p->thr, BT_THROTTLE_STREAM, serve_while_throttled, p);
    return 0;
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

/* Encode a change in the chosen format and hand its messages to the sink. */
int bt_pl_emit(bt_pipeline_t *p, const bt_change_t *change, const char *topic, char *err, size_t errlen) {
    bt_change_t cc = *change, *c = &cc;
    unsigned n = bt_format_count(p->fmt, c);
    int skip = bt_pl_oversize_skips_change(p, c, n, err, errlen);
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
            int rc = bt_pl_handle_oversize(p, c, idx, &null_value, size, dropped, sizeof dropped, err, errlen);
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
        if (bt_pl_partition_input(p, c, &p->key, err, errlen) != 0) {
            p->needs_operator = true; /* the flag or the table must change; a restart cannot cure it */
            return -1;
        }
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

void bt_pl_change_coords(bt_pipeline_t *p, const bt_event_t *ev, bt_change_t *c) {
    c->file = p->file;
    c->pos = ev->pos;
    c->gtid = p->gtid;
    c->server_id = ev->server_id;
    c->ts_ms = p->txn_ts_ms ? p->txn_ts_ms : (int64_t)ev->timestamp * 1000;
    c->now_ms = bt_wall_ms();
    c->txn_seq = p->txn_count;
    c->seq = ++p->change_seq;
}

/* The rows of one rows event. file names the binlog file the event was read from (an XA
 * record's events keep theirs). 0, -1 error, BT_PIPE_STOPPED. */
int bt_pl_send_rows(bt_pipeline_t *p, bt_decoder_t *dec, bt_event_t *ev, const char *file, char *err,
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
        bt_pl_change_coords(p, ev, &c);
        c.file = file;
        if ((rc = bt_pl_emit(p, &c, topic, err, errlen)) != 0) return rc;
    }
    if (rc < 0 && !p->schema_failed) p->needs_operator = true; /* an undecodable row */
    return rc < 0 ? -1 : 0;
}
