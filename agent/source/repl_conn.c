/* repl_conn.c: the replication connection: connecting, checking that the server writes a ROW
 * binlog with a known checksum, the session variables a replica sets, COM_BINLOG_DUMP through
 * Connector/C, and reconnecting with exponential backoff within --retry-connect after a loss
 * (source_repl.c explains when a connection is retried and where the new dump resumes). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <errmsg.h>
#include <mysqld_error.h>

#include "agent/source/repl_internal.h"
#include "lib/lib.h"

#define BINLOG_SEND_ANNOTATE_ROWS 2 /* MariaDB COM_BINLOG_DUMP flag */
#define CONNECT_TIMEOUT_S         10
#define BACKOFF_MIN_MS            100
#define BACKOFF_MAX_MS            30000

/* ---------------------------------------------------------------- connecting */

/* Errors after which a new connection may work: the network, a restart, a KILL. */
bool bt_repl_transient(unsigned code) {
    switch (code) {
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_SERVER_LOST_EXTENDED:
    case ER_CON_COUNT_ERROR:
    case ER_SERVER_SHUTDOWN:
    case ER_QUERY_INTERRUPTED:
    case ER_CONNECTION_KILLED: return true;
    default: return false;
    }
}

/* Run a query whose first row the caller wants as strings (up to n columns). 0, or -1 with err. */
static int query_row(MYSQL *m, const char *sql, char out[][256], unsigned n, char *err, size_t errlen) {
    if (mysql_query(m, sql) != 0) {
        snprintf(err, errlen, "%s: error %u: %s", sql, mysql_errno(m), mysql_error(m));
        return -1;
    }
    MYSQL_RES *res = mysql_store_result(m);
    MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
    if (!row || mysql_num_fields(res) < n) {
        snprintf(err, errlen, "%s: no result", sql);
        if (res) mysql_free_result(res);
        return -1;
    }
    for (unsigned i = 0; i < n; i++) snprintf(out[i], 256, "%s", row[i] ? row[i] : "");
    mysql_free_result(res);
    return 0;
}

static int exec(MYSQL *m, const char *sql, char *err, size_t errlen) {
    if (mysql_query(m, sql) == 0) return 0;
    snprintf(err, errlen, "%s: error %u: %s", sql, mysql_errno(m), mysql_error(m));
    return -1;
}

/* The server must write a binlog, in ROW format, with a checksum we know. Sets rs->mariadb and
 * *alg (0 none, 1 CRC32). */
static int check_server(repl_source_t *rs, MYSQL *m, uint8_t *alg, char *err, size_t errlen) {
    char v[4][256];
    if (query_row(m, "SELECT VERSION(), @@global.log_bin, @@global.binlog_format, @@global.binlog_checksum", v, 4, err,
                  errlen) != 0)
        return -1;
    rs->mariadb = strstr(v[0], "MariaDB") != NULL;
    if (strcmp(v[1], "1") != 0 && strcasecmp(v[1], "ON") != 0) {
        snprintf(err, errlen,
                 "%s:%u (%s) does not write a binlog: start it with --log-bin (and, on a replica, "
                 "--log-slave-updates)",
                 rs->url.host, rs->url.port, v[0]);
        return -1;
    }
    if (strcasecmp(v[2], "ROW") != 0) {
        snprintf(err, errlen,
                 "the server logs binlog_format=%s; bintail needs ROW: SET GLOBAL binlog_format=ROW and "
                 "restart writers (%s:%u)",
                 v[2], rs->url.host, rs->url.port);
        return -1;
    }
    if (!strcasecmp(v[3], "CRC32"))
        *alg = 1;
    else if (!strcasecmp(v[3], "NONE"))
        *alg = 0;
    else {
        snprintf(err, errlen, "%s:%u: unknown binlog_checksum=%s", rs->url.host, rs->url.port, v[3]);
        return -1;
    }
    return 0;
}

