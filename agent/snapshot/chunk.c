/* chunk.c: one reader's work on one table: a SELECT per chunk in primary-key order, each row
 * converted into typed values and queued, each full chunk's last key queued as progress.
 *
 * DESIGN: a table is read by keyset pagination: every chunk is one SELECT ... WHERE key > last
 * ORDER BY key LIMIT --snapshot-chunk-rows, so a chunk costs an index range read whatever its
 * offset, and a restart continues after the checkpoint's key. A table without a primary key is
 * one streaming SELECT (mysql_use_result), with no resumable progress. Each row is held back
 * until the next one arrives, so that the table's last row can say so, and a full chunk's end
 * follows its last row into the queue. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/snapshot/internal.h"
#include "lib/lib.h"

/* ---------------------------------------------------------------- rows and statements */

/* One fetched row as a message: the cells copied (NUL-terminated) and converted in place. */
static bt_snap_msg_t *row_msg(const bt_snap_table_t *st, size_t entry, MYSQL_ROW row, const unsigned long *lens,
                              double *size, char *err, size_t errlen) {
    uint32_t n = st->t.ncols;
    size_t data = 0;
    for (uint32_t i = 0; i < n; i++) data += (row[i] ? lens[i] : 0) + 1;
    size_t total = sizeof(bt_snap_msg_t) + n * sizeof(bt_value_t) + data;
    bt_snap_msg_t *m = malloc(total);
    if (!m) {
        snprintf(err, errlen, "snapshot of %s: out of memory for a %zu-byte row", st->label, total);
        return NULL;
    }
    memset(m, 0, sizeof *m);
    m->kind = BT_SNAP_MSG_ROW;
    m->entry = entry;
    m->st = (bt_snap_table_t *)st;
    m->bytes = total;
    m->row.ncols = n;
    m->row.v = m->v;
    char *d = (char *)(m->v + n);
    for (uint32_t i = 0; i < n; i++) {
        char *cell = NULL;
        if (row[i]) {
            cell = d;
            memcpy(cell, row[i], lens[i]);
            cell[lens[i]] = 0;
            d += lens[i] + 1;
        }
        if (bt_snap_cell(st, i, cell, row[i] ? lens[i] : 0, &m->v[i], err, errlen) != 0) {
            free(m);
            return NULL;
        }
    }
    *size = (double)data;
    return m;
}

/* WHERE for the next chunk: key > last. Written out as c1 >= v1 AND (c1 > v1 OR (c1 = v1 AND
 * c2 > v2)) rather than (c1, c2) > (v1, v2), which MariaDB (10.11 at least) answers with a
 * full index scan from the start of the table: every chunk would cost the whole table. */
static void key_condition(bt_buf_t *b, const bt_snap_table_t *st, char **lits) {
    const bt_table_t *t = &st->t;
    if (t->npk > 1) {
        bt_snap_quote_ident(b, t->cols[t->pk[0]].name);
        bt_buf_printf(b, " >= %s AND ", lits[0]);
    }
    for (uint32_t k = 0; k < t->npk; k++) {
        const char *name = t->cols[t->pk[k]].name;
        if (k + 1 < t->npk) bt_buf_putc(b, '(');
        bt_snap_quote_ident(b, name);
        bt_buf_printf(b, " > %s", lits[k]);
        if (k + 1 < t->npk) {
            bt_buf_puts(b, " OR (");
            bt_snap_quote_ident(b, name);
            bt_buf_printf(b, " = %s AND ", lits[k]);
        }
    }
    for (uint32_t k = 0; k + 1 < t->npk; k++) bt_buf_puts(b, "))");
}

static void build_select(bt_buf_t *b, const bt_snap_table_t *st, char **lits, int64_t limit) {
    const bt_table_t *t = &st->t;
    bt_buf_reset(b);
    bt_buf_printf(b, "SELECT /* bintail snapshot */ %s FROM %s", st->select_list, st->qname);
    if (lits) {
        bt_buf_puts(b, " WHERE ");
        key_condition(b, st, lits);
        if (st->where) bt_buf_printf(b, " AND (%s)", st->where);
    } else if (st->where) {
        bt_buf_printf(b, " WHERE (%s)", st->where);
    }
    if (t->npk) {
        bt_buf_puts(b, " ORDER BY ");
        for (uint32_t k = 0; k < t->npk; k++) {
            if (k) bt_buf_putc(b, ',');
            bt_snap_quote_ident(b, t->cols[t->pk[k]].name);
        }
        bt_buf_printf(b, " LIMIT %" PRId64, limit);
    }
}

/* ---------------------------------------------------------------- one table */

