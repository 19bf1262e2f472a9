/* json_binary.c: MySQL's binary JSON (the JSON column's storage and binlog format) to compact
 * JSON text.
 *
 * Layout (MySQL sql/json_binary.h): a document is a type byte and the value.
 *   0x00/0x01 small/large object   0x02/0x03 small/large array    0x04 literal (0 null,
 *   1 true, 2 false)   0x05 int16  0x06 uint16  0x07 int32  0x08 uint32  0x09 int64
 *   0x0A uint64  0x0B double  0x0C utf8mb4 string  0x0F opaque (a MySQL field type + bytes)
 * Little-endian throughout. Objects and arrays ("small" = 2-byte, "large" = 4-byte offsets):
 *   count, size (bytes of the whole container), [object: count key entries (offset, uint16
 *   length)], count value entries (type byte + offset, or the value itself for literals,
 *   int16/uint16, and in the large format int32/uint32), then keys and values. Offsets are
 *   relative to the container's start. Strings and opaque data carry a variable-length size
 *   (7 bits per byte, low bits first, at most 5 bytes).
 * Opaque values print as MySQL prints them: DECIMAL as the number with its scale ("1.50"),
 * DATE/TIME/DATETIME/TIMESTAMP as strings with 6 fraction digits ("2015-01-15 23:24:25.000000",
 * "-12:00:00.000000"; DATE without time), everything else as "base64:typeNN:..." with MySQL's
 * line break every 76 base64 characters.
 *
 * The input is untrusted: every offset and length is checked against its container, nesting is
 * capped (BT_JSON_MAX_DEPTH) and so is the output (values that share offsets could otherwise
 * expand exponentially). */
#include "agent/binlog/value_internal.h"

#include <math.h>
#include <string.h>

#include "lib/lib.h"

enum {
    J_SMALL_OBJ = 0x0, J_LARGE_OBJ = 0x1, J_SMALL_ARR = 0x2, J_LARGE_ARR = 0x3, J_LITERAL = 0x4,
    J_INT16 = 0x5, J_UINT16 = 0x6, J_INT32 = 0x7, J_UINT32 = 0x8, J_INT64 = 0x9, J_UINT64 = 0xA,
    J_DOUBLE = 0xB, J_STRING = 0xC, J_OPAQUE = 0xF,
};

typedef struct jctx {
    bt_buf_t *out;
    size_t limit; /* cap on out->len */
    char *err;
    size_t errlen;
} jctx_t;

static int fail(jctx_t *c, const char *what) { return bt_errf(c->err, c->errlen, "JSON: %s", what); }

static void put_u64(bt_buf_t *b, uint64_t v, bool neg) {
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (neg) tmp[n++] = '-';
    char *o = bt_buf_reserve(b, (size_t)n);
    if (!o) return;
    for (int i = 0; i < n; i++) o[i] = tmp[n - 1 - i];
    bt_buf_commit(b, (size_t)n);
}

static void put_i64(bt_buf_t *b, int64_t v) {
    if (v < 0) put_u64(b, 0 - (uint64_t)v, true);
    else put_u64(b, (uint64_t)v, false);
}

/* Variable-length size: returns bytes used (1-5) or 0 when malformed or truncated. */
static size_t read_varlen(const uint8_t *p, size_t avail, uint32_t *out) {
    uint64_t v = 0;
    for (size_t i = 0; i < 5 && i < avail; i++) {
        v |= (uint64_t)(p[i] & 0x7F) << (7 * i);
        if (!(p[i] & 0x80)) {
            if (v > UINT32_MAX) return 0;
            *out = (uint32_t)v;
            return i + 1;
        }
    }
    return 0;
}

/* MySQL's base64_encode(): standard alphabet, padded, a newline after every 76 characters. */
static void put_mysql_base64(bt_buf_t *tmp, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i += 57) {
        if (i) bt_buf_putc(tmp, '\n');
        bt_base64_append(tmp, p + i, n - i < 57 ? n - i : 57);
    }
}

static void put_double(bt_buf_t *b, double d) {
    char buf[40];
    int n = bt_fmt_double(buf, d);
    /* MySQL prints "1e15", not "1e+15", and keeps doubles recognisable: 1.0, not 1. */
    char fixed[44];
    int m = 0;
    bool frac = false;
    for (int i = 0; i < n; i++) {
        if (buf[i] == '+') continue;
        if (buf[i] == '.' || buf[i] == 'e') frac = true;
        fixed[m++] = buf[i];
    }
    if (!frac) {
        fixed[m++] = '.';
        fixed[m++] = '0';
    }
    bt_buf_append(b, fixed, (size_t)m);
}

