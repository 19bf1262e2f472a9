/* test_json_binary.c: MySQL binary JSON to text (every node type, opaque values, small and large
 * containers, hostile offsets, depth and expansion limits) and partial JSON updates
 * (bt_json_apply_diff), including the PARTIAL_UPDATE_ROWS diff of rust_mysql_common's
 * json.binlog.000001 (MySQL 8.0.22). Documents go through a JSON column (bt_value_decode) so the
 * column path is what is tested. */
#include <stdlib.h>

#include "agent/binlog/binlog.h"
#include "agent/binlog/value.h"
#include "lib/lib.h"
#include "tests/unit/tap.h"

static bt_arena_t arena;
static char err[512];

/* Decodes a document as a JSON column value (4 length bytes + doc), from an exact heap block. */
static int doc_text(const void *doc, size_t n, const char **text) {
    bt_column_t c;
    memset(&c, 0, sizeof c);
    c.type = BT_TYPE_JSON;
    c.meta = 4;
    uint8_t *img = malloc(n + 4);
    img[0] = (uint8_t)n;
    img[1] = (uint8_t)(n >> 8);
    img[2] = (uint8_t)(n >> 16);
    img[3] = (uint8_t)(n >> 24);
    memcpy(img + 4, doc, n);
    bt_value_t v;
    size_t used = 0;
    err[0] = 0;
    int rc = bt_value_decode(&c, img, n + 4, &v, &used, &arena, err, sizeof err);
    free(img);
    if (rc == 0 && used != n + 4) rc = -2;
    *text = rc == 0 ? v.s : err;
    return rc;
}

static void check_doc(const char *name, const void *doc, size_t n, const char *want) {
    const char *t;
    int rc = doc_text(doc, n, &t);
    if (!ok(rc == 0, "%s: converts", name)) {
        printf("#   %s\n", t);
        return;
    }
    is_str(t, want, "%s", name);
    /* every non-empty proper prefix is malformed (an empty document is null) */
    bool all = true;
    for (size_t k = 1; k < n && all; k++) {
        const char *tt;
        if (doc_text(doc, k, &tt) == 0) {
            printf("#   prefix %zu/%zu converted to '%s'\n", k, n, tt);
            all = false;
        }
    }
    ok(all, "%s: every truncation is an error", name);
}

static void check_bad(const char *name, const void *doc, size_t n, const char *needle) {
    const char *t;
    int rc = doc_text(doc, n, &t);
    ok(rc == -1 && strstr(t, needle), "%s: error mentioning '%s'", name, needle);
    if (rc != -1 || !strstr(t, needle)) printf("#   rc %d: %s\n", rc, t);
}

#define B(s) (s), (sizeof(s) - 1)

