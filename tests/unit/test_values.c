/* test_values.c: cell decoding (bt_value_decode) and rendering (bt_value_json, bt_value_text,
 * bt_column_type_name) from hand-built row-image bytes, with edge values of every type, plus
 * byte images taken from real MySQL/MariaDB binlogs (tests/../testdata: time_issue, vector,
 * mysql_type_bit, mysql-enum-string-set, tiflow's MariaDB 10.0 hi-res TIMESTAMPs).
 *
 * Every successful case is also decoded from each shorter prefix of its bytes, in a heap block
 * of exactly that size, so that a read past the end shows up under ASan and a missing length
 * check shows up as a non-error. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <zlib.h>

#include "agent/binlog/binlog.h"
#include "agent/binlog/value.h"
#include "lib/lib.h"
#include "tests/unit/tap.h"

static bt_arena_t arena;
static char err[512];
static bt_buf_t out;
static uint8_t *keep[8192];
static size_t nkeep;

static bt_column_t col_of(uint8_t type, uint16_t meta) {
    bt_column_t c;
    memset(&c, 0, sizeof c);
    c.type = c.wire_type = type;
    c.meta = meta;
    c.name = "c";
    c.name_len = 1;
    c.collation = 45; /* utf8mb4_general_ci */
    return c;
}

/* Decodes bytes copied into a heap block of exactly n bytes. */
static int decode_exact(const bt_column_t *col, const void *bytes, size_t n, bt_value_t *v, size_t *used) {
    uint8_t *p = malloc(n ? n : 1);
    if (n) memcpy(p, bytes, n);
    err[0] = 0;
    int rc = bt_value_decode(col, p, n, v, used, &arena, err, sizeof err);
    /* zero-copy values point into p: keep the block until the end of the run */
    if (nkeep < sizeof keep / sizeof keep[0]) keep[nkeep++] = p;
    else free(p);
    return rc;
}

static void free_kept(void) {
    while (nkeep) free(keep[--nkeep]);
}

/* Every proper prefix must fail (no over-read: each prefix is its own heap block). */
static bool prefixes_fail(const bt_column_t *col, const void *bytes, size_t n) {
    for (size_t k = 0; k < n; k++) {
        uint8_t *p = malloc(k ? k : 1);
        if (k) memcpy(p, bytes, k);
        bt_value_t v;
        size_t used = 0;
        int rc = bt_value_decode(col, p, k, &v, &used, &arena, err, sizeof err);
        free(p);
        if (rc != -1) {
            printf("#   prefix of %zu/%zu bytes decoded (used %zu)\n", k, n, used);
            return false;
        }
    }
    return true;
}

static const char *json_of(const bt_column_t *col, const bt_value_t *v) {
    bt_buf_reset(&out);
    bt_jw_t w;
    bt_jw_init(&w, &out);
    bt_value_json(&w, col, v);
    return out.p ? out.p : "";
}

static const char *text_of(const bt_column_t *col, const bt_value_t *v) {
    bt_buf_reset(&out);
    if (!bt_value_text(&out, col, v)) return "(null)";
    return out.p ? out.p : "";
}

static const char *type_of(const bt_column_t *col) {
    bt_buf_reset(&out);
    bt_column_type_name(&out, col);
    return out.p ? out.p : "";
}

/* Decode n bytes (all of them must be used), check the JSON rendering and the truncations. */
static void check_json(const char *name, const bt_column_t *col, const void *bytes, size_t n, const char *want) {
    bt_value_t v;
    size_t used = 0;
    int rc = decode_exact(col, bytes, n, &v, &used);
    if (!ok(rc == 0 && used == n, "%s: decodes (%zu bytes)", name, n)) {
        printf("#   rc %d used %zu err '%s'\n", rc, used, err);
        return;
    }
    is_str(json_of(col, &v), want, "%s: json", name);
    ok(prefixes_fail(col, bytes, n), "%s: every truncation is an error", name);
}

static void check_text(const char *name, const bt_column_t *col, const void *bytes, size_t n, const char *want) {
    bt_value_t v;
    size_t used = 0;
    int rc = decode_exact(col, bytes, n, &v, &used);
    if (!ok(rc == 0 && used == n, "%s: decodes for text", name)) {
        printf("#   rc %d used %zu err '%s'\n", rc, used, err);
        return;
    }
    is_str(text_of(col, &v), want, "%s: text", name);
}

static void check_error(const char *name, const bt_column_t *col, const void *bytes, size_t n, const char *needle) {
    bt_value_t v;
    size_t used = 0;
    int rc = decode_exact(col, bytes, n, &v, &used);
    ok(rc == -1 && strstr(err, needle), "%s: error mentioning '%s'", name, needle);
    if (rc != -1 || !strstr(err, needle)) printf("#   rc %d err '%s'\n", rc, err);
}

#define B(s) (s), (sizeof(s) - 1)

/* Integers -------------------------------------------------------------------------------------- */
static void test_integers(void) {
    bt_column_t c = col_of(BT_TYPE_TINY, 0);
    check_json("tinyint min", &c, B("\x80"), "-128");
    check_json("tinyint max", &c, B("\x7f"), "127");
    c.is_unsigned = true;
    check_json("tinyint unsigned max", &c, B("\xff"), "255");
    is_str(type_of(&c), "tinyint unsigned", "tinyint unsigned type name");

    c = col_of(BT_TYPE_SHORT, 0);
    check_json("smallint min", &c, B("\x00\x80"), "-32768");
    check_text("smallint -1 text", &c, B("\xff\xff"), "-1");
    c.is_unsigned = true;
    check_json("smallint unsigned max", &c, B("\xff\xff"), "65535");

    c = col_of(BT_TYPE_INT24, 0);
    check_json("mediumint min", &c, B("\x00\x00\x80"), "-8388608");
    check_json("mediumint max", &c, B("\xff\xff\x7f"), "8388607");
    check_json("mediumint -1", &c, B("\xff\xff\xff"), "-1");
    is_str(type_of(&c), "mediumint", "mediumint type name");
    c.is_unsigned = true;
    check_json("mediumint unsigned max", &c, B("\xff\xff\xff"), "16777215");

    c = col_of(BT_TYPE_LONG, 0);
    check_json("int min", &c, B("\x00\x00\x00\x80"), "-2147483648");
    check_json("int max", &c, B("\xff\xff\xff\x7f"), "2147483647");
    is_str(type_of(&c), "int", "int type name");
    c.is_unsigned = true;
    check_json("int unsigned max", &c, B("\xff\xff\xff\xff"), "4294967295");
    /* minimal_row_metadata.000001 asserts 3230202323 for an INT UNSIGNED */
    check_json("int unsigned 3230202323", &c, B("\xd3\xf9\x88\xc0"), "3230202323");

    c = col_of(BT_TYPE_LONGLONG, 0);
    check_json("bigint min", &c, B("\x00\x00\x00\x00\x00\x00\x00\x80"), "-9223372036854775808");
    check_json("bigint max", &c, B("\xff\xff\xff\xff\xff\xff\xff\x7f"), "9223372036854775807");
    check_text("bigint min text", &c, B("\x00\x00\x00\x00\x00\x00\x00\x80"), "-9223372036854775808");
    c.is_unsigned = true;
    check_json("bigint unsigned max", &c, B("\xff\xff\xff\xff\xff\xff\xff\xff"), "18446744073709551615");
    check_text("bigint unsigned max text", &c, B("\xff\xff\xff\xff\xff\xff\xff\xff"), "18446744073709551615");
    is_str(type_of(&c), "bigint unsigned", "bigint unsigned type name");

    /* integers never touch the arena */
    bt_arena_reset(&arena);
    bt_value_t v;
    size_t used;
    decode_exact(&c, "\x01\x00\x00\x00\x00\x00\x00\x00", 8, &v, &used);
    is_uint(arena.total, 0, "integers allocate nothing");
}

