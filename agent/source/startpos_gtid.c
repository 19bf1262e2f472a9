/* startpos_gtid.c: --start gtid:SET for the local binlog files, for both servers' GTIDs.
 *
 * The form must be the server's: a MariaDB position (domain-server-seq) given to MySQL binlogs,
 * or a MySQL set given to MariaDB ones, used to start silently at the end; now it is refused.
 * MySQL: the newest file whose PREVIOUS_GTIDS the set contains holds the first transaction the
 * set lacks (or a later file does); reading starts at that transaction's GTID event. A set that
 * lacks GTIDs from before the oldest file here asks for changes that were purged: that needs an
 * operator, and the message lists them. Transactions after the start that the set already holds
 * (a set with holes) are sent again: at least once, never lost. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/binlog/binlog.h"
#include "agent/binlog/gtid_set.h"
#include "agent/source/binlog_walk.h"
#include "agent/source/startpos.h"
#include "lib/lib.h"

/* One file decoded event by event, only the events that say where GTIDs stand. */
typedef struct gtid_walk {
    bt_binlog_walk_t w;
    bt_decoder_t *dec;
    uint8_t *buf;
    size_t cap;
} gtid_walk_t;

static bool wanted_type(uint8_t t) {
    return t == BT_FORMAT_DESCRIPTION_EVENT || t == BT_PREVIOUS_GTIDS_LOG_EVENT || t == BT_GTID_LOG_EVENT ||
           t == BT_ANONYMOUS_GTID_LOG_EVENT || t == BT_GTID_TAGGED_LOG_EVENT || t == BT_MARIA_GTID_LIST_EVENT ||
           t == BT_MARIA_GTID_EVENT;
}

static int gwalk_open(gtid_walk_t *g, const char *dir, const char *file, char *err, size_t errlen) {
    memset(g, 0, sizeof *g);
    if (bt_binlog_walk_open(&g->w, dir, file, err, errlen) != 0) return -1;
    g->dec = bt_decoder_new(NULL);
    bt_decoder_set_file(g->dec, file);
    return 0;
}

static void gwalk_close(gtid_walk_t *g) {
    bt_binlog_walk_close(&g->w);
    bt_decoder_free(g->dec);
    free(g->buf);
}

/* The next GTID-related event of the file: 1 (*ev, at *pos), 0 the end of its whole events,
 * -1 an event that does not decode (err). */
static int gwalk_next(gtid_walk_t *g, bt_event_t *ev, uint64_t *pos, char *err, size_t errlen) {
    for (;;) {
        int got = bt_decoder_next(g->dec, ev, err, errlen);
        if (got != 0) return got;
        char werr[512];
        if (bt_binlog_walk_header(&g->w, werr, sizeof werr) != BT_WALK_EVENT) return 0;
        if (!wanted_type(bt_event_type(g->w.h))) {
            bt_binlog_walk_next(&g->w);
            continue;
        }
        if (g->w.size > g->cap) g->buf = bt_xrealloc(g->buf, g->cap = g->w.size);
        if (!bt_binlog_walk_body(&g->w, 0, g->buf, g->w.size)) return 0;
        *pos = g->w.pos;
        if (bt_decoder_feed(g->dec, g->buf, g->w.size, g->w.pos, err, errlen) != 0) return -1;
        bt_binlog_walk_next(&g->w);
    }
}

/* Which server wrote file, from the version its FORMAT_DESCRIPTION names ("10.11.6-MariaDB-log").
 * 1 MariaDB, 0 MySQL, -1 unreadable (err). */
static int file_is_mariadb(const char *dir, const char *file, char *err, size_t errlen) {
    bt_binlog_walk_t w;
    if (bt_binlog_walk_open(&w, dir, file, err, errlen) != 0) return -1;
    char version[51] = "";
    int rc = bt_binlog_walk_header(&w, err, errlen) == BT_WALK_EVENT &&
                     bt_event_type(w.h) == BT_FORMAT_DESCRIPTION_EVENT &&
                     bt_binlog_walk_body(&w, BT_EVENT_HEADER_LEN + 2, version, 50)
                 ? strstr(version, "MariaDB") != NULL
                 : bt_errf(err, errlen, "%s/%s: no FORMAT_DESCRIPTION event at its start", dir, file);
    bt_binlog_walk_close(&w);
    return rc;
}