static void test_scalars(void) {
    check_doc("null", B("\x04\x00"), "null");
    check_doc("true", B("\x04\x01"), "true");
    check_doc("false", B("\x04\x02"), "false");
    check_bad("bad literal", B("\x04\x03"), "literal");
    check_doc("int16 min", B("\x05\x00\x80"), "-32768");
    check_doc("uint16 max", B("\x06\xff\xff"), "65535");
    check_doc("int32 min", B("\x07\x00\x00\x00\x80"), "-2147483648");
    check_doc("uint32 max", B("\x08\xff\xff\xff\xff"), "4294967295");
    check_doc("int64 min", B("\x09\x00\x00\x00\x00\x00\x00\x00\x80"), "-9223372036854775808");
    check_doc("uint64 max", B("\x0a\xff\xff\xff\xff\xff\xff\xff\xff"), "18446744073709551615");
    check_doc("double 1.5", B("\x0b\x00\x00\x00\x00\x00\x00\xf8\x3f"), "1.5");
    check_doc("double 1.0 keeps its point", B("\x0b\x00\x00\x00\x00\x00\x00\xf0\x3f"), "1.0");
    check_doc("double 0.1", B("\x0b\x9a\x99\x99\x99\x99\x99\xb9\x3f"), "0.1");
    check_doc("double 1e300", B("\x0b\x9c\x75\x00\x88\x3c\xe4\x37\x7e"), "1e300");
    check_doc("double -0.0", B("\x0b\x00\x00\x00\x00\x00\x00\x00\x80"), "-0.0");
    check_bad("double NaN", B("\x0b\x00\x00\x00\x00\x00\x00\xf8\x7f"), "finite");
    check_doc("string", B("\x0c\x03" "abc"), "\"abc\"");
    check_doc("empty string", B("\x0c\x00"), "\"\"");
    check_doc("string escapes", B("\x0c\x05" "\"\\\n\t\x01"), "\"\\\"\\\\\\n\\t\\u0001\"");
    check_doc("string utf8mb4", B("\x0c\x04\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"");
    {
        char doc[3 + 200];
        doc[0] = 0x0c;
        doc[1] = (char)(0x80 | (200 & 0x7f));
        doc[2] = (char)(200 >> 7);
        memset(doc + 3, 'z', 200);
        char want[203];
        want[0] = '"';
        memset(want + 1, 'z', 200);
        want[201] = '"';
        want[202] = 0;
        check_doc("string with a 2-byte length", doc, sizeof doc, want);
    }
    check_bad("string length past the end", B("\x0c\x05" "ab"), "string");
    check_bad("string varlen of 6 bytes", B("\x0c\x80\x80\x80\x80\x80\x01"), "string");
    check_bad("unknown type", B("\x0d\x00"), "unknown value type");
    const char *t;
    ok(doc_text("", 0, &t) == 0 && strcmp(t, "null") == 0, "empty document is null (as MySQL reads it)");
}

static size_t le64(uint8_t *o, int64_t v) {
    for (int i = 0; i < 8; i++) o[i] = (uint8_t)((uint64_t)v >> (8 * i));
    return 8;
}

static int64_t packed_datetime(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s,
                               unsigned usec) {
    int64_t ymd = ((int64_t)(y * 13 + mo) << 5) | d;
    int64_t hms = (int64_t)h << 12 | mi << 6 | s;
    return ((ymd << 17 | hms) << 24) + usec;
}

static void check_opaque(const char *name, uint8_t ftype, const uint8_t *data, size_t n, const char *want) {
    uint8_t doc[512];
    doc[0] = 0x0f;
    doc[1] = ftype;
    size_t k = 2;
    if (n < 128) {
        doc[k++] = (uint8_t)n;
    } else {
        doc[k++] = (uint8_t)(0x80 | (n & 0x7f));
        doc[k++] = (uint8_t)(n >> 7);
    }
    memcpy(doc + k, data, n);
    check_doc(name, doc, k + n, want);
}

static void test_opaque(void) {
    uint8_t d[128];
    /* DECIMAL(3,2) 1.50: precision, scale, packed */
    check_opaque("opaque decimal 1.50", 246, (const uint8_t *)"\x03\x02\x81\x32", 4, "1.50");
    check_opaque("opaque decimal -0.5", 246, (const uint8_t *)"\x02\x01\x7f\xfa", 4, "-0.5");
    check_opaque("opaque decimal(65,30)", 246,
                 (const uint8_t *)"\x41\x1e\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                                  "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
                 32, "0.000000000000000000000000000000");
    {
        const char *t;
        ok(doc_text("\x0f\xf6\x03\x03\x02\x81", 6, &t) == -1 && strstr(t, "DECIMAL"),
           "opaque decimal with a short body is an error");
    }
    le64(d, packed_datetime(2015, 1, 15, 23, 24, 25, 0));
    check_opaque("opaque datetime", 12, d, 8, "\"2015-01-15 23:24:25.000000\"");
    le64(d, packed_datetime(2015, 1, 15, 23, 24, 25, 123456));
    check_opaque("opaque timestamp", 7, d, 8, "\"2015-01-15 23:24:25.123456\"");
    le64(d, packed_datetime(2015, 1, 15, 0, 0, 0, 0));
    check_opaque("opaque date", 10, d, 8, "\"2015-01-15\"");
    le64(d, -(((int64_t)(12 << 12 | 0 << 6 | 0) << 24) + 500000));
    check_opaque("opaque time negative", 11, d, 8, "\"-12:00:00.500000\"");
    le64(d, ((int64_t)(838 << 12 | 59 << 6 | 59) << 24));
    check_opaque("opaque time max", 11, d, 8, "\"838:59:59.000000\"");
    check_opaque("opaque varbinary", 15, (const uint8_t *)"ab", 2, "\"base64:type15:YWI=\"");
    check_opaque("opaque blob", 252, (const uint8_t *)"raw", 3, "\"base64:type252:cmF3\"");
    check_opaque("opaque var_string", 253, (const uint8_t *)"x", 1, "\"base64:type253:eA==\"");
    memset(d, 0, 60);
    check_opaque("opaque blob of 60 bytes: MySQL's line break after 76 characters", 252, d, 60,
                 "\"base64:type252:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                 "\\nAAAA\"");
    check_opaque("opaque bit", 16, (const uint8_t *)"\x55", 1, "\"base64:type16:VQ==\"");
    check_opaque("opaque empty", 252, (const uint8_t *)"", 0, "\"base64:type252:\"");
    le64(d, packed_datetime(2015, 1, 1, 25, 0, 0, 0));
    {
        uint8_t doc[16] = {0x0f, 12, 8};
        memcpy(doc + 3, d, 8);
        check_bad("opaque datetime hour 25", doc, 11, "out of range");
    }
}

static void test_containers(void) {
    /* {"a":[1,"x",null],"b":{}} small format, built by hand:
     * object: count 2, size, key entries (off,len) x2, value entries (type,off) x2, keys, values */
    static const uint8_t obj[] = {
        0x00,                               /* small object */
        0x02, 0x00, 0x2a, 0x00,             /* count 2, size 42 */
        0x12, 0x00, 0x01, 0x00,             /* key "a" at 18 */
        0x13, 0x00, 0x01, 0x00,             /* key "b" at 19 */
        0x02, 0x14, 0x00,                   /* array at 20 */
        0x00, 0x26, 0x00,                   /* object at 38 */
        'a', 'b',                           /* keys at 18, 19 */
        /* array at 20: count 3, size 18: entries int16 1 inline, string at 13, null inline */
        0x03, 0x00, 0x12, 0x00, 0x05, 0x01, 0x00, 0x0c, 0x0d, 0x00, 0x04, 0x00, 0x00, 0x01, 'x',
        0x00, 0x00, 0x00,                   /* padding to size 18 */
        0x00, 0x00, 0x04, 0x00,             /* empty object at 38: count 0, size 4 */
    };
    check_doc("small object with nested array and empty object", obj, sizeof obj,
              "{\"a\":[1,\"x\",null],\"b\":{}}");
    check_doc("empty array", B("\x02\x00\x00\x04\x00"), "[]");
    /* large array: count 3, size 4+4+3*5+..: int32 inline, uint32 inline, string at offset */
    static const uint8_t larr[] = {
        0x03, 0x03, 0x00, 0x00, 0x00, 0x19, 0x00, 0x00, 0x00, /* count 3, size 25 */
        0x07, 0x00, 0x00, 0x00, 0x80,                         /* int32 min inline */
        0x08, 0xff, 0xff, 0xff, 0xff,                         /* uint32 max inline */
        0x0c, 0x17, 0x00, 0x00, 0x00,                         /* string at 23 */
        0x01, 'q',
    };
    check_doc("large array with inline int32/uint32", larr, sizeof larr, "[-2147483648,4294967295,\"q\"]");
    /* large object: one key */
    static const uint8_t lobj[] = {
        0x01, 0x01, 0x00, 0x00, 0x00, 0x16, 0x00, 0x00, 0x00, /* count 1, size 22 */
        0x13, 0x00, 0x00, 0x00, 0x03, 0x00,                   /* key at 19, length 3 */
        0x04, 0x01, 0x00, 0x00, 0x00,                         /* true inline */
        'k', 'e', 'y',
    };
    check_doc("large object", lobj, sizeof lobj, "{\"key\":true}");
    check_doc("object key needing escapes", B("\x00\x01\x00\x0d\x00\x0b\x00\x02\x00\x04\x01\x00" "\"\n"),
              "{\"\\\"\\n\":true}");

    check_bad("size beyond the document", B("\x02\x01\x00\xff\x00\x04\x01\x00"), "size");
    check_bad("count beyond the size", B("\x02\xff\x00\x07\x00\x04\x01\x00"), "header");
    check_bad("value offset into the header", B("\x02\x01\x00\x08\x00\x0c\x02\x00\x00"), "offset");
    check_bad("value offset past the size", B("\x02\x01\x00\x08\x00\x0c\x09\x00\x00"), "offset");
    check_bad("key offset into the header", B("\x00\x01\x00\x0c\x00\x02\x00\x01\x00\x04\x01\x00" "k"), "key");
    check_bad("key past the size", B("\x00\x01\x00\x0b\x00\x0b\x00\x05\x00\x04\x01\x00" "k"), "key");
    check_bad("large header truncated", B("\x03\x01\x00\x00"), "header");

    /* nesting: 200 arrays, each holding the next */
    {
        enum { D = 200 };
        uint8_t doc[1 + D * 7 + 4];
        size_t n;
        doc[0] = 0x02;
        /* built from the inside out: each level is a 4-byte header and one 3-byte entry */
        uint8_t inner[1 + D * 7 + 4];
        size_t len = 4;
        inner[0] = 0x00; inner[1] = 0x00; inner[2] = 0x04; inner[3] = 0x00; /* empty array */
        for (int i = 0; i < D; i++) {
            uint8_t tmp[sizeof inner];
            size_t sz = 4 + 3 + len;
            tmp[0] = 0x01; tmp[1] = 0x00; tmp[2] = (uint8_t)sz; tmp[3] = (uint8_t)(sz >> 8);
            tmp[4] = 0x02; tmp[5] = 0x07; tmp[6] = 0x00;
            memcpy(tmp + 7, inner, len);
            len = sz;
            memcpy(inner, tmp, len);
        }
        memcpy(doc + 1, inner, len);
        n = 1 + len;
        check_bad("nested 201 deep", doc, n, "deep");
    }
    /* exponential expansion: each level's two entries share one child */
    {
        enum { L = 40 };
        uint8_t inner[4 + L * 10];
        size_t len = 4;
        inner[0] = 0x00; inner[1] = 0x00; inner[2] = 0x04; inner[3] = 0x00;
        for (int i = 0; i < L; i++) {
            uint8_t tmp[sizeof inner];
            size_t sz = 4 + 6 + len;
            tmp[0] = 0x02; tmp[1] = 0x00; tmp[2] = (uint8_t)sz; tmp[3] = (uint8_t)(sz >> 8);
            tmp[4] = 0x02; tmp[5] = 10; tmp[6] = 0x00;
            tmp[7] = 0x02; tmp[8] = 10; tmp[9] = 0x00;
            memcpy(tmp + 10, inner, len);
            len = sz;
            memcpy(inner, tmp, len);
        }
        uint8_t doc[sizeof inner + 1];
        doc[0] = 0x02;
        memcpy(doc + 1, inner, len);
        check_bad("shared offsets expanding 2^40 times", doc, len + 1, "larger");
    }
}

/* Partial updates ------------------------------------------------------------------------------ */

static uint8_t vec[4096];
static size_t vlen;

static void diff_start(void) { vlen = 4; }
static void diff_add(int op, const char *path, const void *val, size_t n) {
    vec[vlen++] = (uint8_t)op;
    size_t pl = strlen(path);
    vec[vlen++] = (uint8_t)pl;
    memcpy(vec + vlen, path, pl);
    vlen += pl;
    if (op != 2) {
        vec[vlen++] = (uint8_t)n;
        memcpy(vec + vlen, val, n);
        vlen += n;
    }
}
static void diff_end(void) {
    size_t l = vlen - 4;
    vec[0] = (uint8_t)l;
    vec[1] = (uint8_t)(l >> 8);
    vec[2] = 0;
    vec[3] = 0;
}

static int apply(const char *before, const char **after, size_t *used) {
    bt_value_t b = {.kind = BT_VAL_JSON, .present = true, .s = before, .len = (uint32_t)strlen(before)};
    bt_value_t a;
    uint8_t *p = malloc(vlen);
    memcpy(p, vec, vlen);
    err[0] = 0;
    int rc = bt_json_apply_diff(&b, p, vlen, &a, used, &arena, err, sizeof err);
    free(p);
    *after = rc == 0 ? a.s : err;
    return rc;
}

static void check_apply(const char *name, const char *before, const char *want) {
    const char *after;
    size_t used = 0;
    int rc = apply(before, &after, &used);
    if (!ok(rc == 0 && used == vlen, "%s: applies", name)) {
        printf("#   rc %d: %s\n", rc, after);
        return;
    }
    is_str(after, want, "%s", name);
}

static void check_reject(const char *name, const char *before, const char *needle) {
    const char *after;
    size_t used = 0;
    int rc = apply(before, &after, &used);
    ok(rc == -1 && strstr(after, needle), "%s: error mentioning '%s'", name, needle);
    if (rc != -1 || !strstr(after, needle)) printf("#   rc %d: %s\n", rc, after);
}

static void test_diff(void) {
    /* json.binlog.000001 at 3750 (MySQL 8.0.22): REPLACE $.age with int16 26 */
    static const uint8_t real[] = {0x0b, 0x00, 0x00, 0x00, 0x00, 0x05, '$', '.', 'a', 'g', 'e', 0x03, 0x05, 0x1a, 0x00};
    memcpy(vec, real, sizeof real);
    vlen = sizeof real;
    check_apply("MySQL 8.0.22 partial update of $.age", "{\"age\":24,\"data\":\"xxxxxxxxxx\",\"name\":\"Joe\"}",
                "{\"age\":26,\"data\":\"xxxxxxxxxx\",\"name\":\"Joe\"}");

    diff_start();
    diff_add(1, "$.b", "\x04\x01", 2);
    diff_add(1, "$.zz", "\x0c\x02hi", 4);
    diff_end();
    check_apply("INSERT keeps MySQL's key order", "{\"a\":1,\"ccc\":2}", "{\"a\":1,\"b\":true,\"zz\":\"hi\",\"ccc\":2}");

    diff_start();
    diff_add(1, "$[1]", "\x05\x07\x00", 3);
    diff_add(1, "$[99]", "\x04\x00", 2);
    diff_add(0, "$[last]", "\x04\x02", 2);
    diff_add(2, "$[0]", NULL, 0);
    diff_end();
    check_apply("array INSERT, append past the end, [last], REMOVE", "[1,2,3]", "[7,2,3,false]");

    diff_start();
    diff_add(0, "$.\"a b\"[1].y", "\x0c\x01z", 3);
    diff_add(2, "$.k", NULL, 0);
    diff_add(0, "$[last-1]", "\x04\x00", 2); /* (a leg on an object: rejected below, not here) */
    diff_end();
    check_reject("array leg on an object", "{\"a b\":[0,{\"y\":1}],\"k\":5}", "does not match");

    diff_start();
    diff_add(0, "$.\"a b\"[1].y", "\x0c\x01z", 3);
    diff_add(2, "$.k", NULL, 0);
    diff_add(0, "$.\"a b\"[last-1]", "\x04\x00", 2);
    diff_end();
    check_apply("quoted member, nested path, [last-N], REMOVE member", "{\"k\":5,\"a b\":[0,{\"y\":1}]}",
                "{\"a b\":[null,{\"y\":\"z\"}]}");

    diff_start();
    diff_add(0, "$.\"\\u00e9\"", "\x06\x01\x00", 3);
    diff_end();
    check_apply("escaped member names match", "{\"\xc3\xa9\":0,\"\\n\":1}", "{\"\xc3\xa9\":1,\"\\n\":1}");

    diff_start();
    diff_add(0, "$.d", "\x0f\xf6\x04\x03\x02\x81\x32", 7);
    diff_end();
    check_apply("REPLACE with an opaque DECIMAL", "{\"d\":1}", "{\"d\":1.50}");

    diff_start();
    diff_add(0, "$.nope", "\x04\x00", 2);
    diff_end();
    check_reject("REPLACE of a missing member", "{\"a\":1}", "member not found");
    diff_start();
    diff_add(1, "$.a", "\x04\x00", 2);
    diff_end();
    check_reject("INSERT of an existing member", "{\"a\":1}", "already exists");
    diff_start();
    diff_add(2, "$[5]", NULL, 0);
    diff_end();
    check_reject("REMOVE past the end", "[1]", "out of range");
    diff_start();
    diff_add(0, "$.a.b", "\x04\x00", 2);
    diff_end();
    check_reject("path through a scalar", "{\"a\":1}", "does not match");
    diff_start();
    diff_add(0, "$[*]", "\x04\x00", 2);
    diff_end();
    check_reject("wildcard path", "[1]", "path");
    diff_start();
    diff_add(0, "a", "\x04\x00", 2);
    diff_end();
    check_reject("path without $", "[1]", "'$'");
    diff_start();
    diff_add(0, "$[0]", "\x04\x07", 2);
    diff_end();
    check_reject("bad binary value", "[1]", "literal");
    diff_start();
    vec[vlen++] = 3;
    vec[vlen++] = 1;
    vec[vlen++] = '$';
    diff_end();
    check_reject("unknown operation", "[1]", "operation");
    diff_start();
    diff_add(0, "$[0]", "\x04\x00", 2);
    diff_end();
    vec[0] = 200; /* length past the image */
    check_reject("vector length past the image", "[1]", "bytes of diffs");
    diff_start();
    vec[vlen++] = 0;
    vec[vlen++] = 50; /* path length past the vector */
    vec[vlen++] = '$';
    diff_end();
    check_reject("path length past the vector", "[1]", "path length");
    diff_start();
    diff_add(0, "$[0]", "\x04\x00", 2);
    vlen -= 2;
    vec[vlen - 1] = 9; /* value length past the vector */
    diff_end();
    check_reject("value length past the vector", "[1]", "value length");
    check_reject("bad before document", "[1,", "JSON diff");

    /* every truncation of a valid vector is an error */
    diff_start();
    diff_add(0, "$.a", "\x05\x01\x00", 3);
    diff_add(2, "$.b", NULL, 0);
    diff_end();
    bool all = true;
    bt_value_t b = {.kind = BT_VAL_JSON, .present = true, .s = "{\"a\":0,\"b\":1}", .len = 13};
    for (size_t k = 0; k < vlen; k++) {
        uint8_t *p = malloc(k ? k : 1);
        memcpy(p, vec, k);
        bt_value_t a;
        size_t used;
        if (bt_json_apply_diff(&b, p, k, &a, &used, &arena, err, sizeof err) == 0) all = false;
        free(p);
    }
    ok(all, "every truncated diff vector is an error");

    /* no before value (binlog_row_image=MINIMAL): an error, but the bytes to skip are known */
    bt_value_t absent = {.kind = BT_VAL_NULL, .present = false};
    bt_value_t a;
    size_t used = 0;
    int rc = bt_json_apply_diff(&absent, vec, vlen, &a, &used, &arena, err, sizeof err);
    ok(rc == -1 && strstr(err, "before image") && used == vlen, "missing before value: error, used still set");
    rc = bt_json_apply_diff(NULL, vec, vlen, &a, &used, &arena, err, sizeof err);
    ok(rc == -1 && strstr(err, "before image"), "NULL before value: error");
    bt_value_t sqlnull = {.kind = BT_VAL_NULL, .present = true};
    rc = bt_json_apply_diff(&sqlnull, vec, vlen, &a, &used, &arena, err, sizeof err);
    ok(rc == -1 && strstr(err, "NULL"), "SQL NULL before value: error");
}

int main(void) {
    bt_arena_init(&arena, 0);
    test_scalars();
    test_opaque();
    test_containers();
    test_diff();
    bt_arena_free(&arena);
    return tap_done();
}
