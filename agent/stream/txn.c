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

/* The MariaDB GTID position after this transaction: the last GTID of every domain seen. */
void bt_pl_note_gtid(bt_pipeline_t *p, const bt_event_t *ev) {
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
