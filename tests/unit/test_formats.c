/* test_formats.c: every format, every operation, on hand-built tables and rows.
 *
 * Golden cases assert whole messages byte for byte. Where a message carries a typed cell whose
 * rendering belongs to the decoder's value table (decimals, datetimes in the typed formats,
 * type names), the expected text is built with the same rendering function, so these tests pin
 * the format's structure and leave the value table to its own tests. Every message produced
 * is also checked to be valid JSON, here and (when /usr/bin/python3 exists) by Python's parser
 * with duplicate keys rejected. */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "agent/format/fmt_internal.h"
#include "tests/unit/tap.h"

/* Expected-text helpers. ------------------------------------------------------------------ */

static char *pool[16384];
static int npool;

static const char *keep(char *s) {
    if (npool < (int)(sizeof pool / sizeof pool[0])) pool[npool++] = s;
    return s;
}

static const char *S(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *S(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) s = NULL;
    va_end(ap);
    return keep(s);
}

/* Typed JSON of a cell, as the typed formats render it. */
static const char *J(const bt_column_t *col, const bt_value_t *v) {
    bt_buf_t b;
    bt_buf_init(&b, 0);
    bt_jw_t w;
    bt_jw_init(&w, &b);
    bt_value_json(&w, col, v);
    char *s = strdup(b.p ? b.p : "");
    bt_buf_free(&b);
    return keep(s);
}

/* Text of a cell as a JSON string (Canal). */
static const char *T(const bt_column_t *col, const bt_value_t *v) {
    bt_buf_t t, b;
    bt_buf_init(&t, 0);
    bt_buf_init(&b, 0);
    bt_value_text(&t, col, v);
    bt_jw_t w;
    bt_jw_init(&w, &b);
    bt_jw_strn(&w, t.p ? t.p : "", t.len);
    char *s = strdup(b.p);
    bt_buf_free(&t);
    bt_buf_free(&b);
    return keep(s);
}

/* Type name of a column as a JSON string (Canal mysqlType). */
static const char *TN(const bt_column_t *col) {
    bt_buf_t t, b;
    bt_buf_init(&t, 0);
    bt_buf_init(&b, 0);
    bt_column_type_name(&t, col);
    bt_jw_t w;
    bt_jw_init(&w, &b);
    bt_jw_strn(&w, t.p ? t.p : "", t.len);
    char *s = strdup(b.p);
    bt_buf_free(&t);
    bt_buf_free(&b);
    return keep(s);
}

/* A minimal strict JSON validator (RFC 8259), so every message is checked without Python. */
typedef struct jv {
    const unsigned char *p, *e;
    int depth;
} jv_t;

static void jv_ws(jv_t *j) {
    while (j->p < j->e && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}

static int jv_value(jv_t *j);

static int jv_string(jv_t *j) {
    if (j->p >= j->e || *j->p != '"') return 0;
    j->p++;
    while (j->p < j->e) {
        unsigned char c = *j->p;
        if (c == '"') {
            j->p++;
            return 1;
        }
        if (c < 0x20) return 0;
        if (c == '\\') {
            if (++j->p >= j->e) return 0;
            c = *j->p++;
            if (c == 'u') {
                for (int i = 0; i < 4; i++, j->p++)
                    if (j->p >= j->e || !((*j->p >= '0' && *j->p <= '9') || (*j->p >= 'a' && *j->p <= 'f') ||
                                          (*j->p >= 'A' && *j->p <= 'F')))
                        return 0;
            } else if (!strchr("\"\\/bfnrt", c)) {
                return 0;
            }
            continue;
        }
        int n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (!n || j->e - j->p < n) return 0;
        for (int i = 1; i < n; i++)
            if ((j->p[i] & 0xC0) != 0x80) return 0;
        j->p += n;
    }
    return 0;
}

static int jv_digits(jv_t *j) {
    const unsigned char *s = j->p;
    while (j->p < j->e && *j->p >= '0' && *j->p <= '9') j->p++;
    return j->p > s;
}

static int jv_number(jv_t *j) {
    if (j->p < j->e && *j->p == '-') j->p++;
    if (j->p < j->e && *j->p == '0') j->p++;
    else if (!jv_digits(j)) return 0;
    if (j->p < j->e && *j->p == '.') {
        j->p++;
        if (!jv_digits(j)) return 0;
    }
    if (j->p < j->e && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->e && (*j->p == '+' || *j->p == '-')) j->p++;
        if (!jv_digits(j)) return 0;
    }
    return 1;
}

static int jv_lit(jv_t *j, const char *lit) {
    size_t n = strlen(lit);
    if ((size_t)(j->e - j->p) < n || memcmp(j->p, lit, n) != 0) return 0;
    j->p += n;
    return 1;
}

static int jv_value(jv_t *j) {
    jv_ws(j);
    if (j->p >= j->e || ++j->depth > 100) return 0;
    int ok = 0;
    unsigned char c = *j->p;
    if (c == '{' || c == '[') {
        unsigned char close = c == '{' ? '}' : ']';
        j->p++;
        jv_ws(j);
        if (j->p < j->e && *j->p == close) {
            j->p++;
            ok = 1;
        } else {
            for (;;) {
                if (c == '{') {
                    jv_ws(j);
                    if (!jv_string(j)) break;
                    jv_ws(j);
                    if (j->p >= j->e || *j->p++ != ':') break;
                }
                if (!jv_value(j)) break;
                jv_ws(j);
                if (j->p < j->e && *j->p == ',') {
                    j->p++;
                    continue;
                }
                if (j->p < j->e && *j->p == close) {
                    j->p++;
                    ok = 1;
                }
                break;
            }
        }
    } else if (c == '"') {
        ok = jv_string(j);
    } else if (c == 't') {
        ok = jv_lit(j, "true");
    } else if (c == 'f') {
        ok = jv_lit(j, "false");
    } else if (c == 'n') {
        ok = jv_lit(j, "null");
    } else {
        ok = jv_number(j);
    }
    j->depth--;
    return ok;
}

static int json_valid(const char *s, size_t n) {
    jv_t j = {(const unsigned char *)s, (const unsigned char *)s + n, 0};
    if (!jv_value(&j)) return 0;
    jv_ws(&j);
    return j.p == j.e;
}

/* Every message is appended here for the Python pass at the end. */
static FILE *all_msgs;
static char all_path[64];
static int nmsgs;

static void record(const char *what, const bt_buf_t *b) {
    ok(json_valid(b->p ? b->p : "", b->len), "%s is valid JSON", what);
    if (all_msgs) {
        fwrite(b->p, 1, b->len, all_msgs);
        fputc('\n', all_msgs);
        nmsgs++;
    }
}

/* Fixtures. ------------------------------------------------------------------------------- */

#define GTID "3e11fa47-71ca-11e1-9e33-c80aa9429562:23"
#define BINLOG "mysql-bin.000003"
#define TS_MS 1767225612000LL
#define NOW_MS 1767225612931LL
#define NAME_RAW "Zo\xc3\xab \"q\" \\ \xe6\x97\xa5\xe6\x9c\xac\n"
#define NAME_JSON "\"Zo\xc3\xab \\\"q\\\" \\\\ \xe6\x97\xa5\xe6\x9c\xac\\n\""

static bt_column_t mkcol(const char *name, uint8_t type, uint16_t meta, uint16_t coll, bool pk, bool uns) {
    bt_column_t c;
    memset(&c, 0, sizeof c);
    c.type = c.wire_type = type;
    c.meta = meta;
    c.collation = coll;
    c.pk = pk;
    c.nullable = !pk;
    c.is_unsigned = uns;
    c.name = name;
    c.name_len = (uint32_t)strlen(name);
    return c;
}

static bt_value_t v_int(int64_t i) {
    bt_value_t v = {.kind = BT_VAL_INT, .present = true, .i = i};
    return v;
}
static bt_value_t v_uint(uint64_t u) {
    bt_value_t v = {.kind = BT_VAL_UINT, .present = true, .u = u};
    return v;
}
static bt_value_t v_str(const char *s) {
    bt_value_t v = {.kind = BT_VAL_STRING, .present = true, .s = s, .len = (uint32_t)strlen(s)};
    return v;
}
static bt_value_t v_bin(const char *s, uint32_t n) {
    bt_value_t v = {.kind = BT_VAL_BINARY, .present = true, .s = s, .len = n};
    return v;
}
static bt_value_t v_dec(const char *s) {
    bt_value_t v = {.kind = BT_VAL_DECIMAL, .present = true, .s = s, .len = (uint32_t)strlen(s)};
    return v;
}
static bt_value_t v_dt(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s) {
    bt_value_t v = {.kind = BT_VAL_DATETIME, .present = true};
    v.t.year = (uint16_t)y;
    v.t.month = (uint8_t)mo;
    v.t.day = (uint8_t)d;
    v.t.hour = h;
    v.t.minute = (uint8_t)mi;
    v.t.second = (uint8_t)s;
    return v;
}
static bt_value_t v_date(unsigned y, unsigned mo, unsigned d) {
    bt_value_t v = {.kind = BT_VAL_DATE, .present = true};
    v.t.year = (uint16_t)y;
    v.t.month = (uint8_t)mo;
    v.t.day = (uint8_t)d;
    return v;
}
static bt_value_t v_null(void) {
    bt_value_t v = {.kind = BT_VAL_NULL, .present = true};
    return v;
}
static bt_value_t v_absent(void) {
    bt_value_t v = {.kind = BT_VAL_NULL, .present = false};
    return v;
}

