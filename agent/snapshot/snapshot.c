/* snapshot.c: full sync. Reads the existing rows of every captured table at one binlog
 * position, sends them through the pipeline as snapshot reads, and hands that position over so
 * streaming starts exactly there (see snapshot.h).
 *
 * DESIGN
 * - One point. MariaDB with one reader: START TRANSACTION WITH CONSISTENT SNAPSHOT, then
 *   binlog_snapshot_file/position (the position that matches the read view, no lock). Several
 *   readers each need the same read view: FLUSH TABLES WITH READ LOCK, start every transaction,
 *   read the position, UNLOCK TABLES (the time held is logged). MySQL: performance_schema.
 *   log_status read before and after starting the transactions; equal readings mean nothing
 *   committed in between, so the read views match that position. Otherwise (no log_status, no
 *   BACKUP_ADMIN, or a busy server three times in a row) the brief global read lock.
 * - Tables in (db, table) byte order, each in primary-key order by keyset pagination: every
 *   chunk is one SELECT ... WHERE key > last ORDER BY key LIMIT --snapshot-chunk-rows, so a
 *   chunk costs an index range read whatever its offset. A table without a primary key is one
 *   streaming SELECT (mysql_use_result), with no resumable progress.
 * - Threads. --snapshot-threads readers, each with its own connection, take whole tables in
 *   list order. The pipeline is single-threaded: readers convert rows into typed values and
 *   hand them over through a bounded queue (count and bytes), and only the caller's thread
 *   calls bt_pipeline_*. A full queue stops the readers, whose streaming SELECTs then wait on
 *   the network (their sessions get long net_write_timeout for that), so memory stays bounded
 *   by the queue whatever the table sizes.
 * - Progress. Each chunk's end becomes a pipeline "transaction" end whose position is the
 *   snapshot point plus a frontier: the first table in list order not yet fully read, and the
 *   key its last finished chunk ended at. Everything handed to the pipeline before that chunk
 *   end covers the frontier claim (tables before it are complete, it is complete up to the
 *   key), so the checkpoint the tracker writes once those messages are acknowledged is always
 *   a safe place to resume, even when several readers interleave their chunks. Tables after
 *   the frontier that were partly read are read again after a restart.
 * - Resume. Rows read after a restart come from a new read view, newer than the snapshot
 *   point, while streaming still starts at the old point (the checkpoint's file:pos). That is
 *   deliberate: replaying the binlog from the old point re-applies every change made since, so
 *   a consumer that keeps the latest row per primary key ends in the right state; only a
 *   consumer that reads the topic as a history can see a row "read" with a value that a
 *   replayed, older change then overwrites for a moment.
 * Known limits: DDL during the snapshot is not coordinated (a table altered after the read
 * view fails with the server's "table definition has changed" and the snapshot continues
 * from its checkpoint after a restart); non-InnoDB tables are not covered by the read view. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "agent/snapshot/snapshot.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <errmsg.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/source/mysql_url.h"
#include "agent/snapshot/internal.h"
#include "agent/source/startpos.h"
#include "lib/lib.h"

#define QUEUE_MAX_ROWS 8192
#define QUEUE_MAX_BYTES ((size_t)64 << 20)
#define PROGRESS_LOG_MS 5000
#define SERVICE_MS 50

/* ---------------------------------------------------------------- the row queue */

typedef enum { MSG_ROW, MSG_START, MSG_CHUNK } msg_kind_t;

typedef struct snap_msg {
    struct snap_msg *next;
    msg_kind_t kind;
    size_t entry;            /* index in the run's table list */
    bt_snap_table_t *st;     /* ROW, START, CHUNK: the table (owned by its entry) */
    size_t bytes;            /* what it counts against the queue */
    bool last;               /* ROW: the table's last row; CHUNK: the table is done */
    char *key;               /* CHUNK: the last key (JSON), NULL = none */
    bt_row_t row;            /* ROW: values point into this allocation */
    bt_value_t v[];
} snap_msg_t;

typedef struct snap_queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    snap_msg_t *head, *tail;
    size_t count, bytes;
} snap_queue_t;

static void msg_free(snap_msg_t *m) {
    if (!m) return;
    free(m->key);
    free(m);
}

/* ---------------------------------------------------------------- the run */

typedef struct snap_entry {
    char *db, *name, *label;
    int64_t estimate;
    char *engine;
    const char *where;       /* --snapshot-where condition, or NULL */
    char *resume_key;        /* the checkpoint's last key when resuming inside this table */
    bt_snap_table_t *st;     /* set by its reader; freed by the caller's thread when done or at the end */
    /* the caller's thread only: */
    bool started, done;
    char *last_key;          /* key of the last finished chunk ("" or NULL: none) */
    uint64_t rows;
    int64_t start_ms;
} snap_entry_t;

typedef struct snap_run snap_run_t;

typedef struct snap_worker {
    snap_run_t *run;
    bt_snap_conn_t conn;
    pthread_t tid;
    bool started;
} snap_worker_t;

struct snap_run {
    const bt_snapshot_opts_t *o;
    const bt_config_t *cfg;
    bt_pipeline_t *p;
    bt_snap_pace_t pace;
    bt_mysql_url_t url;
    char *password;
    snap_worker_t *workers;
    int nworkers;
    snap_entry_t *entries;
    size_t nentries;
    _Atomic size_t next_entry;
    snap_queue_t q;
    pthread_mutex_t err_lock;
    char werr[2048];         /* the first reader error */
    atomic_bool failed;
    bt_position_t point;     /* the snapshot's binlog position (streaming starts here) */
    int64_t chunk_rows;
    pcre2_code *skip;        /* --snapshot-skip */
    pcre2_match_data *skip_md;
    /* progress (caller's thread) */
    bool tty, bar_shown;
    int64_t last_bar_ms, last_log_ms, start_ms;
    uint64_t rows_total;
};

