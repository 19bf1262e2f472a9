/* test_checkpoint.c: the delivery tracker (safe position = acknowledged prefix) and the
 * checkpoint file (atomic write, read back, damage detected). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/checkpoint.h"
#include "tests/unit/tap.h"

static bt_position_t pos(const char *file, uint64_t p) {
    bt_position_t x;
    memset(&x, 0, sizeof x);
    snprintf(x.file, sizeof x.file, "%s", file);
    x.pos = p;
    return x;
}

static void test_prefix(void) {
    bt_tracker_t t;
    bt_tracker_init(&t);
    uint64_t a = bt_tracker_begin(&t);
    bt_tracker_add_msg(&t, a);
    bt_tracker_add_msg(&t, a);
    bt_position_t pa = pos("f.1", 100);
    bt_tracker_end(&t, a, &pa);
    uint64_t b = bt_tracker_begin(&t);
    bt_tracker_add_msg(&t, b);
    bt_position_t pb = pos("f.1", 200);
    bt_tracker_end(&t, b, &pb);
    uint64_t c = bt_tracker_begin(&t); /* filtered: no messages */
    bt_position_t pc = pos("f.1", 300);
    bt_tracker_end(&t, c, &pc);

    ok(!bt_tracker_advance(&t) && !t.has_safe, "nothing is safe before any delivery report");
    bt_tracker_ack(&t, b, true);
    ok(!bt_tracker_advance(&t), "a later transaction acknowledged first does not move the checkpoint");
    bt_tracker_ack(&t, a, true);
    ok(!bt_tracker_advance(&t), "one of two messages acknowledged is not enough");
    bt_tracker_ack(&t, a, true);
    ok(bt_tracker_advance(&t), "all acknowledged: the checkpoint moves");
    is_uint(t.safe.pos, 300, "over the whole acknowledged prefix, including the empty transaction");
    ok(bt_tracker_idle(&t), "idle once everything is safe");
    bt_tracker_free(&t);
}

static void test_open_and_failed(void) {
    bt_tracker_t t;
    bt_tracker_init(&t);
    uint64_t a = bt_tracker_begin(&t);
    bt_tracker_add_msg(&t, a);
    bt_tracker_ack(&t, a, true);
    ok(!bt_tracker_advance(&t), "a transaction that has not ended is never safe");
    bt_position_t pa = pos("f.1", 10);
    bt_tracker_end(&t, a, &pa);
    ok(bt_tracker_advance(&t), "once ended it is");
    uint64_t b = bt_tracker_begin(&t);
    bt_tracker_add_msg(&t, b);
    bt_position_t pb = pos("f.1", 20);
    bt_tracker_end(&t, b, &pb);
    bt_tracker_ack(&t, b, false);
    ok(!bt_tracker_advance(&t), "a failed delivery stops the checkpoint before its transaction");
    is_uint(t.safe.pos, 10, "the checkpoint stays at the last good transaction");
    bt_tracker_free(&t);
}

static void test_many(void) {
    /* Far more open transactions than the initial ring: growth keeps every slot. */
    bt_tracker_t t;
    bt_tracker_init(&t);
    enum { N = 100000 };
    static uint64_t seqs[N];
    for (int i = 0; i < N; i++) {
        seqs[i] = bt_tracker_begin(&t);
        bt_tracker_add_msg(&t, seqs[i]);
        bt_position_t p = pos("f.2", (uint64_t)i + 4);
        bt_tracker_end(&t, seqs[i], &p);
    }
    for (int i = N - 1; i >= 1; i--) bt_tracker_ack(&t, seqs[i], true);
    ok(!bt_tracker_advance(&t), "100000 transactions: the first unacknowledged one holds the checkpoint");
    bt_tracker_ack(&t, seqs[0], true);
    bt_tracker_advance(&t);
    is_uint(t.safe.pos, N + 3, "then it moves to the last one");
    is_uint(t.outstanding, 0, "no message is counted in flight");
    bt_tracker_free(&t);
}

static void test_file(void) {
    char dir[] = "/tmp/bt-ckpt-XXXXXX";
    ok(mkdtemp(dir) != NULL, "scratch directory");
    char err[512];
    bt_position_t p = pos("mysql-bin.000007", 123456789012ULL), q;
    snprintf(p.gtid, sizeof p.gtid, "0-1-42,1-2-7");
    p.server_id = 2;
    p.file_created = 1763800000;
    p.commit_ts_ms = 1763800000123LL;
    is_int(bt_checkpoint_read(dir, &q, err, sizeof err), 0, "no checkpoint yet");
    is_int(bt_checkpoint_write(dir, &p, err, sizeof err), 0, "write");
    is_int(bt_checkpoint_read(dir, &q, err, sizeof err), 1, "read back");
    is_str(q.file, p.file, "file");
    is_uint(q.pos, p.pos, "position beyond 32 bits");
    is_str(q.gtid, p.gtid, "GTID position");
    is_uint(q.server_id, 2, "server id");
    is_uint(q.file_created, p.file_created, "file creation time");
    char path[600], tmp[600];
    snprintf(tmp, sizeof tmp, "%s/.checkpoint.json.tmp", dir);
    ok(access(tmp, F_OK) != 0, "no temporary file is left behind");
    snprintf(path, sizeof path, "%s/checkpoint.json", dir);
    FILE *f = fopen(path, "w");
    fputs("{\"version\":1,\"fi", f);
    fclose(f);
    is_int(bt_checkpoint_read(dir, &q, err, sizeof err), -1, "a damaged checkpoint is an error, not a silent restart");
    ok(strstr(err, "damaged") && strstr(err, path), "which names the file: %s", err);
    unlink(path);
    rmdir(dir);
    is_int(bt_checkpoint_write("/nonexistent/dir", &p, err, sizeof err), -1, "an unwritable state dir fails");
}

int main(void) {
    test_prefix();
    test_open_and_failed();
    test_many();
    test_file();
    return tap_done();
}
