/* startpos.c: turns --start (earliest, latest, FILE:POS, time:..., gtid:...) into a file and
 * offset of the local binlog, and reads a file's identity for checkpoint checks.
 *
 * Only event headers are read (19 bytes per event, then a seek), plus the body of MariaDB
 * GTID events for gtid:, so even large binlogs are scanned quickly; time: first picks the
 * file by the timestamp of each file's FORMAT_DESCRIPTION, so it does not walk every file. */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/binlog/binlog.h"
#include "agent/source/binlog_walk.h"
#include "agent/source/startpos.h"
#include "agent/source/txn_gate.h"
#include "lib/lib.h"

/* Whether an event of this type starts a transaction: a GTID event, MariaDB's or one of MySQL's. */
static bool is_gtid_event(uint8_t type) {
    return type == BT_GTID_LOG_EVENT || type == BT_ANONYMOUS_GTID_LOG_EVENT || type == BT_MARIA_GTID_EVENT ||
           type == BT_GTID_TAGGED_LOG_EVENT;
}

/* 0, or -1 when the file cannot be walked. Resolving looks past such a file without saying
 * why: the file source reports it, with the reason, if it comes to read it. */
static int walk_open(bt_binlog_walk_t *w, const char *dir, const char *file) {
    char err[512];
    return bt_binlog_walk_open(w, dir, file, err, sizeof err);
}

/* 1 at a whole event; 0 at the end of the whole events (a torn or impossible one ends them too:
 * resolving only looks for a place to start, the file source reports damage when it reads it). */
static int walk_header(bt_binlog_walk_t *w) {
    char err[512];
    return bt_binlog_walk_header(w, err, sizeof err) == BT_WALK_EVENT;
}

int bt_binlog_file_identity(const char *dir, const char *file, uint32_t *server_id, uint32_t *created) {
    bt_binlog_walk_t w;
    if (walk_open(&w, dir, file) != 0) return -1;
    int rc = walk_header(&w) == 1 && bt_event_type(w.h) == BT_FORMAT_DESCRIPTION_EVENT ? 0 : -1;
    if (rc == 0) {
        *created = bt_event_timestamp(w.h);
        *server_id = bt_event_server_id(w.h);
    }
    bt_binlog_walk_close(&w);
    return rc;
}

/* Where reading a file "from its end" starts: after its last complete transaction, never
 * inside one (a transaction still being written is read once its end is there). */
uint64_t bt_start_file_end(const char *dir, const char *file) {
    bt_binlog_walk_t w;
    if (walk_open(&w, dir, file) != 0) return BT_BINLOG_MAGIC_LEN;
    bt_gate_t g;
    memset(&g, 0, sizeof g);
    bt_gate_reset(&g, BT_BINLOG_MAGIC_LEN);
    uint8_t *buf = NULL;
    size_t cap = 0;
    while (walk_header(&w) == 1) {
        const uint8_t *ev = w.h;
        size_t have = BT_EVENT_HEADER_LEN, need = 0;
        while (bt_gate_step(&g, ev, have, w.size, &need) == BT_GATE_NEED) {
            if (need > cap) { /* at most the event: the gate never asks for more than size */
                buf = bt_xrealloc(buf, need);
                cap = need;
            }
            if (!bt_binlog_walk_body(&w, 0, buf, need)) goto out;
            ev = buf;
            have = need;
        }
        bt_binlog_walk_next(&w);
    }
out:
    free(buf);
    bt_binlog_walk_close(&w);
    return g.horizon > BT_BINLOG_MAGIC_LEN ? g.horizon : BT_BINLOG_MAGIC_LEN;
}

static int parse_time(const char *s, time_t *out) {
    struct tm tm = {0};
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end || (*end && strcmp(end, "Z"))) return -1;
    *out = timegm(&tm);
    return 0;
}

/* Decides, from its header (and file), whether the event at w->pos is where reading starts. */
typedef bool (*start_here_fn)(const bt_binlog_walk_t *w, const void *ctx);

/* Walk the events of files[first..n) and stop at the first one `here` accepts; when none does,
 * start at the end of the last file (nothing newer has been written yet). */
static void scan_for_start(const char *dir, char **files, size_t n, size_t first, start_here_fn here,
                           const void *ctx, bt_start_pos_t *out) {
    for (size_t i = first; i < n; i++) {
        bt_binlog_walk_t w;
        if (walk_open(&w, dir, files[i]) != 0) continue;
        while (walk_header(&w) == 1) {
            if (here(&w, ctx)) {
                snprintf(out->file, sizeof out->file, "%s", files[i]);
                out->pos = w.pos;
                bt_binlog_walk_close(&w);
                return;
            }
            bt_binlog_walk_next(&w);
        }
        bt_binlog_walk_close(&w);
    }
    snprintf(out->file, sizeof out->file, "%s", files[n - 1]);
    out->pos = bt_start_file_end(dir, files[n - 1]);
}