static void queue_init(snap_queue_t *q) {
    memset(q, 0, sizeof *q);
    pthread_mutex_init(&q->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->not_empty, &ca);
    pthread_cond_init(&q->not_full, &ca);
    pthread_condattr_destroy(&ca);
}

static void queue_destroy(snap_queue_t *q) {
    snap_msg_t *m = q->head;
    while (m) {
        snap_msg_t *next = m->next;
        msg_free(m);
        m = next;
    }
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
}

/* Wakes every waiter: the run is ending. */
static void queue_wake(snap_queue_t *q) {
    pthread_mutex_lock(&q->lock);
    pthread_cond_broadcast(&q->not_full);
    pthread_cond_broadcast(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
}

/* Hands m over (the queue owns it from here, even on failure). -1 when the run is ending. */
static int queue_push(snap_run_t *run, snap_msg_t *m) {
    snap_queue_t *q = &run->q;
    pthread_mutex_lock(&q->lock);
    /* A row larger than the byte bound still goes, alone. */
    while (!bt_snap_pace_stopped(&run->pace) &&
           (q->count >= QUEUE_MAX_ROWS || (q->count > 0 && q->bytes + m->bytes > QUEUE_MAX_BYTES))) {
        struct timespec ts;
        bt_mono_deadline(&ts, 100); /* recheck the stop flag (a signal cannot signal a condvar) */
        pthread_cond_timedwait(&q->not_full, &q->lock, &ts);
    }
    if (bt_snap_pace_stopped(&run->pace)) {
        pthread_mutex_unlock(&q->lock);
        msg_free(m);
        return -1;
    }
    m->next = NULL;
    if (q->tail) q->tail->next = m;
    else q->head = m;
    q->tail = m;
    q->count++;
    q->bytes += m->bytes;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

/* Takes everything queued (a list), waiting up to timeout_ms for something. */
static snap_msg_t *queue_take_all(snap_queue_t *q, int timeout_ms) {
    pthread_mutex_lock(&q->lock);
    if (!q->head && timeout_ms > 0) {
        struct timespec ts;
        bt_mono_deadline(&ts, timeout_ms);
        pthread_cond_timedwait(&q->not_empty, &q->lock, &ts);
    }
    snap_msg_t *m = q->head;
    q->head = q->tail = NULL;
    q->count = 0;
    q->bytes = 0;
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->lock);
    return m;
}

static void run_fail(snap_run_t *run, const char *msg) {
    pthread_mutex_lock(&run->err_lock);
    if (!run->werr[0]) snprintf(run->werr, sizeof run->werr, "%s", msg);
    pthread_mutex_unlock(&run->err_lock);
    atomic_store(&run->failed, true);
    atomic_store(&run->pace.abort, true);
    queue_wake(&run->q);
}

/* ---------------------------------------------------------------- readers */

static snap_msg_t *msg_new(msg_kind_t kind, size_t entry, bt_snap_table_t *st) {
    snap_msg_t *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->kind = kind;
    m->entry = entry;
    m->st = st;
    m->bytes = sizeof *m;
    return m;
}

/* One fetched row as a message: the cells copied (NUL-terminated) and converted in place. */
static snap_msg_t *row_msg(const bt_snap_table_t *st, size_t entry, MYSQL_ROW row, const unsigned long *lens,
                           double *size, char *err, size_t errlen) {
    uint32_t n = st->t.ncols;
    size_t data = 0;
    for (uint32_t i = 0; i < n; i++) data += (row[i] ? lens[i] : 0) + 1;
    size_t total = sizeof(snap_msg_t) + n * sizeof(bt_value_t) + data;
    snap_msg_t *m = malloc(total);
    if (!m) {
        snprintf(err, errlen, "snapshot of %s: out of memory for a %zu-byte row", st->label, total);
        return NULL;
    }
    memset(m, 0, sizeof *m);
    m->kind = MSG_ROW;
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

/* Reads one table; 0 done, -1 failed or stopped (the run knows which). */
static int read_table(snap_worker_t *w, size_t idx) {
    snap_run_t *run = w->run;
    snap_entry_t *e = &run->entries[idx];
    bt_snap_conn_t *c = &w->conn;
    char err[2048];
    bt_snap_table_t *st = NULL;
    snap_msg_t *held = NULL;      /* the newest row: sent once we know whether it is the last */
    char *pending_key = NULL;     /* a full chunk ended at this key: announced after `held` goes */
    char **lits = NULL;           /* SQL literals of the key to continue after */
    uint32_t nlits = 0;
    MYSQL_RES *res = NULL;
    bt_buf_t sql, keyjson;
    bt_buf_init(&sql, 0);
    bt_buf_init(&keyjson, 1 << 20);
    int rc = -1;

    if (bt_snap_table_load(c, e->db, e->name, &st, err, sizeof err) != 0) goto fail;
    if (!st) {
        bt_warn("snapshot: %s was dropped before it was read; skipped", e->label);
        snap_msg_t *m = msg_new(MSG_CHUNK, idx, NULL);
        if (!m) goto oom;
        m->last = true;
        rc = queue_push(run, m);
        goto out;
    }
    e->st = st;
    if (e->where && !(st->where = strdup(e->where))) goto oom;
    if (st->t.npk == 0)
        bt_warn("snapshot: %s has no primary key: it is read in one pass (no resumable progress inside it; a "
                "restart reads it again) and its messages have no key", e->label);
    if (e->resume_key && e->resume_key[0] && st->t.npk) {
        if (bt_snap_key_parse(c, st, e->resume_key, &lits, err, sizeof err) != 0) goto fail;
        nlits = st->t.npk;
    }
    snap_msg_t *start = msg_new(MSG_START, idx, st);
    if (!start || queue_push(run, start) != 0) {
        if (!start) goto oom;
        goto stopped;
    }

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
            snap_msg_t *m = row_msg(st, idx, row, mysql_fetch_lengths(res), &size, err, sizeof err);
            if (!m) goto fail;
            if (held) {
                snap_msg_t *h = held;
                held = NULL;
                if (queue_push(run, h) != 0) {
                    msg_free(m);
                    goto stopped;
                }
            }
            held = m;
            if (pending_key) {
                snap_msg_t *ck = msg_new(MSG_CHUNK, idx, st);
                if (!ck) goto oom;
                ck->key = pending_key;
                pending_key = NULL;
                if (queue_push(run, ck) != 0) goto stopped;
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
            snprintf(err, sizeof err, "snapshot of %s: cannot page through it by its primary key (a key value "
                     "cannot be written back as SQL)", e->label);
            goto fail;
        }
        bt_snap_key_free(lits, nlits);
        lits = NULL;
        if (bt_snap_key_parse(c, st, keyjson.p, &lits, err, sizeof err) != 0) goto fail;
        nlits = st->t.npk;
        free(pending_key);
        if (!(pending_key = strdup(keyjson.p))) goto oom;
    }
    /* The table is done: its last row, then the chunk that says so (the table goes with it). */
    if (held) {
        held->last = true;
        snap_msg_t *h = held;
        held = NULL;
        if (queue_push(run, h) != 0) goto stopped;
    }
    snap_msg_t *done = msg_new(MSG_CHUNK, idx, st);
    if (!done) goto oom;
    done->last = true;
    rc = queue_push(run, done);
    goto out;

oom:
    snprintf(err, sizeof err, "snapshot of %s: out of memory", e->label);
fail:
    /* a wait or a statement cut short by a stop (or another reader's failure) is no error */
    if (!bt_snap_pace_stopped(&run->pace)) run_fail(run, err);
stopped:
    rc = -1;
    if (res) {
        bt_snap_conn_cancel(c); /* do not read the rest of a big result first */
        mysql_free_result(res);
        res = NULL;
    }
out:
    msg_free(held);
    free(pending_key);
    bt_snap_key_free(lits, nlits);
    bt_buf_free(&sql);
    bt_buf_free(&keyjson);
    return rc;
}

static void *worker_main(void *arg) {
    snap_worker_t *w = arg;
    snap_run_t *run = w->run;
    while (!bt_snap_pace_stopped(&run->pace)) {
        size_t idx = atomic_fetch_add(&run->next_entry, 1);
        if (idx >= run->nentries) break;
        if (read_table(w, idx) != 0) break;
    }
    return NULL;
}

/* ---------------------------------------------------------------- the consistent point */

static int start_txn(bt_snap_conn_t *c, char *err, size_t errlen) {
    static const char q[] = "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY";
    return bt_snap_exec(c, q, sizeof q - 1, "the consistent snapshot", err, errlen);
}

static int exec_str(bt_snap_conn_t *c, const char *sql, const char *what, char *err, size_t errlen) {
    return bt_snap_exec(c, sql, strlen(sql), what, err, errlen);
}

/* MariaDB: the binlog position of this connection's consistent-snapshot transaction. */
static int mariadb_snapshot_pos(bt_snap_conn_t *c, bt_position_t *pt, char *err, size_t errlen) {
    MYSQL_RES *res = bt_snap_query(c, "SHOW STATUS LIKE 'binlog_snapshot_%'", "the snapshot's binlog position", err,
                                   errlen);
    if (!res) return -1;
    MYSQL_ROW row;
    pt->file[0] = 0;
    while ((row = mysql_fetch_row(res))) {
        if (!row[0] || !row[1]) continue;
        if (!strcasecmp(row[0], "Binlog_snapshot_file")) snprintf(pt->file, sizeof pt->file, "%s", row[1]);
        else if (!strcasecmp(row[0], "Binlog_snapshot_position")) pt->pos = strtoull(row[1], NULL, 10);
    }
    mysql_free_result(res);
    if (!pt->file[0]) {
        snprintf(err, errlen, "snapshot: the server reports no binlog position (binlog_snapshot_file is empty): "
                              "is log_bin on? bintail streams from the binlog, so the snapshot needs one");
        return -1;
    }
    return 0;
}

/* MySQL: SHOW MASTER STATUS (renamed SHOW BINARY LOG STATUS in 8.2). */
static int mysql_master_pos(bt_snap_conn_t *c, bt_position_t *pt, char *err, size_t errlen) {
    const char *q = c->version >= 80200 ? "SHOW BINARY LOG STATUS" : "SHOW MASTER STATUS";
    MYSQL_RES *res = bt_snap_query(c, q, "the snapshot's binlog position", err, errlen);
    if (!res) return -1;
    MYSQL_ROW row = mysql_fetch_row(res);
    if (!row || !row[0] || !row[1]) {
        mysql_free_result(res);
        snprintf(err, errlen, "snapshot: %s returned nothing: is log_bin on? the snapshot needs a binlog", q);
        return -1;
    }
    snprintf(pt->file, sizeof pt->file, "%s", row[0]);
    pt->pos = strtoull(row[1], NULL, 10);
    mysql_free_result(res);
    return 0;
}

/* MySQL: performance_schema.log_status's binlog file and position ({"binary_log_file": ...,
 * "binary_log_position": ...} in its LOCAL column). 1 = not available (err says why). */
static int mysql_log_status(bt_snap_conn_t *c, char *file, size_t flen, uint64_t *pos, char *err, size_t errlen) {
    MYSQL_RES *res = bt_snap_query(c, "SELECT LOCAL FROM performance_schema.log_status", "performance_schema.log_status",
                                   err, errlen);
    if (!res) return mysql_errno(c->m) == CR_SERVER_LOST || mysql_errno(c->m) == CR_SERVER_GONE_ERROR ? -1 : 1;
    MYSQL_ROW row = mysql_fetch_row(res);
    const char *local = row && row[0] ? row[0] : "";
    const char *f = strstr(local, "\"binary_log_file\"");
    const char *p = strstr(local, "\"binary_log_position\"");
    int rc = 1;
    snprintf(err, errlen, "performance_schema.log_status has no binary log position (%.200s)", local);
    if (f && p) {
        f = strchr(f + 17, '"');
        const char *e = f ? strchr(f + 1, '"') : NULL;
        p = strchr(p + 21, ':');
        if (f && e && p && (size_t)(e - f - 1) < flen) {
            snprintf(file, flen, "%.*s", (int)(e - f - 1), f + 1);
            *pos = strtoull(p + 1, NULL, 10);
            rc = file[0] ? 0 : 1;
        }
    }
    mysql_free_result(res);
    return rc;
}

/* FLUSH TABLES WITH READ LOCK; START TRANSACTION x N; the position; UNLOCK TABLES. The
 * statements under the lock are reserved from the query pacing in advance, so the lock is not
 * held longer while --snapshot-max-qps waits (unless they do not fit in one second of it). */
static int lock_point(snap_run_t *run, char *err, size_t errlen) {
    bt_snap_conn_t *c0 = &run->workers[0].conn;
    if (exec_str(c0, "SET SESSION lock_wait_timeout = 60", "the global read lock", err, errlen) != 0) return -1;
    unsigned k = (unsigned)run->nworkers + 3;
    uint64_t ticket;
    int r = bt_snap_pace_queries(&run->pace, k, &ticket);
    if (r < 0) {
        snprintf(err, errlen, "snapshot stopped");
        return -1;
    }
    if (r > 0)
        bt_warn("snapshot: the %u statements under the global read lock do not fit in one second of "
                "--snapshot-max-qps: the lock is held while they wait", k);
    for (int i = 0; i < run->nworkers; i++) run->workers[i].conn.unpaced = r == 0;
    int rc = -1;
    bool locked = false;
    int64_t t0 = bt_mono_ns();
    if (exec_str(c0, "FLUSH TABLES WITH READ LOCK", "the global read lock", err, errlen) != 0) goto out;
    locked = true;
    int64_t t_locked = bt_mono_ns();
    for (int i = 0; i < run->nworkers; i++)
        if (start_txn(&run->workers[i].conn, err, errlen) != 0) goto out;
    if (c0->mariadb ? mariadb_snapshot_pos(c0, &run->point, err, errlen) : mysql_master_pos(c0, &run->point, err, errlen))
        goto out;
    rc = 0;
out:
    if (locked) {
        char err2[512];
        if (exec_str(c0, "UNLOCK TABLES", "the global read lock", err2, sizeof err2) != 0 && rc == 0) {
            snprintf(err, errlen, "%s", err2);
            rc = -1;
        }
        int64_t t1 = bt_mono_ns();
        bt_info("snapshot: global read lock held %.1f ms (%.1f ms waiting for FLUSH TABLES WITH READ LOCK) to start "
                "%d readers on one read view", (double)(t1 - t_locked) / 1e6, (double)(t_locked - t0) / 1e6,
                run->nworkers);
    }
    bt_snap_pace_done(&run->pace, ticket, r == 0 ? k : 0);
    for (int i = 0; i < run->nworkers; i++) run->workers[i].conn.unpaced = false;
    return rc;
}

static int take_point(snap_run_t *run, char *err, size_t errlen) {
    bt_snap_conn_t *c0 = &run->workers[0].conn;
    if (run->o->resume) {
        /* Continuing: the point stays the checkpoint's; any read view at or after it will do
         * (see DESIGN), so no lock even with several readers. */
        for (int i = 0; i < run->nworkers; i++)
            if (start_txn(&run->workers[i].conn, err, errlen) != 0) return -1;
        return 0;
    }
    if (c0->mariadb) {
        if (run->nworkers > 1) return lock_point(run, err, errlen);
        if (start_txn(c0, err, errlen) != 0 || mariadb_snapshot_pos(c0, &run->point, err, errlen) != 0) return -1;
        bt_info("snapshot: consistent read view at %s:%" PRIu64 " (MariaDB binlog_snapshot_file/position, no lock)",
                run->point.file, run->point.pos);
        return 0;
    }
    /* MySQL: the position around starting the transactions must not move. */
    for (int attempt = 0; attempt < 3; attempt++) {
        char f1[256], f2[256];
        uint64_t p1 = 0, p2 = 0;
        int r = mysql_log_status(c0, f1, sizeof f1, &p1, err, errlen);
        if (r < 0) return -1;
        if (r > 0) {
            bt_info("snapshot: %s; using the brief global read lock instead", err);
            return lock_point(run, err, errlen);
        }
        for (int i = 0; i < run->nworkers; i++)
            if (start_txn(&run->workers[i].conn, err, errlen) != 0) return -1;
        if (mysql_log_status(c0, f2, sizeof f2, &p2, err, errlen) != 0) return -1;
        if (!strcmp(f1, f2) && p1 == p2) {
            snprintf(run->point.file, sizeof run->point.file, "%s", f1);
            run->point.pos = p1;
            bt_info("snapshot: consistent read view at %s:%" PRIu64 " (performance_schema.log_status unchanged "
                    "while %d reader(s) started; no lock)", f1, p1, run->nworkers);
            return 0;
        }
        for (int i = 0; i < run->nworkers; i++)
            if (exec_str(&run->workers[i].conn, "ROLLBACK", "the consistent snapshot", err, errlen) != 0) return -1;
    }
    bt_info("snapshot: the binlog moved while the readers started, three times: using the brief global read lock");
    return lock_point(run, err, errlen);
}

/* The server's own id: ${server_id} in topic names is the same for snapshot and stream rows
 * (the stream's comes from the binlog files' FORMAT_DESCRIPTION, written by this server). */
static int server_id(snap_run_t *run, unsigned long *out, char *err, size_t errlen) {
    MYSQL_RES *res = bt_snap_query(&run->workers[0].conn, "SELECT @@server_id", "the server id", err, errlen);
    if (!res) return -1;
    MYSQL_ROW row = mysql_fetch_row(res);
    *out = row && row[0] ? strtoul(row[0], NULL, 10) : 0;
    mysql_free_result(res);
    bt_pipeline_set_server_id(run->p, (uint32_t)*out);
    return 0;
}

/* XA transactions prepared when the snapshot is taken: their rows are not in the read view and
 * their prepare lies before the streaming start, so their XA COMMIT cannot send them. Said
 * once, by XID, so that an operator can re-snapshot those tables after the commit. */
static void warn_prepared_xa(snap_run_t *run) {
    char err[256];
    MYSQL_RES *res = bt_snap_query(&run->workers[0].conn, "XA RECOVER", "prepared XA transactions", err, sizeof err);
    if (!res) {
        bt_debug("snapshot: cannot list prepared XA transactions: %s", err);
        return;
    }
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)))
        bt_warn("snapshot: XA transaction '%s' is prepared but not committed: its rows are not in the snapshot, "
                "and when it commits they will not be sent either (its prepare is before the snapshot's point); "
                "commit or roll it back before the snapshot, or snapshot its tables again afterwards",
                row[3] ? row[3] : "?");
    mysql_free_result(res);
}