/* shop.users (id INT PRIMARY KEY, name VARCHAR(255), price DECIMAL(10,4), created DATETIME,
 * note VARCHAR(100) NULL) */
static bt_column_t users_cols[5];
static const uint32_t users_pk[] = {0};
static bt_table_t users;
/* shop.order_items (order_id BIGINT, line INT, qty SMALLINT UNSIGNED, PRIMARY KEY (line, order_id)) */
static bt_column_t items_cols[3];
static const uint32_t items_pk[] = {1, 0};
static bt_table_t items;
/* logs.events (msg VARCHAR(50), d DATE, data BLOB) without a primary key */
static bt_column_t events_cols[3];
static bt_table_t events;
/* db.t4 whose names the binlog did not carry */
static bt_column_t anon_cols[2];
static const uint32_t anon_pk[] = {0};
static bt_table_t anon;

static bt_value_t a_vals[5], b_vals[5], m_before[5], m_after[5], i_before[3], i_after[3], e_vals[3], n_vals[2];
static bt_row_t row_a, row_b, row_mb, row_ma, row_ib, row_ia, row_e, row_n;

static void fixtures(void) {
    users_cols[0] = mkcol("id", BT_TYPE_LONG, 0, 0, true, false);
    users_cols[1] = mkcol("name", BT_TYPE_VARCHAR, 1020, 45, false, false);
    users_cols[2] = mkcol("price", BT_TYPE_NEWDECIMAL, (10 << 8) | 4, 0, false, false);
    users_cols[3] = mkcol("created", BT_TYPE_DATETIME2, 0, 0, false, false);
    users_cols[4] = mkcol("note", BT_TYPE_VARCHAR, 400, 45, false, false);
    users = (bt_table_t){.id = 70, .db = "shop", .name = "users", .ncols = 5, .cols = users_cols, .npk = 1,
                         .pk = users_pk, .has_names = true};
    items_cols[0] = mkcol("order_id", BT_TYPE_LONGLONG, 0, 0, true, false);
    items_cols[1] = mkcol("line", BT_TYPE_LONG, 0, 0, true, false);
    items_cols[2] = mkcol("qty", BT_TYPE_SHORT, 0, 0, false, true);
    items = (bt_table_t){.id = 71, .db = "shop", .name = "order_items", .ncols = 3, .cols = items_cols,
                         .npk = 2, .pk = items_pk, .has_names = true};
    events_cols[0] = mkcol("msg", BT_TYPE_VARCHAR, 200, 45, false, false);
    events_cols[1] = mkcol("d", BT_TYPE_DATE, 0, 0, false, false);
    events_cols[2] = mkcol("data", BT_TYPE_BLOB, 2, 63, false, false);
    events = (bt_table_t){.id = 72, .db = "logs", .name = "events", .ncols = 3, .cols = events_cols,
                          .has_names = true};
    anon_cols[0] = mkcol("@1", BT_TYPE_LONG, 0, 0, true, false);
    anon_cols[1] = mkcol("@2", BT_TYPE_VARCHAR, 40, 45, false, false);
    anon = (bt_table_t){.id = 73, .db = "db", .name = "t4", .ncols = 2, .cols = anon_cols, .npk = 1,
                        .pk = anon_pk};

    a_vals[0] = v_int(42);
    a_vals[1] = v_str(NAME_RAW);
    a_vals[2] = v_dec("12.3400");
    a_vals[3] = v_dt(2026, 1, 1, 0, 0, 12);
    a_vals[4] = v_null();
    row_a = (bt_row_t){5, a_vals};
    b_vals[0] = v_int(42);
    b_vals[1] = v_str("bob");
    b_vals[2] = v_dec("12.3400");
    b_vals[3] = v_dt(2026, 1, 1, 0, 0, 12);
    b_vals[4] = v_str("hi");
    row_b = (bt_row_t){5, b_vals};
    /* binlog_row_image=MINIMAL: the before image has the key, the after image what changed */
    m_before[0] = v_int(42);
    for (int i = 1; i < 5; i++) m_before[i] = v_absent();
    for (int i = 0; i < 5; i++) m_after[i] = v_absent();
    m_after[1] = v_str("carl");
    row_mb = (bt_row_t){5, m_before};
    row_ma = (bt_row_t){5, m_after};
    i_before[0] = v_int(1000);
    i_before[1] = v_int(1);
    i_before[2] = v_uint(5);
    i_after[0] = v_int(1000);
    i_after[1] = v_int(2);
    i_after[2] = v_uint(5);
    row_ib = (bt_row_t){3, i_before};
    row_ia = (bt_row_t){3, i_after};
    e_vals[0] = v_str("tab\there");
    e_vals[1] = v_date(2024, 2, 29);
    e_vals[2] = v_bin("\x00\xff\x80" "A", 4);
    row_e = (bt_row_t){3, e_vals};
    n_vals[0] = v_int(5);
    n_vals[1] = v_str("x");
    row_n = (bt_row_t){2, n_vals};
}

static bt_change_t base(const bt_table_t *t, bt_op_t op, const bt_row_t *before, const bt_row_t *after) {
    bt_change_t c;
    memset(&c, 0, sizeof c);
    c.op = op;
    c.table = t;
    c.before = before;
    c.after = after;
    c.db = t ? t->db : "shop";
    c.table_name = t ? t->name : NULL;
    c.file = BINLOG;
    c.pos = 4015;
    c.row = 0;
    c.gtid = GTID;
    c.server_id = 223344;
    c.ts_ms = TS_MS;
    c.now_ms = NOW_MS;
    c.txn_seq = 7;
    c.seq = 1001;
    return c;
}

static bt_change_t ins_a(void) { return base(&users, BT_OP_INSERT, NULL, &row_a); }
static bt_change_t upd_ab(void) {
    bt_change_t c = base(&users, BT_OP_UPDATE, &row_a, &row_b);
    c.txn_last = true;
    c.xid = 940786;
    c.row = 1;
    return c;
}
static bt_change_t del_a(void) { return base(&users, BT_OP_DELETE, &row_a, NULL); }
static bt_change_t read_a(void) {
    bt_change_t c = base(&users, BT_OP_READ, NULL, &row_a);
    c.snapshot = true;
    c.snapshot_last = true;
    c.file = NULL;
    c.pos = 0;
    c.gtid = "";
    return c;
}
static bt_change_t upd_min(void) { return base(&users, BT_OP_UPDATE, &row_mb, &row_ma); }
static bt_change_t upd_items(void) { return base(&items, BT_OP_UPDATE, &row_ib, &row_ia); }
static bt_change_t ins_events(void) { return base(&events, BT_OP_INSERT, NULL, &row_e); }
static bt_change_t del_events(void) { return base(&events, BT_OP_DELETE, &row_e, NULL); }
static bt_change_t ins_anon(void) { return base(&anon, BT_OP_INSERT, NULL, &row_n); }
static bt_change_t ddl_alter(void) {
    bt_change_t c = base(NULL, BT_OP_INSERT, NULL, NULL);
    c.is_ddl = true;
    c.db = "shop";
    c.table_name = "users";
    c.sql = "ALTER TABLE `users` ADD COLUMN `x` int";
    c.sql_len = strlen(c.sql);
    return c;
}
static bt_change_t ddl_createdb(void) {
    bt_change_t c = ddl_alter();
    c.table_name = NULL;
    c.db = "newdb";
    c.sql = "/* made by a tool */ CREATE DATABASE IF NOT EXISTS newdb";
    c.sql_len = strlen(c.sql);
    c.gtid = "";
    return c;
}

/* Runs one encode and checks the result is JSON (or a tombstone when expected). */
typedef struct msg {
    int rc;
    bool null_value;
    char key[8192];
    char val[16384];
    char err[256];
} msg_t;

static msg_t M;

static int enc(bt_format_t *f, const bt_change_t *c, unsigned idx) {
    bt_buf_t key, val;
    bt_buf_init(&key, 0);
    bt_buf_init(&val, 0);
    M.err[0] = 0;
    M.null_value = false;
    M.rc = bt_format_encode(f, c, idx, &key, &val, &M.null_value, M.err, sizeof M.err);
    snprintf(M.key, sizeof M.key, "%s", key.p ? key.p : "");
    snprintf(M.val, sizeof M.val, "%s", val.p ? val.p : "");
    if (M.rc == 0) {
        if (key.len) record(S("%s key", bt_format_name(f->kind)), &key);
        if (!M.null_value) record(S("%s value", bt_format_name(f->kind)), &val);
        else ok(val.len == 0, "%s tombstone has an empty value buffer", bt_format_name(f->kind));
    }
    bt_buf_free(&key);
    bt_buf_free(&val);
    return M.rc;
}