/* The PREVIOUS_GTIDS text of a MySQL binlog file into prev ("" when it has none). */
static int file_previous_gtids(const char *dir, const char *file, bt_buf_t *prev, char *err, size_t errlen) {
    gtid_walk_t g;
    if (gwalk_open(&g, dir, file, err, errlen) != 0) return -1;
    bt_event_t ev;
    uint64_t pos;
    int rc;
    bt_buf_reset(prev);
    while ((rc = gwalk_next(&g, &ev, &pos, err, errlen)) == 1) {
        if (ev.kind == BT_EV_FORMAT) {
            continue;
        } else if (ev.kind == BT_EV_GTID_LIST) {
            bt_buf_puts(prev, ev.u.gtid_list.text);
            break;
        } else {
            break; /* a transaction: this file has no PREVIOUS_GTIDS (a server older than 5.6) */
        }
    }
    gwalk_close(&g);
    return rc < 0 ? -1 : 0;
}

/* The first transaction of files[i..n) whose GTID set lacks; none: the end of the last file. */
static int first_not_in(const char *dir, char **files, size_t n, size_t i, const bt_gtid_set_t *set,
                        bt_start_pos_t *out, bool *any_gtid, char *err, size_t errlen) {
    for (; i < n; i++) {
        gtid_walk_t g;
        if (gwalk_open(&g, dir, files[i], err, errlen) != 0) return -1;
        bt_event_t ev;
        uint64_t pos;
        int rc;
        while ((rc = gwalk_next(&g, &ev, &pos, err, errlen)) == 1) {
            if (ev.kind != BT_EV_GTID || ev.u.gtid.anonymous) continue;
            *any_gtid = true;
            if (!bt_gtid_set_has(set, ev.u.gtid.text)) {
                snprintf(out->file, sizeof out->file, "%s", files[i]);
                out->pos = pos;
                gwalk_close(&g);
                return 0;
            }
        }
        gwalk_close(&g);
        if (rc < 0) return -1;
    }
    snprintf(out->file, sizeof out->file, "%s", files[n - 1]);
    out->pos = bt_start_file_end(dir, files[n - 1]);
    return 0;
}

static int resolve_mysql(const char *dir, char **files, size_t n, const char *text, const bt_gtid_set_t *set,
                         bt_start_pos_t *out, char *err, size_t errlen) {
    bt_buf_t prev;
    bt_buf_init(&prev, 0);
    bt_gtid_set_t *p = bt_gtid_set_new();
    bool any_gtid = false;
    size_t from = n; /* the newest file whose PREVIOUS_GTIDS the set contains */
    int rc = 0;
    for (size_t i = n; i-- > 0 && from == n && rc == 0;) {
        if (file_previous_gtids(dir, files[i], &prev, err, errlen) != 0) {
            rc = -1;
            break;
        }
        bt_gtid_set_clear(p);
        if (bt_gtid_set_parse(p, prev.p ? prev.p : "", err, errlen) != 0) {
            rc = -1;
            break;
        }
        if (!bt_gtid_set_empty(p)) any_gtid = true;
        if (bt_gtid_set_contains_set(set, p)) from = i;
    }
    if (rc == 0 && from == n) { /* p holds the oldest file's PREVIOUS_GTIDS */
        bt_gtid_set_missing(p, set, &prev);
        bt_errf(err, errlen,
                "--start gtid:%s: the oldest binlog file here, %s, begins after GTIDs this set "
                "lacks (%s): they were purged, so their changes are no longer here; take a new snapshot, or "
                "give a set that contains them",
                text, files[0], prev.p ? prev.p : "");
        rc = BT_START_PURGED;
    }
    if (rc == 0) rc = first_not_in(dir, files, n, from, set, out, &any_gtid, err, errlen);
    if (rc == 0 && !any_gtid)
        rc = bt_errf(err, errlen,
                     "--start gtid:%s: these binlogs carry no GTIDs (is gtid_mode=ON on the server?); "
                     "start with earliest, latest, FILE:POS or time: instead",
                     text);
    bt_gtid_set_free(p);
    bt_buf_free(&prev);
    return rc;
}