/* The point must be in the binlog bintail streams from: the same server and file. */
static int check_point(snap_run_t *run, char *err, size_t errlen) {
    char dirbuf[PATH_MAX];
    const char *dir = bt_config_binlog_dir(run->cfg, dirbuf, sizeof dirbuf);
    unsigned long server;
    if (server_id(run, &server, err, errlen) != 0) return -1;
    if (!run->o->resume) warn_prepared_xa(run);
    if (!dir) return 0; /* not streaming from local files: nothing to compare with */
    uint32_t sid, created;
    if (bt_binlog_file_identity(dir, run->point.file, &sid, &created) != 0) {
        if (run->o->resume)
            snprintf(err, errlen, "the interrupted snapshot's binlog start point %s:%" PRIu64 " is no longer in %s "
                     "(purged): its rows cannot be completed consistently; start over with --reset-checkpoint",
                     run->point.file, run->point.pos, dir);
        else
            snprintf(err, errlen, "the snapshot's binlog position %s:%" PRIu64 " is not in --binlog-dir %s: --mysql "
                     "must name the server whose binlog files bintail reads", run->point.file, run->point.pos, dir);
        return -1;
    }
    if (run->o->resume) {
        if (run->point.file_created && (created != run->point.file_created || sid != run->point.server_id)) {
            snprintf(err, errlen, "the checkpoint's snapshot point %s is for another binlog (server %u at %u; the file "
                     "there now is server %u at %u): start over with --reset-checkpoint", run->point.file,
                     run->point.server_id, run->point.file_created, sid, created);
            return -1;
        }
        return 0;
    }
    if (server != sid) {
        snprintf(err, errlen, "--mysql is server %lu, but %s/%s was written by server %u: the snapshot must come from "
                 "the server whose binlog bintail reads", server, dir, run->point.file, sid);
        return -1;
    }
    run->point.server_id = sid;
    run->point.file_created = created;
    return 0;
}

