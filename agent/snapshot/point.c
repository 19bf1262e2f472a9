/* point.c: the snapshot's consistent point: every reader's read view, and the binlog position
 * that matches it, where streaming starts once the rows are read.
 *
 * DESIGN: MariaDB with one reader: START TRANSACTION WITH CONSISTENT SNAPSHOT, then
 * binlog_snapshot_file/position (the position that matches the read view, no lock). Several
 * readers each need the same read view: FLUSH TABLES WITH READ LOCK, start every transaction,
 * read the position, UNLOCK TABLES (the time held is logged). MySQL: performance_schema.
 * log_status read before and after starting the transactions; equal readings mean nothing
 * committed in between, so the read views match that position; a busy server is tried again
 * for up to 10 s. Otherwise (no log_status, no BACKUP_ADMIN, or still busy) the brief global
 * read lock, which needs RELOAD. The point is
 * then checked against the binlog bintail streams from: the same server and file. */
#include <errmsg.h>
#include <unistd.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/snapshot/internal.h"
#include "agent/source/startpos.h"
#include "lib/lib.h"

/* How long MySQL's lock-free point is tried on a busy server before the global read lock. */
#define BT_SNAP_POINT_TRY_MS 10000

/* ---------------------------------------------------------------- read views and positions */

static int start_txn(bt_snap_conn_t *c, char *err, size_t errlen) {
    static const char q[] = "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY";
    return bt_snap_exec(c, q, sizeof q - 1, "the consistent snapshot", err, errlen);
}

static int exec_str(bt_snap_conn_t *c, const char *sql, const char *what, char *err, size_t errlen) {
    return bt_snap_exec(c, sql, strlen(sql), what, err, errlen);
}

/* MariaDB: the binlog position of this connection's consistent-snapshot transaction. */
static int mariadb_snapshot_pos(bt_snap_conn_t *c, bt_position_t *pt, char *err, size_t errlen) {
    MYSQL_RES *res =
        bt_snap_query(c, "SHOW STATUS LIKE 'binlog_snapshot_%'", "the snapshot's binlog position", err, errlen);
    if (!res) return -1;
    MYSQL_ROW row;
    pt->file[0] = 0;
    while ((row = mysql_fetch_row(res))) {
        if (!row[0] || !row[1]) continue;
        if (!strcasecmp(row[0], "Binlog_snapshot_file"))
            snprintf(pt->file, sizeof pt->file, "%s", row[1]);
        else if (!strcasecmp(row[0], "Binlog_snapshot_position"))
            pt->pos = strtoull(row[1], NULL, 10);
    }
    mysql_free_result(res);
    if (!pt->file[0]) {
        snprintf(err, errlen,
                 "snapshot: the server reports no binlog position (binlog_snapshot_file is empty): "
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
/* The JSON string member key of text, unescaped enough for a GTID set (no quotes inside;
 * MySQL writes its newlines as \n), into out; "" when absent. */
static void json_member(const char *text, const char *key, char *out, size_t outlen) {
    out[0] = 0;
    const char *k = strstr(text, key);
    const char *q = k ? strchr(k + strlen(key), '"') : NULL;
    size_t o = 0;
    for (const char *p = q ? q + 1 : NULL; p && *p && *p != '"' && o + 1 < outlen; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            continue; /* \n and the like: nothing a GTID set needs */
        }
        out[o++] = *p;
    }
    out[o] = 0;
}

static int mysql_log_status(bt_snap_conn_t *c, char *file, size_t flen, uint64_t *pos, char *gtid, size_t gtidlen,
                            char *err, size_t errlen) {
    MYSQL_RES *res = bt_snap_query(c, "SELECT LOCAL FROM performance_schema.log_status",
                                   "performance_schema.log_status", err, errlen);
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
            /* the executed GTID set at that position (read in the same lock), for the GTID state */
            if (gtid) json_member(local, "\"gtid_executed\"", gtid, gtidlen);
        }
    }
    mysql_free_result(res);
    return rc;
}

/* FLUSH TABLES WITH READ LOCK; START TRANSACTION x N; the position; UNLOCK TABLES. The
 * statements under the lock are reserved from the query pacing in advance, so the lock is not
 * held longer while --snapshot-max-qps waits (unless they do not fit in one second of it). */
static int lock_point(bt_snap_run_t *run, char *err, size_t errlen) {
    bt_snap_conn_t *c0 = &run->workers[0].conn;
    run->point.gtid[0] = 0; /* not read under the lock: the GTID state comes from the stream */
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
                "--snapshot-max-qps: the lock is held while they wait",
                k);
    for (int i = 0; i < run->nworkers; i++) run->workers[i].conn.unpaced = r == 0;
    int rc = -1;
    bool locked = false;
    int64_t t0 = bt_mono_ns();
    if (exec_str(c0, "FLUSH TABLES WITH READ LOCK", "the global read lock", err, errlen) != 0) goto out;
    locked = true;
    int64_t t_locked = bt_mono_ns();
    for (int i = 0; i < run->nworkers; i++)
        if (start_txn(&run->workers[i].conn, err, errlen) != 0) goto out;
    if (c0->mariadb ? mariadb_snapshot_pos(c0, &run->point, err, errlen)
                    : mysql_master_pos(c0, &run->point, err, errlen))
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
                "%d readers on one read view",
                (double)(t1 - t_locked) / 1e6, (double)(t_locked - t0) / 1e6, run->nworkers);
    }
    bt_snap_pace_done(&run->pace, ticket, r == 0 ? k : 0);
    for (int i = 0; i < run->nworkers; i++) run->workers[i].conn.unpaced = false;
    return rc;
}