static int opaque(jctx_t *c, const uint8_t *data, size_t len) {
    if (len < 1) return fail(c, "truncated opaque value");
    uint8_t ftype = data[0];
    uint32_t n;
    size_t vl = read_varlen(data + 1, len - 1, &n);
    if (!vl || n > len - 1 - vl) return fail(c, "opaque value length out of bounds");
    const uint8_t *v = data + 1 + vl;
    switch (ftype) {
    case BT_TYPE_NEWDECIMAL: {
        if (n < 2) return fail(c, "opaque DECIMAL without precision and scale");
        size_t size = bt_decimal_bin_size(v[0], v[1]);
        if (!size || size != n - 2) return fail(c, "opaque DECIMAL with a bad precision, scale or length");
        char text[BT_DECIMAL_MAX_TEXT];
        int tl = bt_decimal_to_text(v + 2, v[0], v[1], text);
        if (tl < 0) return fail(c, "opaque DECIMAL with a digit group out of range");
        bt_buf_append(c->out, text, (size_t)tl);
        return 0;
    }
    case BT_TYPE_DATE:
    case BT_TYPE_TIME:
    case BT_TYPE_DATETIME:
    case BT_TYPE_TIMESTAMP: {
        if (n < 8) return fail(c, "opaque date/time shorter than 8 bytes");
        int64_t packed = (int64_t)bt_le64(v);
        bt_time_t t;
        bool neg;
        char text[48];
        size_t tl = 0;
        if (ftype == BT_TYPE_TIME) {
            bt_time_from_packed_time(packed, &t, &neg);
            if (t.minute > 59 || t.second > 59 || t.usec > 999999) return fail(c, "opaque TIME out of range");
            tl = bt_fmt_hms(text, neg, t.hour, t.minute, t.second, t.usec, 6);
        } else {
            bt_time_from_packed_datetime(packed, &t, &neg);
            if (neg || t.year > 9999 || t.month > 12 || t.day > 31 || t.hour > 23 || t.minute > 59 ||
                t.second > 59 || t.usec > 999999)
                return fail(c, "opaque DATE/DATETIME/TIMESTAMP out of range");
            tl = bt_fmt_date(text, t.year, t.month, t.day);
            if (ftype != BT_TYPE_DATE) {
                text[tl++] = ' ';
                tl += bt_fmt_hms(text + tl, false, t.hour, t.minute, t.second, t.usec, 6);
            }
        }
        bt_buf_putc(c->out, '"');
        bt_buf_append(c->out, text, tl);
        bt_buf_putc(c->out, '"');
        return 0;
    }
    default: {
        /* "base64:typeNN:<base64>", built aside and then escaped (it holds newlines). */
        bt_buf_t tmp;
        bt_buf_init(&tmp, 0);
        bt_buf_puts(&tmp, "base64:type");
        put_u64(&tmp, ftype, false);
        bt_buf_putc(&tmp, ':');
        put_mysql_base64(&tmp, v, n);
        int rc = 0;
        if (tmp.failed) {
            rc = fail(c, "out of memory for an opaque value");
        } else {
            bt_buf_putc(c->out, '"');
            bt_json_escape(c->out, tmp.p, tmp.len);
            bt_buf_putc(c->out, '"');
        }
        bt_buf_free(&tmp);
        return rc;
    }
    }
}

static int value(jctx_t *c, uint8_t type, const uint8_t *data, size_t len, int depth);

static bool inlined(uint8_t type, bool large) {
    return type == J_LITERAL || type == J_INT16 || type == J_UINT16 ||
           (large && (type == J_INT32 || type == J_UINT32));
}