/* ---------------------------------------------------------------- the table list */

static int entry_cmp(const void *a, const void *b) {
    const snap_entry_t *x = a, *y = b;
    int c = strcmp(x->db, y->db);
    return c ? c : strcmp(x->name, y->name);
}

static void entry_free(snap_entry_t *e) {
    free(e->db);
    free(e->name);
    free(e->label);
    free(e->engine);
    free(e->resume_key);
    free(e->last_key);
    bt_snap_table_free(e->st);
}

/* --snapshot-skip (anchored, like --include/--exclude) and --snapshot-where's syntax, checked
 * before connecting anywhere. */
static int check_flags(snap_run_t *run, char *err, size_t errlen) {
    const bt_config_t *cfg = run->cfg;
    if (cfg->snapshot_skip && *cfg->snapshot_skip) {
        int ecode;
        PCRE2_SIZE eoff;
        run->skip = pcre2_compile((PCRE2_SPTR)cfg->snapshot_skip, PCRE2_ZERO_TERMINATED,
                                  PCRE2_ANCHORED | PCRE2_ENDANCHORED, &ecode, &eoff, NULL);
        if (!run->skip) {
            char msg[256];
            pcre2_get_error_message(ecode, (PCRE2_UCHAR *)msg, sizeof msg);
            snprintf(err, errlen, "--snapshot-skip '%s': bad regular expression at offset %zu: %s", cfg->snapshot_skip,
                     (size_t)eoff, msg);
            return -1;
        }
        if (!(run->skip_md = pcre2_match_data_create_from_pattern(run->skip, NULL))) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    for (size_t k = 0; k < cfg->snapshot_where.n; k++) {
        const char *spec = cfg->snapshot_where.v[k];
        const char *colon = strchr(spec, ':');
        if (!colon || colon == spec || !colon[1]) {
            snprintf(err, errlen, "--snapshot-where '%s': expected DB.TABLE:CONDITION, e.g. 'shop.orders:created_at "
                     ">= \"2024-01-01\"'", spec);
            return -1;
        }
    }
    return 0;
}

static int list_tables(snap_run_t *run, char *err, size_t errlen) {
    const bt_config_t *cfg = run->cfg;
    MYSQL_RES *res = bt_snap_query(&run->workers[0].conn,
                                   "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_ROWS, ENGINE FROM information_schema.TABLES "
                                   "WHERE TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') AND TABLE_SCHEMA NOT IN "
                                   "('mysql', 'information_schema', 'performance_schema', 'sys')",
                                   "the table list", err, errlen);
    int rc = -1;
    if (!res) goto out;
    size_t cap = mysql_num_rows(res) + 1;
    run->entries = calloc(cap, sizeof *run->entries);
    if (!run->entries) goto oom;
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res))) {
        if (!row[0] || !row[1]) continue;
        if (!bt_pipeline_captures(run->p, row[0], row[1])) continue;
        char label[600];
        snprintf(label, sizeof label, "%s.%s", row[0], row[1]);
        if (run->skip && pcre2_match(run->skip, (PCRE2_SPTR)label, strlen(label), 0, 0, run->skip_md, NULL) >= 0) {
            bt_info("snapshot: %s skipped (--snapshot-skip); it is still streamed", label);
            continue;
        }
        snap_entry_t *e = &run->entries[run->nentries++];
        e->db = strdup(row[0]);
        e->name = strdup(row[1]);
        e->label = strdup(label);
        e->estimate = row[2] ? strtoll(row[2], NULL, 10) : 0;
        e->engine = strdup(row[3] ? row[3] : "");
        if (!e->db || !e->name || !e->label || !e->engine) goto oom;
        if (row[3] && strcasecmp(row[3], "InnoDB") != 0)
            bt_warn("snapshot: %s uses ENGINE=%s, which the consistent read view does not cover: its rows may be "
                    "newer than the snapshot point", label, row[3]);
    }
    qsort(run->entries, run->nentries, sizeof *run->entries, entry_cmp);

    /* --snapshot-where db.table:CONDITION */
    for (size_t k = 0; k < cfg->snapshot_where.n; k++) {
        const char *spec = cfg->snapshot_where.v[k];
        const char *colon = strchr(spec, ':'); /* the syntax was checked in check_flags */
        size_t n = (size_t)(colon - spec), i;
        for (i = 0; i < run->nentries; i++)
            if (strlen(run->entries[i].label) == n && !memcmp(run->entries[i].label, spec, n)) break;
        if (i == run->nentries) bt_warn("--snapshot-where '%s': %.*s is not among the tables the snapshot reads", spec,
                                        (int)n, spec);
        else run->entries[i].where = colon + 1;
    }

    /* Resuming: tables before the checkpoint's are done; that one continues after its key. */
    const bt_position_t *rs = run->o->resume;
    if (rs && rs->snapshot_table[0]) {
        const char *dot = strchr(rs->snapshot_table, '.');
        snap_entry_t key = {0};
        char dbbuf[512];
        snprintf(dbbuf, sizeof dbbuf, "%.*s", dot ? (int)(dot - rs->snapshot_table) : (int)strlen(rs->snapshot_table),
                 rs->snapshot_table);
        key.db = dbbuf;
        key.name = dot ? (char *)dot + 1 : "";
        size_t first = 0;
        while (first < run->nentries && entry_cmp(&run->entries[first], &key) < 0) first++;
        for (size_t i = 0; i < first; i++) entry_free(&run->entries[i]);
        memmove(run->entries, run->entries + first, (run->nentries - first) * sizeof *run->entries);
        run->nentries -= first;
        if (run->nentries && entry_cmp(&run->entries[0], &key) == 0 && rs->snapshot_last_key[0]) {
            if (!(run->entries[0].resume_key = strdup(rs->snapshot_last_key))) goto oom;
            if (!(run->entries[0].last_key = strdup(rs->snapshot_last_key))) goto oom;
            bt_info("snapshot: resuming at table %s after key %s (%zu tables before it were done); rows read now "
                    "come from a new read view, newer than the snapshot point %s:%" PRIu64 ", and streaming still "
                    "starts at that point, which makes the final state right for keyed consumers",
                    rs->snapshot_table, rs->snapshot_last_key, first, rs->file, rs->pos);
        } else {
            bt_info("snapshot: resuming at table %s from its start (%zu tables before it were done); streaming "
                    "still starts at the snapshot point %s:%" PRIu64, rs->snapshot_table, first, rs->file, rs->pos);
        }
    } else if (rs) {
        bt_info("snapshot: resuming from the first table; streaming starts at the snapshot point %s:%" PRIu64,
                rs->file, rs->pos);
    }
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "snapshot: out of memory for the table list");
out:
    if (res) mysql_free_result(res);
    return rc;
}