static bt_format_t *mk(bt_format_kind_t k) {
    char err[200];
    bt_format_t *f = bt_format_new(k, NULL, err, sizeof err);
    if (!f) {
        printf("# %s\n", err);
        exit(1);
    }
    return f;
}

/* Expected pieces shared by several formats. */
static const char *row_a_typed(void) {
    return S("{\"id\":42,\"name\":" NAME_JSON ",\"price\":%s,\"created\":%s,\"note\":null}",
             J(&users_cols[2], &a_vals[2]), J(&users_cols[3], &a_vals[3]));
}
static const char *row_b_typed(void) {
    return S("{\"id\":42,\"name\":\"bob\",\"price\":%s,\"created\":%s,\"note\":\"hi\"}",
             J(&users_cols[2], &b_vals[2]), J(&users_cols[3], &b_vals[3]));
}

/* Tests. ---------------------------------------------------------------------------------- */

static void test_names(void) {
    static const char *names[] = {"json", "debezium", "canal", "maxwell", "dataworks", "upsert"};
    char err[200];
    for (int i = 0; i < 6; i++) {
        bt_format_kind_t k = (bt_format_kind_t)99;
        is_int(bt_format_parse(names[i], &k, err, sizeof err), 0, "parse %s", names[i]);
        is_int(k, i, "%s is kind %d", names[i], i);
        is_str(bt_format_name(k), names[i], "name of kind %d", i);
    }
    bt_format_kind_t k;
    is_int(bt_format_parse("Debezium", &k, err, sizeof err), 0, "names are case-insensitive");
    is_int(k, BT_FMT_DEBEZIUM, "Debezium is debezium");
    is_int(bt_format_parse("avro", &k, err, sizeof err), -1, "unknown name refused");
    ok(strstr(err, "\"avro\"") && strstr(err, "json, debezium, canal, maxwell, dataworks, upsert"),
       "error names the input and the accepted names: %s", err);
    is_str(bt_format_name((bt_format_kind_t)42), "unknown", "name of a bad kind");
    ok(bt_format_new((bt_format_kind_t)42, NULL, err, sizeof err) == NULL, "new refuses a bad kind");
    bt_format_free(NULL);
}

