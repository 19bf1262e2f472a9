/* source_repl.c: reads binlog events from a server over the replication protocol, as a replica.
 *
 * The connection is an ordinary replica's: bintail announces checksum support
 * (@master_binlog_checksum), MariaDB GTID events (@mariadb_slave_capability=4) and a heartbeat
 * period, then sends COM_BINLOG_DUMP through MariaDB Connector/C (mariadb_rpl_open). From the
 * connector only the transport is used: packets are read with mysql_net_read_packet(), never
 * with mariadb_rpl_fetch(), whose event parser rejects events it does not know (MySQL 8's
 * TRANSACTION_PAYLOAD, HEARTBEAT_V2, GTID_TAGGED) and then drops them. Events go downstream as
 * the exact bytes the server sent, minus the leading OK byte of each packet.
 *
 * What the server sends besides the binlog, and what becomes of it:
 *  - a fake ROTATE (LOG_EVENT_ARTIFICIAL_F, timestamp 0) naming the file the stream starts in,
 *    at the start of every connection and after each file switch: consumed here, it sets the
 *    file name given with the following events;
 *  - the file's FORMAT_DESCRIPTION, with next_pos 0 when reading starts after it: yielded
 *    first, with skip=true and pos 4 (source.h's contract);
 *  - MariaDB's fake GTID_LIST (artificial) once a GTID start point is found: consumed;
 *  - heartbeats (HEARTBEAT_LOG_EVENT, _V2) when the server has nothing to send: consumed; they
 *    prove the connection alive and the stream caught up.
 * An event's offset is next_pos - event_size; next_pos is 32 bits, so offsets are carried in
 * 64 bits and a wrap past 4 GiB (MySQL files can outgrow that with one huge transaction) is
 * undone. A file is named by the server: start->file empty sends an empty name, which the
 * server reads as its first binlog (no SHOW BINARY LOGS, so no extra privilege, no race with
 * PURGE).
 *
 * DESIGN: one reader thread owns the replication connection. Connector/C reads block, and
 * polling its socket is not enough (the connector and TLS buffer bytes the socket no longer
 * shows), so next() cannot honour its timeout by itself. The thread copies each event into a
 * queue capped at QUEUE_CAP bytes (it stops reading when full, which holds the server back
 * instead of growing memory); next() waits on a condition variable with the caller's timeout.
 * The queue stays in order across reconnections and errors: everything received is yielded
 * before an error is reported.
 *
 * Reconnection: a connection that was established and then lost (network, server restart,
 * KILL) is reopened with exponential backoff (100 ms doubling to 30 s) for up to
 * opts->retry_connect_ms since it was lost; then next() fails. The new dump starts exactly
 * after the last event received, even in the middle of a transaction (the server allows this;
 * a replica's IO thread does the same). The server then replays the file's
 * FORMAT_DESCRIPTION, which is compared with the one seen before (a different one means the
 * server or its binlogs were replaced: an error, not a silent mix) and not passed on, so the
 * decoder keeps its table maps and the caller sees one seamless stream: no event is lost or
 * repeated, and no "restarted transaction" signal is needed. While a GTID start point has not
 * been reached yet, reconnecting asks by GTID again and drops what was already queued.
 * A first connection that fails is an error at once (a wrong host, port or password should
 * stop the daemon with a clear message, not retry for hours).
 *
 * Liveness: a half-open TCP connection never errors by itself, so the replication connection
 * has a read timeout of twice the heartbeat period plus 10 s: a server that sends not even a
 * heartbeat for that long is treated as lost, and the reader reconnects.
 *
 * Known limits: MySQL GTID sets cannot be used as a start (Connector/C 3.3 has no
 * COM_BINLOG_DUMP_GTID); semi-sync acknowledgements are never sent; the connection is plain
 * TCP (no TLS options yet). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>
/* after mysql.h, whose types it uses */
#include <mariadb_rpl.h>
#include <zlib.h>

#include "agent/source/mysql_url.h"
#include "agent/source/source.h"
#include "lib/lib.h"

#define HEADER_LEN 19
#define FDE_CREATED_OFF (HEADER_LEN + 2 + 50) /* after binlog_version and server_version */
#define EV_ROTATE 4
#define EV_FDE 15
#define EV_HEARTBEAT 27
#define EV_GTID_MYSQL 33
#define EV_HEARTBEAT_V2 41
#define EV_GTID_MARIA 162
#define EV_GTID_LIST_MARIA 163
#define ARTIFICIAL_F 0x20
#define BINLOG_SEND_ANNOTATE_ROWS 2 /* MariaDB COM_BINLOG_DUMP flag */