/* ---------------------------------------------------------------- progress */

static void bar_clear(snap_run_t *run) {
    if (run->bar_shown) {
        fputs("\r\033[K", stderr);
        run->bar_shown = false;
    }
}

static void fmt_eta(char *o, size_t n, double secs) {
    if (!(secs >= 0) || secs > 360000) snprintf(o, n, "?");
    else if (secs >= 3600) snprintf(o, n, "%dh%02dm", (int)secs / 3600, (int)secs / 60 % 60);
    else if (secs >= 60) snprintf(o, n, "%dm%02ds", (int)secs / 60, (int)secs % 60);
    else snprintf(o, n, "%ds", (int)secs);
}

static void log_table(snap_run_t *run, snap_entry_t *e, int64_t now) {
    double secs = (double)(now - e->start_ms) / 1000;
    double rate = secs > 0 ? (double)e->rows / secs : 0;
    bar_clear(run);
    if (e->done) {
        bt_info("snapshot: %s done: %" PRIu64 " rows in %.1f s (%.0f rows/s)", e->label, e->rows, secs, rate);
        return;
    }
    char eta[32];
    int64_t est = e->estimate > (int64_t)e->rows ? e->estimate : (int64_t)e->rows;
    fmt_eta(eta, sizeof eta, rate > 0 ? (double)(est - (int64_t)e->rows) / rate : -1);
    bt_info("snapshot: %s %" PRIu64 " of ~%" PRId64 " rows (%.0f%%), %.0f rows/s, about %s left", e->label, e->rows,
            est, est ? 100.0 * (double)e->rows / (double)est : 100.0, rate, eta);
}

