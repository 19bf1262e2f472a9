/* jsonw.c: append-only JSON writer (see jsonw.h). Hot path: every message goes through it. */
#include "lib/lib.h"

#include <float.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
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
    if (w->depth < BT_JW_MAX_DEPTH)
        w->depth++;
    else
        w->b->failed = true;
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

/* Bytes a JSON string can carry as they are: printable ASCII other than '"' and '\\'. */
static const bool json_plain[256] = {
#define R8(x) x, x, x, x, x, x, x, x
    R8(0), R8(0), R8(0), R8(0), /* 0x00-0x1f: control */
    1,     1,     0,     1,     1,     1,     1,     1,
    R8(1), R8(1), R8(1), R8(1), R8(1), /* 0x20-0x4f, '"' */
    R8(1), 1,     1,     1,     1,     0,     1,     1,
    1,     R8(1), R8(1), R8(1), R8(1),                      /* 0x50-0x7f, backslash */
    R8(0), R8(0), R8(0), R8(0), R8(0), R8(0), R8(0), R8(0), /* 0x80-0xbf: UTF-8 */
    R8(0), R8(0), R8(0), R8(0), R8(0), R8(0), R8(0), R8(0), /* 0xc0-0xff */
#undef R8
};

/* The high bit of each of the 8 bytes of w that needs attention: >= 0x80, < 0x20, '"' or '\\'
 * (the usual "has a zero byte" bit tricks). Borrows can flag bytes above a flagged one, so
 * only the lowest flag is exact: with little-endian loads that is the first special byte. */
static inline uint64_t word_special_mask(uint64_t w) {
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');
    uint64_t lt20 = (w - ones * 0x20) & ~w;
    uint64_t is_q = (q - ones) & ~q;
    uint64_t is_bs = (bs - ones) & ~bs;
    return (w | lt20 | is_q | is_bs) & highs;
}

/* 8 bytes with the first in the lowest position, whatever the machine's byte order. */
static inline uint64_t load_le64(const unsigned char *s) {
    uint64_t w;
    memcpy(&w, s, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

/* Bytes before the first special one, given a nonzero word_special_mask of load_le64. */
static inline size_t first_special(uint64_t mask) { return (size_t)__builtin_ctzll(mask) >> 3; }

/* Room for the separating comma, when one is due, and n more bytes: writes the comma and
 * returns where the item goes (NULL when the buffer cap is hit). The item's writer ends with
 * item_done. One reservation per item keeps the per-field cost to a few stores; it is exact
 * (n is what the item will take), so the cap is only ever hit by real output. */
static inline char *item_begin(bt_jw_t *w, size_t n) {
    bool comma = !w->after_key && w->need_comma[w->depth];
    char *o = bt_buf_room(w->b, n + comma);
    if (!o) return NULL;
    if (comma) *o++ = ',';
    w->after_key = false;
    w->need_comma[w->depth] = true;
    return o;
}

static inline void item_done(bt_jw_t *w, const char *end) {
    bt_buf_commit(w->b, (size_t)(end - (w->b->p + w->b->len)));
}

static inline void put_item(bt_jw_t *w, const char *s, size_t n) {
    char *o = item_begin(w, n);
    if (!o) return;
    memcpy(o, s, n);
    item_done(w, o + n);
}

void bt_jw_key_plain(bt_jw_t *w, const char *key, size_t kl) {
    char *o = item_begin(w, kl + 3);
    if (!o) return;
    *o++ = '"';
    memcpy(o, key, kl), o += kl;
    *o++ = '"';
    *o++ = ':';
    item_done(w, o);
    w->after_key = true;
}

/* Escapes one byte that is not plain at s (n bytes left) into o; returns the bytes written and
 * sets *used to the input bytes consumed. o needs room for 6 bytes. */
static inline __attribute__((always_inline)) size_t escape_one(char *o, const unsigned char *s, size_t n,
                                                               size_t *used) {
    static const char hex[] = "0123456789abcdef";
    unsigned char c = s[0];
    *used = 1;
    if (c >= 0x80) {
        size_t l = bt_utf8_seq_len(s, n);
        if (!l) {
            memcpy(o, "\xEF\xBF\xBD", 3); /* U+FFFD for a byte that is not UTF-8 */
            return 3;
        }
        memcpy(o, s, l);
        *used = l;
        return l;
    }
    /* The second byte of the two-byte escapes; 0: \u00XX. A table, not a switch: quotes are
     * common in text (JSON documents in a column are full of them) and a jump table's
     * indirect branch mispredicts on every change of character. */
    static const char esc2[0x80] = {
        ['"'] = '"', ['\\'] = '\\', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't', ['\b'] = 'b', ['\f'] = 'f'};
    o[0] = '\\';
    if (esc2[c]) {
        o[1] = esc2[c];
        return 2;
    }
    o[1] = 'u', o[2] = '0', o[3] = '0';
    o[4] = hex[c >> 4], o[5] = hex[c & 15];
    return 6;
}

#ifdef __SSE2__
/* Bit k set when byte k of v needs attention. Signed compare: bytes >= 0x80 are negative, so
 * "< 0x20" catches them together with the control characters. */
static inline unsigned special_mask16(__m128i v) {
    __m128i q = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
    __m128i bs = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
    __m128i lo = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(q, bs), lo));
}
#endif

