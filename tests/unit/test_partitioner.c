/* test_partitioner.c: murmur2 and partition choice against independent references (Kafka's Java
 * UtilsTest vectors, kafka-python's Java-compatibility vectors, numbers computed with Debian's
 * kafka-python), and the --partition-by parser and strategies. */
#include "partitioner/partitioner.h"
#include "tests/unit/tap.h"

#include <stdlib.h>
#include <unistd.h>

/* Java's int murmur2 results from org.apache.kafka.common.utils.UtilsTest.testMurmur2. */
static void test_java_vectors(void) {
    static const struct {
        const char *key;
        int32_t java;
    } v[] = {
        {"21", -973932308},
        {"foobar", -790332482},
        {"a-little-bit-long-string", -985981536},
        {"a-little-bit-longer-string", -1486304829},
        {"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
        {"abc", 479470107},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        is_int((int32_t)bt_murmur2(v[i].key, strlen(v[i].key)), v[i].java,
               "murmur2(\"%s\") == Java UtilsTest value", v[i].key);
}

/* kafka-python test_partitioner.py: "compare with output from Kafka's Partitioner", 1000
 * partitions. */
static void test_kafka_python_java_compat(void) {
    static const struct {
        const char *key;
        size_t len;
        int32_t partition;
    } v[] = {
        {"", 0, 681},     {"a", 1, 524},          {"ab", 2, 434},
        {"abc", 3, 107},  {"123456789", 9, 566},  {"\x00 ", 2, 742},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        is_int(bt_partition_for_key(v[i].key, v[i].len, 1000), v[i].partition,
               "partition_for_key(vector %zu, 1000 partitions) matches the Java client", i);
}

/* Computed with Debian's kafka-python 2.0.2:
 *   from kafka.partitioner.default import murmur2
 *   murmur2(key), and (murmur2(key) & 0x7fffffff) % n for n in (7, 12, 1000) */
static void test_python_vectors(void) {
    static uint8_t all_bytes[256];
    for (int i = 0; i < 256; i++)
        all_bytes[i] = (uint8_t)i;
    static const char fox[] = "The quick brown fox jumps over the lazy dog"
                              "The quick brown fox jumps over the lazy dog"
                              "The quick brown fox jumps over the lazy dog";
    const struct {
        const char *label;
        const void *key;
        size_t len;
        uint32_t hash;
        int32_t p7, p12, p1000;
    } v[] = {
        {"empty", "", 0, 275646681u, 2, 9, 681},
        {"1 byte", "a", 1, 2731586172u, 5, 4, 524},
        {"2 bytes", "ab", 2, 316155434u, 0, 2, 434},
        {"3 bytes", "abc", 3, 479470107u, 4, 3, 107},
        {"4 bytes", "abcd", 4, 2971317748u, 5, 8, 100},
        {"5 bytes", "abcde", 5, 461995741u, 4, 1, 741},
        {"6 bytes", "abcdef", 6, 1870650108u, 5, 0, 108},
        {"7 bytes", "abcdefg", 7, 3948500121u, 4, 1, 473},
        {"8 bytes", "abcdefgh", 8, 3339539933u, 0, 9, 285},
        {"0x80", "\x80", 1, 857690492u, 1, 8, 492},
        {"0xff", "\xff", 1, 3983499611u, 5, 3, 963},
        {"0xff 0xfe", "\xff\xfe", 2, 1717632651u, 0, 3, 651},
        {"0x80 0x81 0x82", "\x80\x81\x82", 3, 2319327235u, 6, 11, 587},
        {"4 x 0xff", "\xff\xff\xff\xff", 4, 644171429u, 6, 5, 429},
        {"utf-8 'été'", "\xc3\xa9t\xc3\xa9", 5, 2193773721u, 4, 1, 73},
        {"utf-8 CJK + emoji", "\xe4\xb8\xad\xe6\x96\x87\xf0\x9f\x98\x80", 10, 2321004982u, 0, 2,
         334},
        {"json {\"id\":1}", "{\"id\":1}", 8, 4238198564u, 3, 0, 916},
        {"json 2 fields", "{\"id\":42,\"tenant\":\"acme\"}", 25, 849948148u, 0, 4, 148},
        {"json array", "[1,\"x\"]", 7, 3029371159u, 1, 11, 511},
        {"db.table", "shop.orders", 11, 304818207u, 1, 3, 207},
        {"db", "shop", 4, 2727646868u, 0, 0, 220},
        {"bytes 0..255", all_bytes, 256, 2346620022u, 3, 10, 374},
        {"129 bytes text", fox, sizeof fox - 1, 2598211158u, 2, 10, 510},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        is_uint(bt_murmur2(v[i].key, v[i].len), v[i].hash, "murmur2(%s) == kafka-python",
                v[i].label);
        int ok7 = bt_partition_for_key(v[i].key, v[i].len, 7) == v[i].p7;
        int ok12 = bt_partition_for_key(v[i].key, v[i].len, 12) == v[i].p12;
        int ok1000 = bt_partition_for_key(v[i].key, v[i].len, 1000) == v[i].p1000;
        ok(ok7 && ok12 && ok1000, "partition_for_key(%s) for 7, 12, 1000 partitions", v[i].label);
    }
}

static uint64_t test_rng = 88172645463325252ull;
static uint64_t test_next(void) {
    test_rng ^= test_rng << 13;
    test_rng ^= test_rng >> 7;
    test_rng ^= test_rng << 17;
    return test_rng;
}

/* Hashes 300 pseudo-random keys (0..40 bytes, every byte value) with kafka-python at test time. */
static void test_python_live(void) {
    if (access("/usr/bin/python3", X_OK) != 0 ||
        system("/usr/bin/python3 -c 'import kafka.partitioner.default' >/dev/null 2>&1") != 0) {
        printf("ok %d # skip /usr/bin/python3 with kafka-python not available\n", ++tap_count);
        return;
    }
    enum { NKEYS = 300, MAXLEN = 40 };
    static uint8_t keys[NKEYS][MAXLEN];
    static size_t lens[NKEYS];
    static char cmd[NKEYS * (MAXLEN * 2 + 3) + 256];
    size_t off = (size_t)snprintf(cmd, sizeof cmd,
                                  "/usr/bin/python3 -c 'import sys\nfrom kafka.partitioner.default "
                                  "import murmur2\nfor h in sys.argv[1:]: "
                                  "print(murmur2(bytes.fromhex(h[1:])))' ");
    for (int i = 0; i < NKEYS; i++) {
        lens[i] = (size_t)(test_next() % (MAXLEN + 1));
        off += (size_t)snprintf(cmd + off, sizeof cmd - off, " x");
        for (size_t j = 0; j < lens[i]; j++) {
            keys[i][j] = (uint8_t)test_next();
            off += (size_t)snprintf(cmd + off, sizeof cmd - off, "%02x", keys[i][j]);
        }
    }
    FILE *p = popen(cmd, "r");
    ok(p != NULL, "popen kafka-python");
    if (!p)
        return;
    int matched = 0, nread = 0;
    unsigned long long got;
    char first_bad[128] = "";
    while (nread < NKEYS && fscanf(p, "%llu", &got) == 1) {
        uint32_t mine = bt_murmur2(keys[nread], lens[nread]);
        if (mine == got)
            matched++;
        else if (!first_bad[0])
            snprintf(first_bad, sizeof first_bad, "key %d (%zu bytes): mine %u, python %llu", nread,
                     lens[nread], mine, got);
        nread++;
    }
    int status = pclose(p);
    is_int(status, 0, "kafka-python exited cleanly");
    is_int(nread, NKEYS, "kafka-python hashed every key");
    is_int(matched, NKEYS, "murmur2 equals kafka-python for %d random keys %s", NKEYS, first_bad);
}

static void test_partition_for_key_edges(void) {
    is_int(bt_partition_for_key("x", 1, 0), -1, "0 partitions is an error");
    is_int(bt_partition_for_key("x", 1, -3), -1, "negative partition count is an error");
    is_int(bt_partition_for_key(NULL, 0, 12), 9, "NULL key of length 0 hashes like empty bytes");
    /* Every result stays in range; with INT32_MAX partitions the result is the positive hash. */
    is_int(bt_partition_for_key("abcd", 4, INT32_MAX), (int32_t)(2971317748u & 0x7fffffff),
           "INT32_MAX partitions gives toPositive(hash)");
    int in_range = 1;
    for (int32_t n = 1; n <= 64; n++)
        for (int k = 0; k < 50; k++) {
            char key[16];
            int len = snprintf(key, sizeof key, "k%d", k);
            int32_t part = bt_partition_for_key(key, (size_t)len, n);
            in_range &= part >= 0 && part < n;
        }
    ok(in_range, "partitions always in [0, count)");
}

static void test_parse(void) {
    char err[256];
    bt_partition_spec_t s;
    static const struct {
        const char *text;
        bt_partition_strategy_t strategy;
    } good[] = {
        {"pk", BT_PARTITION_PK},
        {"table", BT_PARTITION_TABLE},
        {"database", BT_PARTITION_DATABASE},
        {"transaction", BT_PARTITION_TRANSACTION},
        {"partition0", BT_PARTITION_PARTITION0},
        {"random", BT_PARTITION_RANDOM},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int rc = bt_partition_spec_parse(good[i].text, &s, err, sizeof err);
        ok(rc == 0 && s.strategy == good[i].strategy && s.ncolumns == 0, "parse '%s'",
           good[i].text);
        is_str(bt_partition_strategy_name(s.strategy), good[i].text, "name of '%s' round-trips",
               good[i].text);
        bt_partition_spec_free(&s);
    }
    ok(bt_partition_spec_parse(NULL, &s, err, sizeof err) == 0 && s.strategy == BT_PARTITION_PK,
       "NULL means the default, pk");

    ok(bt_partition_spec_parse("column:tenant_id", &s, err, sizeof err) == 0 &&
           s.strategy == BT_PARTITION_COLUMN && s.ncolumns == 1,
       "parse column:tenant_id");
    is_str(s.ncolumns ? s.columns[0] : NULL, "tenant_id", "single column name");
    bt_partition_spec_free(&s);
    ok(s.columns == NULL && s.ncolumns == 0 && s.strategy == BT_PARTITION_PK,
       "free resets the spec");
    bt_partition_spec_free(&s); /* twice is harmless */

    ok(bt_partition_spec_parse("column:Region,tenant_id,é", &s, err, sizeof err) == 0 &&
           s.ncolumns == 3,
       "parse three columns");
    if (s.ncolumns == 3) {
        is_str(s.columns[0], "Region", "column 1 keeps its case");
        is_str(s.columns[1], "tenant_id", "column 2");
        is_str(s.columns[2], "é", "column 3 (UTF-8)");
    }
    bt_partition_spec_free(&s);

    static const struct {
        const char *text, *needle, *needle2;
    } bad[] = {
        {"", "unknown value ''", "pk, table, database"},
        {"PK", "'PK'", "accepted: pk, table, database, column:NAME"},
        {"tabel", "'tabel'", "transaction, partition0, random"},
        {"pk ", "'pk '", "accepted"},
        {"column", "needs column names", "column:NAME"},
        {"column:", "empty column name (column 1)", "column:NAME"},
        {"column:a,,b", "empty column name (column 2)", "'column:a,,b'"},
        {"column:a,", "empty column name (column 2)", "column:NAME"},
        {"column:a, b", "' b'", "whitespace"},
        {"column:a,b,a", "'a' is listed twice", "column:a,b,a"},
        {"column:id,ID", "'ID' is listed twice", "column:id,ID"}, /* names are case-insensitive */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        s.strategy = BT_PARTITION_RANDOM;
        int rc = bt_partition_spec_parse(bad[i].text, &s, err, sizeof err);
        ok(rc == -1 && strstr(err, bad[i].needle) && strstr(err, bad[i].needle2) &&
               s.ncolumns == 0 && s.columns == NULL,
           "reject '%s': %s", bad[i].text, err);
    }
    char longname[BT_PARTITION_COLUMN_NAME_MAX + 16] = "column:";
    memset(longname + 7, 'c', BT_PARTITION_COLUMN_NAME_MAX + 1);
    longname[7 + BT_PARTITION_COLUMN_NAME_MAX + 1] = '\0';
    ok(bt_partition_spec_parse(longname, &s, err, sizeof err) == -1 && strstr(err, "257 bytes"),
       "reject an over-long column name: %s", err);
    longname[7 + BT_PARTITION_COLUMN_NAME_MAX] = '\0';
    ok(bt_partition_spec_parse(longname, &s, err, sizeof err) == 0 && s.ncolumns == 1,
       "accept a %d-byte column name", BT_PARTITION_COLUMN_NAME_MAX);
    bt_partition_spec_free(&s);
}

static void test_choose(void) {
    char err[256];
    bt_partition_spec_t s;
    uint64_t rs = 0;

    bt_partition_spec_parse("pk", &s, err, sizeof err);
    is_int(bt_partition_choose(&s, "{\"id\":1}", 8, 99, 1000, &rs), 916, "pk hashes the key");
    is_int(bt_partition_choose(&s, "{\"id\":1}", 8, 99, 0, &rs), -1, "pk with 0 partitions");
    bt_partition_spec_parse("table", &s, err, sizeof err);
    is_int(bt_partition_choose(&s, "shop.orders", 11, 5, 1000, &rs), 207, "table hashes db.table");
    bt_partition_spec_parse("database", &s, err, sizeof err);
    is_int(bt_partition_choose(&s, "shop", 4, 5, 1000, &rs), 220, "database hashes db");
    bt_partition_spec_parse("column:id,tenant", &s, err, sizeof err);
    is_int(bt_partition_choose(&s, "[1,\"x\"]", 7, 5, 12, &rs), 11,
           "column hashes the caller's serialised values");
    bt_partition_spec_free(&s);

    /* transaction: kafka-python on struct.pack('<Q', seq), 1000 and 12 partitions */
    bt_partition_spec_parse("transaction", &s, err, sizeof err);
    is_int(bt_partition_choose(&s, "ignored", 7, 0, 1000, &rs), 715, "transaction seq 0");
    is_int(bt_partition_choose(&s, NULL, 0, 1, 1000, &rs), 527, "transaction seq 1");
    is_int(bt_partition_choose(&s, NULL, 0, 12345678901234ull, 1000, &rs), 335,
           "transaction seq 12345678901234 (little-endian bytes)");
    is_int(bt_partition_choose(&s, NULL, 0, 12345678901234ull, 12, &rs), 7,
           "transaction seq 12345678901234, 12 partitions");
    int same = 1;
    for (uint64_t q = 0; q < 1000; q++)
        same &= bt_partition_choose(&s, "a", 1, q, 16, &rs) ==
                bt_partition_choose(&s, "zz", 2, q, 16, &rs);
    ok(same, "transaction ignores hash_input");

    bt_partition_spec_parse("partition0", &s, err, sizeof err);
    int zero = 1;
    for (int i = 0; i < 100; i++)
        zero &= bt_partition_choose(&s, &i, sizeof i, (uint64_t)i, 64, &rs) == 0;
    ok(zero, "partition0 always 0");
    is_int(bt_partition_choose(&s, NULL, 0, 0, 0, &rs), -1, "partition0 with 0 partitions");

    bt_partition_spec_parse("random", &s, err, sizeof err);
    is_int(bt_partition_choose(&s, NULL, 0, 0, 8, NULL), -1, "random needs a state");
    enum { N = 80000, P = 8 };
    int counts[P] = {0}, bad = 0;
    rs = 0;
    for (int i = 0; i < N; i++) {
        int32_t part = bt_partition_choose(&s, NULL, 0, 0, P, &rs);
        if (part < 0 || part >= P)
            bad++;
        else
            counts[part]++;
    }
    is_int(bad, 0, "random stays in range");
    ok(rs != 0, "random advanced a zero state to a non-zero one");
    int even = 1;
    for (int i = 0; i < P; i++) /* expect 10000 each; 5 sigma is about 470 */
        even &= counts[i] > 9500 && counts[i] < 10500;
    ok(even, "random spreads evenly over %d partitions (%d %d %d %d %d %d %d %d)", P, counts[0],
       counts[1], counts[2], counts[3], counts[4], counts[5], counts[6], counts[7]);
    uint64_t a = 1, b = 1;
    int same_seq = 1;
    for (int i = 0; i < 100; i++)
        same_seq &= bt_partition_choose(&s, NULL, 0, 0, 1000, &a) ==
                    bt_partition_choose(&s, NULL, 0, 0, 1000, &b);
    ok(same_seq, "random is deterministic for a given seed");
    a = 1;
    b = 2;
    int differ = 0;
    for (int i = 0; i < 100; i++)
        differ += bt_partition_choose(&s, NULL, 0, 0, 1000, &a) !=
                  bt_partition_choose(&s, NULL, 0, 0, 1000, &b);
    ok(differ > 90, "different seeds give different sequences (%d/100 differ)", differ);
    bt_partition_spec_free(&s);
}

int main(void) {
    test_java_vectors();
    test_kafka_python_java_compat();
    test_python_vectors();
    test_python_live();
    test_partition_for_key_edges();
    test_parse();
    test_choose();
    return tap_done();
}
