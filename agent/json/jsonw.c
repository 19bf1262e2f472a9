/* jsonw.c: append-only JSON writer (see jsonw.h). Hot path: every message goes through it. */
#include "agent/json/jsonw.h"

#include "agent/util/utf8.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

void bt_jw_init(bt_jw_t *w, bt_buf_t *b) {
    w->b = b;
    w->depth = 0;
    w->need_comma[0] = false;
    w->after_key = false;
}

/* Called before every value or key: writes the separating comma when one is due. */
static inline void before_item(bt_jw_t *w) {
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->need_comma[w->depth]) bt_buf_putc(w->b, ',');
    w->need_comma[w->depth] = true;
}

static void open_container(bt_jw_t *w, char c) {
    before_item(w);
    bt_buf_putc(w->b, c);
    if (w->depth < BT_JW_MAX_DEPTH) w->depth++;
    else w->b->failed = true;
    w->need_comma[w->depth] = false;
}

static void close_container(bt_jw_t *w, char c) {
    if (w->depth > 0) w->depth--;
    bt_buf_putc(w->b, c);
}

void bt_jw_obj_begin(bt_jw_t *w) { open_container(w, '{'); }
void bt_jw_obj_end(bt_jw_t *w) { close_container(w, '}'); }
void bt_jw_arr_begin(bt_jw_t *w) { open_container(w, '['); }
void bt_jw_arr_end(bt_jw_t *w) { close_container(w, ']'); }

void bt_jw_key(bt_jw_t *w, const char *key) {
    /* One reservation for the comma, the quoted key and the colon. */
    size_t kl = strlen(key);
    char *o = bt_buf_reserve(w->b, kl + 4);
    if (!o) return;
    size_t n = 0;
    if (w->after_key) w->after_key = false;
    else if (w->need_comma[w->depth]) o[n++] = ',';
    w->need_comma[w->depth] = true;
    o[n++] = '"';
    memcpy(o + n, key, kl), n += kl;
    o[n++] = '"';
    o[n++] = ':';
    bt_buf_commit(w->b, n);
    w->after_key = true;
}

void bt_jw_keyn(bt_jw_t *w, const char *key, size_t n) {
    before_item(w);
    bt_buf_putc(w->b, '"');
    bt_json_escape(w->b, key, n);
    bt_buf_append(w->b, "\":", 2);
    w->after_key = true;
}

/* Bytes a JSON string can carry as they are: printable ASCII other than '"' and '\\'. */
static const bool json_plain[256] = {
#define R8(x) x, x, x, x, x, x, x, x
    R8(0), R8(0), R8(0), R8(0),                                       /* 0x00-0x1f: control */
    1, 1, 0, 1, 1, 1, 1, 1, R8(1), R8(1), R8(1), R8(1), R8(1),        /* 0x20-0x4f, '"' */
    R8(1), 1, 1, 1, 1, 0, 1, 1, 1, R8(1), R8(1), R8(1), R8(1),        /* 0x50-0x7f, backslash */
    R8(0), R8(0), R8(0), R8(0), R8(0), R8(0), R8(0), R8(0),           /* 0x80-0xbf: UTF-8 */
    R8(0), R8(0), R8(0), R8(0), R8(0), R8(0), R8(0), R8(0),           /* 0xc0-0xff */
#undef R8
};

/* Whether any of the 8 bytes in w needs attention: >= 0x80, < 0x20, '"' or '\\'. The usual
 * "has a zero byte" bit tricks; false positives cannot happen for bytes below 0x80. */
static inline bool word_special(uint64_t w) {
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');
    uint64_t lt20 = (w - ones * 0x20) & ~w;
    uint64_t is_q = (q - ones) & ~q;
    uint64_t is_bs = (bs - ones) & ~bs;
    return ((w | lt20 | is_q | is_bs) & highs) != 0;
}