#define QUEUE_CAP ((size_t)16 << 20)
#define CONNECT_TIMEOUT_S 10
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 30000
#define DEFAULT_HEARTBEAT_MS 5000
#define MAX_HEARTBEAT_MS 3600000
#define STATUS_EVERY_MS 1000

/* One received event, in one allocation: the event bytes, then the file name. */
typedef struct qitem {
    struct qitem *next;
    size_t len;
    uint64_t pos;
    bool skip;
    uint8_t data[]; /* len event bytes, then the NUL-terminated file name */
} qitem_t;

typedef struct repl_source {
    bt_source_t base;
    /* settings (read-only once the thread runs) */
    bt_mysql_url_t url;
    char *password;
    char *gtid;                /* MariaDB GTID start position, NULL for file:pos */
    uint32_t server_id;
    int64_t retry_ms;
    int heartbeat_ms;
    int io_timeout_s;          /* read timeout of the replication connection: 2 heartbeats + 10 s */
    uint8_t checksum_alg;      /* @@global.binlog_checksum at the first connection: 0 none, 1 CRC32 */
    bool mariadb;

    /* shared between the reader and the caller, under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv_data;    /* queue not empty, or failed */
    pthread_cond_t cv_space;   /* queue below cap, or stopping */
    qitem_t *head, *tail;
    size_t qbytes;
    bool failed;
    bool fail_operator;   /* the failure is one a restart cannot cure (set with failed) */
    char fail_msg[2048];
    atomic_bool stopping;      /* written under mu (waits check it there), read anywhere */
    int dump_fd;               /* socket of the current connection, -1 between connections */
    char s_file[256];          /* stream position: everything before it was received */
    uint64_t s_pos;
    bool hb_idle;              /* a heartbeat came after the last queued event: the server was caught up */

    /* reader thread only (and new() before the thread starts) */
    pthread_t thread;
    bool thread_started;
    MYSQL *conn;
    MARIADB_RPL *rpl;
    char file[256];            /* current file; "" until the server names it */
    uint64_t pos;              /* offset where the next event starts */
    bool gtid_pending;         /* the GTID start point has not been reached: reconnect by GTID */
    bool resumed;              /* this connection resumes an earlier one: drop what was queued before */
    char q_file[256];          /* end of the last queued event */
    uint64_t q_end;
    uint8_t *fde;              /* the last FORMAT_DESCRIPTION queued, for the identity check */
    size_t fde_len;
    char fde_file[256];
    bool healthy;              /* the connection delivered something: the retry budget starts over */
    int64_t lost_ms;
    int backoff_ms;

    /* caller only */
    qitem_t *local;            /* taken from the shared queue in one go, yielded one by one */
    qitem_t *cur;              /* yielded last; freed on the next call */
    bool idle;                 /* the last next() found nothing */
    MYSQL *status;             /* second connection for SHOW MASTER STATUS */
    int64_t status_ms;
    bool status_known, status_denied;
    char m_file[256];
    uint64_t m_pos;
} repl_source_t;

static const bt_source_ops_t repl_ops;


/* ---------------------------------------------------------------- queue (mu held where noted) */

static void free_items(qitem_t *it) {
    while (it) {
        qitem_t *n = it->next;
        free(it);
        it = n;
    }
}

/* Reader, mu held: the stream position (for at_end) is rs->file:rs->pos. */
static void publish_locked(repl_source_t *rs) {
    if (strcmp(rs->s_file, rs->file) != 0) memcpy(rs->s_file, rs->file, sizeof rs->s_file);
    rs->s_pos = rs->pos;
}

/* Reader: append a copy of the event (waiting while the queue is full) and publish the
 * position, which the caller has already moved past the event. -1 when stopping. */
static int enqueue(repl_source_t *rs, const uint8_t *ev, size_t len, uint64_t pos, bool skip) {
    size_t flen = strlen(rs->file);
    qitem_t *it = malloc(sizeof *it + len + flen + 1);
    if (!it) return -2;
    it->next = NULL;
    it->len = len;
    it->pos = pos;
    it->skip = skip;
    memcpy(it->data, ev, len);
    memcpy(it->data + len, rs->file, flen + 1);
    pthread_mutex_lock(&rs->mu);
    while (rs->head && rs->qbytes >= QUEUE_CAP && !rs->stopping) pthread_cond_wait(&rs->cv_space, &rs->mu);
    if (rs->stopping) {
        pthread_mutex_unlock(&rs->mu);
        free(it);
        return -1;
    }
    if (rs->tail) rs->tail->next = it;
    else rs->head = it;
    rs->tail = it;
    rs->qbytes += len;
    rs->hb_idle = false;
    publish_locked(rs);
    pthread_cond_signal(&rs->cv_data);
    pthread_mutex_unlock(&rs->mu);
    return 0;
}

