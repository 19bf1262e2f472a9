/* conn.c: the snapshot's MySQL connections: session setup, paced queries, and server
 * errors turned into one line that names the object and the GRANT that would fix it.
 *
 * DESIGN: every statement any snapshot connection sends goes through bt_snap_exec(), so the
 * --snapshot-max-qps cap covers all of them (session SETs, metadata, chunk SELECTs) and the
 * count a DBA sees in the general log is the count we limited. Pacing is shared by all worker
 * threads (one mutex); the rows/bytes limits are taken per row by the reader that read it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <errmsg.h>
#include <mysqld_error.h>

#include "agent/snapshot/internal.h"
#include "lib/lib.h"

/* ---------------------------------------------------------------- pacing */

void bt_snap_pace_init(bt_snap_pace_t *pc, bt_throttle_t *thr, volatile sig_atomic_t *stop) {
    memset(pc, 0, sizeof *pc);
    pc->thr = thr;
    pc->stop = stop;
    atomic_init(&pc->abort, false);
    pthread_mutex_init(&pc->lock, NULL);
}

void bt_snap_pace_destroy(bt_snap_pace_t *pc) { pthread_mutex_destroy(&pc->lock); }

bool bt_snap_pace_stopped(bt_snap_pace_t *pc) { return (pc->stop && *pc->stop) || atomic_load(&pc->abort); }

bool bt_snap_sleep(bt_snap_pace_t *pc, int64_t ns) {
    while (ns > 0) {
        if (bt_snap_pace_stopped(pc)) return false;
        int64_t slice = ns > 50000000 ? 50000000 : ns; /* 50 ms: a stop is noticed quickly */
        bt_throttle_sleep_ns(slice);
        ns -= slice;
    }
    return !bt_snap_pace_stopped(pc);
}

static bool keep_waiting(void *ctx) { return !bt_snap_pace_stopped(ctx); }

/* The window for the current limit: at most `cap` queries in any `window_ns`. */
static void window_of(double qps, size_t *cap, int64_t *window_ns) {
    if (qps >= 1) {
        *cap = qps >= (double)BT_SNAP_PACE_RING ? BT_SNAP_PACE_RING : (size_t)qps;
        *window_ns = 1000000000LL;
    } else {
        *cap = 1;
        *window_ns = (int64_t)(1e9 / qps);
    }
}

/* Send time of the query `back` places before the next one (1 = the latest); 0 if none. */
static int64_t sent_before(const bt_snap_pace_t *pc, size_t back) {
    if (back > pc->next || back > BT_SNAP_PACE_RING) return 0;
    uint64_t s = pc->next - back;
    size_t slot = (size_t)(s % BT_SNAP_PACE_RING);
    return pc->seq[slot] == s ? pc->sent[slot] : 0;
}

int bt_snap_pace_queries(bt_snap_pace_t *pc, unsigned k, uint64_t *ticket) {
    *ticket = UINT64_MAX;
    if (!pc->thr) return bt_snap_pace_stopped(pc) ? -1 : 0;
    bt_throttle_limits_t lim;
    bt_throttle_get_limits(pc->thr, &lim);
    size_t cap;
    int64_t window;
    if (lim.snapshot_queries_per_sec > 0) {
        window_of(lim.snapshot_queries_per_sec, &cap, &window);
        if (k > cap) return 1;
    }
    /* The long-run rate and the run-time changes come from the shared throttle... */
    int64_t wait = bt_throttle_take(pc->thr, BT_THROTTLE_SNAPSHOT, 0, 0, k, bt_mono_ns());
    if (wait > 0 && !bt_throttle_wait(pc->thr, BT_THROTTLE_SNAPSHOT, keep_waiting, pc)) return -1;
    /* ...and the hard per-second cap from the window, checked last, just before sending. */
    for (;;) {
        if (bt_snap_pace_stopped(pc)) return -1;
        bt_throttle_get_limits(pc->thr, &lim); /* `bintail throttle` may change it meanwhile */
        double qps = lim.snapshot_queries_per_sec;
        pthread_mutex_lock(&pc->lock);
        int64_t now = bt_mono_ns();
        if (!(qps > 0)) { /* unlimited */
            pc->queries += k;
            pthread_mutex_unlock(&pc->lock);
            return 0;
        }
        window_of(qps, &cap, &window);
        /* (a batch larger than a window lowered meanwhile goes after an empty window) */
        size_t need = k > cap ? cap : k;
        /* Sending k now is fine when the (cap - k + 1)-th latest query was answered at least a
         * window ago: then the last window holds at most cap - k queries. One in flight counts
         * as answered at the end of time. */
        int64_t t = sent_before(pc, cap - need + 1);
        int64_t until = t == BT_SNAP_IN_FLIGHT ? now + 1000000 : (t ? t + window : 0);
        if (until <= now) {
            *ticket = pc->next;
            for (unsigned i = 0; i < k; i++, pc->next++) {
                size_t slot = (size_t)(pc->next % BT_SNAP_PACE_RING);
                pc->seq[slot] = pc->next;
                pc->sent[slot] = BT_SNAP_IN_FLIGHT;
            }
            pc->queries += k;
            pthread_mutex_unlock(&pc->lock);
            return 0;
        }
        pthread_mutex_unlock(&pc->lock);
        /* Short sleeps: the limit may be raised meanwhile (bintail throttle). */
        int64_t w = until - now;
        if (!bt_snap_sleep(pc, w > 100000000 ? 100000000 : w)) return -1;
    }
}

