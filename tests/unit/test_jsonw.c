/* test_jsonw.c: the JSON writer: commas, escaping, invalid UTF-8, numbers, base64. */
#include <float.h>
#include <inttypes.h>
#include <stdio.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "lib/lib.h"
#include "tests/unit/tap.h"

#define diag(...) (printf("# " __VA_ARGS__), printf("\n"))

/* Byte-at-a-time reference of the escaping rules, to check the writer's block-at-a-time paths. */
static size_t ref_seq_len(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    if (c >= 0xC2 && c <= 0xDF) return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
        if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0)) return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
        if ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] >= 0x90)) return 0;
        return 4;
    }
    return 0;
}

static void ref_escape(bt_buf_t *out, const unsigned char *s, size_t n) {
    bt_buf_putc(out, '"');
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        char tmp[8];
        if (c >= 0x80) {
            size_t l = ref_seq_len(s + i, n - i);
            if (l) bt_buf_append(out, s + i, l), i += l;
            else bt_buf_append(out, "\xef\xbf\xbd", 3), i++;
            continue;
        }
        if (c == '"' || c == '\\') snprintf(tmp, sizeof tmp, "\\%c", c);
        else if (c == '\n') snprintf(tmp, sizeof tmp, "\\n");
        else if (c == '\r') snprintf(tmp, sizeof tmp, "\\r");
        else if (c == '\t') snprintf(tmp, sizeof tmp, "\\t");
        else if (c == '\b') snprintf(tmp, sizeof tmp, "\\b");
        else if (c == '\f') snprintf(tmp, sizeof tmp, "\\f");
        else if (c < 0x20) snprintf(tmp, sizeof tmp, "\\u%04x", c);
        else tmp[0] = (char)c, tmp[1] = 0;
        bt_buf_puts(out, tmp);
        i++;
    }
    bt_buf_putc(out, '"');
}

/* Random text from pieces that stress the block paths: plain runs, quotes, backslashes,
 * control bytes, valid and broken UTF-8, at every offset within a 16-byte block. */
static size_t random_text(unsigned char *s, size_t cap, unsigned *seed) {
    static const char *const pieces[] = {"a", "hello world ", "\"", "\\", "\n", "\x01", "\x1f", "\x7f",
                                         "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xff", "\xc3",
                                         "\xe2\x82", "\xed\xa0\x80", "{\"k\": \"v\"}", "0123456789abcdef"};
    size_t n = 0, target = (size_t)(rand_r(seed) % (unsigned)cap);
    while (n < target) {
        const char *p = pieces[rand_r(seed) % (sizeof pieces / sizeof pieces[0])];
        size_t l = strlen(p);
        if (n + l > cap) break;
        memcpy(s + n, p, l);
        n += l;
    }
    return n;
}

static void check_escaping_against_reference(void) {
    static unsigned char text[50000];
    bt_buf_t got, want;
    bt_buf_init(&got, 0);
    bt_buf_init(&want, 0);
    unsigned seed = 12345;
    int bad = 0, runs = 0;
    for (int r = 0; r < 3000; r++, runs++) {
        size_t n = random_text(text, r < 2990 ? 200 : sizeof text, &seed);
        bt_buf_reset(&got);
        bt_buf_reset(&want);
        bt_jw_t w;
        bt_jw_init(&w, &got);
        bt_jw_strn(&w, (const char *)text, n);
        ref_escape(&want, text, n);
        if (got.len != want.len || memcmp(got.p, want.p, got.len) != 0) {
            if (!bad) diag("first difference at run %d, %zu input bytes", r, n);
            bad++;
        }
    }
    ok(bad == 0, "escaping matches the byte-at-a-time reference on %d random texts (up to 50000 bytes)", runs);

    /* The worst-case reservation never trips the cap: a buffer capped at exactly the output
     * takes it, one byte less fails. */
    size_t n = random_text(text, 3000, &seed);
    bt_buf_reset(&want);
    ref_escape(&want, text, n);
    bt_buf_t capped;
    bt_buf_init(&capped, want.len);
    bt_jw_t w;
    bt_jw_init(&w, &capped);
    bt_jw_strn(&w, (const char *)text, n);
    ok(!capped.failed && capped.len == want.len && memcmp(capped.p, want.p, want.len) == 0,
       "a %zu-byte string fits a buffer capped at exactly its %zu escaped bytes", n, want.len);
    bt_buf_free(&capped);
    bt_buf_init(&capped, want.len - 1);
    bt_jw_init(&w, &capped);
    bt_jw_strn(&w, (const char *)text, n);
    ok(capped.failed, "and fails one byte below");
    bt_buf_free(&capped);
    bt_buf_free(&got);
    bt_buf_free(&want);
}

/* The block-at-a-time copies may store a little past the bytes they keep: they must stay inside
 * the buffer whatever its fill. Under ASan a store past the allocation fails here. Strings of
 * escapes (6 output bytes per input byte, the worst case) after every prefix length from 0 to
 * 600 bytes put the end of the worst case on every byte of a 256- and a 512-byte allocation. */