/* Reads one table; 0 done, -1 failed or stopped (the run knows which). */
int bt_snap_read_table(bt_snap_worker_t *w, size_t idx) {
    bt_snap_run_t *run = w->run;
    bt_snap_entry_t *e = &run->entries[idx];
    bt_snap_conn_t *c = &w->conn;
    char err[2048];
    bt_snap_table_t *st = NULL;
    bt_snap_msg_t *held = NULL; /* the newest row: sent once we know whether it is the last */
    char *pending_key = NULL;   /* a full chunk ended at this key: announced after `held` goes */
    char **lits = NULL;         /* SQL literals of the key to continue after */
    uint32_t nlits = 0;
    MYSQL_RES *res = NULL;
    bt_buf_t sql, keyjson;
    bt_buf_init(&sql, 0);
    bt_buf_init(&keyjson, 1 << 20);
    int rc = -1;

    if (bt_snap_table_load(c, e->db, e->name, &st, err, sizeof err) != 0) goto fail;
    if (!st) {
        bt_warn("snapshot: %s was dropped before it was read; skipped", e->label);
        bt_snap_msg_t *m = bt_snap_msg_new(BT_SNAP_MSG_CHUNK, idx, NULL);
        m->last = true;
        rc = bt_snap_queue_push(run, m);
        goto out;
    }
    e->st = st;
    if (e->where) st->where = bt_xstrdup(e->where);
    if (st->t.npk == 0)
        bt_warn("snapshot: %s has no primary key: it is read in one pass (no resumable progress inside it; a "
                "restart reads it again) and its messages have no key",
                e->label);
    if (e->resume_key && e->resume_key[0] && st->t.npk) {
        if (bt_snap_key_parse(c, st, e->resume_key, &lits, err, sizeof err) != 0) goto fail;
        nlits = st->t.npk;
    }
    bt_snap_msg_t *start = bt_snap_msg_new(BT_SNAP_MSG_START, idx, st);
    if (bt_snap_queue_push(run, start) != 0) goto stopped;

    for (;;) {
        build_select(&sql, st, lits, run->chunk_rows);
        if (sql.failed) goto oom;
        if (bt_snap_exec(c, sql.p, sql.len, e->label, err, sizeof err) != 0) {
            unsigned code = mysql_errno(c->m);
            if (st->where && (code == 1064 || code == 1054)) { /* syntax error, unknown column */
                size_t n = strlen(err);
                snprintf(err + n, sizeof err - n, " (check --snapshot-where %s:%s)", e->label, st->where);
            }
            goto fail;
        }
        /* Streaming: rows arrive as they are read, never a whole result in memory. */
        if (!(res = mysql_use_result(c->m))) {
            bt_snap_error(c, sql.p, e->label, err, sizeof err);
            goto fail;
        }
        int64_t n = 0;
        MYSQL_ROW row;
        while ((row = mysql_fetch_row(res))) {
            double size;
            bt_snap_msg_t *m = row_msg(st, idx, row, mysql_fetch_lengths(res), &size, err, sizeof err);
            if (!m) goto fail;
            if (held) {
                bt_snap_msg_t *h = held;
                held = NULL;
                if (bt_snap_queue_push(run, h) != 0) {
                    bt_snap_msg_free(m);
                    goto stopped;
                }
            }
            held = m;
            if (pending_key) {
                bt_snap_msg_t *ck = bt_snap_msg_new(BT_SNAP_MSG_CHUNK, idx, st);
                ck->key = pending_key;
                pending_key = NULL;
                if (bt_snap_queue_push(run, ck) != 0) goto stopped;
            }
            n++;
            if (bt_snap_pace_row(&run->pace, size) != 0) goto stopped;
        }
        if (mysql_errno(c->m)) {
            bt_snap_error(c, sql.p, e->label, err, sizeof err);
            goto fail;
        }
        mysql_free_result(res);
        res = NULL;
        if (st->t.npk == 0 || n < run->chunk_rows) break; /* the end of the table */
        /* A full chunk: the next one starts after its last key. */
        bt_buf_reset(&keyjson);
        if (!bt_snap_key_json(st, &held->row, &keyjson)) {
            snprintf(err, sizeof err,
                     "snapshot of %s: cannot page through it by its primary key (a key value "
                     "cannot be written back as SQL)",
                     e->label);
            goto fail;
        }
        bt_snap_key_free(lits, nlits);
        lits = NULL;
        if (bt_snap_key_parse(c, st, keyjson.p, &lits, err, sizeof err) != 0) goto fail;
        nlits = st->t.npk;
        free(pending_key);
        pending_key = bt_xstrdup(keyjson.p);
    }
    /* The table is done: its last row, then the chunk that says so (the table goes with it). */
    if (held) {
        held->last = true;
        bt_snap_msg_t *h = held;
        held = NULL;
        if (bt_snap_queue_push(run, h) != 0) goto stopped;
    }
    bt_snap_msg_t *done = bt_snap_msg_new(BT_SNAP_MSG_CHUNK, idx, st);
    done->last = true;
    rc = bt_snap_queue_push(run, done);
    goto out;

oom:
    snprintf(err, sizeof err, "snapshot of %s: out of memory", e->label);
fail:
    /* a wait or a statement cut short by a stop (or another reader's failure) is no error */
    if (!bt_snap_pace_stopped(&run->pace)) bt_snap_run_fail(run, err);
stopped:
    rc = -1;
    if (res) {
        bt_snap_conn_cancel(c); /* do not read the rest of a big result first */
        mysql_free_result(res);
        res = NULL;
    }
out:
    bt_snap_msg_free(held);
    free(pending_key);
    bt_snap_key_free(lits, nlits);
    bt_buf_free(&sql);
    bt_buf_free(&keyjson);
    return rc;
}
