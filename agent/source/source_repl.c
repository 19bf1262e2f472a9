/* source_repl.c: reads binlog events from a server over the replication protocol, as a replica.
 * This file is the source's face (bt_source_ops_t: new, next, at_end, free) and its design
 * notes; the connection and the dump request are repl_conn.c's, the reader thread and its
 * queue repl_reader.c's, and they share repl_internal.h.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <mysqld_error.h>

#include "agent/source/repl_internal.h"
#include "lib/lib.h"

#define DEFAULT_HEARTBEAT_MS 5000
#define MAX_HEARTBEAT_MS 3600000
#define STATUS_EVERY_MS 1000

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
    bt_repl_dump_close(rs);
    bt_repl_free_items(rs->head);
    bt_repl_free_items(rs->local);
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
    repl_source_t *rs = bt_xcalloc(1, sizeof *rs);
    if (init_sync(rs) != 0) {
        free(rs);
        snprintf(err, errlen,
                 "replication source: cannot set up the reader thread's mutex and condition "
                 "variables (the system is out of memory): free memory on this host, then restart");
        return NULL;
    }
    rs->base.ops = &repl_ops;
    rs->dump_fd = -1;
    snprintf(rs->url.host, sizeof rs->url.host, "%s", opts->host);
    snprintf(rs->url.user, sizeof rs->url.user, "%s", opts->user);
    rs->url.port = opts->port ? opts->port : BT_MYSQL_DEFAULT_PORT;
    rs->password = bt_xstrdup(opts->password ? opts->password : "");
    rs->server_id = opts->server_id;
    rs->retry_ms = opts->retry_connect_ms > 0 ? opts->retry_connect_ms : 0;
    rs->heartbeat_ms = opts->heartbeat_ms > 0 ? opts->heartbeat_ms : DEFAULT_HEARTBEAT_MS;
    if (rs->heartbeat_ms > MAX_HEARTBEAT_MS) rs->heartbeat_ms = MAX_HEARTBEAT_MS;
    rs->io_timeout_s = (2 * rs->heartbeat_ms + 10000 + 999) / 1000;
    rs->healthy = true;
    if (opts->gtid && *opts->gtid) {
        char norm[4096];
        if (normalize_gtid(opts->gtid, norm, sizeof norm, err, errlen) != 0) goto fail;
        rs->gtid = bt_xstrdup(norm);
        rs->gtid_pending = true;
    } else if (start && start->file[0]) {
        snprintf(rs->file, sizeof rs->file, "%s", start->file);
        rs->pos = start->pos < 4 ? 4 : start->pos;
    } else {
        rs->pos = 4; /* "" asks the server for its first binlog */
    }
    bool retry;
    if (bt_repl_dump_open(rs, &rs->checksum_alg, &retry, err, errlen) != 0) goto fail;
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
    int trc = pthread_create(&rs->thread, NULL, bt_repl_reader_main, rs);
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