void bt_json_escape(bt_buf_t *b, const char *str, size_t n) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, run = 0;
    /* Copy runs of plain bytes in one append; only specials break the run. Text is mostly
     * plain ASCII, so it is checked 8 bytes at a time. */
    while (i < n) {
        if (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (!word_special(w)) {
                i += 8;
                run += 8;
                continue;
            }
        }
        unsigned char c = s[i];
        if (json_plain[c]) {
            i++;
            run++;
            continue;
        }
        if (run) bt_buf_append(b, s + i - run, run);
        run = 0;
        if (c >= 0x80) {
            size_t l = bt_utf8_seq_len(s + i, n - i);
            if (l) bt_buf_append(b, s + i, l), i += l;
            else bt_buf_append(b, "\xEF\xBF\xBD", 3), i++;
            continue;
        }
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        switch (c) {
        case '"': esc[1] = '"'; bt_buf_append(b, esc, 2); break;
        case '\\': esc[1] = '\\'; bt_buf_append(b, esc, 2); break;
        case '\n': esc[1] = 'n'; bt_buf_append(b, esc, 2); break;
        case '\r': esc[1] = 'r'; bt_buf_append(b, esc, 2); break;
        case '\t': esc[1] = 't'; bt_buf_append(b, esc, 2); break;
        case '\b': esc[1] = 'b'; bt_buf_append(b, esc, 2); break;
        case '\f': esc[1] = 'f'; bt_buf_append(b, esc, 2); break;
        default:
            esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
            esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
            bt_buf_append(b, esc, 6);
        }
        i++;
    }
    if (run) bt_buf_append(b, s + i - run, run);
}

void bt_jw_strn(bt_jw_t *w, const char *s, size_t n) {
    before_item(w);
    bt_buf_putc(w->b, '"');
    bt_json_escape(w->b, s, n);
    bt_buf_putc(w->b, '"');
}

void bt_jw_str(bt_jw_t *w, const char *s) { bt_jw_strn(w, s, strlen(s)); }