void bt_snap_pace_done(bt_snap_pace_t *pc, uint64_t ticket, unsigned k) {
    if (ticket == UINT64_MAX) return;
    pthread_mutex_lock(&pc->lock);
    int64_t now = bt_mono_ns();
    for (unsigned i = 0; i < k; i++) {
        uint64_t s = ticket + i;
        size_t slot = (size_t)(s % BT_SNAP_PACE_RING);
        if (pc->seq[slot] == s) pc->sent[slot] = now;
    }
    pthread_mutex_unlock(&pc->lock);
}

int bt_snap_pace_row(bt_snap_pace_t *pc, double bytes) {
    if (!pc->thr) return 0;
    int64_t wait = bt_throttle_take(pc->thr, BT_THROTTLE_SNAPSHOT, 1, bytes, 0, bt_mono_ns());
    if (wait > 0 && !bt_throttle_wait(pc->thr, BT_THROTTLE_SNAPSHOT, keep_waiting, pc)) return -1;
    return 0;
}

/* ---------------------------------------------------------------- errors */

/* What a privilege error needs, from the statement that failed. */
static const char *grant_hint(const bt_snap_conn_t *c, const char *sql, unsigned code, char *buf, size_t len) {
    const char *user = c->url ? c->url->user : "USER";
    switch (code) {
    case ER_TABLEACCESS_DENIED_ERROR:
    case ER_COLUMNACCESS_DENIED_ERROR:
    case ER_DBACCESS_DENIED_ERROR:
        snprintf(buf, len, "; the snapshot reads every captured table: GRANT SELECT ON *.* TO '%s'@'%%' (or on each "
                 "captured database)", user);
        return buf;
    case ER_SPECIFIC_ACCESS_DENIED_ERROR:
        if (!strncasecmp(sql, "FLUSH", 5) && c->mariadb)
            snprintf(buf, len, "; --snapshot-threads above 1 takes a brief global read lock: GRANT RELOAD ON *.* TO "
                     "'%s'@'%%' (or use --snapshot-threads 1, which needs no lock on MariaDB)", user);
        else if (!strncasecmp(sql, "FLUSH", 5))
            snprintf(buf, len,
                     "; on MySQL the snapshot's start position comes from performance_schema.log_status "
                     "(needs BACKUP_ADMIN, no lock) or, when that cannot be read or the server stays busy, from a "
                     "brief global read lock (needs RELOAD): GRANT BACKUP_ADMIN, RELOAD ON *.* TO '%s'@'%%'",
                     user);
        else if (strstr(sql, "log_status"))
            snprintf(buf, len,
                     "; on MySQL the snapshot's start position is read there without a lock: GRANT "
                     "BACKUP_ADMIN ON *.* TO '%s'@'%%'",
                     user);
        else if (!strncasecmp(sql, "SHOW MASTER", 11) || !strncasecmp(sql, "SHOW BINARY", 11))
            snprintf(buf, len, "; GRANT %s ON *.* TO '%s'@'%%'", c->mariadb && c->version >= 100502 ?
                     "BINLOG MONITOR" : "REPLICATION CLIENT", user);
        else
            return "";
        return buf;
    case ER_TABLE_DEF_CHANGED:
        return "; the table was changed (DDL) after the snapshot's read view was taken: start bintail again, the "
               "snapshot continues from its checkpoint with a new read view";
    case ER_LOCK_WAIT_TIMEOUT:
        return "; another session held a lock too long (a long statement or an open transaction on the server)";
    default:
        return "";
    }
}

