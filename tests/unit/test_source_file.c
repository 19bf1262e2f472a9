/* test_source_file.c: the file source on binlog files written here event by event: nothing
 * appended before a rotation is skipped, a transaction the server never finished writing is
 * never handed on (at the end of a file, or cut by the next group), a torn event at the end
 * of a finished file does not hang the source, and the end of a file closed by ROTATE is the
 * end for --stop-at-end. The shared file walker (binlog_walk.h) and what is built on it, --start
 * resolution and the block reader of `bintail decode`, step over the same files and name the
 * offset of a torn or impossible event. Events carry real headers and QUERY/GTID layouts
 * (MariaDB 10.11, CRC32), with zero checksums: the source does not verify them (the decoder does). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/source/binlog_walk.h"
#include "agent/source/event_blocks.h"
#include "agent/source/source.h"
#include "agent/source/startpos.h"
#include "tests/unit/tap.h"

static char dir[64];
static uint8_t ev[1024];

/* Common header then body, plus 4 checksum bytes; returns the event's length. */
static size_t event(uint8_t type, const uint8_t *body, size_t blen) {
    size_t len = 19 + blen + 4;
    memset(ev, 0, sizeof ev);
    ev[4] = type;
    ev[5] = 2; /* server id */
    ev[9] = (uint8_t)len, ev[10] = (uint8_t)(len >> 8);
    memcpy(ev + 19, body, blen);
    return len;
}

static size_t fde(void) {
    uint8_t b[2 + 50 + 4 + 1 + 40 + 1];
    memset(b, 0, sizeof b);
    b[0] = 4;
    memcpy(b + 2, "10.11.6-MariaDB-log", 19);
    b[56] = 19;
    b[sizeof b - 1] = 1; /* CRC32 */
    return event(15, b, sizeof b);
}