static int container(jctx_t *c, bool object, bool large, const uint8_t *data, size_t len, int depth) {
    if (depth >= BT_JSON_MAX_DEPTH) return fail(c, "document nested too deeply");
    size_t osz = large ? 4 : 2, kesz = osz + 2, vesz = 1 + osz;
    if (len < 2 * osz) return fail(c, "truncated object/array header");
    size_t count = large ? bt_le32(data) : bt_le16(data);
    size_t size = large ? bt_le32(data + osz) : bt_le16(data + osz);
    if (size > len) return fail(c, "object/array size beyond the document");
    /* count is at most 2^32; the products below fit size_t on 64-bit and are checked anyway */
    size_t header = 2 * osz + count * ((object ? kesz : 0) + vesz);
    if (count > size || header > size) return fail(c, "object/array header beyond its size");
    bt_buf_putc(c->out, object ? '{' : '[');
    for (size_t i = 0; i < count; i++) {
        if (i) bt_buf_putc(c->out, ',');
        if (object) {
            const uint8_t *ke = data + 2 * osz + i * kesz;
            size_t koff = large ? bt_le32(ke) : bt_le16(ke);
            size_t klen = bt_le16(ke + osz);
            if (koff < header || koff > size || klen > size - koff) return fail(c, "object key out of bounds");
            bt_buf_putc(c->out, '"');
            bt_json_escape(c->out, (const char *)data + koff, klen);
            bt_buf_append(c->out, "\":", 2);
        }
        const uint8_t *ve = data + 2 * osz + (object ? count * kesz : 0) + i * vesz;
        uint8_t vt = ve[0];
        if (inlined(vt, large)) {
            if (value(c, vt, ve + 1, vesz - 1, depth + 1)) return -1;
        } else {
            size_t voff = large ? bt_le32(ve + 1) : bt_le16(ve + 1);
            if (voff < header || voff >= size) return fail(c, "value offset out of bounds");
            if (value(c, vt, data + voff, size - voff, depth + 1)) return -1;
        }
        if (c->out->len > c->limit) return fail(c, "text would be far larger than the document (shared offsets?)");
        if (c->out->failed) return fail(c, "out of memory");
    }
    bt_buf_putc(c->out, object ? '}' : ']');
    return 0;
}

static int value(jctx_t *c, uint8_t type, const uint8_t *data, size_t len, int depth) {
    bt_buf_t *b = c->out;
    switch (type) {
    case J_SMALL_OBJ: return container(c, true, false, data, len, depth);
    case J_LARGE_OBJ: return container(c, true, true, data, len, depth);
    case J_SMALL_ARR: return container(c, false, false, data, len, depth);
    case J_LARGE_ARR: return container(c, false, true, data, len, depth);
    case J_LITERAL:
        if (len < 1) return fail(c, "truncated literal");
        switch (data[0]) {
        case 0: bt_buf_append(b, "null", 4); return 0;
        case 1: bt_buf_append(b, "true", 4); return 0;
        case 2: bt_buf_append(b, "false", 5); return 0;
        default: return fail(c, "unknown literal");
        }
    case J_INT16:
        if (len < 2) return fail(c, "truncated int16");
        put_i64(b, (int16_t)bt_le16(data));
        return 0;
    case J_UINT16:
        if (len < 2) return fail(c, "truncated uint16");
        put_u64(b, bt_le16(data), false);
        return 0;
    case J_INT32:
        if (len < 4) return fail(c, "truncated int32");
        put_i64(b, (int32_t)bt_le32(data));
        return 0;
    case J_UINT32:
        if (len < 4) return fail(c, "truncated uint32");
        put_u64(b, bt_le32(data), false);
        return 0;
    case J_INT64:
        if (len < 8) return fail(c, "truncated int64");
        put_i64(b, (int64_t)bt_le64(data));
        return 0;
    case J_UINT64:
        if (len < 8) return fail(c, "truncated uint64");
        put_u64(b, bt_le64(data), false);
        return 0;
    case J_DOUBLE: {
        if (len < 8) return fail(c, "truncated double");
        uint64_t bits = bt_le64(data);
        double d;
        memcpy(&d, &bits, 8);
        if (!isfinite(d)) return fail(c, "double is not a finite number");
        put_double(b, d);
        return 0;
    }
    case J_STRING: {
        uint32_t n;
        size_t vl = read_varlen(data, len, &n);
        if (!vl || n > len - vl) return fail(c, "string length out of bounds");
        bt_buf_putc(b, '"');
        bt_json_escape(b, (const char *)data + vl, n);
        bt_buf_putc(b, '"');
        return 0;
    }
    case J_OPAQUE: return opaque(c, data, len);
    default: return fail(c, "unknown value type");
    }
}

int bt_json_binary_to_text(const uint8_t *doc, size_t len, bt_buf_t *out, char *err, size_t errlen) {
    jctx_t c = {out, 0, err, errlen};
    c.limit = out->len + (len > SIZE_MAX / 32 ? SIZE_MAX / 2 : len * 16 + 4096);
    if (len == 0) { /* MySQL reads an empty document as the null literal */
        bt_buf_append(out, "null", 4);
        return 0;
    }
    if (value(&c, doc[0], doc + 1, len - 1, 0)) return -1;
    if (out->failed) return fail(&c, "out of memory for the text");
    return 0;
}