void bt_snap_error(bt_snap_conn_t *c, const char *sql, const char *what, char *err, size_t errlen) {
    unsigned code = mysql_errno(c->m);
    char hint[512];
    const char *h = grant_hint(c, sql ? sql : "", code, hint, sizeof hint);
    const char *lost = code == CR_SERVER_LOST || code == CR_SERVER_GONE_ERROR
                           ? " (the connection to the server was lost; start bintail again to continue from the "
                             "snapshot's checkpoint)"
                           : "";
    snprintf(err, errlen, "snapshot of %s: server error %u: %s%s%s", what, code, mysql_error(c->m), h, lost);
}

/* ---------------------------------------------------------------- statements */

int bt_snap_exec(bt_snap_conn_t *c, const char *sql, size_t len, const char *what, char *err, size_t errlen) {
    uint64_t ticket = UINT64_MAX;
    if (!c->unpaced) {
        int r = bt_snap_pace_queries(c->pace, 1, &ticket);
        if (r < 0) {
            snprintf(err, errlen, "snapshot stopped");
            return -1;
        }
    }
    bt_debug("snapshot query: %.*s", (int)(len > 300 ? 300 : len), sql);
    int rc = mysql_real_query(c->m, sql, len);
    bt_snap_pace_done(c->pace, ticket, 1);
    if (rc != 0) {
        bt_snap_error(c, sql, what, err, errlen);
        return -1;
    }
    return 0;
}

MYSQL_RES *bt_snap_query(bt_snap_conn_t *c, const char *sql, const char *what, char *err, size_t errlen) {
    if (bt_snap_exec(c, sql, strlen(sql), what, err, errlen) != 0) return NULL;
    MYSQL_RES *res = mysql_store_result(c->m);
    if (!res) {
        if (mysql_errno(c->m)) bt_snap_error(c, sql, what, err, errlen);
        else snprintf(err, errlen, "snapshot of %s: the statement returned no result set: %s", what, sql);
    }
    return res;
}

void bt_snap_quote_ident(bt_buf_t *b, const char *name) {
    bt_buf_putc(b, '`');
    for (const char *p = name; *p; p++) {
        if (*p == '`') bt_buf_putc(b, '`');
        bt_buf_putc(b, *p);
    }
    bt_buf_putc(b, '`');
}

void bt_snap_quote_string(bt_snap_conn_t *c, bt_buf_t *b, const char *s, size_t n) {
    char *dst = bt_buf_reserve(b, 2 * n + 3);
    if (!dst) return;
    dst[0] = '\'';
    unsigned long w = mysql_real_escape_string(c->m, dst + 1, s, (unsigned long)n);
    dst[1 + w] = '\'';
    bt_buf_commit(b, w + 2);
}

/* ---------------------------------------------------------------- sessions */

int bt_snap_conn_open(bt_snap_conn_t *c, const bt_mysql_url_t *url, const char *password, bt_snap_pace_t *pace,
                      char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    c->url = url;
    c->pace = pace;
    if (!(c->m = bt_mysql_connect(url, password, 10, err, errlen))) return -1;
    const char *info = mysql_get_server_info(c->m);
    c->mariadb = info && strstr(info, "MariaDB") != NULL;
    c->version = mysql_get_server_version(c->m);
    /* time_zone: TIMESTAMP columns come back in UTC, so they convert to epoch seconds without a
     * zone table. Long network timeouts: a reader streams a table with mysql_use_result and
     * stops reading while the row queue is full (Kafka slower than the server); the server must
     * not give up on us meanwhile. The statement time limit (a DBA's global default) would cut a
     * long table scan. */
    char sql[512];
    snprintf(sql, sizeof sql,
             "SET NAMES utf8mb4, SESSION time_zone = '+00:00', SESSION net_write_timeout = 3600, "
             "SESSION net_read_timeout = 3600, SESSION wait_timeout = 86400%s",
             c->mariadb ? (c->version >= 100100 ? ", SESSION max_statement_time = 0" : "")
                        : (c->version >= 50708 ? ", SESSION max_execution_time = 0" : ""));
    if (bt_snap_exec(c, sql, strlen(sql), "the session setup", err, errlen) != 0) goto fail;
    /* One read view for every table: only REPEATABLE READ keeps it for the whole transaction. */
    static const char iso[] = "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ";
    if (bt_snap_exec(c, iso, sizeof iso - 1, "the session setup", err, errlen) != 0) goto fail;
    return 0;
fail:
    bt_snap_conn_close(c);
    return -1;
}

void bt_snap_conn_cancel(bt_snap_conn_t *c) {
    if (c->m) mariadb_cancel(c->m);
}

void bt_snap_conn_close(bt_snap_conn_t *c) {
    if (c->m) mysql_close(c->m);
    c->m = NULL;
}
