/* test_checkpoint.c: the delivery tracker (safe position = acknowledged prefix) and the
 * checkpoint file (atomic write, read back, damage detected). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/stream/checkpoint.h"
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
    bt_tracker_init(&t, 0);
    uint64_t a = bt_tracker_open(&t);
    bt_tracker_add_msg(&t, a);
    bt_tracker_add_msg(&t, a);
    bt_position_t pa = pos("f.1", 100);
    bt_tracker_end(&t, a, &pa);
    uint64_t b = bt_tracker_open(&t);
    bt_tracker_add_msg(&t, b);
    bt_position_t pb = pos("f.1", 200);
    bt_tracker_end(&t, b, &pb);
    bt_position_t pc = pos("f.1", 300); /* filtered: no messages, no slot */
    bt_tracker_pass(&t, &pc);
    is_uint(bt_tracker_pending(&t), 2, "a transaction without messages takes no slot");

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
    bt_tracker_init(&t, 0);
    uint64_t a = bt_tracker_open(&t);
    bt_tracker_add_msg(&t, a);
    bt_tracker_ack(&t, a, true);
    ok(!bt_tracker_advance(&t), "a transaction that has not ended is never safe");
    bt_position_t pa = pos("f.1", 10);
    bt_tracker_end(&t, a, &pa);
    ok(bt_tracker_advance(&t), "once ended it is");
    uint64_t b = bt_tracker_open(&t);
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
    bt_tracker_init(&t, 0);
    enum { N = 100000 };
    static uint64_t seqs[N];
    for (int i = 0; i < N; i++) {
        seqs[i] = bt_tracker_open(&t);
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

static void test_bounded(void) {
    /* One message waits for its report while a long run of transactions without messages
     * (excluded tables) is read: nothing accumulates. */
    bt_tracker_t t;
    bt_tracker_init(&t, 3);
    uint64_t a = bt_tracker_open(&t);
    bt_tracker_add_msg(&t, a);
    bt_position_t pa = pos("f.3", 10);
    bt_tracker_end(&t, a, &pa);
    for (int i = 0; i < 1000000; i++) {
        bt_position_t p = pos("f.3", (uint64_t)i + 100);
        bt_tracker_pass(&t, &p);
    }
    is_uint(bt_tracker_pending(&t), 1, "a million transactions without messages behind one in flight: one slot");
    ok(!bt_tracker_advance(&t), "still nothing safe before the report");
    bt_tracker_ack(&t, a, true);
    ok(bt_tracker_advance(&t), "the report moves the checkpoint");
    is_uint(t.safe.pos, 999999 + 100, "over all of them at once");
    bt_position_t pn = pos("f.3", 5000000);
    bt_tracker_pass(&t, &pn);
    is_uint(t.safe.pos, 5000000, "with nothing in flight a passed position is safe at once");
    uint64_t s1 = bt_tracker_open(&t), s2 = bt_tracker_open(&t), s3 = bt_tracker_open(&t);
    ok(s1 && s2 && s3, "three slots open");
    ok(bt_tracker_full(&t) && bt_tracker_open(&t) == 0, "the fourth is refused: the tracker is bounded");
    bt_tracker_add_msg(&t, s1);
    bt_position_t p1 = pos("f.3", 5000100);
    bt_tracker_end(&t, s1, &p1);
    bt_tracker_ack(&t, s1, true);
    bt_tracker_advance(&t);
    ok(!bt_tracker_full(&t), "a slot is free again once its transaction is safe");
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
    test_bounded();
    test_file();
    return tap_done();
}