static void progress(snap_run_t *run, bool force) {
    int64_t now = bt_mono_ms();
    if (force || now - run->last_log_ms >= PROGRESS_LOG_MS) {
        run->last_log_ms = now;
        for (size_t i = 0; i < run->nentries; i++)
            if (run->entries[i].started && !run->entries[i].done) log_table(run, &run->entries[i], now);
    }
    if (!run->tty || now - run->last_bar_ms < 250) return;
    run->last_bar_ms = now;
    int64_t est = 0;
    const char *current = "";
    for (size_t i = 0; i < run->nentries; i++) {
        snap_entry_t *e = &run->entries[i];
        est += e->estimate > (int64_t)e->rows ? e->estimate : (int64_t)e->rows;
        if (e->started && !e->done && !current[0]) current = e->label;
    }
    double frac = est > 0 ? (double)run->rows_total / (double)est : 0;
    if (frac > 1) frac = 1;
    double secs = (double)(now - run->start_ms) / 1000;
    double rate = secs > 0 ? (double)run->rows_total / secs : 0;
    char eta[32], bar[31];
    fmt_eta(eta, sizeof eta, rate > 0 ? (double)(est - (int64_t)run->rows_total) / rate : -1);
    int filled = (int)(frac * 30);
    for (int k = 0; k < 30; k++) bar[k] = k < filled ? '#' : '-';
    bar[30] = 0;
    fprintf(stderr, "\r\033[Ksnapshot [%s] %3.0f%% %.40s %.0f rows/s ETA %s", bar, frac * 100, current, rate, eta);
    fflush(stderr);
    run->bar_shown = true;
}

