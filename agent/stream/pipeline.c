/* pipeline.c: the reader loop and its wiring (see pipeline.h; its parts in internal.h). */
#include "agent/stream/internal.h"

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
int bt_pl_schema_lookup(void *ctx, bt_table_t *t, char *err, size_t errlen) {
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
    p->rand_state = (uint64_t)bt_wall_ms();
    pthread_mutex_init(&p->pos_lock, NULL);
    /* Transactions in flight are bounded like the queue's messages (sink_kafka.c): one per 512
     * bytes of --queue-max-bytes, at least 1000. */
    int64_t max_txns = cfg->queue_max_bytes / 512;
    bt_tracker_init(&p->tracker, (size_t)(max_txns > 1000 ? max_txns : 1000));
    bt_buf_init(&p->key, 0);
    bt_buf_init(&p->val, 0);
    bt_buf_init(&p->hash, 0);
    p->gtid_state = bt_gtid_set_new();
    bt_buf_init(&p->gtid_text, 0);
    if (in->resume) {
        p->tracker.safe = *in->resume;
        p->tracker.has_safe = true;
        bt_pl_gtid_seed(p, in->resume->gtid);
        snprintf(p->passed_file, sizeof p->passed_file, "%s", in->resume->file);
    }
    if (cfg->state_dir) snprintf(p->xa_dir, sizeof p->xa_dir, "%s", cfg->state_dir);

    p->schema = bt_schema_new(cfg->mysql_url, cfg->mysql_password_file);
    bt_decoder_opts_t dopts = {.schema_cb = bt_pl_schema_lookup, .schema_ctx = p};
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
    /* checked when the flags were parsed; the partitioner's messages name the flag */
    if (bt_partition_spec_parse(cfg->partition_by, &p->pspec, err, errlen) != 0) goto fail;
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
    bt_gtid_set_free(p->gtid_state);
    bt_buf_free(&p->gtid_text);
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

static int on_rows(bt_pipeline_t *p, bt_event_t *ev, char *err, size_t errlen) {
    if (!p->in_txn) bt_pl_txn_begin(p, "", (int64_t)ev->timestamp * 1000);
    if (p->xa) return bt_pl_xa_record(p, ev, err, errlen); /* sent at its XA COMMIT */
    return bt_pl_send_rows(p, p->dec, ev, p->file, err, errlen);
}

static int on_ddl(bt_pipeline_t *p, bt_event_t *ev, char *err, size_t errlen) {
    if (!p->in_txn) bt_pl_txn_begin(p, p->gtid, (int64_t)ev->timestamp * 1000);
    char db[256], table[256];
    snprintf(db, sizeof db, "%.*s", (int)ev->u.query.db_len, ev->u.query.db ? ev->u.query.db : "");
    bt_pl_ddl_table(ev->u.query.sql, ev->u.query.sql_len, db, sizeof db, table, sizeof table);
    bt_schema_invalidate(p->schema, db, table);
    const char *topic = bt_router_ddl_topic(p->router, db, table[0] ? table : NULL, p->route_server_id);
    if (topic) {
        bt_change_t c = {0};
        c.is_ddl = true;
        c.db = db;
        c.table_name = table[0] ? table : NULL;
        c.sql = ev->u.query.sql;
        c.sql_len = ev->u.query.sql_len;
        bt_pl_change_coords(p, ev, &c);
        int rc = bt_pl_emit(p, &c, topic, err, errlen);
        if (rc != 0) return rc;
    }
    bt_info("DDL at %s:%" PRIu64 ": %.*s", p->file, ev->pos, (int)(ev->u.query.sql_len > 300 ? 300 : ev->u.query.sql_len),
            ev->u.query.sql);
    if (p->alerts && p->cfg->alert_ddl) {
        char msg[1200];
        snprintf(msg, sizeof msg, "DDL on %s%s%s at %s:%" PRIu64 ": %.*s", db, table[0] ? "." : "", table, p->file,
                 ev->pos, (int)(ev->u.query.sql_len > 1000 ? 1000 : ev->u.query.sql_len), ev->u.query.sql);
        bt_alerts_raise(p->alerts, "ddl", BT_ALERTS_INFO, msg, bt_wall_ms());
    }
    /* CREATE TABLE ... SELECT: its rows and XID follow in the same group (MariaDB: a group not
     * marked standalone; MySQL 8.0.21+: the statement ends in START TRANSACTION) */
    if (p->txn_until_end || p->txn_body || bt_query_starts_transaction(ev->u.query.sql, ev->u.query.sql_len))
        return 0;
    return bt_pl_txn_end(p, ev, err, errlen);
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
    if (p->in_txn && bt_pl_txn_abandon(p, ev, "FORMAT_DESCRIPTION (a new binlog file)", err, errlen) != 0) return -1;
    if (!ev->timestamp || replay || !strcmp(p->passed_file, p->file)) return 0; /* not a new file */
    bt_position_t at;
    bt_pl_here(p, 4, &at);
    if (bt_pl_track_end(p, &at) != 0) {
        snprintf(err, errlen, "out of memory for the delivery tracker");
        return -1;
    }
    return 0;
}

static int on_begin(bt_pipeline_t *p, bt_event_t *ev, char *err, size_t errlen) {
    if (p->in_txn && p->txn_body && bt_pl_txn_abandon(p, ev, "BEGIN", err, errlen) != 0) return -1;
    if (!p->in_txn) bt_pl_txn_begin(p, "", (int64_t)ev->timestamp * 1000);
    p->txn_body = true;
    size_t xl;
    if (bt_xa_statement_xid(ev->u.query.sql, ev->u.query.sql_len, "START", &xl)) return bt_pl_xa_start(p, ev, err, errlen);
    return 0;
}

static int on_end(bt_pipeline_t *p, bt_event_t *ev, char *err, size_t errlen) {
    int rc = bt_pl_xa_end(p, ev, err, errlen);
    if (rc < 0) return rc;
    return bt_pl_txn_end(p, ev, err, errlen);
}

/* A statement about accounts, privileges or the server: no schema change, and its text may
 * hold credentials, so it is neither published nor logged. */
static int on_admin(bt_pipeline_t *p, bt_event_t *ev, char *err, size_t errlen) {
    if (!p->in_txn) bt_pl_txn_begin(p, p->gtid, (int64_t)ev->timestamp * 1000);
    atomic_fetch_add(&p->stats.skipped_statements, 1);
    bt_debug("%s:%" PRIu64 ": an account or server statement (not a schema change): not published", p->file,
             ev->pos);
    return bt_pl_txn_end(p, ev, err, errlen);
}

static int on_event(bt_pipeline_t *p, bt_event_t *ev, bool replay, char *err, size_t errlen) {
    switch (ev->kind) {
    case BT_EV_FORMAT:
        return on_format(p, ev, replay, err, errlen);
    case BT_EV_GTID:
        if (replay) return 0;
        if (p->in_txn && bt_pl_txn_abandon(p, ev, "GTID", err, errlen) != 0) return -1;
        bt_pl_note_gtid(p, ev);
        bt_pl_txn_begin(p, ev->u.gtid.text,
                  ev->u.gtid.commit_ts_us ? ev->u.gtid.commit_ts_us / 1000 : (int64_t)ev->timestamp * 1000);
        /* MariaDB marks a group that is one statement; one that is not ends at its XID */
        p->txn_until_end = bt_decoder_fde(p->dec)->mariadb && !ev->u.gtid.standalone;
        return ev->u.gtid.xa_prepared ? bt_pl_xa_start(p, ev, err, errlen) : 0;
    case BT_EV_GTID_LIST:
        if (!replay) bt_pl_note_gtid_set(p, ev->u.gtid_list.text);
        return 0;
    case BT_EV_BEGIN:
        return on_begin(p, ev, err, errlen);
    case BT_EV_TABLE_MAP:
        return p->xa ? bt_pl_xa_record(p, ev, err, errlen) : 0;
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
    int64_t now = bt_mono_ms();
    if (!force && now - p->last_ckpt_ms < p->cfg->checkpoint_interval_ms) return 0;
    if (p->tracker.safe_changes == p->ckpt_written_changes) return 0;
    if (p->sink->ops->sync(p->sink, err, errlen) != 0) return -1;
    if (bt_checkpoint_write(p->cfg->state_dir, &p->tracker.safe, err, errlen) != 0) return -1;
    p->last_ckpt_ms = now;
    p->ckpt_written_changes = p->tracker.safe_changes;
    if (p->nxa_done) bt_pl_xa_forget_committed(p);
    bt_debug("checkpoint %s:%" PRIu64 " %s", p->tracker.safe.file, p->tracker.safe.pos, p->tracker.safe.gtid);
    return 0;
}

void bt_pl_update_lag(bt_pipeline_t *p, bool idle) {
    int64_t now = bt_wall_ms(); /* lag is against the server's commit timestamps */
    /* Without a checkpoint nothing is read again: a committed XA record can go once its
     * messages are delivered (with one, once the checkpoint file is past it). */
    if (bt_tracker_advance(&p->tracker) && p->nxa_done && !p->cfg->state_dir) bt_pl_xa_forget_committed(p);
    int64_t lag = 0;
    if (!idle || !bt_tracker_idle(&p->tracker) || p->in_txn) {
        int64_t ts = p->tracker.safe.commit_ts_ms;
        if (ts > 0 && p->tracker.has_safe) lag = now - ts;
        if (lag < 0) lag = 0;
    }
    atomic_store(&p->stats.lag_ms, lag);
    atomic_store(&p->stats.sink_failing_ms, p->sink->ops->failing_ms(p->sink));
}

int bt_pipeline_start_at(bt_pipeline_t *p, const bt_position_t *start, char *err, size_t errlen) {
    if (bt_gtid_set_empty(p->gtid_state)) bt_pl_gtid_seed(p, start->gtid);
    p->tracker.safe = *start;
    p->tracker.has_safe = true;
    p->tracker.safe_changes++;
    snprintf(p->passed_file, sizeof p->passed_file, "%s", start->file);
    return write_checkpoint(p, true, err, errlen);
}

/* ---------------------------------------------------------------- full sync */

void bt_pipeline_set_server_id(bt_pipeline_t *p, uint32_t server_id) { p->route_server_id = server_id; }

void bt_pipeline_chunk_begin(bt_pipeline_t *p) { bt_pl_txn_begin(p, "", bt_wall_ms()); }

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
    c.ts_ms = c.now_ms = bt_wall_ms();
    c.txn_seq = p->txn_count;
    c.seq = ++p->change_seq;
    atomic_fetch_add(&p->stats.rows, 1);
    if (p->fatal[0]) {
        snprintf(err, errlen, "%s", p->fatal);
        return -1;
    }
    int rc = bt_pl_emit(p, &c, topic, err, errlen);
    if (rc == BT_PIPE_STOPPED) snprintf(err, errlen, "stopped");
    return rc == 0 ? 0 : -1;
}

int bt_pipeline_chunk_end(bt_pipeline_t *p, const bt_position_t *progress, char *err, size_t errlen) {
    /* the snapshot point's GTID state (MySQL: the executed set there) is where the stream's begins */
    if (progress->gtid[0] && bt_gtid_set_empty(p->gtid_state)) bt_pl_gtid_seed(p, progress->gtid);
    if (!p->in_txn) bt_pipeline_chunk_begin(p);
    p->in_txn = false;
    if (bt_pl_track_end(p, progress) != 0) {
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
    bt_pl_update_lag(p, false);
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
    int64_t now = bt_mono_ms(), deadline = now + timeout_ms, progress_ms = now;
    uint64_t left = p->sink->ops->in_flight(p->sink);
    while (left > 0 && now < deadline) {
        p->sink->ops->poll(p->sink, 100);
        now = bt_mono_ms();
        uint64_t l = p->sink->ops->in_flight(p->sink);
        if (l < left) progress_ms = now;
        left = l;
        /* the sink is down and nothing moved for 3 s: waiting longer would only delay the exit */
        if (now - progress_ms > 3000 && p->sink->ops->failing_ms(p->sink) > 0) break;
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
    bt_pl_update_lag(p, at_end);
    if (write_checkpoint(p, false, err, errlen) != 0) {
        *rc = failed(p, false);
        return 1;
    }
    if (!p->cfg->stop_at_end || !at_end || p->in_txn) return 0;
    int64_t until = bt_mono_ms() + 60000;
    while (bt_mono_ms() < until && drain(p, 1000) != 0 && !*p->stop) {
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
    atomic_store(&p->stats.last_event_ms, bt_mono_ms());
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
            bt_pl_note_stop(p);
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
        int64_t now = bt_mono_ms();
        if (now - p->last_housekeeping_ms >= 100) {
            p->last_housekeeping_ms = now;
            bt_pl_update_lag(p, false);
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
