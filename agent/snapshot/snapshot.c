/* snapshot.c: full sync, the run. Reads the existing rows of every captured table at one
 * binlog position, sends them through the pipeline as snapshot reads, and hands that position
 * over so streaming starts exactly there (see snapshot.h). This file holds the table list, the
 * reader threads and the caller's loop that feeds the pipeline; point.c takes the consistent
 * point, chunk.c reads a table, queue.c carries rows between threads, progress.c keeps the
 * checkpoint claim and the log.
 *
 * DESIGN
 * - Threads. Tables are read in (db, table) byte order; --snapshot-threads readers, each with
 *   its own connection, take whole tables in list order. The pipeline is single-threaded:
 *   readers hand their rows over through the bounded queue, and only the caller's thread calls
 *   bt_pipeline_*.
 * - Resume. Rows read after a restart come from a new read view, newer than the snapshot
 *   point, while streaming still starts at the old point (the checkpoint's file:pos). That is
 *   deliberate: replaying the binlog from the old point re-applies every change made since, so
 *   a consumer that keeps the latest row per primary key ends in the right state; only a
 *   consumer that reads the topic as a history can see a row "read" with a value that a
 *   replayed, older change then overwrites for a moment.
 * Known limits: DDL during the snapshot is not coordinated (a table altered after the read
 * view fails with the server's "table definition has changed" and the snapshot continues
 * from its checkpoint after a restart); non-InnoDB tables are not covered by the read view. */
#include "agent/snapshot/snapshot.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "agent/source/mysql_url.h"
#include "agent/snapshot/internal.h"
#include "lib/lib.h"

#define SERVICE_MS 50

/* ---------------------------------------------------------------- the table list */

static int entry_cmp(const void *a, const void *b) {
    const bt_snap_entry_t *x = a, *y = b;
    int c = strcmp(x->db, y->db);
    return c ? c : strcmp(x->name, y->name);
}