int bt_start_resolve_gtid(const char *dir, char **files, size_t n, const char *text, bt_start_pos_t *out, char *err,
                          size_t errlen) {
    bt_gtid_set_t *set = bt_gtid_set_new();
    char perr[600];
    int mariadb = 0, rc = 0;
    if (bt_gtid_set_parse(set, text, perr, sizeof perr) != 0) {
        rc = bt_errf(err, errlen, "--start: %s", perr);
    } else if (bt_gtid_set_empty(set)) {
        rc = bt_errf(err, errlen,
                     "--start gtid: names no GTID; give a GTID set (MySQL uuid:1-5) or position "
                     "(MariaDB 0-1-100)");
    } else if ((mariadb = file_is_mariadb(dir, files[n - 1], err, errlen)) < 0) {
        rc = -1;
    } else if ((mariadb == 1) != (bt_gtid_set_flavor(set) == BT_GTID_MARIADB)) {
        rc = bt_errf(err, errlen, "--start gtid:%s is a %s, but the binlogs here are %s's: give a %s, or FILE:POS",
                     text, mariadb ? "MySQL GTID set" : "MariaDB GTID position", mariadb ? "MariaDB" : "MySQL",
                     mariadb ? "MariaDB GTID position like gtid:0-1-100 (SELECT @@gtid_binlog_pos)"
                             : "MySQL GTID set like gtid:uuid:1-100 (SELECT @@gtid_executed)");
    } else if (mariadb) {
        rc = bt_start_resolve_maria_gtid(dir, files, n, text, out, err, errlen);
    } else {
        rc = resolve_mysql(dir, files, n, text, set, out, err, errlen);
    }
    bt_gtid_set_free(set);
    return rc;
}

/* Whether the GTID d-s-n is one of the comma-separated list's elements. */
static bool in_list(const char *list, const char *gtid) {
    size_t n = strlen(gtid);
    for (const char *p = list; p && *p;) {
        while (*p == ' ' || *p == ',') p++;
        if (!strncmp(p, gtid, n) && (p[n] == ',' || p[n] == 0 || p[n] == ' ')) return true;
        p = strchr(p, ',');
    }
    return false;
}

int bt_start_maria_gtids_known(const char *dir, const char *index, const char *position, char *missing,
                               size_t missinglen) {
    char idx[PATH_MAX], err[512];
    char **files = NULL;
    size_t n = 0;
    if (index)
        snprintf(idx, sizeof idx, "%s", index);
    else if (bt_binlog_index_find(dir, idx, sizeof idx, err, sizeof err) != 0)
        return -1;
    if (bt_binlog_index_read(dir, idx, &files, &n, err, sizeof err) != 0) return -1;
    /* each element of position, found or not */
    char *want = bt_xstrdup(position);
    size_t nwant = 1;
    for (char *c = want; *c; c++) nwant += *c == ',';
    char **elem = bt_xcalloc(nwant, sizeof *elem);
    bool *found = bt_xcalloc(nwant, sizeof *found);
    nwant = 0;
    for (char *tok = strtok(want, ", "); tok; tok = strtok(NULL, ", ")) elem[nwant++] = tok;
    size_t left = nwant;
    for (size_t i = 0; i < n && left; i++) {
        gtid_walk_t g;
        if (gwalk_open(&g, dir, files[i], err, sizeof err) != 0) continue;
        bt_event_t ev;
        uint64_t pos;
        while (left && gwalk_next(&g, &ev, &pos, err, sizeof err) == 1) {
            const char *t = ev.kind == BT_EV_GTID        ? ev.u.gtid.text
                            : ev.kind == BT_EV_GTID_LIST ? ev.u.gtid_list.text
                                                         : NULL;
            for (size_t k = 0; t && k < nwant; k++)
                if (!found[k] && (ev.kind == BT_EV_GTID ? !strcmp(t, elem[k]) : in_list(t, elem[k]))) {
                    found[k] = true;
                    left--;
                }
        }
        gwalk_close(&g);
    }
    for (size_t k = 0; k < nwant && left; k++)
        if (!found[k]) {
            snprintf(missing, missinglen, "%s", elem[k]);
            break;
        }
    int rc = left == 0;
    free(found);
    free(elem);
    free(want);
    for (size_t i = 0; i < n; i++) free(files[i]);
    free(files);
    return rc;
}