static void check_escaping_near_allocation_end(void) {
    static const char *const worst[] = {"\x01\x02\x03\x04\x05\x06\x07\x0e\x0f\x10\x11\x12\x13\x14\x15\x16",
                                        "\x01\x02\x03\x04\x05\x06\x07\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\"",
                                        "abcdefghijklmno\""};
    int bad = 0;
    for (size_t k = 0; k < sizeof worst / sizeof worst[0]; k++) {
        for (size_t prefix = 0; prefix <= 600; prefix++) {
            bt_buf_t b, want;
            bt_buf_init(&b, 0);
            bt_buf_init(&want, 0);
            for (size_t i = 0; i < prefix; i++) bt_buf_putc(&b, 'x');
            bt_jw_t w;
            bt_jw_init(&w, &b);
            bt_jw_strn(&w, worst[k], strlen(worst[k]));
            ref_escape(&want, (const unsigned char *)worst[k], strlen(worst[k]));
            if (b.len != prefix + want.len || memcmp(b.p + prefix, want.p, want.len) != 0) bad++;
            bt_buf_free(&b);
            bt_buf_free(&want);
        }
    }
    ok(bad == 0, "escape-heavy strings after every prefix length are written whole, within the buffer");
}

/* The writer reserves exactly what an item takes, so a buffer capped at a message's exact
 * length holds it, and one byte less fails: the cap is never hit by a reservation alone. */
static void check_exact_cap(void) {
    bt_buf_t full;
    bt_buf_init(&full, 0);
    for (int pass = 0; pass < 3; pass++) {
        bt_buf_t capped, *b = &full;
        if (pass) {
            bt_buf_init(&capped, pass == 1 ? full.len : full.len - 1);
            b = &capped;
        }
        bt_jw_t w;
        bt_jw_init(&w, b);
        bt_jw_obj_begin(&w);
        bt_jw_key(&w, "i");
        bt_jw_int(&w, -1234567);
        bt_jw_key(&w, "u");
        bt_jw_uint(&w, 42);
        bt_jw_keyn(&w, "s", 1);
        bt_jw_strn(&w, "q\"x", 3);
        bt_jw_key(&w, "n");
        bt_jw_null(&w);
        bt_jw_key(&w, "b");
        bt_jw_bool(&w, false);
        bt_jw_key(&w, "us");
        bt_jw_uint_str(&w, 7);
        bt_jw_obj_end(&w);
        if (pass == 1) ok(!capped.failed && capped.len == full.len && !memcmp(capped.p, full.p, full.len),
                          "a %zu-byte message fits a buffer capped at exactly %zu bytes", full.len, full.len);
        if (pass == 2) ok(capped.failed, "and fails one byte below");
        if (pass) bt_buf_free(&capped);
    }
    bt_buf_free(&full);
}

static void check_integers(void) {
    bt_buf_t b;
    bt_buf_init(&b, 0);
    int bad = 0;
    uint64_t v = 1;
    for (int d = 0; d < 20; d++, v *= 10) {
        uint64_t cases[] = {v - 1, v, v + 1, v * 9 / 2};
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            char want[32];
            bt_jw_t w;
            bt_buf_reset(&b);
            bt_jw_init(&w, &b);
            bt_jw_uint(&w, cases[i]);
            snprintf(want, sizeof want, "%" PRIu64, cases[i]);
            if (strcmp(b.p, want) != 0) bad++, diag("uint %s written as %s", want, b.p);
            char raw[24];
            raw[bt_fmt_u64(raw, cases[i])] = 0;
            if (strcmp(raw, want) != 0) bad++, diag("bt_fmt_u64 %s gave %s", want, raw);
            bt_buf_reset(&b);
            bt_jw_init(&w, &b);
            bt_jw_int(&w, -(int64_t)(cases[i] >> 1));
            snprintf(want, sizeof want, "%" PRId64, -(int64_t)(cases[i] >> 1));
            if (strcmp(b.p, want) != 0) bad++, diag("int %s written as %s", want, b.p);
        }
    }
    ok(bad == 0, "integers at every power-of-ten boundary match printf");
    bt_buf_free(&b);
}