/* Integer to decimal text without printf: this runs for most fields of most messages. */
static int fmt_u64(char *out, uint64_t v) {
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (int i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    return n;
}

void bt_jw_int(bt_jw_t *w, int64_t v) {
    char buf[24];
    int n = 0;
    uint64_t u = (uint64_t)v;
    if (v < 0) {
        buf[n++] = '-';
        u = 0 - u;
    }
    n += fmt_u64(buf + n, u);
    before_item(w);
    bt_buf_append(w->b, buf, (size_t)n);
}

void bt_jw_uint(bt_jw_t *w, uint64_t v) {
    char buf[24];
    int n = fmt_u64(buf, v);
    before_item(w);
    bt_buf_append(w->b, buf, (size_t)n);
}

void bt_jw_uint_str(bt_jw_t *w, uint64_t v) {
    char buf[26];
    buf[0] = '"';
    int n = 1 + fmt_u64(buf + 1, v);
    buf[n++] = '"';
    before_item(w);
    bt_buf_append(w->b, buf, (size_t)n);
}

/* Lay out the shortest round-trip digits the way JavaScript's Number#toString does (fixed
 * notation for magnitudes from 1e-7 to 1e21, exponent otherwise), so 100 is "100", not
 * "1e+02". `sci` is printf's "%.Ne" text of the value. */
static int layout_number(char *out, const char *sci) {
    char digits[32];
    int k = 0, o = 0;
    const char *p = sci;
    if (*p == '-') out[o++] = *p++;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9') digits[k++] = *p;
    int exp = atoi(p + 1);
    while (k > 1 && digits[k - 1] == '0') k--; /* %e pads with zeros */
    int n = exp + 1;                           /* position of the decimal point */
    if (k <= n && n <= 21) {
        memcpy(out + o, digits, (size_t)k), o += k;
        for (int i = k; i < n; i++) out[o++] = '0';
    } else if (0 < n && n <= 21) {
        memcpy(out + o, digits, (size_t)n), o += n;
        out[o++] = '.';
        memcpy(out + o, digits + n, (size_t)(k - n)), o += k - n;
    } else if (-6 < n && n <= 0) {
        out[o++] = '0', out[o++] = '.';
        for (int i = 0; i < -n; i++) out[o++] = '0';
        memcpy(out + o, digits, (size_t)k), o += k;
    } else {
        out[o++] = digits[0];
        if (k > 1) {
            out[o++] = '.';
            memcpy(out + o, digits + 1, (size_t)(k - 1)), o += k - 1;
        }
        o += snprintf(out + o, 8, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
    }
    out[o] = 0;
    return o;
}

/* The shortest digits come from at most three tries. A decimal of k <= 15 significant digits
 * that reads back as v is recovered exactly by rounding v to 15 digits (v lies within half an
 * ulp of it, far less than half a 15th digit), so "%.14e" with its trailing zeros dropped is
 * already shortest when it reads back; otherwise 16, then 17 digits (17 always do). FLOAT works
 * the same way from 6 digits. Subnormals carry fewer bits, so the argument does not hold for
 * them: they are searched from 1 digit. This runs for every floating-point cell. */
static int shortest(char *buf, double v, int from, int to, bool is_float) {
    char sci[40];
    for (int p = from; p <= to; p++) {
        snprintf(sci, sizeof sci, "%.*e", p - 1, v);
        if (is_float ? strtof(sci, NULL) == (float)v : strtod(sci, NULL) == v) break;
    }
    return layout_number(buf, sci);
}

int bt_fmt_double(char *buf, double v) {
    if (v == 0) return snprintf(buf, 32, "%s", signbit(v) ? "-0" : "0");
    return shortest(buf, v, fabs(v) < DBL_MIN ? 1 : 15, 17, false);
}

int bt_fmt_float(char *buf, float v) {
    if (v == 0) return snprintf(buf, 32, "%s", signbit(v) ? "-0" : "0");
    return shortest(buf, (double)v, fabsf(v) < FLT_MIN ? 1 : 6, 9, true);
}

void bt_jw_double(bt_jw_t *w, double v) {
    if (!isfinite(v)) {
        bt_jw_null(w);
        return;
    }
    char buf[32];
    int n = bt_fmt_double(buf, v);
    before_item(w);
    bt_buf_append(w->b, buf, (size_t)n);
}

void bt_jw_float(bt_jw_t *w, float v) {
    if (!isfinite(v)) {
        bt_jw_null(w);
        return;
    }
    char buf[32];
    int n = bt_fmt_float(buf, v);
    before_item(w);
    bt_buf_append(w->b, buf, (size_t)n);
}

void bt_jw_bool(bt_jw_t *w, bool v) {
    before_item(w);
    if (v) bt_buf_append(w->b, "true", 4);
    else bt_buf_append(w->b, "false", 5);
}

void bt_jw_null(bt_jw_t *w) {
    before_item(w);
    bt_buf_append(w->b, "null", 4);
}

void bt_jw_raw(bt_jw_t *w, const char *json, size_t n) {
    before_item(w);
    bt_buf_append(w->b, json, n);
}

void bt_base64_append(bt_buf_t *b, const void *data, size_t n) {
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *s = data;
    char *out = bt_buf_reserve(b, (n + 2) / 3 * 4);
    if (!out) return;
    char *o = out;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *o++ = tbl[v >> 18];
        *o++ = tbl[(v >> 12) & 63];
        *o++ = tbl[(v >> 6) & 63];
        *o++ = tbl[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0);
        *o++ = tbl[v >> 18];
        *o++ = tbl[(v >> 12) & 63];
        *o++ = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    bt_buf_commit(b, (size_t)(o - out));
}

void bt_jw_base64(bt_jw_t *w, const void *data, size_t n) {
    before_item(w);
    bt_buf_putc(w->b, '"');
    bt_base64_append(w->b, data, n);
    bt_buf_putc(w->b, '"');
}
