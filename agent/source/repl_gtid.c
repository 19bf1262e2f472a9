/* repl_gtid.c: a MySQL GTID set turned into a file and offset of the server --mysql names, for
 * the replication source (--start gtid:SET, and a checkpoint followed to another server).
 *
 * Connector/C has no COM_BINLOG_DUMP_GTID, so the server's own binlogs are searched the way the
 * file source searches local ones (startpos_gtid.c), with statements a replication user may run:
 * SHOW BINARY LOGS lists the files, SHOW BINLOG EVENTS shows each file's Previous_gtids and every
 * transaction's GTID. The newest file whose Previous_gtids the set contains holds the first
 * transaction the set lacks (or a later file does); streaming starts at its GTID event. Only the
 * header of each older file and one whole file are read. */
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/binlog/gtid_set.h"
#include "agent/source/repl_gtid.h"
#include "agent/source/startpos.h"
#include "lib/lib.h"

static int query_failed(MYSQL *m, const char *what, char *err, size_t errlen) {
    return bt_errf(err, errlen, "%s failed: %s%s", what, mysql_error(m),
                   mysql_errno(m) == 1227 ? " (the user needs REPLICATION SLAVE and REPLICATION CLIENT)" : "");
}

/* The server's binlog file names, oldest first. */
static int binlog_names(MYSQL *m, char ***names, size_t *n, char *err, size_t errlen) {
    *names = NULL;
    *n = 0;
    if (mysql_query(m, "SHOW BINARY LOGS") != 0) return query_failed(m, "SHOW BINARY LOGS", err, errlen);
    MYSQL_RES *res = mysql_store_result(m);
    if (!res) return query_failed(m, "SHOW BINARY LOGS", err, errlen);
    for (MYSQL_ROW row; (row = mysql_fetch_row(res));) {
        if (!row[0]) continue;
        *names = bt_xrealloc(*names, (*n + 1) * sizeof **names);
        (*names)[(*n)++] = bt_xstrdup(row[0]);
    }
    mysql_free_result(res);
    if (*n == 0) return bt_errf(err, errlen, "SHOW BINARY LOGS lists no files: is log_bin enabled on the server?");
    return 0;
}

/* Runs SHOW BINLOG EVENTS IN 'file' [LIMIT n] unbuffered; the caller fetches and frees. */
static MYSQL_RES *binlog_events(MYSQL *m, const char *file, int limit, char *err, size_t errlen) {
    char esc[600], q[800];
    mysql_real_escape_string(m, esc, file, (unsigned long)strnlen(file, 255));
    if (limit > 0)
        snprintf(q, sizeof q, "SHOW BINLOG EVENTS IN '%s' LIMIT %d", esc, limit);
    else
        snprintf(q, sizeof q, "SHOW BINLOG EVENTS IN '%s'", esc);
    MYSQL_RES *res = mysql_query(m, q) == 0 ? mysql_use_result(m) : NULL;
    if (!res) query_failed(m, "SHOW BINLOG EVENTS", err, errlen);
    return res;
}

/* A file's Previous_gtids (MySQL writes one right after the FORMAT_DESCRIPTION) into prev. */
static int previous_gtids(MYSQL *m, const char *file, bt_gtid_set_t *prev, char *err, size_t errlen) {
    MYSQL_RES *res = binlog_events(m, file, 4, err, errlen);
    if (!res) return -1;
    int rc = 0;
    bt_gtid_set_clear(prev);
    for (MYSQL_ROW row; (row = mysql_fetch_row(res));)
        if (row[2] && !strcmp(row[2], "Previous_gtids") && row[5] && rc == 0)
            rc = bt_gtid_set_parse(prev, row[5], err, errlen);
    mysql_free_result(res);
    return rc;
}

/* The GTID of a Gtid event's Info, "SET @@SESSION.GTID_NEXT= 'uuid:N'", into out. */
static bool gtid_of_info(const char *info, char *out, size_t outlen) {
    const char *a = info ? strchr(info, '\'') : NULL;
    const char *b = a ? strchr(a + 1, '\'') : NULL;
    if (!b || (size_t)(b - a - 1) >= outlen) return false;
    snprintf(out, outlen, "%.*s", (int)(b - a - 1), a + 1);
    return strcmp(out, "ANONYMOUS") != 0;
}