/* A transaction start (GTID event of either flavour) at or after time t. */
static bool starts_at_or_after(const bt_binlog_walk_t *w, const void *ctx) {
    return is_gtid_event(bt_event_type(w->h)) && (time_t)bt_event_timestamp(w->h) >= *(const time_t *)ctx;
}

static void resolve_time(const char *dir, char **files, size_t n, time_t t, bt_start_pos_t *out) {
    /* The last file created at or before t holds the first transaction after t, or one of the
     * files after it does: the files before it are not read at all. */
    size_t first = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t sid, created;
        if (bt_binlog_file_identity(dir, files[i], &sid, &created) == 0 && (time_t)created <= t) first = i;
    }
    scan_for_start(dir, files, n, first, starts_at_or_after, &t, out);
}

typedef struct dom_seq {
    uint32_t domain;
    uint64_t seq;
} dom_seq_t;

typedef struct gtid_pos {
    dom_seq_t d[64];
    size_t n;
} gtid_pos_t;

/* A MariaDB GTID event of a transaction the position does not contain yet. */
static bool not_contained(const bt_binlog_walk_t *w, const void *ctx) {
    const gtid_pos_t *want = ctx;
    uint8_t body[12]; /* seq_no (8), domain_id (4) */
    if (bt_event_type(w->h) != BT_MARIA_GTID_EVENT || !bt_binlog_walk_body(w, BT_EVENT_HEADER_LEN, body, sizeof body))
        return false;
    uint64_t seq = bt_le64(body);
    uint32_t domain = bt_le32(body + 8);
    for (size_t k = 0; k < want->n; k++)
        if (want->d[k].domain == domain && seq <= want->d[k].seq) return false;
    return true;
}

/* MariaDB GTID position "d-s-n,d-s-n": start at the first transaction it does not contain. */
int bt_start_resolve_maria_gtid(const char *dir, char **files, size_t n, const char *text, bt_start_pos_t *out,
                                char *err, size_t errlen) {
    gtid_pos_t want = {.n = 0};
    const char *p = text;
    while (*p && want.n < 64) {
        unsigned d, sv;
        unsigned long long q;
        int used = 0;
        if (sscanf(p, "%u-%u-%llu%n", &d, &sv, &q, &used) != 3) {
            snprintf(err, errlen, "--start gtid:%s: expected MariaDB GTID positions like gtid:0-1-100,1-2-7", text);
            return -1;
        }
        want.d[want.n].domain = d;
        want.d[want.n].seq = q;
        want.n++;
        p += used;
        if (*p == ',') p++;
        else if (*p) {
            snprintf(err, errlen, "--start gtid:%s: unexpected '%s'", text, p);
            return -1;
        }
    }
    scan_for_start(dir, files, n, 0, not_contained, &want, out);
    return 0;
}

int bt_start_resolve(const char *spec, const char *dir, const char *index, bt_start_pos_t *out, char *err,
                     size_t errlen) {
    memset(out, 0, sizeof *out);
    char idx[PATH_MAX];
    if (index) snprintf(idx, sizeof idx, "%s", index);
    else if (bt_binlog_index_find(dir, idx, sizeof idx, err, errlen) != 0) return -1;
    char **files;
    size_t n;
    if (bt_binlog_index_read(dir, idx, &files, &n, err, errlen) != 0) return -1;
    int rc = 0;
    if (n == 0) {
        snprintf(err, errlen, "the binlog index %s lists no files", idx);
        rc = -1;
    } else if (!strcmp(spec, "earliest")) {
        snprintf(out->file, sizeof out->file, "%s", files[0]);
        out->pos = BT_BINLOG_MAGIC_LEN;
    } else if (!strcmp(spec, "latest")) {
        snprintf(out->file, sizeof out->file, "%s", files[n - 1]);
        out->pos = bt_start_file_end(dir, files[n - 1]);
    } else if (!strncmp(spec, "time:", 5)) {
        time_t t;
        if (parse_time(spec + 5, &t) != 0) {
            snprintf(err, errlen, "--start %s: expected time:YYYY-MM-DDTHH:MM:SSZ (UTC)", spec);
            rc = -1;
        } else {
            resolve_time(dir, files, n, t, out);
        }
    } else if (!strncmp(spec, "gtid:", 5)) {
        rc = bt_start_resolve_gtid(dir, files, n, spec + 5, out, err, errlen);
    } else {
        const char *colon = strrchr(spec, ':');
        char *end = NULL;
        unsigned long long pos = colon ? strtoull(colon + 1, &end, 10) : 0;
        if (!colon || colon == spec || !end || *end || pos < BT_BINLOG_MAGIC_LEN) {
            snprintf(err, errlen, "--start %s: expected earliest, latest, FILE:POS (e.g. mysql-bin.000003:1234), "
                                  "gtid:SET or time:YYYY-MM-DDTHH:MM:SSZ", spec);
            rc = -1;
        } else {
            snprintf(out->file, sizeof out->file, "%.*s", (int)(colon - spec), spec);
            out->pos = pos;
        }
    }
    for (size_t i = 0; i < n; i++) free(files[i]);
    free(files);
    return rc;
}