static void put_le(uint8_t *p, uint64_t v, int n) {
    for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void test_floats(void) {
    bt_column_t c = col_of(BT_TYPE_FLOAT, 4);
    uint8_t b[8];
    float f = 1.1f;
    uint32_t u32;
    memcpy(&u32, &f, 4);
    put_le(b, u32, 4);
    check_json("float 1.1", &c, b, 4, "1.1");
    check_text("float 1.1 text", &c, b, 4, "1.1");
    f = FLT_MAX;
    memcpy(&u32, &f, 4);
    put_le(b, u32, 4);
    check_json("float max", &c, b, 4, "3.4028235e+38");
    f = -0.0f;
    memcpy(&u32, &f, 4);
    put_le(b, u32, 4);
    check_json("float -0", &c, b, 4, "-0");
    f = FLT_TRUE_MIN;
    memcpy(&u32, &f, 4);
    put_le(b, u32, 4);
    check_json("float smallest denormal", &c, b, 4, "1e-45");
    is_str(type_of(&c), "float", "float type name");

    c = col_of(BT_TYPE_DOUBLE, 8);
    double d = 0.1;
    uint64_t u64;
    memcpy(&u64, &d, 8);
    put_le(b, u64, 8);
    check_json("double 0.1", &c, b, 8, "0.1");
    d = DBL_MAX;
    memcpy(&u64, &d, 8);
    put_le(b, u64, 8);
    check_json("double max", &c, b, 8, "1.7976931348623157e+308");
    d = -DBL_TRUE_MIN;
    memcpy(&u64, &d, 8);
    put_le(b, u64, 8);
    check_json("double -denormal", &c, b, 8, "-5e-324");
    d = 123456789012345678.0;
    memcpy(&u64, &d, 8);
    put_le(b, u64, 8);
    check_text("double big text", &c, b, 8, "123456789012345680");
    is_str(type_of(&c), "double", "double type name");
}

static void test_year_bit(void) {
    bt_column_t c = col_of(BT_TYPE_YEAR, 0);
    check_json("year 0", &c, B("\x00"), "0");
    check_json("year 1901", &c, B("\x01"), "1901");
    check_json("year 2155", &c, B("\xff"), "2155");
    check_text("year 0 text", &c, B("\x00"), "0000");
    check_text("year 2026 text", &c, B("\x7e"), "2026");
    is_str(type_of(&c), "year", "year type name");

    /* meta: bytes << 8 | bits */
    c = col_of(BT_TYPE_BIT, 1);
    check_json("bit(1) 1", &c, B("\x01"), "1");
    is_str(type_of(&c), "bit(1)", "bit(1) type name");
    c = col_of(BT_TYPE_BIT, 8 << 8);
    check_json("bit(64) max", &c, B("\xff\xff\xff\xff\xff\xff\xff\xff"), "18446744073709551615");
    check_text("bit(64) text", &c, B("\x80\x00\x00\x00\x00\x00\x00\x01"), "9223372036854775809");
    is_str(type_of(&c), "bit(64)", "bit(64) type name");
    c = col_of(BT_TYPE_BIT, 1 << 8 | 2); /* BIT(10): 2 bytes, big-endian */
    check_json("bit(10)", &c, B("\x02\x01"), "513");
    /* mysql_type_bit.000001: BIT(3) b'100' and BIT(8) b'00100000' */
    c = col_of(BT_TYPE_BIT, 3);
    check_json("bit(3) from a MySQL 8.0.26 binlog", &c, B("\x04"), "4");
    c = col_of(BT_TYPE_BIT, 1 << 8);
    check_json("bit(8) from a MySQL 8.0.26 binlog", &c, B("\x20"), "32");
    c = col_of(BT_TYPE_BIT, 0);
    check_error("bit(0) metadata", &c, B("\x00"), "BIT");
}

/* DECIMAL ------------------------------------------------------------------------------------- */

/* MySQL's decimal2bin() for a literal "[-]digits[.digits]", to build test images. */
static size_t dec_encode(const char *lit, unsigned prec, unsigned scale, uint8_t *o) {
    static const int dig2bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
    bool neg = *lit == '-';
    if (neg) lit++;
    const char *dot = strchr(lit, '.');
    size_t il = dot ? (size_t)(dot - lit) : strlen(lit);
    while (il > 0 && *lit == '0') lit++, il--; /* leading zeros take no place */
    const char *fr = dot ? dot + 1 : "";
    unsigned intg = prec - scale;
    char idig[80], fdig[40];
    memset(idig, '0', intg);
    memcpy(idig + intg - il, lit, il);
    memset(fdig, '0', scale);
    memcpy(fdig, fr, strlen(fr));
    size_t n = 0;
    unsigned pos = 0;
    unsigned lead = intg % 9;
    if (lead) {
        uint32_t v = 0;
        for (unsigned i = 0; i < lead; i++) v = v * 10 + (uint32_t)(idig[pos++] - '0');
        for (int i = dig2bytes[lead] - 1; i >= 0; i--) o[n++] = (uint8_t)(v >> (8 * i));
    }
    while (pos < intg) {
        uint32_t v = 0;
        for (int i = 0; i < 9; i++) v = v * 10 + (uint32_t)(idig[pos++] - '0');
        for (int i = 3; i >= 0; i--) o[n++] = (uint8_t)(v >> (8 * i));
    }
    pos = 0;
    while (pos + 9 <= scale) {
        uint32_t v = 0;
        for (int i = 0; i < 9; i++) v = v * 10 + (uint32_t)(fdig[pos++] - '0');
        for (int i = 3; i >= 0; i--) o[n++] = (uint8_t)(v >> (8 * i));
    }
    unsigned tail = scale % 9;
    if (tail) {
        uint32_t v = 0;
        for (unsigned i = 0; i < tail; i++) v = v * 10 + (uint32_t)(fdig[pos++] - '0');
        for (int i = dig2bytes[tail] - 1; i >= 0; i--) o[n++] = (uint8_t)(v >> (8 * i));
    }
    if (neg)
        for (size_t i = 0; i < n; i++) o[i] ^= 0xFF;
    o[0] ^= 0x80;
    return n;
}

static void check_decimal(const char *lit, unsigned prec, unsigned scale, const char *want) {
    uint8_t b[40];
    size_t n = dec_encode(lit, prec, scale, b);
    bt_column_t c = col_of(BT_TYPE_NEWDECIMAL, (uint16_t)(prec << 8 | scale));
    char name[120], wj[120];
    snprintf(name, sizeof name, "decimal(%u,%u) %s", prec, scale, lit);
    snprintf(wj, sizeof wj, "\"%s\"", want);
    check_json(name, &c, b, n, wj);
}

static void test_decimal(void) {
    /* MySQL's own documented example (strings/decimal.cc, decimal2bin) */
    bt_column_t c = col_of(BT_TYPE_NEWDECIMAL, 14 << 8 | 4);
    check_json("decimal(14,4) MySQL's example", &c, B("\x81\x0d\xfb\x38\xd2\x04\xd2"), "\"1234567890.1234\"");
    check_json("decimal(14,4) MySQL's negative example", &c, B("\x7e\xf2\x04\xc7\x2d\xfb\x2d"),
               "\"-1234567890.1234\"");
    check_text("decimal text", &c, B("\x7e\xf2\x04\xc7\x2d\xfb\x2d"), "-1234567890.1234");
    is_str(type_of(&c), "decimal(14,4)", "decimal type name");

    check_decimal("99999999999999999999999999999999999.999999999999999999999999999999", 65, 30,
                  "99999999999999999999999999999999999.999999999999999999999999999999");
    check_decimal("-99999999999999999999999999999999999.999999999999999999999999999999", 65, 30,
                  "-99999999999999999999999999999999999.999999999999999999999999999999");
    check_decimal("0", 65, 30, "0.000000000000000000000000000000");
    check_decimal("-0.000000000000000000000000000001", 65, 30, "-0.000000000000000000000000000001");
    check_decimal("1.5", 5, 2, "1.50");
    check_decimal("-0.000001", 10, 6, "-0.000001");
    check_decimal("0", 4, 2, "0.00");
    check_decimal("7", 1, 0, "7");
    check_decimal("-9", 1, 0, "-9");
    check_decimal("0", 1, 0, "0");
    check_decimal("000123.4", 10, 1, "123.4");
    check_decimal("-12.3", 10, 2, "-12.30");
    check_decimal("0.12345", 5, 5, "0.12345");
    check_decimal("-0.99999", 5, 5, "-0.99999");
    check_decimal("123456789", 9, 0, "123456789");
    check_decimal("1234567890", 10, 0, "1234567890");
    check_decimal("-18446744073709551616", 20, 0, "-18446744073709551616");
    check_decimal("12345678.123456789", 17, 9, "12345678.123456789");
    check_decimal("1.0000000001", 20, 10, "1.0000000001");

    c = col_of(BT_TYPE_NEWDECIMAL, 66 << 8);
    check_error("decimal(66,0) metadata", &c, B("\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
                "precision");
    c = col_of(BT_TYPE_NEWDECIMAL, 9 << 8);
    check_error("decimal digit group > 999999999", &c, B("\xbf\xff\xff\xff"), "out of range");
    c = col_of(BT_TYPE_DECIMAL, 0);
    check_error("old DECIMAL", &c, B("1"), "DECIMAL");
}

/* Dates and times ------------------------------------------------------------------------------ */

static size_t datetime2(uint8_t *o, unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s,
                        uint32_t usec, unsigned fsp) {
    uint64_t ymd = ((uint64_t)(y * 13 + mo) << 5) | d;
    uint64_t hms = (uint64_t)h << 12 | mi << 6 | s;
    uint64_t v = (ymd << 17 | hms) + 0x8000000000ull;
    for (int i = 0; i < 5; i++) o[i] = (uint8_t)(v >> (8 * (4 - i)));
    size_t n = 5;
    uint32_t f = fsp <= 2 ? usec / 10000 : fsp <= 4 ? usec / 100 : usec;
    unsigned fb = (fsp + 1) / 2;
    for (unsigned i = 0; i < fb; i++) o[n++] = (uint8_t)(f >> (8 * (fb - 1 - i)));
    return n;
}

/* MySQL's my_time_packed_to_binary(). */
static size_t time2(uint8_t *o, bool neg, unsigned h, unsigned mi, unsigned s, uint32_t usec, unsigned fsp) {
    int64_t hms = (int64_t)h << 12 | mi << 6 | s;
    int64_t packed = (hms << 24) + usec;
    if (neg) packed = -packed;
    size_t n = 3 + (fsp + 1) / 2;
    int64_t v;
    switch (fsp) {
    case 0: v = (packed >> 24) + 0x800000; break; /* fsp 0: fraction must be 0 */
    case 1:
    case 2: {
        int64_t ip = packed / (1 << 24), fr = (packed % (1 << 24)) / 10000; /* C truncation = MySQL's */
        if (fr < 0) {
            ip--;
            fr += 0x100;
        }
        v = ((ip + 0x800000) << 8) | fr;
        break;
    }
    case 3:
    case 4: {
        int64_t ip = packed / (1 << 24), fr = (packed % (1 << 24)) / 100;
        if (fr < 0) {
            ip--;
            fr += 0x10000;
        }
        v = ((ip + 0x800000) << 16) | fr;
        break;
    }
    default: v = packed + 0x800000000000ll; break;
    }
    for (size_t i = 0; i < n; i++) o[i] = (uint8_t)((uint64_t)v >> (8 * (n - 1 - i)));
    return n;
}

static void test_temporal(void) {
    uint8_t b[16];
    bt_column_t c = col_of(BT_TYPE_DATE, 0);
    put_le(b, 2 | 1 << 5 | 2026 << 9, 3);
    check_json("date", &c, b, 3, "\"2026-01-02\"");
    check_text("date text", &c, b, 3, "2026-01-02");
    check_json("zero date", &c, B("\x00\x00\x00"), "\"0000-00-00\"");
    put_le(b, 0 | 0 << 5 | 2026 << 9, 3);
    check_json("partial date", &c, b, 3, "\"2026-00-00\"");
    put_le(b, 31 | 12 << 5 | 9999 << 9, 3);
    check_json("date max", &c, b, 3, "\"9999-12-31\"");
    put_le(b, 1 | 13 << 5 | 2000 << 9, 3);
    check_error("date month 13", &c, b, 3, "impossible");
    is_str(type_of(&c), "date", "date type name");

    /* DATETIME2 */
    for (unsigned fsp = 0; fsp <= 6; fsp++) {
        static const char *want[7] = {"\"2026-01-02 03:04:05\"", "\"2026-01-02 03:04:05.1\"",
                                      "\"2026-01-02 03:04:05.12\"", "\"2026-01-02 03:04:05.123\"",
                                      "\"2026-01-02 03:04:05.1234\"", "\"2026-01-02 03:04:05.12345\"",
                                      "\"2026-01-02 03:04:05.123456\""};
        static const uint32_t usec[7] = {0, 100000, 120000, 123000, 123400, 123450, 123456};
        c = col_of(BT_TYPE_DATETIME2, (uint16_t)fsp);
        size_t n = datetime2(b, 2026, 1, 2, 3, 4, 5, usec[fsp], fsp);
        char name[40];
        snprintf(name, sizeof name, "datetime(%u)", fsp);
        check_json(name, &c, b, n, want[fsp]);
    }
    c = col_of(BT_TYPE_DATETIME2, 6);
    size_t n = datetime2(b, 9999, 12, 31, 23, 59, 59, 999999, 6);
    check_json("datetime(6) max", &c, b, n, "\"9999-12-31 23:59:59.999999\"");
    check_text("datetime(6) max text", &c, b, n, "9999-12-31 23:59:59.999999");
    n = datetime2(b, 0, 0, 0, 0, 0, 0, 0, 6);
    check_json("datetime(6) zero", &c, b, n, "\"0000-00-00 00:00:00.000000\"");
    is_str(type_of(&c), "datetime(6)", "datetime(6) type name");
    c = col_of(BT_TYPE_DATETIME2, 3);
    n = datetime2(b, 1000, 1, 1, 0, 0, 0, 1000, 3);
    check_json("datetime(3) .001", &c, b, n, "\"1000-01-01 00:00:00.001\"");
    c = col_of(BT_TYPE_DATETIME2, 7);
    check_error("datetime fsp 7", &c, B("\x80\x00\x00\x00\x00\x00\x00\x00\x00"), "fractional");
    c = col_of(BT_TYPE_DATETIME2, 0);
    n = datetime2(b, 2026, 1, 2, 24, 0, 0, 0, 0);
    check_error("datetime hour 24", &c, b, n, "impossible");

    /* TIMESTAMP2: 4 bytes big-endian seconds + fraction */
    c = col_of(BT_TYPE_TIMESTAMP2, 0);
    check_json("timestamp", &c, B("\x69\x57\x35\xa5"), "\"2026-01-02T03:04:05Z\"");
    check_text("timestamp text", &c, B("\x69\x57\x35\xa5"), "2026-01-02 03:04:05");
    check_json("zero timestamp", &c, B("\x00\x00\x00\x00"), "\"0000-00-00T00:00:00Z\"");
    check_json("timestamp 1970-01-01 00:00:01", &c, B("\x00\x00\x00\x01"), "\"1970-01-01T00:00:01Z\"");
    check_json("timestamp 2038", &c, B("\x7f\xff\xff\xff"), "\"2038-01-19T03:14:07Z\"");
    check_json("timestamp 2106 (MariaDB 11.5 range)", &c, B("\xff\xff\xff\xff"), "\"2106-02-07T06:28:15Z\"");
    is_str(type_of(&c), "timestamp", "timestamp type name");
    c = col_of(BT_TYPE_TIMESTAMP2, 3);
    check_json("timestamp(3)", &c, B("\x69\x57\x35\xa5\x04\xce"), "\"2026-01-02T03:04:05.123Z\"");
    check_json("zero timestamp(3)", &c, B("\x00\x00\x00\x00\x00\x00"), "\"0000-00-00T00:00:00.000Z\"");
    is_str(type_of(&c), "timestamp(3)", "timestamp(3) type name");
    c = col_of(BT_TYPE_TIMESTAMP2, 6);
    check_json("timestamp(6)", &c, B("\x69\x57\x35\xa5\x0f\x42\x3f"), "\"2026-01-02T03:04:05.999999Z\"");
    check_error("timestamp(6) fraction >= 1s", &c, B("\x69\x57\x35\xa5\x0f\x42\x40"), "impossible");
    c = col_of(BT_TYPE_TIMESTAMP2, 1);
    check_json("timestamp(1)", &c, B("\x69\x57\x35\xa5\x32"), "\"2026-01-02T03:04:05.5Z\"");

    /* TIME2 */
    c = col_of(BT_TYPE_TIME2, 0);
    check_json("time -507:48:27 (MySQL 8.0.40 time_issue binlog)", &c, B("\x60\x43\xe5"), "\"-507:48:27\"");
    n = time2(b, false, 838, 59, 59, 0, 0);
    check_json("time max", &c, b, n, "\"838:59:59\"");
    n = time2(b, true, 838, 59, 59, 0, 0);
    check_json("time min", &c, b, n, "\"-838:59:59\"");
    check_text("time min text", &c, b, n, "-838:59:59");
    n = time2(b, false, 0, 0, 0, 0, 0);
    check_json("time zero", &c, b, n, "\"00:00:00\"");
    n = time2(b, false, 5, 6, 7, 0, 0);
    check_json("time 05:06:07", &c, b, n, "\"05:06:07\"");
    is_str(type_of(&c), "time", "time type name");
    for (unsigned fsp = 1; fsp <= 6; fsp++) {
        static const uint32_t usec[7] = {0, 500000, 10000, 1000, 100, 10, 1};
        static const char *wantneg[7] = {"", "\"-00:00:00.5\"", "\"-00:00:00.01\"", "\"-00:00:00.001\"",
                                         "\"-00:00:00.0001\"", "\"-00:00:00.00001\"", "\"-00:00:00.000001\""};
        static const char *wantneg2[7] = {"", "\"-12:34:56.5\"", "\"-12:34:56.01\"", "\"-12:34:56.001\"",
                                          "\"-12:34:56.0001\"", "\"-12:34:56.00001\"", "\"-12:34:56.000001\""};
        static const char *wantpos[7] = {"", "\"838:59:58.5\"", "\"838:59:58.01\"", "\"838:59:58.001\"",
                                         "\"838:59:58.0001\"", "\"838:59:58.00001\"", "\"838:59:58.000001\""};
        char name[64];
        c = col_of(BT_TYPE_TIME2, (uint16_t)fsp);
        n = time2(b, true, 0, 0, 0, usec[fsp], fsp);
        snprintf(name, sizeof name, "time(%u) negative fraction only", fsp);
        check_json(name, &c, b, n, wantneg[fsp]);
        n = time2(b, true, 12, 34, 56, usec[fsp], fsp);
        snprintf(name, sizeof name, "time(%u) negative", fsp);
        check_json(name, &c, b, n, wantneg2[fsp]);
        n = time2(b, false, 838, 59, 58, usec[fsp], fsp);
        snprintf(name, sizeof name, "time(%u) positive", fsp);
        check_json(name, &c, b, n, wantpos[fsp]);
    }
    c = col_of(BT_TYPE_TIME2, 6);
    n = time2(b, true, 1, 0, 0, 0, 6);
    check_json("time(6) -01:00:00", &c, b, n, "\"-01:00:00.000000\"");
    is_str(type_of(&c), "time(6)", "time(6) type name");

    /* Old formats (MySQL < 5.6 / MariaDB with mysql56_temporal_format=OFF) */
    c = col_of(BT_TYPE_DATETIME, 0);
    put_le(b, 20260102030405ull, 8);
    check_json("old datetime", &c, b, 8, "\"2026-01-02 03:04:05\"");
    put_le(b, 0, 8);
    check_json("old datetime zero", &c, b, 8, "\"0000-00-00 00:00:00\"");
    c = col_of(BT_TYPE_TIME, 0);
    put_le(b, (uint32_t)-8385959 & 0xFFFFFF, 3);
    check_json("old time min", &c, b, 3, "\"-838:59:59\"");
    put_le(b, 123456, 3);
    check_json("old time", &c, b, 3, "\"12:34:56\"");
    c = col_of(BT_TYPE_TIMESTAMP, 0);
    check_json("old timestamp (tiflow MariaDB 10.0, little-endian)", &c, B("\xf3\x65\x82\x62"),
               "\"2022-05-16T14:55:47Z\"");

    /* MariaDB 5.3 hi-res formats: fsp from the schema in meta */
    c = col_of(BT_TYPE_TIMESTAMP, 4);
    check_json("MariaDB timestamp(4) (tiflow binlog)", &c, B("\x62\x82\x66\x25\x00\x00"),
               "\"2022-05-16T14:56:37.0000Z\"");
    c = col_of(BT_TYPE_TIMESTAMP, 1);
    check_json("MariaDB timestamp(1) (tiflow binlog)", &c, B("\x62\x84\x62\xda\x00"), "\"2022-05-18T03:07:06.0Z\"");
    check_json("MariaDB timestamp(1) .7", &c, B("\x62\x84\x62\xda\x07"), "\"2022-05-18T03:07:06.7Z\"");
    c = col_of(BT_TYPE_TIMESTAMP, 6);
    check_json("MariaDB timestamp(6)", &c, B("\x62\x84\x62\xda\x0f\x42\x3f"), "\"2022-05-18T03:07:06.999999Z\"");
    {
        /* DATETIME(n): big-endian packed / 10^(6-n) */
        uint64_t packed = ((((((2026ull * 13 + 1) * 32 + 2) * 24 + 3) * 60 + 4) * 60 + 5) * 1000000 + 123456);
        c = col_of(BT_TYPE_DATETIME, 6);
        for (int i = 0; i < 8; i++) b[i] = (uint8_t)(packed >> (8 * (7 - i)));
        check_json("MariaDB datetime(6)", &c, b, 8, "\"2026-01-02 03:04:05.123456\"");
        c = col_of(BT_TYPE_DATETIME, 3);
        uint64_t p3 = packed / 1000;
        for (int i = 0; i < 7; i++) b[i] = (uint8_t)(p3 >> (8 * (6 - i)));
        check_json("MariaDB datetime(3)", &c, b, 7, "\"2026-01-02 03:04:05.123\"");
        c = col_of(BT_TYPE_DATETIME, 1);
        uint64_t p1 = packed / 100000;
        for (int i = 0; i < 6; i++) b[i] = (uint8_t)(p1 >> (8 * (5 - i)));
        check_json("MariaDB datetime(1)", &c, b, 6, "\"2026-01-02 03:04:05.1\"");
        is_str(type_of(&c), "datetime(1)", "MariaDB datetime(1) type name");
        /* TIME(n): (packed / 10^(6-n)) + zero point of 839 hours */
        int64_t tp = -((((int64_t)12 * 60 + 34) * 60 + 56) * 1000000 + 500000);
        c = col_of(BT_TYPE_TIME, 6);
        uint64_t tv = (uint64_t)(tp + 3020400ll * 1000000);
        for (int i = 0; i < 6; i++) b[i] = (uint8_t)(tv >> (8 * (5 - i)));
        check_json("MariaDB time(6) negative", &c, b, 6, "\"-12:34:56.500000\"");
        c = col_of(BT_TYPE_TIME, 2);
        tv = (uint64_t)(tp / 10000 + 3020400ll * 100);
        for (int i = 0; i < 4; i++) b[i] = (uint8_t)(tv >> (8 * (3 - i)));
        check_json("MariaDB time(2) negative", &c, b, 4, "\"-12:34:56.50\"");
        tv = (uint64_t)(((int64_t)838 * 3600 + 59 * 60 + 59) * 100 + 99 + 3020400ll * 100);
        for (int i = 0; i < 4; i++) b[i] = (uint8_t)(tv >> (8 * (3 - i)));
        check_json("MariaDB time(2) max", &c, b, 4, "\"838:59:59.99\"");
    }
}

/* Text ----------------------------------------------------------------------------------------- */

static void test_strings(void) {
    bt_column_t c = col_of(BT_TYPE_VARCHAR, 40); /* VARCHAR(10) utf8mb4: 1 length byte */
    check_json("varchar utf8mb4", &c, B("\x06h\xc3\xa9llo"), "\"h\xc3\xa9llo\"");
    check_json("varchar empty", &c, B("\x00"), "\"\"");
    check_json("varchar 4-byte UTF-8", &c, B("\x05\xf0\x9f\x98\x80!"), "\"\xf0\x9f\x98\x80!\"");
    check_json("varchar escapes", &c, B("\x04\"\\\n\x01"), "\"\\\"\\\\\\n\\u0001\"");
    is_str(type_of(&c), "varchar(10)", "varchar(10) utf8mb4 type name (characters)");
    {
        /* zero-copy: the value points into the row bytes */
        uint8_t img[] = {3, 'a', 'b', 'c'};
        bt_value_t v;
        size_t used;
        bt_arena_reset(&arena);
        int rc = bt_value_decode(&c, img, sizeof img, &v, &used, &arena, err, sizeof err);
        ok(rc == 0 && v.s == (const char *)img + 1 && v.len == 3 && arena.total == 0,
           "utf8mb4 text is zero-copy and allocates nothing");
    }
    check_json("varchar invalid UTF-8 becomes U+FFFD", &c, B("\x03" "a\xff" "b"), "\"a\xef\xbf\xbd" "b\"");
    check_json("varchar surrogate bytes become U+FFFD", &c, B("\x03\xed\xa0\x80"),
               "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
    c = col_of(BT_TYPE_VARCHAR, 1200); /* VARCHAR(300) utf8mb4: 2 length bytes */
    check_json("varchar 2 length bytes", &c, B("\x03\x00xyz"), "\"xyz\"");
    is_str(type_of(&c), "varchar(300)", "varchar(300) type name");
    {
        /* mysql-enum-string-set.000001: f2 VARCHAR(300), 298 bytes */
        uint8_t img[300];
        img[0] = 0x2a;
        img[1] = 0x01;
        for (int i = 0; i < 298; i++) img[2 + i] = (uint8_t)('0' + i % 10);
        bt_value_t v;
        size_t used;
        int rc = decode_exact(&c, img, sizeof img, &v, &used);
        ok(rc == 0 && used == 300 && v.len == 298 && v.s[297] == '7', "varchar 298 bytes (MySQL 8.0.28 binlog)");
    }

    c = col_of(BT_TYPE_VARCHAR, 20);
    c.collation = 8; /* latin1_swedish_ci: cp1252 */
    check_json("latin1 0x80 is the euro sign", &c, B("\x04\x80 \xe9\x9f"), "\"\xe2\x82\xac \xc3\xa9\xc5\xb8\"");
    check_json("latin1 0x81 maps to U+0081", &c, B("\x01\x81"), "\"\xc2\x81\"");
    check_text("latin1 text", &c, B("\x02\xe0\xff"), "\xc3\xa0\xc3\xbf");
    is_str(type_of(&c), "varchar(20)", "varchar(20) latin1 type name");
    c.collation = 11; /* ascii */
    check_json("ascii", &c, B("\x02ok"), "\"ok\"");
    c.collation = 10; /* swe7 */
    check_json("swe7", &c, B("\x03]{@"), "\"\xc3\x85\xc3\xa4\xc3\x89\"");
    check_json("swe7 has no DEL and no high half", &c, B("\x03\x7f\x80z"), "\"??z\"");
    c.collation = 0; /* unknown: UTF-8 when valid, else latin1 */
    check_json("unknown collation reads UTF-8", &c, B("\x02\xc3\xa9"), "\"\xc3\xa9\"");
    check_json("unknown collation, not UTF-8: latin1", &c, B("\x03" "a\xe9\x80"), "\"a\xc3\xa9\xe2\x82\xac\"");
    check_json("unknown collation, UTF-8 then not", &c, B("\x04\xc3\xa9" "b\xff"), "\"\xc3\x83\xc2\xa9" "b\xc3\xbf\"");

    static const struct {
        uint16_t coll;
        const char *in;
        size_t n;
        const char *utf8;
    } cs[] = {
        {51, "\xcf\xf0\xe8\xe2\xe5\xf2", 6, "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"}, /* cp1251 */
        {7, "\xf0\xd2\xc9\xd7\xc5\xd4", 6, "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"},  /* koi8r */
        {9, "\xaf\xf3\xb3\xe6", 4, "\xc5\xbb\xc3\xb3\xc5\x82\xc4\x87"},                           /* latin2 */
        {25, "\xd9\xec\xdd\xe3\xe1", 5, "\xce\xa9\xce\xbc\xce\xad\xce\xb3\xce\xb1"},              /* greek */
        {28, "\xd6\xd0\xce\xc4", 4, "\xe4\xb8\xad\xe6\x96\x87"},                                   /* gbk */
        {24, "\xd6\xd0\xce\xc4", 4, "\xe4\xb8\xad\xe6\x96\x87"},                                   /* gb2312 */
        {248, "\xd6\xd0\xce\xc4\x94\x39\xfc\x36", 8, "\xe4\xb8\xad\xe6\x96\x87\xf0\x9f\x98\x80"}, /* gb18030 */
        {1, "\xa4\xa4\xa4\xe5", 4, "\xe4\xb8\xad\xe6\x96\x87"},                                    /* big5 */
        {19, "\xc7\xd1\xb1\xb9\xbe\xee", 6, "\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4"},              /* euckr */
        {13, "\x93\xfa\x96\x7b\x8c\xea", 6, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"},              /* sjis */
        {13, "a~\x93\xfa", 4, "a~\xe6\x97\xa5"},                                                   /* sjis ASCII */
        {95, "\x93\xfa\x7e", 3, "\xe6\x97\xa5~"},                                                  /* cp932 */
        {12, "\xc6\xfc\xcb\xdc\xb8\xec", 6, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"},              /* ujis */
        {97, "\xc6\xfc\xcb\xdc", 4, "\xe6\x97\xa5\xe6\x9c\xac"},                                   /* eucjpms */
        {54, "\x00\x41\x00\xf1\xd8\x3d\xde\x00", 8, "\x41\xc3\xb1\xf0\x9f\x98\x80"},              /* utf16 */
        {56, "\x41\x00\xf1\x00\x3d\xd8\x00\xde", 8, "\x41\xc3\xb1\xf0\x9f\x98\x80"},              /* utf16le */
        {35, "\x00\x41\x00\xf1\x20\xac", 6, "\x41\xc3\xb1\xe2\x82\xac"},                           /* ucs2 */
        {60, "\x00\x00\x00\x41\x00\x00\x00\xf1\x00\x01\xf6\x00", 12, "\x41\xc3\xb1\xf0\x9f\x98\x80"}, /* utf32 */
        {57, "\xda\xd1\xc8\xed", 4, "\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a"},                           /* cp1256 */
        {59, "\xc0\xe8\xe6", 3, "\xc4\x84\xc4\x8d\xc4\x99"},                                       /* cp1257 */
        {16, "\xf2\xe1\xf8\xe9\xfa", 5, "\xd7\xa2\xd7\x91\xd7\xa8\xd7\x99\xd7\xaa"},              /* hebrew */
        {30, "\x54\xfc\x72\x6b\xe7\x65\x20\xf0", 8, "\x54\xc3\xbc\x72\x6b\xc3\xa7\x65\x20\xc4\x9f"}, /* latin5 */
        {41, "\xc0\xfe", 2, "\xc4\x84\xc5\xbe"},                                                   /* latin7 */
        {4, "\x80\x82", 2, "\xc3\x87\xc3\xa9"},                                                    /* cp850 */
        {40, "\xac\xa7", 2, "\xc4\x8c\xc5\xbe"},                                                   /* cp852 */
        {36, "\x8f\xe0\xa8\xa2\xa5\xe2", 6, "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"}, /* cp866 */
        {26, "\xa3\xf3\x64\x9f", 4, "\xc5\x81\xc3\xb3\x64\xc5\xba"},                               /* cp1250 */
        {18, "\xe4\xb7\xc2", 3, "\xe0\xb9\x84\xe0\xb8\x97\xe0\xb8\xa2"},                           /* tis620 */
        {22, "\xf5\xcb\xd2\xc1\xa7\xce\xc1", 7, "\xd0\xa3\xd0\xba\xd1\x80\xd0\xb0\xd1\x97\xd0\xbd\xd0\xb0"}, /* koi8u */
        {255, "\xf0\x9f\x98\x80\x78", 5, "\xf0\x9f\x98\x80\x78"},    /* utf8mb4_0900_ai_ci */
        {309, "\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80"},            /* utf8mb4_0900_bin */
        {33, "\xe2\x82\xac", 3, "\xe2\x82\xac"},                     /* utf8mb3 */
        {2304, "\xc3\xa9", 2, "\xc3\xa9"},                           /* MariaDB utf8mb4_uca1400_ai_ci */
        {2048, "\xc3\xa9", 2, "\xc3\xa9"},                           /* MariaDB utf8mb3_uca1400_ai_ci */
        {1032, "\xe9", 1, "\xc3\xa9"},                               /* MariaDB latin1_swedish_nopad_ci */
        {2816, "\x00\xe9", 2, "\xc3\xa9"},                           /* MariaDB utf16_uca1400_ai_ci */
        {54, "\xd8\x3d", 2, "??"},                                   /* utf16: lone high surrogate */
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        c = col_of(BT_TYPE_VARCHAR, 200);
        c.collation = cs[i].coll;
        uint8_t img[64];
        img[0] = (uint8_t)cs[i].n;
        memcpy(img + 1, cs[i].in, cs[i].n);
        char want[128], name[64];
        snprintf(want, sizeof want, "\"%s\"", cs[i].utf8);
        snprintf(name, sizeof name, "charset of collation %u", cs[i].coll);
        check_json(name, &c, img, cs[i].n + 1, want);
    }
    c = col_of(BT_TYPE_VARCHAR, 200);
    c.collation = 37; /* keybcs2: glibc has no converter; the table does */
    check_json("keybcs2", &c, B("\x02\xe9k"), "\"\xce\x98k\"");
    c.collation = 26; /* cp1250: 0x81 is not mapped, the server shows '?' */
    check_json("cp1250 unmapped byte is '?'", &c, B("\x02\x81\x80"), "\"?\xe2\x82\xac\"");
    c.collation = 25; /* greek 0xA1 as MariaDB maps it (glibc says U+2018) */
    check_json("greek 0xA1 as the server has it", &c, B("\x01\xa1"), "\"\xca\xbd\"");
    c.collation = 11; /* ascii: bytes above 0x7F are not ascii */
    check_json("ascii high byte is '?'", &c, B("\x02\xe9" "a"), "\"?a\"");
    c.collation = 13; /* sjis lone lead byte */
    check_json("sjis truncated character is '?'", &c, B("\x02" "a\x93"), "\"a?\"");
    c.collation = 51;
    check_json("cp1251 ASCII-only text", &c, B("\x02ok"), "\"ok\"");
    c.collation = 13;
    check_text("sjis keeps 0x5C a backslash (as MySQL, unlike glibc SJIS)", &c, B("\x03\x93\xfa\\"), "\xe6\x97\xa5\\");

    /* VARBINARY */
    c = col_of(BT_TYPE_VARCHAR, 16);
    c.collation = 63;
    check_json("varbinary is base64", &c, B("\x03\x00\x01\xff"), "\"AAH/\"");
    check_text("varbinary text is the raw bytes", &c, B("\x02ok"), "ok");
    is_str(type_of(&c), "varbinary(16)", "varbinary type name");

    /* CHAR: meta = real_type << 8 | length */
    c = col_of(BT_TYPE_STRING, 0xfe << 8 | 40);
    check_json("char(10) utf8mb4", &c, B("\x02hi"), "\"hi\"");
    is_str(type_of(&c), "char(10)", "char(10) type name");
    c = col_of(BT_TYPE_STRING, 0xde00); /* CHAR(128) utf8mb4 = 512 bytes: MySQL's >255 encoding */
    {
        uint8_t img[102];
        img[0] = 100;
        img[1] = 0;
        for (int i = 0; i < 100; i++) img[2 + i] = (uint8_t)('0' + i % 10);
        bt_value_t v;
        size_t used;
        int rc = decode_exact(&c, img, sizeof img, &v, &used);
        ok(rc == 0 && used == 102 && v.kind == BT_VAL_STRING && v.len == 100,
           "char(128) utf8mb4: 2 length bytes (MySQL 8.0.28 binlog meta de00)");
        ok(prefixes_fail(&c, img, sizeof img), "char(128): every truncation is an error");
    }
    is_str(type_of(&c), "char(128)", "char(128) type name");
    c = col_of(BT_TYPE_STRING, 0xfe << 8 | 4);
    c.collation = 63; /* BINARY(4): the binlog drops trailing zeros, SELECT shows them */
    check_json("binary(4) padded back with zeros", &c, B("\x02" "ab"), "\"YWIAAA==\"");
    check_json("binary(4) full", &c, B("\x04" "abcd"), "\"YWJjZA==\"");
    check_json("binary(4) all zeros", &c, B("\x00"), "\"AAAAAA==\"");
    is_str(type_of(&c), "binary(4)", "binary(4) type name");

    /* BLOB / TEXT: meta = length bytes */
    c = col_of(BT_TYPE_BLOB, 2);
    check_json("text", &c, B("\x03\x00" "foo"), "\"foo\"");
    is_str(type_of(&c), "text", "text type name");
    c.collation = 63;
    check_json("blob", &c, B("\x03\x00" "foo"), "\"Zm9v\"");
    is_str(type_of(&c), "blob", "blob type name");
    c.collation = 0;
    check_json("blob/text of unknown collation is bytes", &c, B("\x02\x00\xff\xfe"), "\"//4=\"");
    c = col_of(BT_TYPE_BLOB, 1);
    c.collation = 63;
    check_json("tinyblob", &c, B("\x01\x00"), "\"AA==\"");
    is_str(type_of(&c), "tinyblob", "tinyblob type name");
    c = col_of(BT_TYPE_BLOB, 3);
    check_json("mediumtext", &c, B("\x01\x00\x00x"), "\"x\"");
    is_str(type_of(&c), "mediumtext", "mediumtext type name");
    c = col_of(BT_TYPE_BLOB, 4);
    check_json("longtext", &c, B("\x02\x00\x00\x00xy"), "\"xy\"");
    is_str(type_of(&c), "longtext", "longtext type name");
    check_error("longtext length beyond the image", &c, B("\xff\xff\xff\xff" "xy"), "BLOB: value needs");
    c = col_of(BT_TYPE_BLOB, 5);
    check_error("blob with 5 length bytes", &c, B("\x00\x00\x00\x00\x00"), "length bytes");
}

static void test_enum_set(void) {
    static const char *labels[] = {"small", "medium", "it's"};
    static const uint32_t lens[] = {5, 6, 4};
    bt_column_t c = col_of(BT_TYPE_ENUM, 0xf7 << 8 | 1);
    c.labels = labels;
    c.label_lens = lens;
    c.nlabels = 3;
    check_json("enum", &c, B("\x02"), "\"medium\"");
    check_json("enum index 0 is ''", &c, B("\x00"), "\"\"");
    check_text("enum text", &c, B("\x01"), "small");
    check_error("enum index past the labels", &c, B("\x04"), "index 4");
    is_str(type_of(&c), "enum('small','medium','it''s')", "enum type name");
    c.labels = NULL;
    c.nlabels = 0;
    check_json("enum without labels is its index", &c, B("\x02"), "2");
    is_str(type_of(&c), "enum", "enum type name without labels");
    c = col_of(BT_TYPE_ENUM, 0xf7 << 8 | 2);
    check_json("enum 2 bytes", &c, B("\x01\x01"), "257");
    c = col_of(BT_TYPE_STRING, 0xf7 << 8 | 1); /* unresolved STRING with ENUM real type */
    c.labels = labels;
    c.label_lens = lens;
    c.nlabels = 3;
    check_json("STRING column with ENUM real type", &c, B("\x03"), "\"it's\"");

    static const char *sl[] = {"one", "two", "three", "four"};
    c = col_of(BT_TYPE_SET, 0xf8 << 8 | 1);
    c.labels = sl;
    c.nlabels = 4;
    check_json("set (MySQL 8.0.28 binlog: one,three)", &c, B("\x05"), "[\"one\",\"three\"]");
    check_json("empty set", &c, B("\x00"), "[]");
    check_text("set text", &c, B("\x0a"), "two,four");
    check_text("empty set text", &c, B("\x00"), "");
    check_error("set bit past the labels", &c, B("\x10"), "SET");
    is_str(type_of(&c), "set('one','two','three','four')", "set type name");
    c.labels = NULL;
    c.nlabels = 0;
    check_json("set without labels is its mask", &c, B("\x05"), "5");
    c = col_of(BT_TYPE_SET, 0xf8 << 8 | 8);
    check_json("set of 64 members", &c, B("\x01\x00\x00\x00\x00\x00\x00\x80"), "9223372036854775809");
}

static void test_json_geometry_vector(void) {
    bt_column_t c = col_of(BT_TYPE_JSON, 4);
    /* json.binlog.000001 (MySQL 8.0.22): {"age": 24, "data": "xxxxxxxxxx", "name": "Joe"} */
    check_json("json object (MySQL 8.0.22 binlog)", &c,
               B("\x34\x00\x00\x00\x00\x03\x00\x33\x00\x19\x00\x03\x00\x1c\x00\x04\x00\x20\x00\x04\x00\x05\x18"
                 "\x00\x0c\x24\x00\x0c\x2f\x00" "agedataname\x0a" "xxxxxxxxxx\x03" "Joe"),
               "{\"age\":24,\"data\":\"xxxxxxxxxx\",\"name\":\"Joe\"}");
    check_json("json empty document is null", &c, B("\x00\x00\x00\x00"), "null");
    check_json("json scalar", &c, B("\x03\x00\x00\x00\x05\xff\xff"), "-1");
    check_error("json bad offset", &c, B("\x0b\x00\x00\x00\x02\x01\x00\x0a\x00\x0c\xff\x00\x01" "a"), "JSON");
    is_str(type_of(&c), "json", "json type name");
    {
        bt_value_t v;
        size_t used;
        decode_exact(&c, "\x03\x00\x00\x00\x05\x07\x00", 7, &v, &used);
        is_str(text_of(&c, &v), "7", "json text form");
    }

    c = col_of(BT_TYPE_GEOMETRY, 4);
    c.collation = 63;
    /* POINT(1 2), SRID 0: the JSON is the WKB without the SRID */
    check_json("geometry point", &c,
               B("\x19\x00\x00\x00\x00\x00\x00\x00\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\xf0\x3f\x00\x00"
                 "\x00\x00\x00\x00\x00\x40"),
               "\"AQEAAAAAAAAAAADwPwAAAAAAAABA\"");
    check_error("geometry shorter than the SRID", &c, B("\x02\x00\x00\x00\x00\x00"), "SRID");
    is_str(type_of(&c), "geometry", "geometry type name");
    c.geometry_type = 1;
    is_str(type_of(&c), "point", "point type name");

    c = col_of(BT_TYPE_VECTOR, 4);
    /* vector.binlog (MySQL 9.0.1): [1.1, 2.2, 3.3] and [1, -1, 0] */
    check_json("vector (MySQL 9.0.1 binlog)", &c,
               B("\x0c\x00\x00\x00\xcd\xcc\x8c\x3f\xcd\xcc\x0c\x40\x33\x33\x53\x40"), "[1.1,2.2,3.3]");
    check_json("vector 2", &c, B("\x0c\x00\x00\x00\x00\x00\x80\x3f\x00\x00\x80\xbf\x00\x00\x00\x00"), "[1,-1,0]");
    check_text("vector text", &c, B("\x08\x00\x00\x00\xcd\xcc\x8c\x3f\x00\x00\x80\xbf"), "[1.1,-1]");
    check_error("vector of 3 bytes", &c, B("\x03\x00\x00\x00\x00\x00\x00"), "float32");
    c.vector_dim = 3;
    is_str(type_of(&c), "vector(3)", "vector type name");
}

static void test_compressed(void) {
    /* MariaDB COMPRESSED columns: header (0x80 | raw-deflate 8 | length bytes), length, data */
    const char *text = "compressed text, compressed text, compressed text!";
    size_t tl = strlen(text);
    uint8_t z[256];
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    deflateInit2(&zs, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    zs.next_in = (Bytef *)(uintptr_t)text;
    zs.avail_in = (uInt)tl;
    zs.next_out = z;
    zs.avail_out = sizeof z;
    deflate(&zs, Z_FINISH);
    size_t zl = zs.total_out;
    deflateEnd(&zs);
    uint8_t img[300];
    img[0] = (uint8_t)(zl + 2);
    img[1] = 0x80 | 8 | 1;
    img[2] = (uint8_t)tl;
    memcpy(img + 3, z, zl);
    bt_column_t c = col_of(141, 200); /* VARCHAR COMPRESSED with a 1-byte length */
    char want[128];
    snprintf(want, sizeof want, "\"%s\"", text);
    check_json("MariaDB compressed varchar (zlib)", &c, img, zl + 3, want);
    check_json("MariaDB compressed varchar stored", &c, B("\x04\x00" "abc"), "\"abc\"");
    check_json("MariaDB compressed varchar empty", &c, B("\x00"), "\"\"");
    img[3] ^= 0x55;
    bt_value_t v;
    size_t used;
    ok(decode_exact(&c, img, zl + 3, &v, &used) == -1, "corrupt compressed data is an error");
    c = col_of(140, 2);
    c.collation = 63;
    check_json("MariaDB compressed blob stored", &c, B("\x03\x00\x00\xff\x01"), "\"/wE=\"");
}

static void test_render_misc(void) {
    bt_column_t c = col_of(BT_TYPE_LONG, 0);
    bt_value_t v = {.kind = BT_VAL_NULL, .present = true};
    is_str(json_of(&c, &v), "null", "NULL renders as null");
    is_str(text_of(&c, &v), "(null)", "NULL has no text");
    v.present = false;
    v.kind = BT_VAL_INT;
    is_str(json_of(&c, &v), "null", "an absent value renders as null when asked");
    bt_column_t n = col_of(BT_TYPE_NULL, 0);
    size_t used = 9;
    ok(bt_value_decode(&n, (const uint8_t *)"", 0, &v, &used, &arena, err, sizeof err) == 0 && used == 0 &&
           v.kind == BT_VAL_NULL,
       "NULL type takes no bytes");
    bt_column_t u = col_of(200, 0);
    check_error("unknown type", &u, B("\x00"), "not supported");

    is_uint(bt_column_meta_len(BT_TYPE_LONG), 0, "meta len int");
    is_uint(bt_column_meta_len(BT_TYPE_DATE), 0, "meta len date");
    is_uint(bt_column_meta_len(BT_TYPE_TIMESTAMP), 0, "meta len old timestamp");
    is_uint(bt_column_meta_len(BT_TYPE_VAR_STRING), 0, "meta len var_string (as MySQL's table_def)");
    is_uint(bt_column_meta_len(BT_TYPE_FLOAT), 1, "meta len float");
    is_uint(bt_column_meta_len(BT_TYPE_BLOB), 1, "meta len blob");
    is_uint(bt_column_meta_len(BT_TYPE_JSON), 1, "meta len json");
    is_uint(bt_column_meta_len(BT_TYPE_GEOMETRY), 1, "meta len geometry");
    is_uint(bt_column_meta_len(BT_TYPE_VECTOR), 1, "meta len vector");
    is_uint(bt_column_meta_len(BT_TYPE_TIME2), 1, "meta len time2");
    is_uint(bt_column_meta_len(BT_TYPE_VARCHAR), 2, "meta len varchar");
    is_uint(bt_column_meta_len(BT_TYPE_STRING), 2, "meta len string");
    is_uint(bt_column_meta_len(BT_TYPE_NEWDECIMAL), 2, "meta len decimal");
    is_uint(bt_column_meta_len(BT_TYPE_BIT), 2, "meta len bit");
    is_uint(bt_column_meta_len(141), 2, "meta len MariaDB compressed varchar");
    is_uint(bt_column_meta_len(140), 1, "meta len MariaDB compressed blob");

    /* errors name the type and say what is short */
    c = col_of(BT_TYPE_LONGLONG, 0);
    check_error("short bigint message", &c, B("\x01\x02"), "BIGINT: value needs 8 bytes, only 2 left");

    /* a value rendered inside an object: the writer's commas still work */
    bt_buf_reset(&out);
    bt_jw_t w;
    bt_jw_init(&w, &out);
    bt_jw_obj_begin(&w);
    bt_value_t a = {.kind = BT_VAL_DATE, .present = true, .t = {.year = 2026, .month = 1, .day = 2}};
    bt_value_t b = {.kind = BT_VAL_UINT, .present = true, .u = 7};
    bt_jw_key(&w, "a");
    bt_value_json(&w, &c, &a);
    bt_jw_key(&w, "b");
    bt_value_json(&w, &c, &b);
    bt_jw_obj_end(&w);
    is_str(out.p, "{\"a\":\"2026-01-02\",\"b\":7}", "values inside an object");
}

/* The decoder keeps no per-thread state it cannot free: converters opened for a multi-byte
 * charset are closed by bt_value_release_thread (which bt_decoder_free calls), and reopen. */
static void test_release_thread(void) {
    bt_column_t c = col_of(BT_TYPE_VARCHAR, 200);
    c.collation = 13; /* sjis: converted through iconv */
    check_json("sjis before the release", &c, B("\x02\x93\xfa"), "\"\xe6\x97\xa5\"");
    ok(bt_value_release_thread() >= 1, "the iconv converter opened for sjis is closed");
    is_int(bt_value_release_thread(), 0, "nothing is left open after the release");
    check_json("sjis after the release (the converter reopens)", &c, B("\x02\x93\xfa"), "\"\xe6\x97\xa5\"");
    bt_decoder_t *dec = bt_decoder_new(NULL);
    bt_decoder_free(dec);
    is_int(bt_value_release_thread(), 0, "bt_decoder_free closed the converters of its thread");
}

int main(void) {
    bt_arena_init(&arena, 0);
    bt_buf_init(&out, 0);
    test_integers();
    test_floats();
    test_year_bit();
    test_decimal();
    test_temporal();
    test_strings();
    test_enum_set();
    test_json_geometry_vector();
    test_compressed();
    test_render_misc();
    test_release_thread();
    bt_buf_free(&out);
    bt_arena_free(&arena);
    free_kept();
    return tap_done();
}