/* Reader: publish the position after a packet that queued nothing; hb_idle as given. */
static void publish_pos(repl_source_t *rs, bool hb_idle) {
    pthread_mutex_lock(&rs->mu);
    publish_locked(rs);
    rs->hb_idle = hb_idle;
    pthread_mutex_unlock(&rs->mu);
}

/* Reader: stop for good; next() reports the message once the queue is drained. */
static void fail(repl_source_t *rs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(repl_source_t *rs, const char *fmt, ...) {
    pthread_mutex_lock(&rs->mu);
    if (!rs->failed) {
        rs->failed = true;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(rs->fail_msg, sizeof rs->fail_msg, fmt, ap);
        va_end(ap);
    }
    pthread_cond_broadcast(&rs->cv_data);
    pthread_mutex_unlock(&rs->mu);
}

static bool stopping(repl_source_t *rs) { return atomic_load(&rs->stopping); }

/* ---------------------------------------------------------------- connecting */

/* Errors after which a new connection may work: the network, a restart, a KILL. */
static bool transient(unsigned code) {
    switch (code) {
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_SERVER_LOST_EXTENDED:
    case ER_CON_COUNT_ERROR:
    case ER_SERVER_SHUTDOWN:
    case ER_QUERY_INTERRUPTED:
    case ER_CONNECTION_KILLED:
        return true;
    default:
        return false;
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
    if (query_row(m, "SELECT VERSION(), @@global.log_bin, @@global.binlog_format, @@global.binlog_checksum", v, 4,
                  err, errlen) != 0)
        return -1;
    rs->mariadb = strstr(v[0], "MariaDB") != NULL;
    if (strcmp(v[1], "1") != 0 && strcasecmp(v[1], "ON") != 0) {
        snprintf(err, errlen, "%s:%u (%s) does not write a binlog: start it with --log-bin (and, on a replica, "
                 "--log-slave-updates)", rs->url.host, rs->url.port, v[0]);
        return -1;
    }
    if (strcasecmp(v[2], "ROW") != 0) {
        snprintf(err, errlen, "the server logs binlog_format=%s; bintail needs ROW: SET GLOBAL binlog_format=ROW and "
                 "restart writers (%s:%u)", v[2], rs->url.host, rs->url.port);
        return -1;
    }
    if (!strcasecmp(v[3], "CRC32")) *alg = 1;
    else if (!strcasecmp(v[3], "NONE")) *alg = 0;
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
        char *q = malloc(n);
        if (!q) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
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
static void dump_close(repl_source_t *rs) {
    set_dump_fd(rs, -1);
    if (rs->rpl) mariadb_rpl_close(rs->rpl);
    rs->rpl = NULL;
    if (rs->conn) mysql_close(rs->conn);
    rs->conn = NULL;
}

/* Connect, check the server, announce ourselves and send COM_BINLOG_DUMP at rs->file:rs->pos
 * (or by GTID while gtid_pending). 0; -1 with err and *retry saying whether trying again may help.
 * *alg: the server's binlog_checksum (only the first connection's is kept). */
static int dump_open(repl_source_t *rs, uint8_t *alg, bool *retry, char *err, size_t errlen) {
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
        snprintf(err, errlen, "starting at a MySQL GTID set over the replication protocol is not supported yet "
                 "(MariaDB Connector/C 3.3 has no COM_BINLOG_DUMP_GTID): start at FILE:POS instead");
        goto fail;
    }
    if (announce_replica(rs, m, by_gtid, err, errlen) != 0) goto fail;
    if (send_dump(rs, m, by_gtid, err, errlen) != 0) goto fail;
    return 0;
fail:
    *retry = transient(mysql_errno(m));
    dump_close(rs);
    return -1;
}

/* ---------------------------------------------------------------- events */

/* The payload of a ROTATE or HEARTBEAT body, without the CRC32 when the event carries one.
 * Checking the CRC tells whether it does, whatever the file's or the session's setting. */
static size_t body_len(const uint8_t *ev, size_t len, size_t body_off) {
    size_t n = len - body_off;
    if (len >= body_off + 4 && (uint32_t)crc32(0, ev, (uInt)(len - 4)) == bt_le32(ev + len - 4)) n -= 4;
    return n;
}

/* 64-bit end offset from the header's 32-bit next_pos: events only move forward, so an end
 * below where this event would end means next_pos wrapped past 4 GiB. */
static uint64_t end_offset(uint64_t pos, uint32_t next_pos, uint32_t len) {
    uint64_t end = (pos & ~(uint64_t)0xffffffffu) | next_pos;
    if (end < pos + len) end += (uint64_t)1 << 32;
    return end;
}

static void on_rotate(repl_source_t *rs, const uint8_t *ev, size_t len) {
    if (len < HEADER_LEN + 8) return;
    size_t n = body_len(ev, len, HEADER_LEN + 8);
    if (n >= sizeof rs->file) n = sizeof rs->file - 1;
    memcpy(rs->file, ev + HEADER_LEN + 8, n);
    rs->file[n] = 0;
    rs->pos = bt_le64(ev + HEADER_LEN);
}

/* A heartbeat names the file and (in next_pos) the offset the server has sent up to. */
static void on_heartbeat(repl_source_t *rs, const uint8_t *ev, size_t len) {
    if (ev[4] == EV_HEARTBEAT && len > HEADER_LEN) {
        size_t n = body_len(ev, len, HEADER_LEN);
        uint32_t next_pos = bt_le32(ev + 13);
        if (n == strlen(rs->file) && !memcmp(ev + HEADER_LEN, rs->file, n) && next_pos) {
            uint64_t end = end_offset(rs->pos, next_pos, 0);
            if (end > rs->pos) rs->pos = end;
        }
    }
    rs->healthy = true;
    publish_pos(rs, true);
}

/* After a reconnect the server replays the file's FORMAT_DESCRIPTION; it must be the one seen
 * before (same timestamp, server and format), else these are not the same binlogs. A replay
 * differs legitimately in next_pos, flags, the checksum and the body's "created" field, which
 * the server zeroes when it sends the event for a later start position. */
static int check_fde_identity(repl_source_t *rs, const uint8_t *ev, size_t len, char *err, size_t errlen) {
    if (!rs->fde || strcmp(rs->fde_file, rs->file) != 0) return 0;
    const uint8_t *old = rs->fde;
    bool same = len == rs->fde_len && len >= FDE_CREATED_OFF + 4 + 4 && !memcmp(ev, old, 4) &&
                !memcmp(ev + 5, old + 5, 4) &&
                !memcmp(ev + HEADER_LEN, old + HEADER_LEN, FDE_CREATED_OFF - HEADER_LEN) &&
                !memcmp(ev + FDE_CREATED_OFF + 4, old + FDE_CREATED_OFF + 4, len - FDE_CREATED_OFF - 4 - 4);
    if (same) return 0;
    snprintf(err, errlen, "after reconnecting to %s:%u, %s is not the file read before (its FORMAT_DESCRIPTION "
             "differs): the server was replaced or its binlogs reset; restart bintail from a checkpoint or --start",
             rs->url.host, rs->url.port, rs->file);
    return -1;
}

static int remember_fde(repl_source_t *rs, const uint8_t *ev, size_t len) {
    uint8_t *copy = malloc(len);
    if (!copy) return -1;
    memcpy(copy, ev, len);
    free(rs->fde);
    rs->fde = copy;
    rs->fde_len = len;
    snprintf(rs->fde_file, sizeof rs->fde_file, "%s", rs->file);
    return 0;
}

/* Queue the event that ends at `end` in the current file, unless a resumed connection sends
 * it again (it was queued before the reconnect). */
static int queue_event(repl_source_t *rs, const uint8_t *ev, size_t len, uint64_t end, bool *queued) {
    *queued = false;
    if (rs->resumed && !strcmp(rs->file, rs->q_file) && end <= rs->q_end) return 0;
    int rc = enqueue(rs, ev, len, end - len, false);
    if (rc != 0) return rc;
    *queued = true;
    if (strcmp(rs->q_file, rs->file) != 0) memcpy(rs->q_file, rs->file, sizeof rs->q_file);
    rs->q_end = end;
    rs->healthy = true;
    return 0;
}

/* One event from the server. 0; -1 fatal (err set); -2 stopping. */
static int on_event(repl_source_t *rs, const uint8_t *ev, size_t len, char *err, size_t errlen) {
    uint8_t type = ev[4];
    uint32_t next_pos = bt_le32(ev + 13);
    uint16_t flags = (uint16_t)(ev[17] | ev[18] << 8);
    int rc = 0;
    bool queued = false;

    if (type == EV_HEARTBEAT || type == EV_HEARTBEAT_V2) {
        on_heartbeat(rs, ev, len);
        return 0;
    }
    if (type == EV_ROTATE && (flags & ARTIFICIAL_F)) {
        on_rotate(rs, ev, len);
    } else if (type == EV_FDE && next_pos == 0) {
        /* Replayed because reading starts later in the file. */
        if (rs->resumed && !strcmp(rs->fde_file, rs->file)) {
            if (check_fde_identity(rs, ev, len, err, errlen) != 0) return -1;
        } else {
            if (remember_fde(rs, ev, len) != 0) goto oom;
            rc = enqueue(rs, ev, len, 4, true);
            queued = true;
        }
    } else if (flags & ARTIFICIAL_F) {
        /* MariaDB's fake GTID_LIST: the GTID start point is found, streaming goes on at next_pos. */
        if (type == EV_GTID_LIST_MARIA) rs->gtid_pending = false;
        if (next_pos) rs->pos = end_offset(rs->pos, next_pos, 0);
    } else {
        uint64_t end = next_pos ? end_offset(rs->pos, next_pos, (uint32_t)len) : rs->pos + len;
        if (type == EV_FDE) {
            if (rs->resumed && !strcmp(rs->file, rs->q_file) && end <= rs->q_end &&
                check_fde_identity(rs, ev, len, err, errlen) != 0)
                return -1;
            if (remember_fde(rs, ev, len) != 0) goto oom;
        }
        if (type == EV_GTID_MARIA || type == EV_GTID_MYSQL) rs->gtid_pending = false;
        rs->pos = end;
        rc = queue_event(rs, ev, len, end, &queued);
        /* A real ROTATE belongs to the old file; what follows is in the new one. */
        if (rc == 0 && type == EV_ROTATE) {
            on_rotate(rs, ev, len);
            queued = false;
        }
    }
    if (rc == -1) return -2;
    if (rc != 0) goto oom;
    if (!queued) publish_pos(rs, false);
    return 0;
oom:
    snprintf(err, errlen, "out of memory for a %zu-byte event at %s:%" PRIu64, len, rs->file, rs->pos);
    return -1;
}

/* ---------------------------------------------------------------- the reader thread */

/* Read and handle one packet. 1 = fine, 0 = connection lost (err says why), -1 = fatal, -2 = stop. */
static int read_packet(repl_source_t *rs, char *err, size_t errlen) {
    int64_t t0 = bt_mono_ms();
    unsigned long n = mysql_net_read_packet(rs->conn);
    if (stopping(rs)) return -2;
    if (n == packet_error) {
        unsigned code = mysql_errno(rs->conn);
        if (code == CR_SERVER_LOST && bt_mono_ms() - t0 >= (int64_t)rs->io_timeout_s * 1000 - 500)
            snprintf(err, errlen, "nothing received for %d s, not even a heartbeat", rs->io_timeout_s);
        else
            snprintf(err, errlen, "error %u: %s", code, mysql_error(rs->conn));
        return transient(code) ? 0 : -1;
    }
    const uint8_t *p = rs->conn->net.read_pos;
    if (n >= 1 && p[0] == 0xFE && n < 9) {
        snprintf(err, errlen, "the server ended the binlog stream");
        return 0;
    }
    if (n < 1 + HEADER_LEN || p[0] != 0) {
        snprintf(err, errlen, "unexpected %lu-byte packet (first byte %#x) in the binlog stream", n, n ? p[0] : 0);
        return -1;
    }
    const uint8_t *ev = p + 1;
    size_t len = n - 1;
    if (bt_le32(ev + 9) != len) {
        snprintf(err, errlen, "malformed event: a %zu-byte packet holds an event whose header says %u bytes", len,
                 bt_le32(ev + 9));
        return -1;
    }
    int rc = on_event(rs, ev, len, err, errlen);
    return rc == 0 ? 1 : rc;
}

/* Sleep ms unless stopping; true when stopping. */
static bool pause_ms(repl_source_t *rs, int ms) {
    struct timespec ts;
    bt_mono_deadline(&ts, ms);
    pthread_mutex_lock(&rs->mu);
    while (!rs->stopping && pthread_cond_timedwait(&rs->cv_space, &rs->mu, &ts) != ETIMEDOUT) {
    }
    bool s = rs->stopping;
    pthread_mutex_unlock(&rs->mu);
    return s;
}

/* The connection is gone: reconnect with backoff until it works, the budget is spent (fatal,
 * 0 returned after fail()), or stop. 1 = connected again, 0 = give up. */
static int reconnect(repl_source_t *rs, const char *why) {
    char err[1024];
    if (rs->healthy) {
        rs->lost_ms = bt_mono_ms();
        rs->backoff_ms = BACKOFF_MIN_MS;
    }
    rs->healthy = false;
    publish_pos(rs, false); /* no longer known to be caught up */
    bt_warn("replication connection to %s:%u lost at %s:%" PRIu64 " (%s); reconnecting", rs->url.host, rs->url.port,
            rs->file[0] ? rs->file : "(start)", rs->pos, why);
    snprintf(err, sizeof err, "%s", why);
    for (;;) {
        int64_t spent = bt_mono_ms() - rs->lost_ms;
        if (spent >= rs->retry_ms) {
            fail(rs, "lost the replication connection to %s:%u at %s:%" PRIu64 " and could not reconnect within "
                 "%" PRId64 " s (--retry-connect): %s", rs->url.host, rs->url.port,
                 rs->file[0] ? rs->file : "(start)", rs->pos, rs->retry_ms / 1000, err);
            return 0;
        }
        int wait = rs->backoff_ms;
        if (wait > rs->retry_ms - spent) wait = (int)(rs->retry_ms - spent);
        if (pause_ms(rs, wait)) return 0;
        rs->backoff_ms = rs->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : rs->backoff_ms * 2;
        bool retry;
        uint8_t alg;
        if (dump_open(rs, &alg, &retry, err, sizeof err) == 0) {
            rs->resumed = true;
            bt_info("reconnected to %s:%u, reading from %s:%" PRIu64, rs->url.host, rs->url.port,
                    rs->gtid_pending ? "gtid" : rs->file[0] ? rs->file : "(first binlog)",
                    rs->gtid_pending ? 0 : rs->pos);
            return 1;
        }
        if (!retry) { /* the server refuses (purged binlog, missing privilege): no restart cures it */
            rs->fail_operator = true;
            fail(rs, "%s", err);
            return 0;
        }
        bt_warn("reconnecting to %s:%u: %s; next try in %d ms", rs->url.host, rs->url.port, err, rs->backoff_ms);
    }
}

static void *reader_main(void *arg) {
    repl_source_t *rs = arg;
    char err[1024];
    mysql_thread_init();
    for (;;) {
        int rc = read_packet(rs, err, sizeof err);
        if (rc == 1) continue;
        dump_close(rs);
        if (rc == -2) break;
        if (rc == -1) { /* a malformed stream */
            rs->fail_operator = true;
            fail(rs, "replication from %s:%u at %s:%" PRIu64 ": %s", rs->url.host, rs->url.port,
                 rs->file[0] ? rs->file : "(start)", rs->pos, err);
            break;
        }
        if (reconnect(rs, err) != 1) break;
    }
    dump_close(rs);
    mysql_thread_end();
    return NULL;
}

/* ---------------------------------------------------------------- the source API */

static int repl_next(bt_source_t *src, bt_raw_event_t *ev, int timeout_ms, char *err, size_t errlen) {
    repl_source_t *rs = (repl_source_t *)src;
    free(rs->cur);
    rs->cur = NULL;
    if (!rs->local) {
        struct timespec ts;
        bt_mono_deadline(&ts, timeout_ms > 0 ? timeout_ms : 0);
        pthread_mutex_lock(&rs->mu);
        while (!rs->head && !rs->failed && timeout_ms > 0 &&
               pthread_cond_timedwait(&rs->cv_data, &rs->mu, &ts) != ETIMEDOUT) {
        }
        if (rs->head) {
            /* Take everything at once: one lock per batch, not per event. */
            rs->local = rs->head;
            rs->head = rs->tail = NULL;
            rs->qbytes = 0;
            pthread_cond_signal(&rs->cv_space);
        } else if (rs->failed) {
            snprintf(err, errlen, "%s", rs->fail_msg);
            rs->base.needs_operator = rs->fail_operator;
            pthread_mutex_unlock(&rs->mu);
            return -1;
        }
        pthread_mutex_unlock(&rs->mu);
    }
    if (!rs->local) {
        rs->idle = true;
        return 0;
    }
    qitem_t *it = rs->local;
    rs->local = it->next;
    rs->cur = it;
    rs->idle = false;
    ev->data = it->data;
    ev->len = it->len;
    ev->file = (const char *)it->data + it->len;
    ev->pos = it->pos;
    ev->skip = it->skip;
    return 1;
}

/* Order of binlog coordinates: same file by offset, else by the file's numeric suffix. */
static int coord_cmp(const char *fa, uint64_t pa, const char *fb, uint64_t pb) {
    if (!strcmp(fa, fb)) return pa < pb ? -1 : pa > pb;
    const char *da = strrchr(fa, '.'), *db = strrchr(fb, '.');
    if (da && db) {
        unsigned long long na = strtoull(da + 1, NULL, 10), nb = strtoull(db + 1, NULL, 10);
        if (na != nb) return na < nb ? -1 : 1;
    }
    return strcmp(fa, fb) < 0 ? -1 : 1;
}

/* The server's current binlog end, on a second connection; at most once a second. */
static void refresh_master_status(repl_source_t *rs) {
    int64_t now = bt_mono_ms();
    if (rs->status_denied || now - rs->status_ms < STATUS_EVERY_MS) return;
    rs->status_ms = now;
    char err[1024];
    /* Short timeouts: this runs in the caller's thread, which a hung server must not block. */
    if (!rs->status && !(rs->status = bt_mysql_connect_io(&rs->url, rs->password, 5, 5, err, sizeof err))) {
        bt_debug("at_end: %s", err);
        return;
    }
    unsigned code;
    if (bt_mysql_binlog_end(rs->status, rs->m_file, sizeof rs->m_file, &rs->m_pos, &code, err, sizeof err) != 0) {
        if (code == ER_SPECIFIC_ACCESS_DENIED_ERROR || code == ER_ACCESS_DENIED_ERROR) {
            bt_warn("cannot read the binlog position of %s:%u (%s): the end of the binlog is detected by heartbeats "
                    "only", rs->url.host, rs->url.port, err);
            rs->status_denied = true;
        } else {
            bt_debug("at_end: %s", err);
        }
        rs->status_known = false;
        mysql_close(rs->status);
        rs->status = NULL;
        return;
    }
    rs->status_known = true;
}

static bool repl_at_end(bt_source_t *src) {
    repl_source_t *rs = (repl_source_t *)src;
    if (!rs->idle || rs->local) return false;
    char file[256];
    pthread_mutex_lock(&rs->mu);
    bool empty = !rs->head, hb = rs->hb_idle;
    snprintf(file, sizeof file, "%s", rs->s_file);
    uint64_t pos = rs->s_pos;
    pthread_mutex_unlock(&rs->mu);
    if (!empty) return false;
    if (hb) return true;
    if (!file[0]) return false;
    refresh_master_status(rs);
    return rs->status_known && coord_cmp(file, pos, rs->m_file, rs->m_pos) >= 0;
}

static void repl_free(bt_source_t *src) {
    repl_source_t *rs = (repl_source_t *)src;
    if (rs->thread_started) {
        pthread_mutex_lock(&rs->mu);
        rs->stopping = true;
        if (rs->dump_fd >= 0) shutdown(rs->dump_fd, SHUT_RDWR);
        pthread_cond_broadcast(&rs->cv_space);
        pthread_cond_broadcast(&rs->cv_data);
        pthread_mutex_unlock(&rs->mu);
        pthread_join(rs->thread, NULL);
    }
    dump_close(rs);
    free_items(rs->head);
    free_items(rs->local);
    free(rs->cur);
    free(rs->fde);
    if (rs->status) mysql_close(rs->status);
    if (rs->password) explicit_bzero(rs->password, strlen(rs->password));
    free(rs->password);
    free(rs->gtid);
    pthread_mutex_destroy(&rs->mu);
    pthread_cond_destroy(&rs->cv_data);
    pthread_cond_destroy(&rs->cv_space);
    free(rs);
}

static const bt_source_ops_t repl_ops = {
    .name = "replication",
    .next = repl_next,
    .at_end = repl_at_end,
    .free = repl_free,
};

uint8_t bt_source_repl_checksum(bt_source_t *src) {
    if (!src || src->ops != &repl_ops) return 0;
    return ((repl_source_t *)src)->checksum_alg;
}

/* A MariaDB GTID position: "D-S-N" items separated by commas (spaces allowed). Writes it
 * without spaces into out. */
static int normalize_gtid(const char *in, char *out, size_t outlen, char *err, size_t errlen) {
    size_t k = 0;
    const char *p = in;
    if (!strncmp(p, "gtid:", 5)) p += 5;
    for (;;) {
        while (*p == ' ') p++;
        unsigned d, s;
        unsigned long long q;
        int used = 0;
        if (sscanf(p, "%u-%u-%llu%n", &d, &s, &q, &used) != 3 || p[0] == '-' || p[0] == '+') {
            snprintf(err, errlen, "GTID start '%s': expected MariaDB GTID positions like 0-1-100,1-2-7 (a MySQL "
                     "GTID set cannot be used as a start over the replication protocol yet)", in);
            return -1;
        }
        int w = snprintf(out + k, outlen - k, "%s%u-%u-%llu", k ? "," : "", d, s, q);
        if (w < 0 || (size_t)w >= outlen - k) {
            snprintf(err, errlen, "GTID start '%s' is too long", in);
            return -1;
        }
        k += (size_t)w;
        p += used;
        while (*p == ' ') p++;
        if (!*p) return 0;
        if (*p != ',') {
            snprintf(err, errlen, "GTID start '%s': unexpected '%s'", in, p);
            return -1;
        }
        p++;
    }
}

static int init_sync(repl_source_t *rs) {
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_mutex_init(&rs->mu, NULL) || pthread_cond_init(&rs->cv_data, &ca) ||
             pthread_cond_init(&rs->cv_space, &ca);
    pthread_condattr_destroy(&ca);
    return rc ? -1 : 0;
}

bt_source_t *bt_source_repl_new(const bt_repl_opts_t *opts, const bt_start_pos_t *start, char *err, size_t errlen) {
    if (!opts->host || !*opts->host || !opts->user || !*opts->user) {
        snprintf(err, errlen, "replication source: a host and a user are needed (--mysql mysql://USER@HOST:PORT)");
        return NULL;
    }
    if (opts->server_id == 0) {
        snprintf(err, errlen, "replication source: --server-id must not be 0 (the server refuses replicas without "
                              "an id); pick one unique among the server's replicas");
        return NULL;
    }
    repl_source_t *rs = calloc(1, sizeof *rs);
    if (!rs || init_sync(rs) != 0) {
        free(rs);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    rs->base.ops = &repl_ops;
    rs->dump_fd = -1;
    snprintf(rs->url.host, sizeof rs->url.host, "%s", opts->host);
    snprintf(rs->url.user, sizeof rs->url.user, "%s", opts->user);
    rs->url.port = opts->port ? opts->port : BT_MYSQL_DEFAULT_PORT;
    rs->password = strdup(opts->password ? opts->password : "");
    rs->server_id = opts->server_id;
    rs->retry_ms = opts->retry_connect_ms > 0 ? opts->retry_connect_ms : 0;
    rs->heartbeat_ms = opts->heartbeat_ms > 0 ? opts->heartbeat_ms : DEFAULT_HEARTBEAT_MS;
    if (rs->heartbeat_ms > MAX_HEARTBEAT_MS) rs->heartbeat_ms = MAX_HEARTBEAT_MS;
    rs->io_timeout_s = (2 * rs->heartbeat_ms + 10000 + 999) / 1000;
    rs->healthy = true;
    if (opts->gtid && *opts->gtid) {
        char norm[4096];
        if (normalize_gtid(opts->gtid, norm, sizeof norm, err, errlen) != 0) goto fail;
        rs->gtid = strdup(norm);
        rs->gtid_pending = true;
    } else if (start && start->file[0]) {
        snprintf(rs->file, sizeof rs->file, "%s", start->file);
        rs->pos = start->pos < 4 ? 4 : start->pos;
    } else {
        rs->pos = 4; /* "" asks the server for its first binlog */
    }
    if (!rs->password || (opts->gtid && *opts->gtid && !rs->gtid)) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    bool retry;
    if (dump_open(rs, &rs->checksum_alg, &retry, err, errlen) != 0) goto fail;
    char from[320];
    if (rs->gtid) snprintf(from, sizeof from, "GTID %.300s", rs->gtid);
    else if (rs->file[0]) snprintf(from, sizeof from, "%s:%" PRIu64, rs->file, rs->pos);
    else snprintf(from, sizeof from, "its first binlog");
    bt_info("reading the binlog of %s:%u (%s) over the replication protocol from %s", rs->url.host, rs->url.port,
            rs->mariadb ? "MariaDB" : "MySQL", from);
    /* The reader takes no signals: they belong to the caller's thread, and an interrupted read
     * would look like a lost connection. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int trc = pthread_create(&rs->thread, NULL, reader_main, rs);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (trc != 0) {
        snprintf(err, errlen, "cannot start the replication reader thread: %s", strerror(trc));
        goto fail;
    }
    rs->thread_started = true;
    return &rs->base;
fail:
    repl_free(&rs->base);
    return NULL;
}