/* Session variables a replica sets before COM_BINLOG_DUMP. */
static int announce_replica(repl_source_t *rs, MYSQL *m, bool by_gtid, char *err, size_t errlen) {
    unsigned long long hb_ns = (unsigned long long)rs->heartbeat_ms * 1000000ULL;
    char sql[1024];
    /* Without the checksum variables the server refuses to send checksummed events (1236);
     * MySQL 8.0.26+ reads the source_* names, older servers and MariaDB the master_* ones. */
    snprintf(sql, sizeof sql,
             "SET @master_binlog_checksum=@@global.binlog_checksum, @source_binlog_checksum=@@global.binlog_checksum, "
             "@mariadb_slave_capability=4, @master_heartbeat_period=%llu, @source_heartbeat_period=%llu",
             hb_ns, hb_ns);
    if (exec(m, sql, err, errlen) != 0) return -1;
    if (by_gtid) {
        /* rs->gtid is normalized (digits, '-' and ','): nothing to escape. */
        size_t n = strlen(rs->gtid) + 128;
        char *q = bt_xmalloc(n);
        snprintf(q, n, "SET @slave_connect_state='%s', @slave_gtid_strict_mode=0, @slave_gtid_ignore_duplicates=0",
                 rs->gtid);
        int rc = exec(m, q, err, errlen);
        free(q);
        return rc;
    }
    return 0;
}

static int send_dump(repl_source_t *rs, MYSQL *m, bool by_gtid, char *err, size_t errlen) {
    const char *file = by_gtid ? "" : rs->file;
    uint64_t pos = by_gtid || !rs->file[0] ? 4 : rs->pos;
    if (pos > 0xffffffffu) {
        snprintf(err, errlen, "cannot resume %s at %" PRIu64 ": COM_BINLOG_DUMP positions are 32 bits", rs->file, pos);
        return -1;
    }
    rs->rpl = mariadb_rpl_init(m);
    if (!rs->rpl) {
        snprintf(err, errlen, "mariadb_rpl_init: %s", mysql_error(m));
        return -1;
    }
    mariadb_rpl_optionsv(rs->rpl, MARIADB_RPL_FILENAME, file, strlen(file));
    mariadb_rpl_optionsv(rs->rpl, MARIADB_RPL_START, (unsigned long)pos);
    mariadb_rpl_optionsv(rs->rpl, MARIADB_RPL_SERVER_ID, (unsigned)rs->server_id);
    mariadb_rpl_optionsv(rs->rpl, MARIADB_RPL_FLAGS, (unsigned)(rs->mariadb ? BINLOG_SEND_ANNOTATE_ROWS : 0));
    if (mariadb_rpl_open(rs->rpl) != 0) {
        /* mariadb_rpl_errno() stays 0 for server errors: the MYSQL handle has them. */
        snprintf(err, errlen, "COM_BINLOG_DUMP %s:%" PRIu64 ": error %u: %s", file[0] ? file : "(first binlog)", pos,
                 mysql_errno(m), mysql_error(m));
        return -1;
    }
    return 0;
}

static void set_dump_fd(repl_source_t *rs, int fd) {
    pthread_mutex_lock(&rs->mu);
    rs->dump_fd = fd;
    pthread_mutex_unlock(&rs->mu);
}

/* Close the replication connection. The fd is withdrawn first so free() never shuts down a
 * descriptor number that was closed and reused. */
void bt_repl_dump_close(repl_source_t *rs) {
    set_dump_fd(rs, -1);
    if (rs->rpl) mariadb_rpl_close(rs->rpl);
    rs->rpl = NULL;
    if (rs->conn) mysql_close(rs->conn);
    rs->conn = NULL;
}

/* Connect, check the server, announce ourselves and send COM_BINLOG_DUMP at rs->file:rs->pos
 * (or by GTID while gtid_pending). 0; -1 with err and *retry saying whether trying again may help.
 * *alg: the server's binlog_checksum (only the first connection's is kept). */