/* ---------------------------------------------------------------- the caller's thread */

/* The checkpoint claim after everything handed over so far (see DESIGN: the frontier). */
static void frontier(snap_run_t *run, bt_position_t *pos) {
    *pos = run->point;
    pos->snapshot_active = true;
    pos->snapshot_table[0] = 0;
    pos->snapshot_last_key[0] = 0;
    for (size_t i = 0; i < run->nentries; i++) {
        snap_entry_t *e = &run->entries[i];
        if (e->done) continue;
        snprintf(pos->snapshot_table, sizeof pos->snapshot_table, "%s", e->label);
        /* A key too long for the checkpoint means this table starts over after a restart. */
        if (e->last_key && strlen(e->last_key) < sizeof pos->snapshot_last_key)
            snprintf(pos->snapshot_last_key, sizeof pos->snapshot_last_key, "%s", e->last_key);
        return;
    }
    /* Every table is read, but the final chunk end (snapshot_active false) is not written yet.
     * There is no name sorting after the last table, so this claims the last table from its
     * start: a crash in between reads that one table again, nothing else. */
    if (run->nentries)
        snprintf(pos->snapshot_table, sizeof pos->snapshot_table, "%s", run->entries[run->nentries - 1].label);
}

/* Handles one message; -1 with err when the pipeline fails. */
static int handle(snap_run_t *run, snap_msg_t *m, bool *in_chunk, char *err, size_t errlen) {
    snap_entry_t *e = &run->entries[m->entry];
    switch (m->kind) {
    case MSG_START:
        e->started = true;
        e->start_ms = bt_mono_ms();
        bar_clear(run);
        bt_info("snapshot: reading %s (~%" PRId64 " rows%s%s%s)", e->label, e->estimate, e->where ? ", where " : "",
                e->where ? e->where : "", m->st && m->st->t.npk == 0 ? ", no primary key" : "");
        return 0;
    case MSG_ROW:
        if (!*in_chunk) {
            bt_pipeline_chunk_begin(run->p);
            *in_chunk = true;
        }
        e->rows++;
        run->rows_total++;
        return bt_pipeline_snapshot_row(run->p, &m->st->t, &m->row, m->last, err, errlen);
    case MSG_CHUNK: {
        if (m->last) {
            e->done = true;
            if (!e->started) e->start_ms = bt_mono_ms();
        } else if (m->key) {
            free(e->last_key);
            e->last_key = m->key;
            m->key = NULL;
        }
        bt_position_t pos;
        frontier(run, &pos);
        if (!*in_chunk) bt_pipeline_chunk_begin(run->p);
        *in_chunk = false;
        if (bt_pipeline_chunk_end(run->p, &pos, err, errlen) != 0) return -1;
        if (m->last) {
            if (e->started) log_table(run, e, bt_mono_ms());
            bt_snap_table_free(e->st); /* every row of it was handled before this message */
            e->st = NULL;
        }
        return 0;
    }
    }
    return 0;
}

static void stop_workers(snap_run_t *run) {
    atomic_store(&run->pace.abort, true);
    queue_wake(&run->q);
    for (int i = 0; i < run->nworkers; i++)
        if (run->workers[i].started) {
            pthread_join(run->workers[i].tid, NULL);
            run->workers[i].started = false;
        }
}

static void run_free(snap_run_t *run) {
    stop_workers(run);
    queue_destroy(&run->q); /* rows may refer to tables: free those after */
    for (int i = 0; i < run->nworkers; i++) bt_snap_conn_close(&run->workers[i].conn);
    free(run->workers);
    for (size_t i = 0; i < run->nentries; i++) entry_free(&run->entries[i]);
    free(run->entries);
    if (run->password) {
        explicit_bzero(run->password, strlen(run->password));
        free(run->password);
    }
    if (run->skip_md) pcre2_match_data_free(run->skip_md);
    if (run->skip) pcre2_code_free(run->skip);
    bt_snap_pace_destroy(&run->pace);
    pthread_mutex_destroy(&run->err_lock);
    free(run);
}