/* The block copies below store 16 bytes at a time and keep only the plain ones, so they may
 * write up to this many bytes past the end of the output: reservations include it. */
#define ESCAPE_SLACK 16

/* Escapes s[*pi, end) into o, which has room for 6 bytes per input byte, plus 4 (a UTF-8
 * sequence may run on past end, up to n), plus ESCAPE_SLACK. Plain bytes are checked and copied 16 (or 8) at a
 * time, and a block with a special byte still copies the plain bytes before it in one store.
 * Returns the new end of the output and advances *pi. This is the hot loop of every message. */
static inline char *escape_span(char *o, const unsigned char *s, size_t *pi, size_t end, size_t n) {
    size_t i = *pi;
    while (i < end) {
        size_t k;
#ifdef __SSE2__
        if (i + 16 <= end) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            _mm_storeu_si128((__m128i *)(void *)o, v);
            unsigned m = special_mask16(v);
            if (!m) {
                o += 16, i += 16;
                continue;
            }
            if (!(m & (unsigned)_mm_movemask_epi8(v))) {
                /* Only ASCII specials (quotes, say): all of them from the one load, so the
                 * next load does not wait on each escape. Plain stretches are copied from
                 * a padded copy of the block, which fixed 16-byte copies cannot overrun. */
                unsigned char blk[32];
                _mm_storeu_si128((__m128i *)(void *)blk, v);
                unsigned from = 0;
                while (m) {
                    unsigned at = (unsigned)__builtin_ctz(m);
                    memcpy(o, blk + from, 16);
                    o += at - from;
                    size_t used;
                    o += escape_one(o, blk + at, 1, &used);
                    from = at + 1;
                    m &= m - 1;
                }
                memcpy(o, blk + from, 16);
                o += 16 - from, i += 16;
                continue;
            }
            k = (size_t)__builtin_ctz(m);
            o += k, i += k;
            goto special;
        }
#endif
        if (i + 8 <= end) {
            uint64_t m = word_special_mask(load_le64(s + i));
            memcpy(o, s + i, 8);
            if (!m) {
                o += 8, i += 8;
                continue;
            }
            k = first_special(m);
            o += k, i += k;
            goto special;
        }
        if (json_plain[s[i]]) {
            *o++ = (char)s[i++];
            continue;
        }
    special:;
        size_t used;
        o += escape_one(o, s + i, n - i, &used);
        i += used;
    }
    *pi = i;
    return o;
}

/* Input bytes escaped per reservation. */
#define ESCAPE_CHUNK ((size_t)16384)

/* Whether b can take `need` more bytes without reaching its cap: the worst-case reservation
 * must never be what hits the cap when the real output would fit. */
static inline bool room_below_cap(const bt_buf_t *b, size_t need) {
    size_t max = b->max ? b->max : BT_BUF_DEFAULT_MAX;
    return max > b->len && max - b->len >= need;
}

void bt_json_escape(bt_buf_t *b, const char *str, size_t n) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        size_t chunk = n - i < ESCAPE_CHUNK ? n - i : ESCAPE_CHUNK;
        while (chunk > 0 && !room_below_cap(b, chunk * 6 + 4 + ESCAPE_SLACK)) chunk /= 2;
        if (chunk == 0) { /* at the cap: exact appends, so the cap is hit only by real output */
            char tmp[6];
            size_t used = 1, k = 1;
            if (json_plain[s[i]])
                tmp[0] = (char)s[i];
            else
                k = escape_one(tmp, s + i, n - i, &used);
            if (!bt_buf_append(b, tmp, k)) return;
            i += used;
            continue;
        }
        char *o0 = bt_buf_room(b, chunk * 6 + 4 + ESCAPE_SLACK);
        if (!o0) return;
        char *o = escape_span(o0, s, &i, i + chunk, n);
        bt_buf_commit(b, (size_t)(o - o0));
    }
}