static void entry_free(bt_snap_entry_t *e) {
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
static int check_flags(bt_snap_run_t *run, char *err, size_t errlen) {
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

static int list_tables(bt_snap_run_t *run, char *err, size_t errlen) {
    const bt_config_t *cfg = run->cfg;
    MYSQL_RES *res = bt_snap_query(&run->workers[0].conn,
                                   "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_ROWS, ENGINE FROM information_schema.TABLES "
                                   "WHERE TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') AND TABLE_SCHEMA NOT IN "
                                   "('mysql', 'information_schema', 'performance_schema', 'sys')",
                                   "the table list", err, errlen);
    int rc = -1;
    if (!res) goto out;
    size_t cap = mysql_num_rows(res) + 1;
    run->entries = bt_xcalloc(cap, sizeof *run->entries);
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
        bt_snap_entry_t *e = &run->entries[run->nentries++];
        e->db = bt_xstrdup(row[0]);
        e->name = bt_xstrdup(row[1]);
        e->label = bt_xstrdup(label);
        e->estimate = row[2] ? strtoll(row[2], NULL, 10) : 0;
        e->engine = bt_xstrdup(row[3] ? row[3] : "");
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
        bt_snap_entry_t key = {0};
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
            run->entries[0].resume_key = bt_xstrdup(rs->snapshot_last_key);
            run->entries[0].last_key = bt_xstrdup(rs->snapshot_last_key);
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
out:
    if (res) mysql_free_result(res);
    return rc;
}

/* ---------------------------------------------------------------- readers */

void bt_snap_run_fail(bt_snap_run_t *run, const char *msg) {
    pthread_mutex_lock(&run->err_lock);
    if (!run->werr[0]) snprintf(run->werr, sizeof run->werr, "%s", msg);
    pthread_mutex_unlock(&run->err_lock);
    atomic_store(&run->failed, true);
    atomic_store(&run->pace.abort, true);
    bt_snap_queue_wake(&run->q);
}

static void *worker_main(void *arg) {
    bt_snap_worker_t *w = arg;
    bt_snap_run_t *run = w->run;
    while (!bt_snap_pace_stopped(&run->pace)) {
        size_t idx = atomic_fetch_add(&run->next_entry, 1);
        if (idx >= run->nentries) break;
        if (bt_snap_read_table(w, idx) != 0) break;
    }
    return NULL;
}

static void stop_workers(bt_snap_run_t *run) {
    atomic_store(&run->pace.abort, true);
    bt_snap_queue_wake(&run->q);
    for (int i = 0; i < run->nworkers; i++)
        if (run->workers[i].started) {
            pthread_join(run->workers[i].tid, NULL);
            run->workers[i].started = false;
        }
}

/* ---------------------------------------------------------------- the caller's thread */

/* Handles one message; -1 with err when the pipeline fails. */
static int handle(bt_snap_run_t *run, bt_snap_msg_t *m, bool *in_chunk, char *err, size_t errlen) {
    bt_snap_entry_t *e = &run->entries[m->entry];
    switch (m->kind) {
    case BT_SNAP_MSG_START:
        e->started = true;
        e->start_ms = bt_mono_ms();
        bt_snap_bar_clear(run);
        bt_info("snapshot: reading %s (~%" PRId64 " rows%s%s%s)", e->label, e->estimate, e->where ? ", where " : "",
                e->where ? e->where : "", m->st && m->st->t.npk == 0 ? ", no primary key" : "");
        return 0;
    case BT_SNAP_MSG_ROW:
        if (!*in_chunk) {
            bt_pipeline_chunk_begin(run->p);
            *in_chunk = true;
        }
        e->rows++;
        run->rows_total++;
        return bt_pipeline_snapshot_row(run->p, &m->st->t, &m->row, m->last, err, errlen);
    case BT_SNAP_MSG_CHUNK: {
        if (m->last) {
            e->done = true;
            if (!e->started) e->start_ms = bt_mono_ms();
        } else if (m->key) {
            free(e->last_key);
            e->last_key = m->key;
            m->key = NULL;
        }
        bt_position_t pos;
        bt_snap_frontier(run, &pos);
        if (!*in_chunk) bt_pipeline_chunk_begin(run->p);
        *in_chunk = false;
        if (bt_pipeline_chunk_end(run->p, &pos, err, errlen) != 0) return -1;
        if (m->last) {
            if (e->started) bt_snap_log_table(run, e, bt_mono_ms());
            bt_snap_table_free(e->st); /* every row of it was handled before this message */
            e->st = NULL;
        }
        return 0;
    }
    }
    return 0;
}

static void run_free(bt_snap_run_t *run) {
    stop_workers(run);
    bt_snap_queue_destroy(&run->q); /* rows may refer to tables: free those after */
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
    bt_snap_run_t *run = bt_xcalloc(1, sizeof *run);
    run->o = o;
    run->cfg = cfg;
    run->p = p;
    run->chunk_rows = cfg->snapshot_chunk_rows > 0 ? cfg->snapshot_chunk_rows : 10000;
    run->nworkers = cfg->snapshot_threads > 0 ? (int)cfg->snapshot_threads : 1;
    run->tty = isatty(STDERR_FILENO);
    run->start_ms = run->last_log_ms = bt_mono_ms();
    bt_snap_pace_init(&run->pace, o->throttle, o->stop);
    bt_snap_queue_init(&run->q);
    pthread_mutex_init(&run->err_lock, NULL);
    atomic_init(&run->failed, false);
    atomic_init(&run->next_entry, 0);
    int rc = -1;
    bool in_chunk = false;

    if (check_flags(run, err, errlen) != 0) goto out;
    if (bt_mysql_url_parse(cfg->mysql_url, &run->url, err, errlen) != 0) goto out;
    if (bt_mysql_password(cfg->mysql_password_file, &run->password, err, errlen) != 0) goto out;
    run->workers = bt_xcalloc((size_t)run->nworkers, sizeof *run->workers);
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
    run->point.gtid[0] = 0; /* MySQL's lock-free point sets it: the executed set at the position */
    if (bt_snap_take_point(run, err, errlen) != 0) goto out;
    run->point.commit_ts_ms = 0;
    if (bt_snap_check_point(run, err, errlen) != 0) goto out;
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
        bt_snap_msg_t *m = bt_snap_queue_take_all(&run->q, 20);
        while (m) {
            bt_snap_msg_t *next = m->next;
            bool was_done = m->kind == BT_SNAP_MSG_CHUNK && m->last;
            int hr = handle(run, m, &in_chunk, err, errlen);
            bt_snap_msg_free(m);
            m = next;
            if (hr != 0) {
                while (m) {
                    next = m->next;
                    bt_snap_msg_free(m);
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
                        bt_snap_msg_free(m);
                        m = next;
                    }
                    goto failed;
                }
                last_service = now;
            }
        }
        if (bt_pipeline_service(p, 0, err, errlen) != 0) goto failed;
        last_service = bt_mono_ms();
        bt_snap_progress(run, false);
    }
    bt_snap_bar_clear(run);
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
    bt_info("snapshot: done: %zu tables, %" PRIu64 " rows in %.1f s, %" PRIu64
            " queries; streaming starts at %s:%" PRIu64,
            run->nentries, run->rows_total, (double)(bt_mono_ms() - run->start_ms) / 1000, run->pace.queries, fin.file,
            fin.pos);
    rc = 0;
    goto out;

failed:
    bt_snap_bar_clear(run);
    stop_workers(run);
    {
        /* keep what was delivered: the checkpoint then resumes close to where this failed */
        char err2[512];
        if (bt_pipeline_settle(p, 10000, err2, sizeof err2) != 0) bt_warn("snapshot: %s", err2);
    }
    rc = -1;
out:
    bt_snap_bar_clear(run);
    run_free(run);
    if (rc < 0 && *o->stop) { /* a wait or statement cut short by SIGTERM: a clean stop */
        bt_info("snapshot: stopped");
        rc = 1;
    }
    return rc;
}
