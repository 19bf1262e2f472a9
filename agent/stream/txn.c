/* txn.c: transaction and GTID bookkeeping of the reader loop: where a transaction begins and
 * ends, the position the tracker gets for it, and what happens to one that never ended. */
#include "agent/stream/internal.h"

/* ---------------------------------------------------------------- transactions */

void bt_pl_txn_begin(bt_pipeline_t *p, const char *gtid, int64_t ts_ms) {
    p->in_txn = true;
    p->txn_body = false;
    p->txn_until_end = false;
    p->txn = 0; /* a slot is taken with the first message: transactions that send nothing take none */
    p->txn_count++;
    if (gtid != p->gtid) snprintf(p->gtid, sizeof p->gtid, "%s", gtid ? gtid : "");
    p->txn_ts_ms = ts_ms;
}

/* The position "file:pos, after everything read so far" for the tracker. */
void bt_pl_here(bt_pipeline_t *p, uint64_t pos, bt_position_t *out) {
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
int bt_pl_track_end(bt_pipeline_t *p, const bt_position_t *end) {
    int rc = p->txn ? bt_tracker_end(&p->tracker, p->txn, end) : bt_tracker_pass(&p->tracker, end);
    snprintf(p->passed_file, sizeof p->passed_file, "%s", end->file);
    p->txn = 0;
    return rc;
}

/* Publishes the GTID state's text for the positions handed to the tracker and for status. */
static void publish_gtid_state(bt_pipeline_t *p) {
    bt_gtid_set_text(p->gtid_state, &p->gtid_text);
    const char *t = p->gtid_text.p ? p->gtid_text.p : "";
    if (p->gtid_text.len >= sizeof p->last_gtid_text && !p->gtid_truncated) {
        p->gtid_truncated = true;
        bt_warn("the GTID state has grown past %zu bytes and is cut in the checkpoint: a resume on another "
                "server by GTID may then send transactions again (file:pos on the same server is unaffected)",
                sizeof p->last_gtid_text - 1);
    }
    pthread_mutex_lock(&p->pos_lock);
    snprintf(p->last_gtid_text, sizeof p->last_gtid_text, "%s", t);
    pthread_mutex_unlock(&p->pos_lock);
}

/* Adds text (a GTID or a set) to the state. A state of the other flavour (a checkpoint written
 * while reading MariaDB, now MySQL) is dropped for the new one, with a warning. */
static void merge_gtid(bt_pipeline_t *p, const char *text, bool one_gtid) {
    char err[600];
    int rc = one_gtid ? bt_gtid_set_add_text(p->gtid_state, text, err, sizeof err)
                      : bt_gtid_set_parse(p->gtid_state, text, err, sizeof err);
    if (rc != 0) {
        bt_warn("GTID state: %s; starting it again from %s", err, text);
        bt_gtid_set_clear(p->gtid_state);
        rc = one_gtid ? bt_gtid_set_add_text(p->gtid_state, text, err, sizeof err)
                      : bt_gtid_set_parse(p->gtid_state, text, err, sizeof err);
        if (rc != 0) bt_warn("GTID state: %s", err);
    }
    publish_gtid_state(p);
}

/* The state at the start: the checkpoint's (or the start position's) GTID text. */
void bt_pl_gtid_seed(bt_pipeline_t *p, const char *text) {
    if (text && *text) merge_gtid(p, text, false);
}

/* The GTID state after this transaction: MySQL's executed set grows by its GTID, MariaDB's
 * position moves its domain to it and keeps every other domain. */
void bt_pl_note_gtid(bt_pipeline_t *p, const bt_event_t *ev) {
    if (ev->u.gtid.anonymous || !ev->u.gtid.text[0]) return;
    merge_gtid(p, ev->u.gtid.text, true);
}

/* PREVIOUS_GTIDS (MySQL) or GTID_LIST (MariaDB) at the start of a binlog file: everything
 * before the file, so the state knows GTIDs this run never read. */
void bt_pl_note_gtid_set(bt_pipeline_t *p, const char *text) {
    if (text && *text) merge_gtid(p, text, false);
}

int bt_pl_txn_end(bt_pipeline_t *p, const bt_event_t *ev, char *err, size_t errlen) {
    if (!p->in_txn) return 0;
    bt_position_t end;
    bt_pl_here(p, ev->end_pos, &end);
    end.commit_ts_ms = p->txn_ts_ms;
    p->in_txn = false;
    atomic_fetch_add(&p->stats.transactions, 1);
    if (bt_pl_track_end(p, &end) != 0) {
        snprintf(err, errlen, "out of memory for the delivery tracker");
        return -1;
    }
    return 0;
}

/* The open transaction never ended: a new one, or a new FORMAT_DESCRIPTION, came first (the
 * server stopped while writing it; a replica drops such a group, and so do we). Its slot is
 * released with the position where the new event starts, so the checkpoint moves on. */
int bt_pl_txn_abandon(bt_pipeline_t *p, const bt_event_t *ev, const char *what, char *err, size_t errlen) {
    if (!p->in_txn) return 0;
    bt_warn("%s:%" PRIu64 ": a %s follows a transaction that never ended (the server stopped while writing it): "
            "that transaction never committed; dropped%s", p->file, ev->pos, what,
            p->txn ? " (some of its rows had already been sent)" : "");
    if (p->xa) {
        bt_xa_spill_abort(p->xa);
        p->xa = NULL;
    }
    bt_position_t at;
    bt_pl_here(p, ev->pos, &at);
    p->in_txn = false;
    if (bt_pl_track_end(p, &at) != 0) {
        snprintf(err, errlen, "out of memory for the delivery tracker");
        return -1;
    }
    return 0;
}
