/* test_gtid_set.c: GTID sets and positions: parsing (and where it fails), growing, containment
 * and the canonical text the checkpoint keeps. */
#include "agent/binlog/gtid_set.h"
#include "lib/lib.h"
#include "tests/unit/tap.h"

#define U1 "3e11fa47-71ca-11e1-9e33-c80aa9429562"
#define U2 "4c5e7c2a-0b6f-11ef-8a1d-0242ac120002"

static bt_buf_t out;

/* The canonical text of text after parsing. */
static const char *canon(const char *text) {
    static char err[300];
    bt_gtid_set_t *s = bt_gtid_set_new();
    err[0] = 0;
    int rc = bt_gtid_set_parse(s, text, err, sizeof err);
    bt_gtid_set_text(s, &out);
    bt_gtid_set_free(s);
    return rc == 0 ? out.p : err;
}

static const char *parse_error(const char *text) {
    static char err[300];
    bt_gtid_set_t *s = bt_gtid_set_new();
    err[0] = 0;
    int rc = bt_gtid_set_parse(s, text, err, sizeof err);
    bt_gtid_set_free(s);
    return rc ? err : "(parsed)";
}

static void test_mysql(void) {
    is_str(canon(U1 ":1-5:7"), U1 ":1-5:7", "a MySQL set prints as it was given");
    is_str(canon(U2 ":1-3,\n " U1 ":7:1-5:6"), U1 ":1-7," U2 ":1-3",
           "sorted by uuid, intervals merged, whitespace allowed");
    is_str(canon("3E11FA4771CA11E19E33C80AA9429562:4"), U1 ":4", "a uuid without dashes, upper case");
    is_str(canon(U1 ":1-10:TagA:1-2:5"), U1 ":1-10:taga:1-2:5", "tags (MySQL 8.3+) follow their uuid");
    is_str(canon(U1 ":tag_b:3," U1 ":1"), U1 ":1:tag_b:3", "the untagged intervals come before the tags");
    is_str(parse_error(U1 ":0"), "GTID set '" U1 ":0': expected a number from 1 at character 38", "0 is no GTID");
    is_str(parse_error(U1 ":5-3"),
           "GTID set '" U1 ":5-3': expected the end of the interval (not below its start) at character 40",
           "an interval that ends before it starts");
    is_str(parse_error("3e11fa47-71ca-11e1:1"),
           "GTID set '3e11fa47-71ca-11e1:1': expected a MySQL GTID (uuid:N) or a MariaDB GTID "
           "(domain-server-seq) at character 1",
           "a short uuid");
    is_str(parse_error(U1 ":1;" U2 ":1"), "GTID set '" U1 ":1;" U2 ":1': expected ',' or the end at character 39",
           "a wrong separator names its position");
    is_str(parse_error("0-1-5," U1 ":1"), "GTID set '0-1-5," U1 ":1': expected '-' after the domain id at character 8",
           "MariaDB then MySQL forms in one text");

    bt_gtid_set_t *s = bt_gtid_set_new();
    char err[300];
    ok(bt_gtid_set_parse(s, U1 ":1-5", err, sizeof err) == 0, "a PREVIOUS_GTIDS set");
    ok(bt_gtid_set_add_text(s, U1 ":6", err, sizeof err) == 0, "the next transaction");
    ok(bt_gtid_set_add_text(s, U2 ":tag:1", err, sizeof err) == 0, "a tagged transaction");
    bt_gtid_set_text(s, &out);
    is_str(out.p, U1 ":1-6," U2 ":tag:1", "the executed set grows transaction by transaction");
    bt_gtid_set_t *t = bt_gtid_set_new();
    bt_gtid_set_parse(t, U1 ":2-4", err, sizeof err);
    ok(bt_gtid_set_contains_set(s, t), "1-6 contains 2-4");
    bt_gtid_set_parse(t, U1 ":8", err, sizeof err);
    ok(!bt_gtid_set_contains_set(s, t), "1-6 does not contain 2-4:8");
    ok(bt_gtid_set_add_text(s, "0-1-5", err, sizeof err) != 0, "a MariaDB GTID does not join a MySQL set");
    is_str(err, "GTID set '0-1-5' is MariaDB's form, but this state is MySQL's", "and says why");
    is_int(bt_gtid_set_flavor(s), BT_GTID_MYSQL, "the flavour is MySQL");
    ok(bt_gtid_set_has(s, U1 ":3"), "one GTID in the set");
    ok(!bt_gtid_set_has(s, U1 ":9"), "one GTID not in it");
    ok(bt_gtid_set_has(s, U2 ":TAG:1"), "a tagged GTID in it");
    bt_gtid_set_t *a = bt_gtid_set_new(), *b = bt_gtid_set_new();
    bt_gtid_set_parse(a, U1 ":1-20:30," U2 ":1-3", err, sizeof err);
    bt_gtid_set_parse(b, U1 ":1-4:8-9:20-25", err, sizeof err);
    bt_gtid_set_missing(a, b, &out);
    is_str(out.p, U1 ":5-7:10-19:30," U2 ":1-3", "what a set lacks, interval by interval");
    bt_gtid_set_missing(b, b, &out);
    is_str(out.p, "", "a set lacks nothing of itself");
    bt_gtid_set_free(a);
    bt_gtid_set_free(b);
    bt_gtid_set_free(s);
    bt_gtid_set_free(t);
}

static void test_mariadb(void) {
    is_str(canon("5-1-1, 0-1-20"), "0-1-20,5-1-1", "a MariaDB position prints by domain");
    is_str(canon("0-1-20,0-2-25"), "0-2-25", "per domain the later sequence number wins");
    bt_gtid_set_t *s = bt_gtid_set_new();
    char err[300];
    ok(bt_gtid_set_parse(s, "0-1-20,5-1-1", err, sizeof err) == 0, "the checkpoint's position");
    ok(bt_gtid_set_add_text(s, "0-1-21", err, sizeof err) == 0, "the next transaction of domain 0");
    bt_gtid_set_text(s, &out);
    is_str(out.p, "0-1-21,5-1-1", "domain 5 is kept when only domain 0 moves");
    ok(bt_gtid_set_add_text(s, "5-3-2", err, sizeof err) == 0, "domain 5 moves, on another server");
    bt_gtid_set_text(s, &out);
    is_str(out.p, "0-1-21,5-3-2", "both domains at their last GTID");
    is_str(parse_error("0-1"), "GTID set '0-1': expected '-' after the server id at character 4",
           "a GTID without its sequence number");
    is_str(parse_error("x-1-2"),
           "GTID set 'x-1-2': expected a MySQL GTID (uuid:N) or a MariaDB GTID (domain-server-seq) at character 1",
           "neither form");
    bt_gtid_set_free(s);
}

int main(void) {
    bt_buf_init(&out, 0);
    test_mysql();
    test_mariadb();
    bt_buf_free(&out);
    return tap_done();
}