/* The first transaction of file the set lacks: 1 (*pos set), 0 none (*end = the file's end). */
static int first_not_in(MYSQL *m, const char *file, const bt_gtid_set_t *set, uint64_t *pos, uint64_t *end,
                        bool *any_gtid, char *err, size_t errlen) {
    MYSQL_RES *res = binlog_events(m, file, 0, err, errlen);
    if (!res) return -1;
    int found = 0;
    char gtid[200];
    for (MYSQL_ROW row; (row = mysql_fetch_row(res));) { /* read to the end: the result is unbuffered */
        if (found || !row[1] || !row[2] || !row[4]) continue;
        *end = strtoull(row[4], NULL, 10);
        if (strncmp(row[2], "Gtid", 4) || !gtid_of_info(row[5], gtid, sizeof gtid)) continue;
        *any_gtid = true;
        if (!bt_gtid_set_has(set, gtid)) {
            *pos = strtoull(row[1], NULL, 10);
            found = 1;
        }
    }
    mysql_free_result(res);
    return found;
}

static int search(MYSQL *m, char **names, size_t n, const char *text, const bt_gtid_set_t *set, char *file,
                  size_t filelen, uint64_t *pos, char *err, size_t errlen) {
    bt_gtid_set_t *prev = bt_gtid_set_new();
    size_t from = n;
    bool any_gtid = false;
    int rc = 0;
    for (size_t i = n; i-- > 0 && from == n;) {
        if ((rc = previous_gtids(m, names[i], prev, err, errlen)) != 0) break;
        if (!bt_gtid_set_empty(prev)) any_gtid = true;
        if (bt_gtid_set_contains_set(set, prev)) from = i;
    }
    if (rc == 0 && from == n) {
        bt_buf_t missing;
        bt_buf_init(&missing, 0);
        bt_gtid_set_missing(prev, set, &missing);
        bt_errf(err, errlen,
                "--start gtid:%s: the oldest binlog file on the server, %s, begins after GTIDs this "
                "set lacks (%s): they were purged, so their changes are no longer there; take a new snapshot, "
                "or give a set that contains them",
                text, names[0], missing.p ? missing.p : "");
        bt_buf_free(&missing);
        rc = BT_START_PURGED;
    }
    for (size_t i = from; rc == 0 && i < n; i++) {
        uint64_t end = 4;
        int f = first_not_in(m, names[i], set, pos, &end, &any_gtid, err, errlen);
        if (f < 0) rc = -1;
        snprintf(file, filelen, "%s", names[i]);
        if (f != 0) break;
        *pos = end; /* nothing lacking yet: the end of the newest file, unless a later one has it */
    }
    if (rc == 0 && !any_gtid)
        rc = bt_errf(err, errlen,
                     "--start gtid:%s: the server's binlogs carry no GTIDs (is gtid_mode=ON?); start "
                     "with earliest, latest or FILE:POS instead",
                     text);
    bt_gtid_set_free(prev);
    return rc;
}

int bt_repl_resolve_mysql_gtid(MYSQL *m, const char *text, char *file, size_t filelen, uint64_t *pos, char *err,
                               size_t errlen) {
    bt_gtid_set_t *set = bt_gtid_set_new();
    char perr[600];
    char **names = NULL;
    size_t n = 0;
    int rc;
    if (bt_gtid_set_parse(set, text, perr, sizeof perr) != 0)
        rc = bt_errf(err, errlen, "--start: %s", perr);
    else if (bt_gtid_set_flavor(set) != BT_GTID_MYSQL)
        rc = bt_errf(err, errlen,
                     "--start gtid:%s is a MariaDB GTID position, but --mysql is a MySQL server: give a "
                     "MySQL GTID set like gtid:uuid:1-100 (SELECT @@gtid_executed), or FILE:POS",
                     text);
    else if ((rc = binlog_names(m, &names, &n, err, errlen)) == 0)
        rc = search(m, names, n, text, set, file, filelen, pos, err, errlen);
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    bt_gtid_set_free(set);
    return rc;
}