static size_t gtid(void) {
    uint8_t b[13] = {7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    return event(162, b, sizeof b);
}

static size_t query(const char *sql) {
    uint8_t b[512];
    memset(b, 0, 13);
    b[8] = 0;  /* db_len */
    b[11] = 0; /* status_vars_len */
    b[13] = 0; /* the db name's NUL */
    size_t n = strlen(sql);
    memcpy(b + 14, sql, n);
    return event(2, b, 14 + n);
}

static size_t rows(void) {
    uint8_t b[40];
    memset(b, 0xab, sizeof b);
    return event(30, b, sizeof b);
}

static size_t xid(void) {
    uint8_t b[8] = {1};
    return event(16, b, sizeof b);
}

static size_t rotate(const char *next) {
    uint8_t b[64] = {4};
    memcpy(b + 8, next, strlen(next));
    return event(4, b, 8 + strlen(next));
}

static void path_of(const char *name, char *out, size_t len) { snprintf(out, len, "%s/%s", dir, name); }

static void append(const char *name, size_t len) {
    char p[128];
    path_of(name, p, sizeof p);
    FILE *f = fopen(p, "ab");
    fwrite(ev, 1, len, f);
    fclose(f);
}

static void append_raw(const char *name, const void *data, size_t len) {
    char p[128];
    path_of(name, p, sizeof p);
    FILE *f = fopen(p, "ab");
    fwrite(data, 1, len, f);
    fclose(f);
}

static void new_file(const char *name) {
    append_raw(name, "\xfe" "bin", 4);
    append(name, fde());
}

static void index_lists(const char *names) {
    char p[128];
    path_of("bin.index", p, sizeof p);
    FILE *f = fopen(p, "w");
    fputs(names, f);
    fclose(f);
}

static void committed_txn(const char *name) {
    append(name, gtid());
    append(name, query("BEGIN"));
    append(name, rows());
    append(name, xid());
}

static bt_source_t *open_source(void) {
    char err[512];
    bool op;
    bt_source_t *s = bt_source_file_new(dir, NULL, NULL, &op, err, sizeof err);
    if (!s) printf("# %s\n", err);
    return s;
}

/* Every event the source has now, as "file:type" words; stops at the first 0. */
static void drain(bt_source_t *s, char *out, size_t len) {
    bt_raw_event_t e;
    char err[512];
    size_t n = 0;
    out[0] = 0;
    int rc;
    while ((rc = bt_source_next(s, &e, 50, err, sizeof err)) == 1)
        n += (size_t)snprintf(out + n, n < len ? len - n : 0, "%s%s:%u", n ? " " : "", e.file + 4, e.data[4]);
    if (rc < 0) printf("# error: %s\n", err);
}

static void reset_dir(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s/*", dir);
    if (system(cmd) != 0) printf("# cleanup failed\n");
}

/* The server appends the last transaction and its ROTATE, and lists the next file, between
 * our last read (nothing more) and our reading of the index. */
static void append_and_rotate(void) {
    committed_txn("bin.000001");
    append("bin.000001", rotate("bin.000002"));
    new_file("bin.000002");
    index_lists("bin.000001\nbin.000002\n");
    bt_source_file_index_hook = NULL;
}

static void test_rotation_race(void) {
    reset_dir();
    new_file("bin.000001");
    committed_txn("bin.000001");
    index_lists("bin.000001\n");
    bt_source_t *s = open_source();
    char got[2048];
    bt_source_file_index_hook = append_and_rotate;
    drain(s, got, sizeof got);
    is_str(got,
           "000001:15 000001:162 000001:2 000001:30 000001:16 000001:162 000001:2 000001:30 000001:16 000001:4 "
           "000002:15",
           "what the server appended just before rotating is read before moving on to the next file");
    bt_source_free(s);
}

static void test_uncommitted_tail(void) {
    reset_dir();
    new_file("bin.000001");
    committed_txn("bin.000001");
    append("bin.000001", gtid());
    append("bin.000001", query("BEGIN"));
    append("bin.000001", rows());
    index_lists("bin.000001\n");
    bt_source_t *s = open_source();
    char got[2048];
    drain(s, got, sizeof got);
    is_str(got, "000001:15 000001:162 000001:2 000001:30 000001:16",
           "a transaction still being written is not handed on before its end is on disk");
    ok(!s->ops->at_end(s), "and the source is not at the end while inside it");
    /* the server dies there; after recovery it writes a new file */
    new_file("bin.000002");
    committed_txn("bin.000002");
    index_lists("bin.000001\nbin.000002\n");
    drain(s, got, sizeof got);
    is_str(got, "000002:15 000002:162 000002:2 000002:30 000002:16",
           "it never committed: none of its events is read, the next file is");
    ok(s->ops->at_end(s), "at the end afterwards");
    bt_source_free(s);
}

static void test_torn_event(void) {
    reset_dir();
    new_file("bin.000001");
    committed_txn("bin.000001");
    size_t n = gtid();
    append_raw("bin.000001", ev, n - 5); /* half an event */
    index_lists("bin.000001\n");
    bt_source_t *s = open_source();
    char got[2048];
    drain(s, got, sizeof got);
    is_str(got, "000001:15 000001:162 000001:2 000001:30 000001:16", "a half-written event is waited for");
    new_file("bin.000002");
    committed_txn("bin.000002");
    index_lists("bin.000001\nbin.000002\n");
    drain(s, got, sizeof got);
    is_str(got, "000002:15 000002:162 000002:2 000002:30 000002:16",
           "once a newer file is listed it is skipped (reported), no hang");
    bt_source_free(s);
}

/* What follows a group in the same file proves it complete (the server writes groups whole
 * and starts a new file after a crash): nothing there is held back or dropped, whatever the
 * gate made of the group's end. MariaDB: a CREATE ... SELECT (no FL_STANDALONE) ends at its
 * XID, a DDL behind a comment longer than any prefix is still one statement. */
static void test_groups_in_a_file(void) {
    reset_dir();
    new_file("bin.000001");
    append("bin.000001", gtid());
    append("bin.000001", query("BEGIN"));
    append("bin.000001", rows());
    committed_txn("bin.000001"); /* a new GTID before the first group's end was recognised */
    append("bin.000001", gtid());
    append("bin.000001", query("CREATE TABLE t (a INT)"));
    append("bin.000001", gtid());
    append("bin.000001", query("XA START X'61',X'',1"));
    append("bin.000001", rows());
    append("bin.000001", query("XA END X'61',X'',1"));
    append("bin.000001", event(38, (const uint8_t *)"\0\1\0\0\0\1\0\0\0\0\0\0\0a", 14));
    index_lists("bin.000001\n");
    bt_source_t *s = open_source();
    char got[2048];
    drain(s, got, sizeof got);
    is_str(got,
           "000001:15 000001:162 000001:2 000001:30 000001:162 000001:2 000001:30 000001:16 000001:162 000001:2 "
           "000001:162 000001:2 000001:30 000001:2 000001:38",
           "a group followed by another is handed on whole; DDL and XA PREPARE groups end where they should");
    /* CREATE ... SELECT: not standalone, its rows and XID follow the statement */
    uint8_t g[13] = {9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x28};
    append("bin.000001", event(162, g, sizeof g));
    append("bin.000001", query("CREATE TABLE c AS SELECT 1 AS id"));
    append("bin.000001", rows());
    drain(s, got, sizeof got);
    is_str(got, "", "the rows of CREATE ... SELECT wait for their XID");
    append("bin.000001", xid());
    drain(s, got, sizeof got);
    is_str(got, "000001:162 000001:2 000001:30 000001:16", "and go with it");
    char ddl[400];
    snprintf(ddl, sizeof ddl, "/* ApplicationName=DBeaver 23.3.0 - SQLEditor <Script-12.sql> %s */ CREATE TABLE y (a INT)",
             "....................................................................................................");
    uint8_t sg[13] = {10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x29}; /* FL_STANDALONE | FL_DDL */
    append("bin.000001", event(162, sg, sizeof sg));
    append("bin.000001", query(ddl));
    drain(s, got, sizeof got);
    is_str(got, "000001:162 000001:2", "a DDL behind a long comment is one statement: it goes at once");
    bt_source_free(s);
}

static void test_end_after_rotate(void) {
    reset_dir();
    new_file("bin.000001");
    committed_txn("bin.000001");
    append("bin.000001", rotate("bin.000002"));
    index_lists("bin.000001\n"); /* copied files: the next one is not there */
    bt_source_t *s = open_source();
    char got[2048];
    drain(s, got, sizeof got);
    drain(s, got + strlen(got), sizeof got - strlen(got));
    ok(s->ops->at_end(s), "a last listed file that ends with ROTATE is the end (--stop-at-end exits)");
    bt_source_free(s);
}

/* The server rewrites the index in place when it purges, and MySQL replaces it by delete and
 * rename: a read can see names out of order, or no index at all. */
static void test_index_rewritten(void) {
    reset_dir();
    new_file("bin.000001");
    committed_txn("bin.000001");
    append("bin.000001", rotate("bin.000002"));
    new_file("bin.000002");
    committed_txn("bin.000002");
    index_lists("bin.000001\nbin.000002\n");
    bt_source_t *s = open_source();
    char got[2048];
    drain(s, got, sizeof got);
    index_lists("bin.000002\nbin.000001\n"); /* a torn rewrite: an older name after ours */
    drain(s, got, sizeof got);
    is_str(got, "", "an index read mid-rewrite never sends the source back to an older file");
    char p[128];
    path_of("bin.index", p, sizeof p);
    unlink(p);
    bt_raw_event_t e;
    char err[512];
    is_int(bt_source_next(s, &e, 50, err, sizeof err), 0, "an index that is missing for a moment is no error");
    new_file("bin.000003");
    committed_txn("bin.000003");
    index_lists("bin.000003\n"); /* our own file already purged from the list */
    append("bin.000002", rotate("bin.000003"));
    drain(s, got, sizeof got);
    is_str(got, "000002:4 000003:15 000003:162 000003:2 000003:30 000003:16",
           "the next file is found even when ours is no longer listed");
    bt_source_free(s);
}

/* MySQL replaces its index by delete and rename: while only bin.index_crash_safe exists, the
 * source still starts (reading the complete new list there), and an index that comes back
 * within the wait is read, not reported missing. */
static void *index_back_later(void *arg) {
    (void)arg;
    usleep(150 * 1000);
    char tmp[128], idx[128];
    path_of("bin.index.tmp", tmp, sizeof tmp);
    path_of("bin.index", idx, sizeof idx);
    FILE *f = fopen(tmp, "w");
    fputs("bin.000001\n", f);
    fclose(f);
    rename(tmp, idx);
    return NULL;
}

static void test_index_crash_safe(void) {
    reset_dir();
    new_file("bin.000001");
    committed_txn("bin.000001");
    index_lists("bin.000001\n");
    char idx[128], safe[128];
    path_of("bin.index", idx, sizeof idx);
    path_of("bin.index_crash_safe", safe, sizeof safe);
    rename(idx, safe);
    bt_source_t *s = open_source();
    ok(s != NULL, "the source starts while the index exists only as its crash-safe copy");
    char got[2048] = "";
    if (s) drain(s, got, sizeof got);
    is_str(got, "000001:15 000001:162 000001:2 000001:30 000001:16", "and reads the file that copy lists");
    bt_source_free(s);

    unlink(safe);
    pthread_t t;
    pthread_create(&t, NULL, index_back_later, NULL);
    char **files = NULL, err[512] = "";
    size_t n = 0;
    int rc = bt_binlog_index_read(dir, idx, &files, &n, err, sizeof err);
    pthread_join(t, NULL);
    is_int(rc, 0, "an index read while neither file exists waits for the rename (%s)", err);
    is_int(n, 1, "and lists what the new index holds");
    for (size_t i = 0; i < n; i++) free(files[i]);
    free(files);
}

/* The event types of a walk over name, as "t t t", and how it ended (*last, with err). */
static void walk_types(const char *name, char *out, size_t len, int *last, char *err, size_t errlen) {
    bt_binlog_walk_t w;
    size_t n = 0;
    out[0] = 0;
    *last = -9;
    if (bt_binlog_walk_open(&w, dir, name, err, errlen) != 0) return;
    while ((*last = bt_binlog_walk_header(&w, err, errlen)) == BT_WALK_EVENT) {
        n += (size_t)snprintf(out + n, n < len ? len - n : 0, "%s%u", n ? " " : "", bt_event_type(w.h));
        bt_binlog_walk_next(&w);
    }
    bt_binlog_walk_close(&w);
}

/* Offsets below: magic 4, FDE 121 bytes, then GTID 36, BEGIN 42, rows 63 and XID 31. */
static void test_walker(void) {
    reset_dir();
    new_file("bin.000001");
    committed_txn("bin.000001");
    size_t n = gtid();
    append_raw("bin.000001", ev, n - 5); /* half an event */
    char got[512], err[512] = "";
    int last;
    walk_types("bin.000001", got, sizeof got, &last, err, sizeof err);
    is_str(got, "15 162 2 30 16", "the walker steps over the whole events of a file");
    is_int(last, BT_WALK_TORN, "and stops at a torn one");
    is_str(err,
           "bin.000001:297: the file ends inside an event (31 of 36 bytes; the server is still writing it, "
           "or stopped while writing it)",
           "naming file:offset and how much of it is there");

    append_raw("bin.000002",
               "\xfe"
               "bin",
               4);
    uint8_t none[1] = {0};
    event(16, none, 0);
    ev[9] = 5; /* event_size shorter than the header */
    append_raw("bin.000002", ev, 23);
    walk_types("bin.000002", got, sizeof got, &last, err, sizeof err);
    is_int(last, BT_WALK_BAD, "an impossible event_size stops the walk");
    is_str(err, "bin.000002:4: impossible event length 5 (the file is damaged or not a binlog)",
           "and names file:offset and the length");

    append_raw("bin.000003",
               "\xfe"
               "bi",
               3);
    walk_types("bin.000003", got, sizeof got, &last, err, sizeof err);
    ok(last == BT_WALK_END && !got[0], "a file too short for its magic is being created: no events yet, no error");

    append_raw("notes.txt", "hello, world", 12);
    err[0] = 0;
    walk_types("notes.txt", got, sizeof got, &last, err, sizeof err);
    ok(last == -9 && strstr(err, "notes.txt is not a binlog file (bad magic number)"), "a wrong magic is refused");

    bt_binlog_walk_t w;
    uint8_t body[16];
    bt_binlog_walk_open(&w, dir, "bin.000001", err, sizeof err);
    is_int(bt_binlog_walk_header(&w, err, sizeof err), BT_WALK_EVENT, "the first event of a file");
    ok(bt_binlog_walk_body(&w, 19, body, 16), "its body can be read");
    ok(!bt_binlog_walk_body(&w, w.size - 8, body, 16), "but not past its end");
    bt_binlog_walk_close(&w);
}

/* --start resolution walks the same files: where "latest", "earliest" and gtid: start. */
static void test_start_resolve(void) {
    reset_dir();
    new_file("bin.000001");
    committed_txn("bin.000001");
    append("bin.000001", gtid());
    append("bin.000001", query("BEGIN")); /* a transaction still being written */
    index_lists("bin.000001\n");
    bt_start_pos_t pos;
    char err[512] = "";
    is_int(bt_start_resolve("latest", dir, NULL, &pos, err, sizeof err), 0, "--start latest resolves");
    ok(!strcmp(pos.file, "bin.000001") && pos.pos == 297, "after the last complete transaction (got %s:%llu)", pos.file,
       (unsigned long long)pos.pos);
    bt_start_resolve("earliest", dir, NULL, &pos, err, sizeof err);
    ok(!strcmp(pos.file, "bin.000001") && pos.pos == 4, "--start earliest: the first event of the first file");
    bt_start_resolve("gtid:0-2-6", dir, NULL, &pos, err, sizeof err);
    ok(pos.pos == 125, "--start gtid: the first transaction the position does not contain (got %llu)",
       (unsigned long long)pos.pos);
    uint32_t sid = 0, created = 1;
    is_int(bt_binlog_file_identity(dir, "bin.000001", &sid, &created), 0, "a file's identity is read");
    ok(sid == 2 && created == 0, "from its FORMAT_DESCRIPTION");
}

/* The block reader frames whole events with the same checks. */
static void test_event_blocks(void) {
    reset_dir();
    new_file("bin.000001");
    committed_txn("bin.000001");
    size_t n = xid();
    append_raw("bin.000001", ev, n - 1);
    char p[128], got[512], err[512] = "";
    path_of("bin.000001", p, sizeof p);
    gzFile gz = gzopen(p, "rb");
    bt_event_blocks_t eb;
    bt_event_blocks_init(&eb, gz);
    const uint8_t *e;
    uint32_t size;
    is_int(bt_event_blocks_take(&eb, BT_BINLOG_MAGIC_LEN, &e), BT_BINLOG_MAGIC_LEN, "the magic is read");
    uint64_t pos = BT_BINLOG_MAGIC_LEN;
    size_t k = 0;
    long rc;
    got[0] = 0;
    while ((rc = bt_event_blocks_event(&eb, "bin.000001", pos, &e, &size, err, sizeof err)) == 1) {
        k += (size_t)snprintf(got + k, sizeof got - k, "%s%u", k ? " " : "", bt_event_type(e));
        pos += size;
    }
    is_str(got, "15 162 2 30 16", "whole events, in place");
    is_int(rc, BT_EVENT_BLOCKS_TORN, "then the torn one");
    is_str(err,
           "bin.000001:297: the file ends inside an event (30 of 31 bytes; the server is still writing it, "
           "or stopped while writing it)",
           "named by file:offset");
    bt_event_blocks_free(&eb);
    gzclose(gz);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/bt-source-XXXXXX");
    if (!mkdtemp(dir)) return 1;
    test_rotation_race();
    test_uncommitted_tail();
    test_torn_event();
    test_groups_in_a_file();
    test_end_after_rotate();
    test_index_rewritten();
    test_index_crash_safe();
    test_walker();
    test_start_resolve();
    test_event_blocks();
    reset_dir();
    rmdir(dir);
    return tap_done();
}
