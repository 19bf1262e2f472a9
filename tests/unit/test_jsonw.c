/* test_jsonw.c: the JSON writer: commas, escaping, invalid UTF-8, numbers, base64. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "agent/json/jsonw.h"
#include "tests/unit/tap.h"

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
    return tap_done();
}