static void test_ddl_kinds(void) {
    static const struct {
        const char *sql;
        bt_ddl_kind_t kind;
        const char *canal;
    } cases[] = {
        {"CREATE TABLE t (id int)", BT_DDL_CREATE_TABLE, "CREATE"},
        {"create temporary table if not exists t (id int)", BT_DDL_CREATE_TABLE, "CREATE"},
        {"CREATE OR REPLACE TABLE t (id int)", BT_DDL_CREATE_TABLE, "CREATE"},
        {"  /* c */ -- line\n# hash\nCREATE TABLE t (id int)", BT_DDL_CREATE_TABLE, "CREATE"},
        {"/*!40101 CREATE TABLE t (id int) */", BT_DDL_CREATE_TABLE, "CREATE"},
        {"ALTER TABLE t ADD COLUMN c int", BT_DDL_ALTER_TABLE, "ALTER"},
        {"ALTER TABLE `db`.`t` ADD INDEX i (c)", BT_DDL_ALTER_ADD_INDEX, "CINDEX"},
        {"alter table db.t add unique key u (c)", BT_DDL_ALTER_ADD_INDEX, "CINDEX"},
        {"ALTER TABLE t DROP INDEX i", BT_DDL_ALTER_DROP_INDEX, "DINDEX"},
        {"ALTER TABLE t DROP COLUMN c", BT_DDL_ALTER_TABLE, "ALTER"},
        {"ALTER TABLE t RENAME TO u", BT_DDL_ALTER_TABLE_RENAME, "RENAME"},
        {"ALTER TABLE t RENAME COLUMN a TO b", BT_DDL_ALTER_TABLE, "ALTER"},
        {"ALTER TABLE IF EXISTS t ADD KEY k (c)", BT_DDL_ALTER_ADD_INDEX, "CINDEX"},
        {"ALTER ONLINE TABLE t ADD c int", BT_DDL_ALTER_TABLE, "ALTER"},
        {"DROP TABLE `t` /* generated by server */", BT_DDL_DROP_TABLE, "ERASE"},
        {"DROP TEMPORARY TABLE IF EXISTS t", BT_DDL_DROP_TABLE, "ERASE"},
        {"RENAME TABLE a TO b", BT_DDL_RENAME_TABLE, "RENAME"},
        {"TRUNCATE TABLE t", BT_DDL_TRUNCATE, "TRUNCATE"},
        {"CREATE UNIQUE INDEX i ON t (c)", BT_DDL_CREATE_INDEX, "CINDEX"},
        {"DROP INDEX i ON t", BT_DDL_DROP_INDEX, "DINDEX"},
        {"CREATE DATABASE d", BT_DDL_CREATE_DATABASE, "QUERY"},
        {"CREATE SCHEMA IF NOT EXISTS d", BT_DDL_CREATE_DATABASE, "QUERY"},
        {"ALTER DATABASE d CHARACTER SET utf8mb4", BT_DDL_ALTER_DATABASE, "QUERY"},
        {"DROP SCHEMA d", BT_DDL_DROP_DATABASE, "QUERY"},
        {"CREATE DEFINER=`root`@`%` VIEW v AS SELECT 1", BT_DDL_OTHER, "QUERY"},
        {"GRANT ALL ON *.* TO x", BT_DDL_OTHER, "QUERY"},
        {"", BT_DDL_OTHER, "QUERY"},
        {"CREATE", BT_DDL_OTHER, "QUERY"},
        {"ALTER TABLE", BT_DDL_ALTER_TABLE, "ALTER"},
        {"/* unterminated", BT_DDL_OTHER, "QUERY"},
        {"'CREATE TABLE t'", BT_DDL_OTHER, "QUERY"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bt_ddl_kind_t k = bt_fmt_ddl_kind(cases[i].sql, strlen(cases[i].sql));
        is_int(k, cases[i].kind, "ddl kind of \"%s\"", cases[i].sql);
        is_str(bt_fmt_ddl_canal_type(k), cases[i].canal, "canal type of \"%s\"", cases[i].sql);
    }
    is_int(bt_fmt_ddl_kind(NULL, 0), BT_DDL_OTHER, "no sql");
}

static void test_json(void) {
    bt_format_t *f = mk(BT_FMT_JSON);
    bt_change_t c = ins_a();
    is_uint(bt_format_count(f, &c), 1, "json: insert is 1 message");
    is_int(enc(f, &c, 0), 0, "json: insert encodes");
    is_str(M.key, "{\"id\":42}", "json: key is the pk object");
    is_str(M.val,
           S("{\"op\":\"insert\",\"db\":\"shop\",\"table\":\"users\",\"after\":%s,\"pk\":[\"id\"],\"file\":\"" BINLOG
             "\",\"pos\":4015,\"row\":0,\"gtid\":\"" GTID "\",\"server_id\":223344,\"ts_ms\":1767225612000,\"txn\":7}",
             row_a_typed()),
           "json: insert golden");

    c = upd_ab();
    is_int(enc(f, &c, 0), 0, "json: update encodes");
    is_str(M.val,
           S("{\"op\":\"update\",\"db\":\"shop\",\"table\":\"users\",\"before\":%s,\"after\":%s,\"pk\":[\"id\"],"
             "\"file\":\"" BINLOG "\",\"pos\":4015,\"row\":1,\"gtid\":\"" GTID "\",\"server_id\":223344,"
             "\"ts_ms\":1767225612000,\"txn\":7}",
             row_a_typed(), row_b_typed()),
           "json: update golden");

    c = del_a();
    is_int(enc(f, &c, 0), 0, "json: delete encodes");
    is_str(M.val,
           S("{\"op\":\"delete\",\"db\":\"shop\",\"table\":\"users\",\"before\":%s,\"pk\":[\"id\"],\"file\":\"" BINLOG
             "\",\"pos\":4015,\"row\":0,\"gtid\":\"" GTID "\",\"server_id\":223344,\"ts_ms\":1767225612000,\"txn\":7}",
             row_a_typed()),
           "json: delete golden");

    c = read_a();
    is_int(enc(f, &c, 0), 0, "json: snapshot row encodes");
    is_str(M.val,
           S("{\"op\":\"read\",\"db\":\"shop\",\"table\":\"users\",\"after\":%s,\"pk\":[\"id\"],\"file\":null,\"pos\":0,"
             "\"row\":0,\"gtid\":null,\"server_id\":223344,\"ts_ms\":1767225612000,\"txn\":7}",
             row_a_typed()),
           "json: snapshot golden (no file, no gtid)");

    c = upd_min();
    is_int(enc(f, &c, 0), 0, "json: minimal-image update encodes");
    ok(strstr(M.val, "\"before\":{\"id\":42},\"after\":{\"name\":\"carl\"}") != NULL,
       "json: absent columns are left out, not null: %s", M.val);
    is_str(M.key, "{\"id\":42}", "json: key falls back to the before image when the after image lacks it");

    c = ins_events();
    is_int(enc(f, &c, 0), 0, "json: no-pk insert encodes");
    is_str(M.key, "", "json: no primary key, no key");
    ok(strstr(M.val, "\"pk\":[]") && strstr(M.val, "\"msg\":\"tab\\there\""), "json: pk [] and escaped tab: %s",
       M.val);

    c = ins_anon();
    is_int(enc(f, &c, 0), 0, "json: unnamed columns encode");
    ok(strstr(M.val, "\"after\":{\"@1\":5,\"@2\":\"x\"},\"pk\":[\"@1\"]") != NULL, "json: @N names: %s", M.val);

    c = ddl_alter();
    is_uint(bt_format_count(f, &c), 1, "json: DDL is 1 message");
    is_int(enc(f, &c, 0), 0, "json: DDL encodes");
    is_str(M.key, "", "json: DDL has no key");
    is_str(M.val,
           "{\"op\":\"ddl\",\"db\":\"shop\",\"table\":\"users\",\"sql\":\"ALTER TABLE `users` ADD COLUMN `x` int\","
           "\"file\":\"" BINLOG "\",\"pos\":4015,\"gtid\":\"" GTID "\",\"server_id\":223344,\"ts_ms\":1767225612000,\"txn\":7}",
           "json: DDL golden");
    c = ddl_createdb();
    is_int(enc(f, &c, 0), 0, "json: DDL without a table encodes");
    ok(strstr(M.val, "\"table\"") == NULL && strstr(M.val, "\"db\":\"newdb\""), "json: no table field when unknown");
    bt_format_free(f);
}

static const char *source(const char *snapshot, const char *file, const char *gtid, unsigned row) {
    return S("{\"version\":\"%s\",\"connector\":\"mysql\",\"name\":\"bintail\",\"ts_ms\":1767225612000,\"snapshot\":"
             "\"%s\",\"db\":\"shop\",\"table\":\"users\",\"server_id\":223344,\"gtid\":%s,\"file\":\"%s\",\"pos\":%s,"
             "\"row\":%u,\"thread\":null,\"query\":null}",
             PACKAGE_VERSION, snapshot, gtid, file, *file ? "4015" : "0", row);
}

static void test_debezium(void) {
    bt_format_t *f = mk(BT_FMT_DEBEZIUM);
    const char *src = source("false", BINLOG, "\"" GTID "\"", 0);
    bt_change_t c = ins_a();
    is_uint(bt_format_count(f, &c), 1, "debezium: insert is 1 message");
    is_int(enc(f, &c, 0), 0, "debezium: insert encodes");
    is_str(M.key, "{\"id\":42}", "debezium: key is the pk columns");
    is_str(M.val,
           S("{\"before\":null,\"after\":%s,\"source\":%s,\"op\":\"c\",\"ts_ms\":1767225612931,\"transaction\":null}",
             row_a_typed(), src),
           "debezium: insert golden");

    c = upd_ab();
    is_uint(bt_format_count(f, &c), 1, "debezium: update keeping the key is 1 message");
    is_int(enc(f, &c, 0), 0, "debezium: update encodes");
    is_str(M.val,
           S("{\"before\":%s,\"after\":%s,\"source\":%s,\"op\":\"u\",\"ts_ms\":1767225612931,\"transaction\":null}",
             row_a_typed(), row_b_typed(), source("false", BINLOG, "\"" GTID "\"", 1)),
           "debezium: update golden");

    c = del_a();
    is_uint(bt_format_count(f, &c), 2, "debezium: delete + tombstone = 2");
    is_int(enc(f, &c, 0), 0, "debezium: delete encodes");
    is_str(M.val,
           S("{\"before\":%s,\"after\":null,\"source\":%s,\"op\":\"d\",\"ts_ms\":1767225612931,\"transaction\":null}",
             row_a_typed(), src),
           "debezium: delete golden");
    ok(!M.null_value, "debezium: the delete itself has a value");
    is_int(enc(f, &c, 1), 0, "debezium: tombstone encodes");
    ok(M.null_value, "debezium: message 2 of a delete is a tombstone");
    is_str(M.key, "{\"id\":42}", "debezium: tombstone keeps the key");
    is_str(M.val, "", "debezium: tombstone value empty");
    is_int(enc(f, &c, 2), -1, "debezium: no third message for a delete");
    ok(strstr(M.err, "message 2") != NULL, "debezium: error says which message: %s", M.err);

    c = read_a();
    is_int(enc(f, &c, 0), 0, "debezium: snapshot row encodes");
    is_str(M.val,
           S("{\"before\":null,\"after\":%s,\"source\":%s,\"op\":\"r\",\"ts_ms\":1767225612931,\"transaction\":null}",
             row_a_typed(), source("last", "", "null", 0)),
           "debezium: snapshot golden (snapshot last, op r)");
    c.snapshot_last = false;
    is_int(enc(f, &c, 0), 0, "debezium: mid-snapshot row encodes");
    ok(strstr(M.val, "\"snapshot\":\"true\"") != NULL, "debezium: snapshot true");

    /* the key changes: delete (old key), tombstone (old key), create (new key) */
    c = upd_items();
    is_uint(bt_format_count(f, &c), 3, "debezium: key-changing update = 3 messages");
    is_int(enc(f, &c, 0), 0, "debezium: key change message 1");
    is_str(M.key, "{\"line\":1,\"order_id\":1000}", "debezium: delete has the old key, in key order");
    ok(strstr(M.val, "\"after\":null") && strstr(M.val, "\"op\":\"d\"") &&
           strstr(M.val, "\"before\":{\"order_id\":1000,\"line\":1,\"qty\":5}"),
       "debezium: first a delete of the old row: %s", M.val);
    is_int(enc(f, &c, 1), 0, "debezium: key change message 2");
    ok(M.null_value, "debezium: then a tombstone");
    is_str(M.key, "{\"line\":1,\"order_id\":1000}", "debezium: tombstone of the old key");
    is_int(enc(f, &c, 2), 0, "debezium: key change message 3");
    is_str(M.key, "{\"line\":2,\"order_id\":1000}", "debezium: create has the new key");
    ok(strstr(M.val, "\"before\":null") && strstr(M.val, "\"op\":\"c\"") &&
           strstr(M.val, "\"after\":{\"order_id\":1000,\"line\":2,\"qty\":5}"),
       "debezium: then a create of the new row: %s", M.val);

    c = ins_events();
    is_int(enc(f, &c, 0), 0, "debezium: no-pk insert encodes");
    is_str(M.key, "", "debezium: no pk, no key");
    c = del_events();
    is_uint(bt_format_count(f, &c), 1, "debezium: no tombstone without a key");

    c = ddl_alter();
    is_uint(bt_format_count(f, &c), 1, "debezium: DDL is 1 message");
    is_int(enc(f, &c, 0), 0, "debezium: DDL encodes");
    is_str(M.key, "{\"databaseName\":\"shop\"}", "debezium: DDL key");
    is_str(M.val,
           S("{\"source\":%s,\"ts_ms\":1767225612931,\"databaseName\":\"shop\",\"schemaName\":null,"
             "\"ddl\":\"ALTER TABLE `users` ADD COLUMN `x` int\",\"tableChanges\":[]}",
             src),
           "debezium: schema change golden");
    c = ddl_createdb();
    is_int(enc(f, &c, 0), 0, "debezium: DDL without a table");
    ok(strstr(M.val, "\"table\":null") && strstr(M.val, "\"gtid\":null"), "debezium: table and gtid null: %s", M.val);
    bt_format_free(f);

    char err[100];
    bt_format_opts_t o = {.tombstones = false, .server_name = "dbserver1", .connector = "mariadb"};
    f = bt_format_new(BT_FMT_DEBEZIUM, &o, err, sizeof err);
    c = del_a();
    is_uint(bt_format_count(f, &c), 1, "debezium: tombstones off: delete is 1 message");
    c = upd_items();
    is_uint(bt_format_count(f, &c), 2, "debezium: tombstones off: key change is 2 messages");
    is_int(enc(f, &c, 1), 0, "debezium: tombstones off: second message");
    ok(!M.null_value && strstr(M.val, "\"op\":\"c\""), "debezium: tombstones off: create follows the delete");
    is_str(M.key, "{\"line\":2,\"order_id\":1000}", "debezium: ... with the new key");
    c = ins_a();
    is_int(enc(f, &c, 0), 0, "debezium: options encode");
    ok(strstr(M.val, "\"connector\":\"mariadb\",\"name\":\"dbserver1\"") != NULL, "debezium: server name and connector");
    bt_format_free(f);
}

static void test_canal(void) {
    bt_format_t *f = mk(BT_FMT_CANAL);
    const bt_column_t *uc = users_cols;
    const char *mysql_type = S("{\"id\":%s,\"name\":%s,\"price\":%s,\"created\":%s,\"note\":%s}", TN(&uc[0]), TN(&uc[1]),
                               TN(&uc[2]), TN(&uc[3]), TN(&uc[4]));
    const char *sql_type = "{\"id\":4,\"name\":12,\"price\":3,\"created\":93,\"note\":12}";
    const char *data_a = S("{\"id\":\"42\",\"name\":" NAME_JSON ",\"price\":%s,\"created\":%s,\"note\":null}",
                           T(&uc[2], &a_vals[2]), T(&uc[3], &a_vals[3]));
    bt_change_t c = ins_a();
    is_uint(bt_format_count(f, &c), 1, "canal: insert is 1 message");
    is_int(enc(f, &c, 0), 0, "canal: insert encodes");
    is_str(M.key, "{\"id\":42}", "canal: key is the pk bytes");
    is_str(M.val,
           S("{\"data\":[%s],\"database\":\"shop\",\"es\":1767225612000,\"gtid\":\"" GTID "\",\"id\":1001,\"isDdl\":false,"
             "\"mysqlType\":%s,\"old\":null,\"pkNames\":[\"id\"],\"sql\":\"\",\"sqlType\":%s,\"table\":\"users\","
             "\"ts\":1767225612931,\"type\":\"INSERT\"}",
             data_a, mysql_type, sql_type),
           "canal: insert golden");
    ok(strstr(T(&uc[2], &a_vals[2]), "12.3400") != NULL, "canal: decimal text keeps its scale");

    c = upd_ab();
    is_int(enc(f, &c, 0), 0, "canal: update encodes");
    is_str(M.val,
           S("{\"data\":[{\"id\":\"42\",\"name\":\"bob\",\"price\":%s,\"created\":%s,\"note\":\"hi\"}],\"database\":\"shop\","
             "\"es\":1767225612000,\"gtid\":\"" GTID "\",\"id\":1001,\"isDdl\":false,\"mysqlType\":%s,"
             "\"old\":[{\"name\":" NAME_JSON ",\"note\":null}],\"pkNames\":[\"id\"],\"sql\":\"\",\"sqlType\":%s,"
             "\"table\":\"users\",\"ts\":1767225612931,\"type\":\"UPDATE\"}",
             T(&uc[2], &b_vals[2]), T(&uc[3], &b_vals[3]), mysql_type, sql_type),
           "canal: update golden, old has only the changed columns");

    c = del_a();
    is_int(enc(f, &c, 0), 0, "canal: delete encodes");
    ok(strstr(M.val, S("\"data\":[%s]", data_a)) && strstr(M.val, "\"old\":null") &&
           strstr(M.val, "\"type\":\"DELETE\""),
       "canal: delete carries the before image: %s", M.val);

    c = read_a();
    is_int(enc(f, &c, 0), 0, "canal: snapshot row encodes");
    ok(strstr(M.val, "\"type\":\"INSERT\"") && strstr(M.val, "\"gtid\":\"\""), "canal: snapshot rows are INSERTs");

    c = upd_min();
    is_int(enc(f, &c, 0), 0, "canal: minimal update encodes");
    ok(strstr(M.val, "\"data\":[{\"name\":\"carl\"}]") && strstr(M.val, "\"old\":[{}]") &&
           strstr(M.val, "\"sqlType\":{\"name\":12}"),
       "canal: minimal image: data and maps hold only present columns, old [{}]: %s", M.val);

    c = ins_events();
    is_int(enc(f, &c, 0), 0, "canal: no-pk insert encodes");
    is_str(M.key, "", "canal: no-pk: no key");
    is_str(M.val,
           S("{\"data\":[{\"msg\":\"tab\\there\",\"d\":%s,\"data\":\"\\u0000\xc3\xbf\xc2\x80" "A\"}],\"database\":\"logs\","
             "\"es\":1767225612000,\"gtid\":\"" GTID "\",\"id\":1001,\"isDdl\":false,\"mysqlType\":{\"msg\":%s,\"d\":%s,"
             "\"data\":%s},\"old\":null,\"pkNames\":null,\"sql\":\"\",\"sqlType\":{\"msg\":12,\"d\":91,\"data\":2004},"
             "\"table\":\"events\",\"ts\":1767225612931,\"type\":\"INSERT\"}",
             T(&events_cols[1], &e_vals[1]), TN(&events_cols[0]), TN(&events_cols[1]), TN(&events_cols[2])),
           "canal: no-pk golden: pkNames null, bytes as ISO-8859-1 text, BLOB 2004");

    c = upd_items();
    is_int(enc(f, &c, 0), 0, "canal: composite key update encodes");
    ok(strstr(M.val, "\"pkNames\":[\"line\",\"order_id\"]") && strstr(M.val, "\"old\":[{\"line\":\"1\"}]") &&
           strstr(M.val, "\"sqlType\":{\"order_id\":-5,\"line\":4,\"qty\":4}"),
       "canal: pkNames in key order, unsigned smallint widened: %s", M.val);

    c = ddl_alter();
    is_int(enc(f, &c, 0), 0, "canal: DDL encodes");
    is_str(M.key, "", "canal: DDL has no key");
    is_str(M.val,
           "{\"data\":null,\"database\":\"shop\",\"es\":1767225612000,\"gtid\":\"" GTID "\",\"id\":1001,\"isDdl\":true,"
           "\"mysqlType\":null,\"old\":null,\"pkNames\":null,\"sql\":\"ALTER TABLE `users` ADD COLUMN `x` int\","
           "\"sqlType\":null,\"table\":\"users\",\"ts\":1767225612931,\"type\":\"ALTER\"}",
           "canal: DDL golden");
    c = ddl_createdb();
    is_int(enc(f, &c, 0), 0, "canal: CREATE DATABASE encodes");
    ok(strstr(M.val, "\"table\":\"\"") && strstr(M.val, "\"type\":\"QUERY\""), "canal: database DDL is QUERY: %s",
       M.val);
    bt_format_free(f);
}

static void test_maxwell(void) {
    bt_format_t *f = mk(BT_FMT_MAXWELL);
    bt_change_t c = ins_a();
    is_uint(bt_format_count(f, &c), 1, "maxwell: insert is 1 message");
    is_int(enc(f, &c, 0), 0, "maxwell: insert encodes");
    is_str(M.key, "{\"database\":\"shop\",\"table\":\"users\",\"pk.id\":42}", "maxwell: key shape");
    is_str(M.val,
           S("{\"database\":\"shop\",\"table\":\"users\",\"type\":\"insert\",\"ts\":1767225612,\"xid\":7,"
             "\"position\":\"" BINLOG ":4015\",\"gtid\":\"" GTID "\",\"server_id\":223344,\"data\":%s}",
             row_a_typed()),
           "maxwell: insert golden (no commit mid-transaction, xid falls back to txn)");

    c = upd_ab();
    is_int(enc(f, &c, 0), 0, "maxwell: update encodes");
    is_str(M.val,
           S("{\"database\":\"shop\",\"table\":\"users\",\"type\":\"update\",\"ts\":1767225612,\"xid\":940786,\"commit\":true,"
             "\"position\":\"" BINLOG ":4015\",\"gtid\":\"" GTID "\",\"server_id\":223344,\"data\":%s,"
             "\"old\":{\"name\":" NAME_JSON ",\"note\":null}}",
             row_b_typed()),
           "maxwell: update golden: commit on the last row, old = changed columns");

    c = del_a();
    is_int(enc(f, &c, 0), 0, "maxwell: delete encodes");
    ok(strstr(M.val, "\"type\":\"delete\"") && strstr(M.val, S("\"data\":%s}", row_a_typed())) &&
           !strstr(M.val, "\"old\""),
       "maxwell: delete data is the deleted row");

    c = read_a();
    is_int(enc(f, &c, 0), 0, "maxwell: snapshot row encodes");
    is_str(M.val,
           S("{\"database\":\"shop\",\"table\":\"users\",\"type\":\"bootstrap-insert\",\"ts\":1767225612,\"data\":%s}",
             row_a_typed()),
           "maxwell: snapshot rows are bootstrap-insert without xid or position");

    c = upd_min();
    is_int(enc(f, &c, 0), 0, "maxwell: minimal update encodes");
    ok(strstr(M.val, "\"data\":{\"name\":\"carl\"}}") != NULL && !strstr(M.val, "\"old\""),
       "maxwell: nothing known changed, no old: %s", M.val);
    is_str(M.key, "{\"database\":\"shop\",\"table\":\"users\",\"pk.id\":42}", "maxwell: key from the before image");

    c = upd_items();
    is_int(enc(f, &c, 0), 0, "maxwell: composite key encodes");
    is_str(M.key, "{\"database\":\"shop\",\"table\":\"order_items\",\"pk.line\":2,\"pk.order_id\":1000}",
           "maxwell: composite key in key order, new values");

    c = ins_anon();
    is_int(enc(f, &c, 0), 0, "maxwell: unnamed columns encode");
    is_str(M.key, "{\"database\":\"db\",\"table\":\"t4\",\"pk.@1\":5}", "maxwell: @N key");

    bt_column_t saved = users_cols[0];
    users_cols[0].name = "UserID";
    users_cols[0].name_len = 6;
    c = ins_a();
    is_int(enc(f, &c, 0), 0, "maxwell: mixed-case pk encodes");
    is_str(M.key, "{\"database\":\"shop\",\"table\":\"users\",\"pk.userid\":42}", "maxwell: pk names lower-cased");
    users_cols[0] = saved;

    c = ins_events();
    is_int(enc(f, &c, 0), 0, "maxwell: no-pk insert encodes");
    is_str(M.key, "{\"database\":\"logs\",\"table\":\"events\",\"_uuid\":\"" BINLOG ":4015:0\"}",
           "maxwell: no-pk key uses _uuid from coordinates");

    c = ddl_alter();
    is_uint(bt_format_count(f, &c), 1, "maxwell: DDL is 1 message");
    is_int(enc(f, &c, 0), 0, "maxwell: DDL encodes");
    is_str(M.key, "{\"database\":\"shop\",\"table\":\"users\",\"_uuid\":\"" BINLOG ":4015\"}", "maxwell: DDL key");
    is_str(M.val,
           "{\"type\":\"table-alter\",\"database\":\"shop\",\"table\":\"users\",\"ts\":1767225612000,"
           "\"sql\":\"ALTER TABLE `users` ADD COLUMN `x` int\",\"position\":\"" BINLOG ":4015\",\"gtid\":\"" GTID "\"}",
           "maxwell: DDL golden (ts in ms, as Maxwell)");
    c = ddl_createdb();
    is_int(enc(f, &c, 0), 0, "maxwell: CREATE DATABASE encodes");
    is_str(M.val,
           "{\"type\":\"database-create\",\"database\":\"newdb\",\"ts\":1767225612000,"
           "\"sql\":\"/* made by a tool */ CREATE DATABASE IF NOT EXISTS newdb\",\"position\":\"" BINLOG
           ":4015\",\"gtid\":null}",
           "maxwell: database-create golden");
    static const struct {
        const char *sql, *type;
    } ddl[] = {{"CREATE TABLE t (a int)", "table-create"}, {"DROP TABLE t", "table-drop"},
               {"RENAME TABLE a TO b", "table-alter"},     {"DROP DATABASE d", "database-drop"},
               {"ALTER SCHEMA d READ ONLY = 1", "database-alter"}, {"TRUNCATE t", "ddl"},
               {"CREATE VIEW v AS SELECT 1", "ddl"}};
    for (size_t i = 0; i < sizeof ddl / sizeof ddl[0]; i++) {
        c = ddl_alter();
        c.sql = ddl[i].sql;
        c.sql_len = strlen(c.sql);
        is_int(enc(f, &c, 0), 0, "maxwell: DDL %s", ddl[i].sql);
        ok(strstr(M.val, S("{\"type\":\"%s\",", ddl[i].type)) == M.val, "maxwell: \"%s\" is %s", ddl[i].sql,
           ddl[i].type);
    }
    bt_format_free(f);
}

static void test_dataworks(void) {
    bt_format_t *f = mk(BT_FMT_DATAWORKS);
    const char *schema =
        "{\"dataColumn\":[{\"name\":\"id\",\"type\":\"LONG\"},{\"name\":\"name\",\"type\":\"STRING\"},"
        "{\"name\":\"price\",\"type\":\"STRING\"},{\"name\":\"created\",\"type\":\"DATE\"},{\"name\":\"note\",\"type\":"
        "\"STRING\"}],\"primaryKey\":[\"id\"],\"source\":{\"dbType\":\"MySQL\",\"dbName\":\"shop\",\"tableName\":\"users\"}}";
    const char *dc_a = "{\"dataColumn\":{\"id\":42,\"name\":" NAME_JSON
                       ",\"price\":\"12.3400\",\"created\":1767225612000,\"note\":null}}";
    const char *dc_b = "{\"dataColumn\":{\"id\":42,\"name\":\"bob\",\"price\":\"12.3400\",\"created\":1767225612000,"
                       "\"note\":\"hi\"}}";
    const char *ts = "{\"eventTime\":1767225612000,\"systemTime\":1767225612931,\"checkpointTime\":1767225612000}";
    bt_change_t c = ins_a();
    is_uint(bt_format_count(f, &c), 1, "dataworks: insert is 1 message");
    is_int(enc(f, &c, 0), 0, "dataworks: insert encodes");
    is_str(M.key, "{\"id\":42}", "dataworks: key is the pk bytes");
    is_str(M.val,
           S("{\"schema\":%s,\"payload\":{\"before\":null,\"after\":%s,\"sequenceId\":\"1001\",\"timestamp\":%s,"
             "\"op\":\"INSERT\",\"ddl\":null},\"version\":\"0.0.1\"}",
             schema, dc_a, ts),
           "dataworks: insert golden (the example's shape)");

    c = upd_ab();
    is_uint(bt_format_count(f, &c), 2, "dataworks: update is 2 messages");
    is_int(enc(f, &c, 0), 0, "dataworks: update before-image message");
    is_str(M.val,
           S("{\"schema\":%s,\"payload\":{\"before\":%s,\"after\":%s,\"sequenceId\":\"1001\",\"timestamp\":%s,"
             "\"op\":\"UPDATE_BEFOR\",\"ddl\":null},\"version\":\"0.0.1\"}",
             schema, dc_a, dc_b, ts),
           "dataworks: UPDATE_BEFOR golden");
    is_int(enc(f, &c, 1), 0, "dataworks: update after-image message");
    ok(strstr(M.val, "\"op\":\"UPDATE_AFTER\"") && strstr(M.val, "\"sequenceId\":\"1001\""),
       "dataworks: UPDATE_AFTER shares the sequenceId");

    c = del_a();
    is_int(enc(f, &c, 0), 0, "dataworks: delete encodes");
    is_str(M.val,
           S("{\"schema\":%s,\"payload\":{\"before\":%s,\"after\":null,\"sequenceId\":\"1001\",\"timestamp\":%s,"
             "\"op\":\"DELETE\",\"ddl\":null},\"version\":\"0.0.1\"}",
             schema, dc_a, ts),
           "dataworks: delete golden");

    c = read_a();
    is_int(enc(f, &c, 0), 0, "dataworks: full-sync row encodes");
    is_str(M.val,
           S("{\"schema\":%s,\"payload\":{\"before\":null,\"after\":%s,\"sequenceId\":\"-1\",\"timestamp\":"
             "{\"eventTime\":-1,\"systemTime\":1767225612931,\"checkpointTime\":-1},\"op\":\"INSERT\",\"ddl\":null},"
             "\"version\":\"0.0.1\"}",
             schema, dc_a),
           "dataworks: full-sync rows carry -1");

    c = ins_events();
    is_int(enc(f, &c, 0), 0, "dataworks: no-pk insert encodes");
    ok(strstr(M.val, "\"dataColumn\":[{\"name\":\"msg\",\"type\":\"STRING\"},{\"name\":\"d\",\"type\":\"DATE\"},"
                     "{\"name\":\"data\",\"type\":\"BYTES\"}],\"primaryKey\":[]") != NULL,
       "dataworks: DATE and BYTES types, empty primaryKey: %s", M.val);
    ok(strstr(M.val, "{\"dataColumn\":{\"msg\":\"tab\\there\",\"d\":1709164800000,\"data\":\"AP+AQQ==\"}}") != NULL,
       "dataworks: DATE as epoch ms, bytes as base64: %s", M.val);

    /* dates that name no instant, and a time before the epoch */
    bt_value_t zd = v_date(0, 0, 0), pre = v_dt(1969, 12, 31, 23, 59, 59);
    pre.t.usec = 500000;
    bt_value_t ev[3] = {v_str("z"), zd, v_absent()};
    bt_row_t er = {3, ev};
    c = base(&events, BT_OP_INSERT, NULL, &er);
    is_int(enc(f, &c, 0), 0, "dataworks: zero date encodes");
    ok(strstr(M.val, "{\"msg\":\"z\",\"d\":null}") != NULL, "dataworks: zero date is null: %s", M.val);
    bt_value_t uv[5] = {v_int(1), v_str("p"), v_dec("-0.5000"), pre, v_null()};
    bt_row_t ur = {5, uv};
    c = base(&users, BT_OP_INSERT, NULL, &ur);
    is_int(enc(f, &c, 0), 0, "dataworks: pre-epoch datetime encodes");
    ok(strstr(M.val, "\"price\":\"-0.5000\",\"created\":-500,") != NULL, "dataworks: exact decimal, -500 ms: %s",
       M.val);

    c = ddl_alter();
    is_uint(bt_format_count(f, &c), 1, "dataworks: DDL is 1 message");
    is_int(enc(f, &c, 0), 0, "dataworks: DDL encodes");
    is_str(M.key, "", "dataworks: DDL has no key");
    is_str(M.val,
           S("{\"schema\":{\"dataColumn\":null,\"primaryKey\":null,\"source\":{\"dbType\":\"MySQL\",\"dbName\":\"shop\","
             "\"tableName\":\"users\"}},\"payload\":{\"before\":null,\"after\":null,\"sequenceId\":\"1001\",\"timestamp\":%s,"
             "\"op\":\"ALTER\",\"ddl\":\"ALTER TABLE `users` ADD COLUMN `x` int\"},\"version\":\"0.0.1\"}",
             ts),
           "dataworks: DDL golden");
    bt_format_free(f);
}

/* One column of each type family: DataWorks type names and values, Canal sqlType codes. */
static void test_types(void) {
    static bt_column_t cols[19];
    cols[0] = mkcol("tiny", BT_TYPE_TINY, 0, 0, true, false);
    cols[1] = mkcol("tiny_u", BT_TYPE_TINY, 0, 0, false, true);
    cols[2] = mkcol("big_u", BT_TYPE_LONGLONG, 0, 0, false, true);
    cols[3] = mkcol("f", BT_TYPE_FLOAT, 4, 0, false, false);
    cols[4] = mkcol("d", BT_TYPE_DOUBLE, 8, 0, false, false);
    cols[5] = mkcol("bit1", BT_TYPE_BIT, 1, 0, false, false);
    cols[6] = mkcol("bit8", BT_TYPE_BIT, 1 << 8, 0, false, false);
    cols[7] = mkcol("y", BT_TYPE_YEAR, 0, 0, false, false);
    cols[8] = mkcol("t", BT_TYPE_TIME2, 0, 0, false, false);
    cols[9] = mkcol("ts", BT_TYPE_TIMESTAMP2, 3, 0, false, false);
    cols[10] = mkcol("e", BT_TYPE_ENUM, 0, 45, false, false);
    cols[11] = mkcol("s", BT_TYPE_SET, 0, 45, false, false);
    cols[12] = mkcol("j", BT_TYPE_JSON, 4, 0, false, false);
    cols[13] = mkcol("c", BT_TYPE_STRING, 0, 45, false, false);
    cols[14] = mkcol("bn", BT_TYPE_STRING, 0, 63, false, false);
    cols[15] = mkcol("tx", BT_TYPE_BLOB, 2, 45, false, false);
    cols[16] = mkcol("bl", BT_TYPE_BLOB, 2, 63, false, false);
    cols[17] = mkcol("g", BT_TYPE_GEOMETRY, 4, 63, false, false);
    cols[18] = mkcol("vec", BT_TYPE_VECTOR, 4, 0, false, false);
    static const uint32_t pk[] = {0};
    bt_table_t t = {.id = 80, .db = "d", .name = "types", .ncols = 19, .cols = cols, .npk = 1, .pk = pk,
                    .has_names = true};
    bt_value_t v[19];
    v[0] = v_int(-5);
    v[1] = v_uint(200);
    v[2] = v_uint(UINT64_MAX);
    v[3] = (bt_value_t){.kind = BT_VAL_FLOAT, .present = true, .f = 1.5f};
    v[4] = (bt_value_t){.kind = BT_VAL_DOUBLE, .present = true, .d = 0.1};
    v[5] = (bt_value_t){.kind = BT_VAL_BIT, .present = true, .u = 1};
    v[6] = (bt_value_t){.kind = BT_VAL_BIT, .present = true, .u = 5};
    v[7] = (bt_value_t){.kind = BT_VAL_YEAR, .present = true, .u = 2026};
    v[8] = (bt_value_t){.kind = BT_VAL_TIME, .present = true, .neg = true};
    v[8].t.hour = 507;
    v[8].t.minute = 48;
    v[8].t.second = 27;
    v[9] = (bt_value_t){.kind = BT_VAL_TIMESTAMP, .present = true, .i = 1767225612, .fsp = 3};
    v[9].t.usec = 120000;
    v[10] = (bt_value_t){.kind = BT_VAL_ENUM, .present = true, .u = 2, .s = "small", .len = 5};
    v[11] = (bt_value_t){.kind = BT_VAL_SET, .present = true, .u = 5};
    v[12] = (bt_value_t){.kind = BT_VAL_JSON, .present = true, .s = "{\"a\":1}", .len = 7};
    v[13] = v_str("abc");
    v[14] = v_bin("\x01\x02", 2);
    v[15] = v_str("long text");
    v[16] = v_bin("\xff", 1);
    v[17] = (bt_value_t){.kind = BT_VAL_GEOMETRY, .present = true, .s = "\x00\x00\x00\x00\x01\x02\x03", .len = 7};
    v[18] = (bt_value_t){.kind = BT_VAL_VECTOR, .present = true, .s = "\x00\x00\x80\x3f", .len = 4};
    bt_row_t r = {19, v};
    bt_change_t c = base(&t, BT_OP_INSERT, NULL, &r);

    bt_format_t *f = mk(BT_FMT_DATAWORKS);
    is_int(enc(f, &c, 0), 0, "types: dataworks encodes");
    ok(strstr(M.val, "\"dataColumn\":[{\"name\":\"tiny\",\"type\":\"LONG\"},{\"name\":\"tiny_u\",\"type\":\"LONG\"},"
                     "{\"name\":\"big_u\",\"type\":\"LONG\"},{\"name\":\"f\",\"type\":\"DOUBLE\"},"
                     "{\"name\":\"d\",\"type\":\"DOUBLE\"},{\"name\":\"bit1\",\"type\":\"BOOLEAN\"},"
                     "{\"name\":\"bit8\",\"type\":\"LONG\"},{\"name\":\"y\",\"type\":\"LONG\"},"
                     "{\"name\":\"t\",\"type\":\"STRING\"},{\"name\":\"ts\",\"type\":\"DATE\"},"
                     "{\"name\":\"e\",\"type\":\"STRING\"},{\"name\":\"s\",\"type\":\"STRING\"},"
                     "{\"name\":\"j\",\"type\":\"STRING\"},{\"name\":\"c\",\"type\":\"STRING\"},"
                     "{\"name\":\"bn\",\"type\":\"BYTES\"},{\"name\":\"tx\",\"type\":\"STRING\"},"
                     "{\"name\":\"bl\",\"type\":\"BYTES\"},{\"name\":\"g\",\"type\":\"BYTES\"},"
                     "{\"name\":\"vec\",\"type\":\"STRING\"}]") != NULL,
       "types: dataworks type names: %s", M.val);
    const char *want = S("\"after\":{\"dataColumn\":{\"tiny\":-5,\"tiny_u\":200,\"big_u\":18446744073709551615,\"f\":1.5,"
                         "\"d\":0.1,\"bit1\":true,\"bit8\":5,\"y\":2026,\"t\":%s,\"ts\":1767225612120,\"e\":%s,\"s\":%s,"
                         "\"j\":\"{\\\"a\\\":1}\",\"c\":\"abc\",\"bn\":\"AQI=\",\"tx\":\"long text\",\"bl\":\"/w==\","
                         "\"g\":\"AQID\",\"vec\":%s}}",
                         T(&cols[8], &v[8]), T(&cols[10], &v[10]), T(&cols[11], &v[11]), T(&cols[18], &v[18]));
    ok(strstr(M.val, want) != NULL, "types: dataworks values\n#   got  %s\n#   want %s", M.val, want);
    bt_format_free(f);

    f = mk(BT_FMT_CANAL);
    is_int(enc(f, &c, 0), 0, "types: canal encodes");
    ok(strstr(M.val, "\"sqlType\":{\"tiny\":-6,\"tiny_u\":5,\"big_u\":3,\"f\":7,\"d\":8,\"bit1\":-7,\"bit8\":-7,\"y\":12,"
                     "\"t\":92,\"ts\":93,\"e\":12,\"s\":12,\"j\":12,\"c\":1,\"bn\":2004,\"tx\":2005,\"bl\":2004,"
                     "\"g\":2004,\"vec\":12}") != NULL,
       "types: canal sqlType codes: %s", M.val);
    ok(strstr(M.val, "\"bn\":\"\\u0001\\u0002\"") && strstr(M.val, "\"bl\":\"\xc3\xbf\"") &&
           strstr(M.val, "\"g\":\"\\u0000\\u0000\\u0000\\u0000\\u0001\\u0002\\u0003\""),
       "types: canal bytes as ISO-8859-1 text: %s", M.val);
    bt_format_free(f);

    for (int k = 0; k < 6; k++) {
        f = mk((bt_format_kind_t)k);
        unsigned n = bt_format_count(f, &c);
        for (unsigned idx = 0; idx < n; idx++)
            is_int(enc(f, &c, idx), 0, "types: %s message %u encodes", bt_format_name((bt_format_kind_t)k), idx);
        bt_format_free(f);
    }
}

static void test_upsert(void) {
    bt_format_t *f = mk(BT_FMT_UPSERT);
    bt_change_t c = ins_a();
    is_uint(bt_format_count(f, &c), 1, "upsert: insert is 1 message");
    is_int(enc(f, &c, 0), 0, "upsert: insert encodes");
    is_str(M.key, "{\"id\":42}", "upsert: key");
    is_str(M.val, row_a_typed(), "upsert: value is the row");
    c = upd_ab();
    is_int(enc(f, &c, 0), 0, "upsert: update encodes");
    is_str(M.val, row_b_typed(), "upsert: value is the row after the update");
    c = del_a();
    is_uint(bt_format_count(f, &c), 1, "upsert: delete is 1 message");
    is_int(enc(f, &c, 0), 0, "upsert: delete encodes");
    ok(M.null_value, "upsert: delete is a tombstone");
    is_str(M.key, "{\"id\":42}", "upsert: tombstone key");
    c = read_a();
    is_int(enc(f, &c, 0), 0, "upsert: snapshot row encodes");
    is_str(M.val, row_a_typed(), "upsert: snapshot row value");
    c = upd_items();
    is_uint(bt_format_count(f, &c), 2, "upsert: key change is 2 messages");
    is_int(enc(f, &c, 0), 0, "upsert: key change message 1");
    ok(M.null_value, "upsert: old key tombstoned first");
    is_str(M.key, "{\"line\":1,\"order_id\":1000}", "upsert: ... with the old key");
    is_int(enc(f, &c, 1), 0, "upsert: key change message 2");
    is_str(M.key, "{\"line\":2,\"order_id\":1000}", "upsert: then the new key");
    is_str(M.val, "{\"order_id\":1000,\"line\":2,\"qty\":5}", "upsert: ... with the new row");
    c = ddl_alter();
    is_uint(bt_format_count(f, &c), 0, "upsert: DDL makes no message");
    is_int(enc(f, &c, 0), -1, "upsert: encoding a DDL message is refused");
    bt_format_free(f);
}

static void test_pk_bytes(void) {
    bt_buf_t b;
    bt_buf_init(&b, 0);
    bt_change_t c = ins_a();
    bt_format_pk_bytes(&c, &b);
    is_str(b.p, "{\"id\":42}", "pk bytes: single key");
    c = upd_items();
    bt_format_pk_bytes(&c, &b);
    is_str(b.p, "{\"line\":2,\"order_id\":1000}", "pk bytes: composite, key order, new key");
    c = del_a();
    bt_format_pk_bytes(&c, &b);
    is_str(b.p, "{\"id\":42}", "pk bytes: delete uses the before image");
    c = ins_events();
    bt_buf_puts(&b, "junk");
    bt_format_pk_bytes(&c, &b);
    is_uint(b.len, 0, "pk bytes: empty without a primary key");
    c = ddl_alter();
    bt_format_pk_bytes(&c, &b);
    is_uint(b.len, 0, "pk bytes: empty for DDL");
    bt_value_t nv[2] = {v_null(), v_str("\"")};
    bt_row_t nr = {2, nv};
    c = base(&anon, BT_OP_INSERT, NULL, &nr);
    bt_format_pk_bytes(&c, &b);
    is_str(b.p, "{\"@1\":null}", "pk bytes: NULL key value is null");

    /* per message: the old key for the messages about it */
    static const struct {
        bt_format_kind_t k;
        const char *keys[3];
    } per[] = {
        {BT_FMT_DEBEZIUM,
         {"{\"line\":1,\"order_id\":1000}", "{\"line\":1,\"order_id\":1000}", "{\"line\":2,\"order_id\":1000}"}},
        {BT_FMT_UPSERT, {"{\"line\":1,\"order_id\":1000}", "{\"line\":2,\"order_id\":1000}", NULL}},
        {BT_FMT_CANAL, {"{\"line\":2,\"order_id\":1000}", NULL, NULL}},
    };
    for (size_t i = 0; i < sizeof per / sizeof per[0]; i++) {
        bt_format_t *f = mk(per[i].k);
        c = upd_items();
        for (unsigned idx = 0; idx < 3 && per[i].keys[idx]; idx++) {
            bt_format_msg_pk_bytes(f, &c, idx, &b);
            is_str(b.p, per[i].keys[idx], "msg pk bytes: %s message %u", bt_format_name(per[i].k), idx);
            bt_buf_t k, v;
            bool nul;
            char err[128];
            bt_buf_init(&k, 0);
            bt_buf_init(&v, 0);
            is_int(bt_format_encode(f, &c, idx, &k, &v, &nul, err, sizeof err), 0, "encode %s %u",
                   bt_format_name(per[i].k), idx);
            is_str(k.p ? k.p : "", b.p, "msg pk bytes equal the message key (%s %u)", bt_format_name(per[i].k), idx);
            bt_buf_free(&k);
            bt_buf_free(&v);
        }
        bt_format_free(f);
    }
    bt_buf_free(&b);
}

/* Every format x every change x every message: encodes, is JSON, counts add up. */
static void test_sweep(void) {
    bt_change_t (*mkc[])(void) = {ins_a,      upd_ab,    del_a,      read_a,       upd_min,  upd_items,
                                  ins_events, del_events, ins_anon,  ddl_alter,    ddl_createdb};
    static const unsigned counts[6][11] = {
        /* ins upd del read min items ins_e del_e anon ddl ddl2 */
        {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, /* json */
        {1, 1, 2, 1, 1, 3, 1, 1, 1, 1, 1}, /* debezium */
        {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, /* canal */
        {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, /* maxwell */
        {1, 2, 1, 1, 2, 2, 1, 1, 1, 1, 1}, /* dataworks */
        {1, 1, 1, 1, 1, 2, 1, 1, 1, 0, 0}, /* upsert */
    };
    for (int k = 0; k < 6; k++) {
        bt_format_t *f = mk((bt_format_kind_t)k);
        int fails = 0;
        for (size_t i = 0; i < sizeof mkc / sizeof mkc[0]; i++) {
            bt_change_t c = mkc[i]();
            unsigned n = bt_format_count(f, &c);
            is_uint(n, counts[k][i], "sweep %s change %zu: count", bt_format_name((bt_format_kind_t)k), i);
            for (unsigned idx = 0; idx < n; idx++)
                if (enc(f, &c, idx) != 0) {
                    fails++;
                    printf("# %s\n", M.err);
                }
        }
        is_int(fails, 0, "sweep %s: every message encodes", bt_format_name((bt_format_kind_t)k));
        bt_format_free(f);
    }
}

static void test_errors(void) {
    char err[200];
    for (int k = 0; k < 6; k++) {
        bt_format_t *f = mk((bt_format_kind_t)k);
        const char *name = bt_format_name((bt_format_kind_t)k);
        bt_change_t c = base(&users, BT_OP_UPDATE, NULL, &row_b);
        is_int(enc(f, &c, 0), -1, "%s: update without a before image refused", name);
        ok(strstr(M.err, name) && strstr(M.err, "shop.users"), "%s: error names format and table: %s", name, M.err);
        c = base(NULL, BT_OP_INSERT, NULL, &row_a);
        is_int(enc(f, &c, 0), -1, "%s: row change without a table refused", name);
        c = base(&users, (bt_op_t)9, NULL, &row_a);
        is_int(enc(f, &c, 0), -1, "%s: unknown op refused", name);
        c = ins_a();
        is_int(enc(f, &c, 5), -1, "%s: message index past the count refused", name);

        bt_buf_t key, val;
        bool nul;
        bt_buf_init(&key, 0);
        bt_buf_init(&val, 16);
        is_int(bt_format_encode(f, &c, 0, &key, &val, &nul, err, sizeof err), -1, "%s: a value over the cap fails",
               name);
        ok(strstr(err, "cap") != NULL, "%s: cap error says so: %s", name, err);
        bt_buf_free(&key);
        bt_buf_free(&val);
        is_int(bt_format_encode(f, NULL, 0, &key, &val, &nul, err, sizeof err), -1, "%s: NULL change refused", name);
        is_uint(bt_format_count(f, NULL), 0, "%s: count of nothing is 0", name);
        bt_format_free(f);
    }
}

/* Python's parser as a second opinion, with duplicate keys refused. */
static void python_check(void) {
    if (!all_msgs) return;
    fclose(all_msgs);
    all_msgs = NULL;
    if (access("/usr/bin/python3", X_OK) != 0) {
        ok(1, "# SKIP /usr/bin/python3 not found");
        unlink(all_path);
        return;
    }
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c 'import json,sys\n"
             "def h(p):\n"
             "    k=[a for a,_ in p]\n"
             "    assert len(k)==len(set(k)), k\n"
             "    return dict(p)\n"
             "n=0\n"
             "for l in open(sys.argv[1],encoding=\"utf-8\"):\n"
             "    json.loads(l, object_pairs_hook=h); n+=1\n"
             "print(n)' %s",
             all_path);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1) n = -1;
        int rc = pclose(p);
        is_int(rc, 0, "python parses every message without duplicate keys");
    }
    is_int(n, nmsgs, "python read all %d messages", nmsgs);
    unlink(all_path);
}

int main(void) {
    snprintf(all_path, sizeof all_path, "/tmp/bt-test-formats-%d.jsonl", (int)getpid());
    all_msgs = fopen(all_path, "w");
    fixtures();
    test_names();
    test_ddl_kinds();
    test_json();
    test_debezium();
    test_canal();
    test_maxwell();
    test_dataworks();
    test_upsert();
    test_types();
    test_pk_bytes();
    test_sweep();
    test_errors();
    python_check();
    for (int i = 0; i < npool; i++) free(pool[i]);
    return tap_done();
}