int bt_snap_take_point(bt_snap_run_t *run, char *err, size_t errlen) {
    bt_snap_conn_t *c0 = &run->workers[0].conn;
    if (run->o->resume) {
        /* Continuing: the point stays the checkpoint's; any read view at or after it will do
         * (see snapshot.c: resume), so no lock even with several readers. */
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
    /* MySQL: the position around starting the transactions must not move. A busy server moves
     * it often: try again after a short, growing, jittered pause (the readers' starts then fall
     * between two commits sooner or later) for up to BT_SNAP_POINT_TRY_MS before the lock. */
    int64_t give_up = bt_mono_ms() + BT_SNAP_POINT_TRY_MS;
    int attempt;
    for (attempt = 0; attempt == 0 || bt_mono_ms() < give_up; attempt++) {
        if (attempt > 0) usleep((useconds_t)((1000 << (attempt < 6 ? attempt : 6)) + rand() % 1000));
        if (bt_snap_pace_stopped(&run->pace)) return bt_errf(err, errlen, "stopped");
        char f1[256], f2[256];
        uint64_t p1 = 0, p2 = 0;
        int r = mysql_log_status(c0, f1, sizeof f1, &p1, run->point.gtid, sizeof run->point.gtid, err, errlen);
        if (r < 0) return -1;
        if (r > 0) {
            bt_info("snapshot: %s; using the brief global read lock instead", err);
            return lock_point(run, err, errlen);
        }
        for (int i = 0; i < run->nworkers; i++)
            if (start_txn(&run->workers[i].conn, err, errlen) != 0) return -1;
        if (mysql_log_status(c0, f2, sizeof f2, &p2, NULL, 0, err, errlen) != 0) return -1;
        if (!strcmp(f1, f2) && p1 == p2) {
            snprintf(run->point.file, sizeof run->point.file, "%s", f1);
            run->point.pos = p1;
            bt_info("snapshot: consistent read view at %s:%" PRIu64 " (performance_schema.log_status unchanged "
                    "while %d reader(s) started; no lock)",
                    f1, p1, run->nworkers);
            return 0;
        }
        for (int i = 0; i < run->nworkers; i++)
            if (exec_str(&run->workers[i].conn, "ROLLBACK", "the consistent snapshot", err, errlen) != 0) return -1;
    }
    bt_info("snapshot: the binlog moved each time the readers started (%d tries in %d s): using the brief global "
            "read lock",
            attempt, BT_SNAP_POINT_TRY_MS / 1000);
    return lock_point(run, err, errlen);
}

/* ---------------------------------------------------------------- checking the point */

/* The server's own id: ${server_id} in topic names is the same for snapshot and stream rows
 * (the stream's comes from the binlog files' FORMAT_DESCRIPTION, written by this server). */
static int server_id(bt_snap_run_t *run, unsigned long *out, char *err, size_t errlen) {
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
static void warn_prepared_xa(bt_snap_run_t *run) {
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
int bt_snap_check_point(bt_snap_run_t *run, char *err, size_t errlen) {
    char dirbuf[PATH_MAX];
    const char *dir = bt_config_binlog_dir(run->cfg, dirbuf, sizeof dirbuf);
    unsigned long server;
    if (server_id(run, &server, err, errlen) != 0) return -1;
    if (!run->o->resume) warn_prepared_xa(run);
    if (!dir) return 0; /* not streaming from local files: nothing to compare with */
    uint32_t sid, created;
    if (bt_binlog_file_identity(dir, run->point.file, &sid, &created) != 0) {
        if (run->o->resume)
            snprintf(err, errlen,
                     "the interrupted snapshot's binlog start point %s:%" PRIu64 " is no longer in %s "
                     "(purged): its rows cannot be completed consistently; start over with --reset-checkpoint",
                     run->point.file, run->point.pos, dir);
        else
            snprintf(err, errlen,
                     "the snapshot's binlog position %s:%" PRIu64 " is not in --binlog-dir %s: --mysql "
                     "must name the server whose binlog files bintail reads",
                     run->point.file, run->point.pos, dir);
        return -1;
    }
    if (run->o->resume) {
        if (run->point.file_created && (created != run->point.file_created || sid != run->point.server_id)) {
            snprintf(err, errlen,
                     "the checkpoint's snapshot point %s is for another binlog (server %u at %u; the file "
                     "there now is server %u at %u): start over with --reset-checkpoint",
                     run->point.file, run->point.server_id, run->point.file_created, sid, created);
            return -1;
        }
        return 0;
    }
    if (server != sid) {
        snprintf(err, errlen,
                 "--mysql is server %lu, but %s/%s was written by server %u: the snapshot must come from "
                 "the server whose binlog bintail reads",
                 server, dir, run->point.file, sid);
        return -1;
    }
    run->point.server_id = sid;
    run->point.file_created = created;
    return 0;
}