/* A quoted string (with its colon for a key): in one reservation and one pass when the worst
 * case (6 bytes per input byte, 3 for the quotes and colon, 1 for a comma, and the slack) fits
 * below the cap, else through bt_json_escape's chunks, which go byte by byte near it. */
static void put_string(bt_jw_t *w, const char *s, size_t n, bool key) {
    if (n <= ESCAPE_CHUNK && room_below_cap(w->b, n * 6 + 4 + ESCAPE_SLACK)) {
        char *o = item_begin(w, n * 6 + 3 + ESCAPE_SLACK);
        if (!o) return;
        *o++ = '"';
        size_t i = 0;
        o = escape_span(o, (const unsigned char *)s, &i, n, n);
        *o++ = '"';
        if (key) *o++ = ':';
        item_done(w, o);
    } else {
        before_item(w);
        bt_buf_putc(w->b, '"');
        bt_json_escape(w->b, s, n);
        if (key)
            bt_buf_append(w->b, "\":", 2);
        else
            bt_buf_putc(w->b, '"');
    }
    if (key) w->after_key = true;
}

void bt_jw_keyn(bt_jw_t *w, const char *key, size_t n) { put_string(w, key, n, true); }

void bt_jw_strn(bt_jw_t *w, const char *s, size_t n) { put_string(w, s, n, false); }

/* Integers: decimal text without printf, straight into the output (they are in most fields of
 * most messages). Number of decimal digits of v: from the bit length, then one comparison. */
static inline int u64_digits(uint64_t v) {
    static const uint64_t pow10[20] = {1ULL,
                                       10ULL,
                                       100ULL,
                                       1000ULL,
                                       10000ULL,
                                       100000ULL,
                                       1000000ULL,
                                       10000000ULL,
                                       100000000ULL,
                                       1000000000ULL,
                                       10000000000ULL,
                                       100000000000ULL,
                                       1000000000000ULL,
                                       10000000000000ULL,
                                       100000000000000ULL,
                                       1000000000000000ULL,
                                       10000000000000000ULL,
                                       100000000000000000ULL,
                                       1000000000000000000ULL,
                                       10000000000000000000ULL};
    if (v < 10) return 1;
    int bits = 64 - __builtin_clzll(v);
    int d = (bits * 1233) >> 12; /* 1233/4096 ~ log10(2): d is the digit count or one less */
    return d + (v >= pow10[d]);
}

/* Writes the digits of v so that they end just before end, two at a time (one division per
 * pair). Integers are in every message (positions, timestamps, ids): writing them in place
 * saves the copy through a temporary that a general-length memcpy call would cost. */
static inline void u64_digits_before(char *end, uint64_t v) {
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                "8081828384858687888990919293949596979899";
    while (v >= 100) {
        unsigned d = (unsigned)(v % 100) * 2;
        v /= 100;
        end -= 2;
        end[0] = pairs[d], end[1] = pairs[d + 1];
    }
    if (v >= 10) {
        end[-2] = pairs[v * 2], end[-1] = pairs[v * 2 + 1];
    } else {
        end[-1] = (char)('0' + v);
    }
}

int bt_fmt_u64(char *out, uint64_t v) {
    int n = u64_digits(v);
    u64_digits_before(out + n, v);
    return n;
}

void bt_jw_int(bt_jw_t *w, int64_t v) {
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    size_t n = (size_t)u64_digits(u) + (v < 0);
    char *o = item_begin(w, n);
    if (!o) return;
    if (v < 0) *o = '-';
    u64_digits_before(o + n, u);
    item_done(w, o + n);
}

void bt_jw_uint(bt_jw_t *w, uint64_t v) {
    size_t n = (size_t)u64_digits(v);
    char *o = item_begin(w, n);
    if (!o) return;
    u64_digits_before(o + n, v);
    item_done(w, o + n);
}

void bt_jw_uint_str(bt_jw_t *w, uint64_t v) {
    char buf[22];
    buf[0] = '"';
    int n = 1 + bt_fmt_u64(buf + 1, v);
    buf[n++] = '"';
    put_item(w, buf, (size_t)n);
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
    put_item(w, buf, (size_t)n);
}

void bt_jw_float(bt_jw_t *w, float v) {
    if (!isfinite(v)) {
        bt_jw_null(w);
        return;
    }
    char buf[32];
    int n = bt_fmt_float(buf, v);
    put_item(w, buf, (size_t)n);
}

void bt_jw_bool(bt_jw_t *w, bool v) {
    if (v)
        put_item(w, "true", 4);
    else
        put_item(w, "false", 5);
}

void bt_jw_null(bt_jw_t *w) { put_item(w, "null", 4); }

void bt_jw_raw(bt_jw_t *w, const char *json, size_t n) { put_item(w, json, n); }

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