int bt_repl_dump_open(repl_source_t *rs, uint8_t *alg, bool *retry, char *err, size_t errlen) {
    *retry = false;
    MYSQL *m = bt_mysql_connect_io(&rs->url, rs->password, CONNECT_TIMEOUT_S, rs->io_timeout_s, err, errlen);
    if (!m) {
        *retry = errno != EACCES;
        return -1;
    }
    rs->conn = m;
    set_dump_fd(rs, (int)mysql_get_socket(m));
    bool by_gtid = rs->gtid_pending;
    if (check_server(rs, m, alg, err, errlen) != 0) goto fail;
    if (by_gtid && !rs->mariadb) {
        snprintf(err, errlen,
                 "starting at a MySQL GTID set over the replication protocol is not supported yet "
                 "(MariaDB Connector/C 3.3 has no COM_BINLOG_DUMP_GTID): start at FILE:POS instead");
        goto fail;
    }
    if (announce_replica(rs, m, by_gtid, err, errlen) != 0) goto fail;
    if (send_dump(rs, m, by_gtid, err, errlen) != 0) goto fail;
    return 0;
fail:
    *retry = bt_repl_transient(mysql_errno(m));
    bt_repl_dump_close(rs);
    return -1;
}

/* ---------------------------------------------------------------- reconnecting */

/* Sleep ms unless stopping; true when stopping. */
static bool pause_ms(repl_source_t *rs, int ms) {
    struct timespec ts;
    bt_mono_deadline(&ts, ms);
    pthread_mutex_lock(&rs->mu);
    while (!rs->stopping && pthread_cond_timedwait(&rs->cv_space, &rs->mu, &ts) != ETIMEDOUT) {}
    bool s = rs->stopping;
    pthread_mutex_unlock(&rs->mu);
    return s;
}

/* The connection is gone: reconnect with backoff until it works, the budget is spent (fatal,
 * 0 returned after bt_repl_fail()), or stop. 1 = connected again, 0 = give up. */
int bt_repl_reconnect(repl_source_t *rs, const char *why) {
    char err[1024];
    if (rs->healthy) {
        rs->lost_ms = bt_mono_ms();
        rs->backoff_ms = BACKOFF_MIN_MS;
    }
    rs->healthy = false;
    bt_repl_publish_pos(rs, false); /* no longer known to be caught up */
    bt_warn("replication connection to %s:%u lost at %s:%" PRIu64 " (%s); reconnecting", rs->url.host, rs->url.port,
            rs->file[0] ? rs->file : "(start)", rs->pos, why);
    snprintf(err, sizeof err, "%s", why);
    for (;;) {
        int64_t spent = bt_mono_ms() - rs->lost_ms;
        if (spent >= rs->retry_ms) {
            bt_repl_fail(rs,
                         "lost the replication connection to %s:%u at %s:%" PRIu64 " and could not reconnect "
                         "within %" PRId64 " s (--retry-connect): %s",
                         rs->url.host, rs->url.port, rs->file[0] ? rs->file : "(start)", rs->pos, rs->retry_ms / 1000,
                         err);
            return 0;
        }
        int wait = rs->backoff_ms;
        if (wait > rs->retry_ms - spent) wait = (int)(rs->retry_ms - spent);
        if (pause_ms(rs, wait)) return 0;
        rs->backoff_ms = rs->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : rs->backoff_ms * 2;
        bool retry;
        uint8_t alg;
        if (bt_repl_dump_open(rs, &alg, &retry, err, sizeof err) == 0) {
            rs->resumed = true;
            bt_info("reconnected to %s:%u, reading from %s:%" PRIu64, rs->url.host, rs->url.port,
                    rs->gtid_pending ? "gtid"
                    : rs->file[0]    ? rs->file
                                     : "(first binlog)",
                    rs->gtid_pending ? 0 : rs->pos);
            return 1;
        }
        if (!retry) { /* the server refuses (purged binlog, missing privilege): no restart cures it */
            rs->fail_operator = true;
            bt_repl_fail(rs, "%s", err);
            return 0;
        }
        bt_warn("reconnecting to %s:%u: %s; next try in %d ms", rs->url.host, rs->url.port, err, rs->backoff_ms);
    }
}