int bt_snapshot_run(const bt_snapshot_opts_t *o, bt_pipeline_t *p, bt_position_t *start, char *err, size_t errlen) {
    const bt_config_t *cfg = o->cfg;
    if (!cfg->mysql_url) {
        snprintf(err, errlen, "the snapshot needs --mysql mysql://USER@HOST:PORT of the server whose binlog bintail "
                              "reads%s", o->resume ? " (the checkpoint holds an interrupted snapshot to continue)" : "");
        return -1;
    }
    snap_run_t *run = calloc(1, sizeof *run);
    if (!run) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    run->o = o;
    run->cfg = cfg;
    run->p = p;
    run->chunk_rows = cfg->snapshot_chunk_rows > 0 ? cfg->snapshot_chunk_rows : 10000;
    run->nworkers = cfg->snapshot_threads > 0 ? (int)cfg->snapshot_threads : 1;
    run->tty = isatty(STDERR_FILENO);
    run->start_ms = run->last_log_ms = bt_mono_ms();
    bt_snap_pace_init(&run->pace, o->throttle, o->stop);
    queue_init(&run->q);
    pthread_mutex_init(&run->err_lock, NULL);
    atomic_init(&run->failed, false);
    atomic_init(&run->next_entry, 0);
    int rc = -1;
    bool in_chunk = false;

    if (check_flags(run, err, errlen) != 0) goto out;
    if (bt_mysql_url_parse(cfg->mysql_url, &run->url, err, errlen) != 0) goto out;
    if (bt_mysql_password(cfg->mysql_password_file, &run->password, err, errlen) != 0) goto out;
    if (!(run->workers = calloc((size_t)run->nworkers, sizeof *run->workers))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (o->resume) {
        run->point = *o->resume;
        run->point.snapshot_active = true;
    }
    for (int i = 0; i < run->nworkers; i++) {
        run->workers[i].run = run;
        if (bt_snap_conn_open(&run->workers[i].conn, &run->url, run->password, &run->pace, err, errlen) != 0) {
            char inner[1024];
            snprintf(inner, sizeof inner, "%s", err);
            snprintf(err, errlen, "snapshot: %s", inner);
            goto out;
        }
    }
    if (take_point(run, err, errlen) != 0) goto out;
    run->point.gtid[0] = 0;
    run->point.commit_ts_ms = 0;
    if (check_point(run, err, errlen) != 0) goto out;
    if (list_tables(run, err, errlen) != 0) goto out;
    int64_t est = 0;
    for (size_t i = 0; i < run->nentries; i++) est += run->entries[i].estimate;
    bt_info("snapshot: %zu tables (~%" PRId64 " rows) at binlog %s:%" PRIu64 ", %d reader(s), chunks of %" PRId64
            " rows", run->nentries, est, run->point.file, run->point.pos, run->nworkers, run->chunk_rows);

    for (int i = 0; i < run->nworkers; i++) {
        if (pthread_create(&run->workers[i].tid, NULL, worker_main, &run->workers[i]) != 0) {
            snprintf(err, errlen, "snapshot: cannot start a reader thread: %s", strerror(errno));
            goto out;
        }
        run->workers[i].started = true;
    }

    size_t done = 0;
    for (size_t i = 0; i < run->nentries; i++) done += run->entries[i].done;
    int64_t last_service = bt_mono_ms();
    while (done < run->nentries) {
        if (*o->stop) break;
        if (atomic_load(&run->failed)) break;
        snap_msg_t *m = queue_take_all(&run->q, 20);
        while (m) {
            snap_msg_t *next = m->next;
            bool was_done = m->kind == MSG_CHUNK && m->last;
            int hr = handle(run, m, &in_chunk, err, errlen);
            msg_free(m);
            m = next;
            if (hr != 0) {
                while (m) {
                    next = m->next;
                    msg_free(m);
                    m = next;
                }
                goto failed;
            }
            done += was_done;
            int64_t now = bt_mono_ms();
            if (now - last_service >= SERVICE_MS) {
                if (bt_pipeline_service(p, 0, err, errlen) != 0) {
                    while (m) {
                        next = m->next;
                        msg_free(m);
                        m = next;
                    }
                    goto failed;
                }
                last_service = now;
            }
        }
        if (bt_pipeline_service(p, 0, err, errlen) != 0) goto failed;
        last_service = bt_mono_ms();
        progress(run, false);
    }
    bar_clear(run);
    if (atomic_load(&run->failed)) {
        pthread_mutex_lock(&run->err_lock);
        snprintf(err, errlen, "%s", run->werr);
        pthread_mutex_unlock(&run->err_lock);
        goto failed;
    }
    if (*o->stop) {
        stop_workers(run);
        bt_info("snapshot: stopping; %" PRIu64 " rows read this run; delivering what was produced", run->rows_total);
        char err2[1024];
        if (bt_pipeline_settle(p, 30000, err2, sizeof err2) != 0) bt_warn("snapshot: %s", err2);
        rc = 1;
        goto out;
    }
    stop_workers(run);
    /* The end: the checkpoint says the snapshot is over and streaming starts at the point. */
    bt_position_t fin = run->point;
    fin.snapshot_active = false;
    fin.snapshot_table[0] = 0;
    fin.snapshot_last_key[0] = 0;
    bt_pipeline_chunk_begin(p);
    if (bt_pipeline_chunk_end(p, &fin, err, errlen) != 0) goto out;
    if (bt_pipeline_settle(p, 60000, err, errlen) != 0) goto out;
    *start = fin;
    bt_info("snapshot: done: %zu tables, %" PRIu64 " rows in %.1f s, %" PRIu64 " queries; streaming starts at %s:%" PRIu64,
            run->nentries, run->rows_total, (double)(bt_mono_ms() - run->start_ms) / 1000, run->pace.queries, fin.file,
            fin.pos);
    rc = 0;
    goto out;

failed:
    bar_clear(run);
    stop_workers(run);
    {
        /* keep what was delivered: the checkpoint then resumes close to where this failed */
        char err2[512];
        if (bt_pipeline_settle(p, 10000, err2, sizeof err2) != 0) bt_warn("snapshot: %s", err2);
    }
    rc = -1;
out:
    bar_clear(run);
    run_free(run);
    if (rc < 0 && *o->stop) { /* a wait or statement cut short by SIGTERM: a clean stop */
        bt_info("snapshot: stopped");
        rc = 1;
    }
    return rc;
}
