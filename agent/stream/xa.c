/* xa.c: XA transactions in the reader loop: the prepared half's events are recorded
 * (xa_spill.h), sent at XA COMMIT and dropped at XA ROLLBACK. */
#include "agent/stream/internal.h"

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
int bt_pl_xa_start(bt_pipeline_t *p, const bt_event_t *ev, char *err, size_t errlen) {
    if (!p->fde_len) {
        snprintf(err, errlen, "%s:%" PRIu64 ": an XA transaction before any FORMAT_DESCRIPTION", p->file, ev->pos);
        return -1;
    }
    if (xa_dir(p, err, errlen) != 0) return -1;
    bt_xa_spill_abort(p->xa);
    p->xa = bt_xa_spill_begin(p->xa_dir, p->fde_raw, p->fde_len, err, errlen);
    return p->xa ? 0 : -1;
}

int bt_pl_xa_record(bt_pipeline_t *p, const bt_event_t *ev, char *err, size_t errlen) {
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
        bt_decoder_opts_t dopts = {.schema_cb = bt_pl_schema_lookup, .schema_ctx = p};
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
            if (ev.kind == BT_EV_ROWS && (rc = bt_pl_send_rows(p, p->xa_dec, &ev, file, err, errlen)) != 0) break;
        if (rc != 0) break;
    }
    bt_xa_replay_close(r);
    if (rc == -1) p->needs_operator = true; /* a damaged record or event */
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

void bt_pl_xa_forget_committed(bt_pipeline_t *p) {
    size_t kept = 0;
    for (size_t i = 0; i < p->nxa_done; i++) {
        if (bt_binlog_pos_cmp(p->tracker.safe.file, p->tracker.safe.pos, p->xa_done[i].file, p->xa_done[i].pos) >= 0)
            unlink(p->xa_done[i].path);
        else p->xa_done[kept++] = p->xa_done[i];
    }
    p->nxa_done = kept;
}

/* The end of an XA group: XA_PREPARE (record kept; sent now only if it was a one-phase
 * commit), XA COMMIT (send the record), XA ROLLBACK (drop it). 1 = handled, 0 = not XA. */
int bt_pl_xa_end(bt_pipeline_t *p, const bt_event_t *ev, char *err, size_t errlen) {
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