int main(void) {
    bt_buf_t b;
    bt_buf_init(&b, 0);
    bt_jw_t w;
    bt_jw_init(&w, &b);
    bt_jw_obj_begin(&w);
    bt_jw_key(&w, "a");
    bt_jw_int(&w, INT64_MIN);
    bt_jw_key(&w, "b");
    bt_jw_uint(&w, UINT64_MAX);
    bt_jw_key(&w, "c");
    bt_jw_arr_begin(&w);
    bt_jw_null(&w);
    bt_jw_bool(&w, true);
    bt_jw_arr_begin(&w);
    bt_jw_arr_end(&w);
    bt_jw_obj_begin(&w);
    bt_jw_obj_end(&w);
    bt_jw_str(&w, "x");
    bt_jw_arr_end(&w);
    bt_jw_keyn(&w, "k\"ey", 4);
    bt_jw_raw(&w, "{\"r\":1}", 7);
    bt_jw_obj_end(&w);
    is_str(b.p, "{\"a\":-9223372036854775808,\"b\":18446744073709551615,\"c\":[null,true,[],{},\"x\"],"
                "\"k\\\"ey\":{\"r\":1}}", "nesting and commas");

    bt_buf_reset(&b);
    bt_jw_init(&w, &b);
    bt_jw_strn(&w, "q\"b\\n\n\t\x01\x1f/", 10);
    is_str(b.p, "\"q\\\"b\\\\n\\n\\t\\u0001\\u001f/\"", "escapes");
    bt_buf_reset(&b);
    bt_jw_init(&w, &b);
    bt_jw_strn(&w, "\xe2\x82\xac\xf0\x9f\x98\x80", 7);
    is_str(b.p, "\"\xe2\x82\xac\xf0\x9f\x98\x80\"", "valid multi-byte UTF-8 is kept as is");
    bt_buf_reset(&b);
    bt_jw_init(&w, &b);
    bt_jw_strn(&w, "a\xff" "b\xc0\xaf" "c\xed\xa0\x80", 9);
    is_str(b.p, "\"a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"",
           "invalid bytes, overlong forms and surrogates become U+FFFD");
    bt_buf_reset(&b);
    bt_jw_init(&w, &b);
    bt_jw_strn(&w, "\xe2\x82", 2);
    is_str(b.p, "\"\xef\xbf\xbd\xef\xbf\xbd\"", "a truncated sequence at the end");

    /* every printable ASCII byte but '"' and '\\' passes through unchanged; DEL too */
    char ascii[97];
    size_t na = 0;
    for (int c = 0x20; c <= 0x7f; c++)
        if (c != '"' && c != '\\') ascii[na++] = (char)c;
    ascii[na] = 0;
    bt_buf_reset(&b);
    bt_json_escape(&b, ascii, na);
    is_str(b.p, ascii, "printable ASCII is copied as it is");
    bt_buf_reset(&b);
    bt_json_escape(&b, "\x7f\x1f", 2);
    is_str(b.p, "\x7f\\u001f", "DEL stays, US is escaped");

    struct { double v; const char *want; } dbl[] = {
        {0.1, "0.1"}, {1.0 / 3, "0.3333333333333333"}, {1e23, "1e+23"}, {1e21, "1e+21"}, {1e20, "100000000000000000000"}, {1.5e-7, "1.5e-7"}, {0.000001, "0.000001"}, {-0.0, "-0"},
        {123456789012345678.0, "123456789012345680"}, {5e-324, "5e-324"}, {-2.5, "-2.5"}, {DBL_MAX, "1.7976931348623157e+308"},
        {0.30000000000000004, "0.30000000000000004"}, {100, "100"},
    };
    for (size_t i = 0; i < sizeof dbl / sizeof dbl[0]; i++) {
        char buf[32];
        bt_fmt_double(buf, dbl[i].v);
        ok(strtod(buf, NULL) == dbl[i].v, "double %s reads back exactly", buf);
        is_str(buf, dbl[i].want, "shortest form of double #%zu", i);
    }
    char fb[32];
    bt_fmt_float(fb, 1.1f);
    is_str(fb, "1.1", "float 1.1 in float precision");
    bt_fmt_float(fb, 3.4028235e38f);
    is_str(fb, "3.4028235e+38", "FLT_MAX");
    bt_buf_reset(&b);
    bt_jw_init(&w, &b);
    bt_jw_arr_begin(&w);
    bt_jw_double(&w, NAN);
    bt_jw_double(&w, INFINITY);
    bt_jw_arr_end(&w);
    is_str(b.p, "[null,null]", "NaN and infinity, which JSON cannot express, are null");

    const char *b64[][2] = {{"", "\"\""}, {"f", "\"Zg==\""}, {"fo", "\"Zm8=\""}, {"foo", "\"Zm9v\""},
                            {"foob", "\"Zm9vYg==\""}, {"\xff\xfe\x00", "\"//4A\""}};
    for (size_t i = 0; i < 6; i++) {
        bt_buf_reset(&b);
        bt_jw_init(&w, &b);
        bt_jw_base64(&w, b64[i][0], i == 5 ? 3 : strlen(b64[i][0]));
        is_str(b.p, b64[i][1], "base64 of %zu bytes", i == 5 ? (size_t)3 : strlen(b64[i][0]));
    }

    bt_buf_t small;
    bt_buf_init(&small, 16);
    ok(bt_buf_append(&small, "0123456789", 10), "append under the cap");
    ok(!bt_buf_append(&small, "0123456789", 10) && small.failed, "append over the cap fails and says so");
    bt_buf_free(&small);
    bt_buf_free(&b);
    check_escaping_against_reference();
    check_escaping_near_allocation_end();
    check_exact_cap();
    check_integers();
    return tap_done();
}
