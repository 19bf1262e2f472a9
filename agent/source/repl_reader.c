/* repl_reader.c: the reader thread of the replication source and its bounded queue. The thread
 * reads one packet at a time from the server, turns the server's extras (fake ROTATE, replayed
 * FORMAT_DESCRIPTION, GTID_LIST, heartbeats) into positions and checks, and copies each binlog
 * event into a queue capped at QUEUE_CAP bytes, which the caller drains in source_repl.c. A lost
 * connection goes to bt_repl_reconnect(); a malformed stream ends the source. */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errmsg.h>
#include <zlib.h>

#include "agent/source/repl_internal.h"
#include "lib/lib.h"

#define HEADER_LEN         19
#define FDE_CREATED_OFF    (HEADER_LEN + 2 + 50) /* after binlog_version and server_version */
#define EV_ROTATE          4
#define EV_FDE             15
#define EV_HEARTBEAT       27
#define EV_GTID_MYSQL      33
#define EV_HEARTBEAT_V2    41
#define EV_GTID_MARIA      162
#define EV_GTID_LIST_MARIA 163
#define ARTIFICIAL_F       0x20

#define QUEUE_CAP ((size_t)16 << 20)

/* ---------------------------------------------------------------- queue (mu held where noted) */

void bt_repl_free_items(qitem_t *it) {
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
    if (rs->tail)
        rs->tail->next = it;
    else
        rs->head = it;
    rs->tail = it;
    rs->qbytes += len;
    rs->hb_idle = false;
    publish_locked(rs);
    pthread_cond_signal(&rs->cv_data);
    pthread_mutex_unlock(&rs->mu);
    return 0;
}

/* Reader: publish the position after a packet that queued nothing; hb_idle as given. */
void bt_repl_publish_pos(repl_source_t *rs, bool hb_idle) {
    pthread_mutex_lock(&rs->mu);
    publish_locked(rs);
    rs->hb_idle = hb_idle;
    pthread_mutex_unlock(&rs->mu);
}

/* Reader: stop for good; next() reports the message once the queue is drained. */
void bt_repl_fail(repl_source_t *rs, const char *fmt, ...) {
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
    bt_repl_publish_pos(rs, true);
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
    snprintf(err, errlen,
             "after reconnecting to %s:%u, %s is not the file read before (its FORMAT_DESCRIPTION "
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
    if (!queued) bt_repl_publish_pos(rs, false);
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
        return bt_repl_transient(code) ? 0 : -1;
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

void *bt_repl_reader_main(void *arg) {
    repl_source_t *rs = arg;
    char err[1024];
    mysql_thread_init();
    for (;;) {
        int rc = read_packet(rs, err, sizeof err);
        if (rc == 1) continue;
        bt_repl_dump_close(rs);
        if (rc == -2) break;
        if (rc == -1) { /* a malformed stream */
            rs->fail_operator = true;
            bt_repl_fail(rs, "replication from %s:%u at %s:%" PRIu64 ": %s", rs->url.host, rs->url.port,
                         rs->file[0] ? rs->file : "(start)", rs->pos, err);
            break;
        }
        if (bt_repl_reconnect(rs, err) != 1) break;
    }
    bt_repl_dump_close(rs);
    mysql_thread_end();
    return NULL;
}
