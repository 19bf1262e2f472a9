/* value_decode.c: one cell of a row image to a bt_value_t (see value.h for the contract).
 *
 * Hot path: called for every non-NULL cell of every row. Fixed-size types are read in place
 * with no allocation and no printf; text in UTF-8 charsets points into the event bytes. Only
 * DECIMAL text, converted text, MySQL JSON and MariaDB compressed columns use the arena.
 *
 * Cell layouts (little-endian unless noted):
 *   TINY/SHORT/INT24/LONG/LONGLONG  1/2/3/4/8 bytes, two's complement or unsigned
 *   FLOAT / DOUBLE                  IEEE 754, 4 / 8 bytes
 *   YEAR                            1 byte: 0, or the year - 1900
 *   BIT(M)                          ceil(M/8) bytes, big-endian
 *   NEWDECIMAL(P,S)                 packed decimal (decimal.c)
 *   temporal types                  temporal.c
 *   VARCHAR / VAR_STRING            1 length byte (max length < 256) or 2, then the bytes
 *   STRING (CHAR, BINARY)           1 length byte (max length < 256) or 2, then the bytes
 *   ENUM / SET                      1-2 / 1-8 bytes: 1-based index / bit mask
 *   BLOB, TEXT, JSON, GEOMETRY, VECTOR   1-4 length bytes (meta), then the bytes
 *   MariaDB compressed (140, 141)   as BLOB / VARCHAR; the bytes are a header byte (method in
 *                                   the high nibble: 0 stored, 8 zlib; bit 3 raw deflate;
 *                                   bits 0-2 the size of the big-endian original length), the
 *                                   original length, then the data */
#include "agent/binlog/value.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "agent/binlog/value_internal.h"

static _Thread_local bt_buf_t scratch;

bt_buf_t *bt_value_scratch(void) {
    bt_buf_reset(&scratch);
    return &scratch;
}

int bt_value_release_thread(void) {
    bt_buf_free(&scratch);
    return bt_charset_close_converters();
}

void bt_value_scratch_trim(bt_buf_t *b) {
    if (b->cap > ((size_t)1 << 20)) bt_buf_free(b);
    else bt_buf_reset(b);
}

size_t bt_column_meta_len(uint8_t type) {
    switch (type) {
    case BT_TYPE_FLOAT:
    case BT_TYPE_DOUBLE:
    case BT_TYPE_TINY_BLOB:
    case BT_TYPE_MEDIUM_BLOB:
    case BT_TYPE_LONG_BLOB:
    case BT_TYPE_BLOB:
    case BT_TYPE_JSON:
    case BT_TYPE_GEOMETRY:
    case BT_TYPE_VECTOR:
    case BT_TYPE_TIMESTAMP2:
    case BT_TYPE_DATETIME2:
    case BT_TYPE_TIME2:
    case BT_TYPE_MARIA_BLOB_COMPRESSED:
        return 1;
    case BT_TYPE_VARCHAR:
    case BT_TYPE_BIT:
    case BT_TYPE_NEWDECIMAL:
    case BT_TYPE_STRING:
    case BT_TYPE_ENUM:
    case BT_TYPE_SET:
    case BT_TYPE_MARIA_VARCHAR_COMPRESSED:
        return 2;
    default:
        /* integers, YEAR, DATE, the classic TIME/DATETIME/TIMESTAMP, old DECIMAL and
         * VAR_STRING: MySQL's and MariaDB's table_def read no metadata for them */
        return 0;
    }
}

static const char *type_label(uint8_t type) {
    switch (type) {
    case BT_TYPE_TINY: return "TINYINT";
    case BT_TYPE_SHORT: return "SMALLINT";
    case BT_TYPE_INT24: return "MEDIUMINT";
    case BT_TYPE_LONG: return "INT";
    case BT_TYPE_LONGLONG: return "BIGINT";
    case BT_TYPE_FLOAT: return "FLOAT";
    case BT_TYPE_DOUBLE: return "DOUBLE";
    case BT_TYPE_YEAR: return "YEAR";
    case BT_TYPE_BIT: return "BIT";
    case BT_TYPE_NEWDECIMAL: return "DECIMAL";
    case BT_TYPE_VARCHAR: return "VARCHAR";
    case BT_TYPE_VAR_STRING: return "VAR_STRING";
    case BT_TYPE_STRING: return "CHAR";
    case BT_TYPE_ENUM: return "ENUM";
    case BT_TYPE_SET: return "SET";
    case BT_TYPE_TINY_BLOB: return "TINYBLOB";
    case BT_TYPE_MEDIUM_BLOB: return "MEDIUMBLOB";
    case BT_TYPE_LONG_BLOB: return "LONGBLOB";
    case BT_TYPE_BLOB: return "BLOB";
    case BT_TYPE_JSON: return "JSON";
    case BT_TYPE_GEOMETRY: return "GEOMETRY";
    case BT_TYPE_VECTOR: return "VECTOR";
    case BT_TYPE_MARIA_BLOB_COMPRESSED: return "BLOB COMPRESSED";
    case BT_TYPE_MARIA_VARCHAR_COMPRESSED: return "VARCHAR COMPRESSED";
    default: return "column";
    }
}

static int short_read(uint8_t type, size_t need, size_t avail, char *err, size_t errlen) {
    return bt_errf(err, errlen, "%s: value needs %zu bytes, only %zu left in the row image", type_label(type),
                   need, avail);
}

#define NEED(n)                                                                 \
    do {                                                                        \
        if (avail < (size_t)(n)) return short_read(col->type, (n), avail, err, errlen); \
    } while (0)

/* A length prefix of lb bytes (1-4) at p, then that many bytes; sets *data, *n. */
static int length_prefixed(const bt_column_t *col, const uint8_t *p, size_t avail, unsigned lb,
                           const uint8_t **data, size_t *n, size_t *used, char *err, size_t errlen) {
    if (lb < 1 || lb > 4)
        return bt_errf(err, errlen, "%s: %u length bytes in the metadata (1-4)", type_label(col->type), lb);
    NEED(lb);
    size_t len = lb == 1 ? p[0] : lb == 2 ? bt_le16(p) : lb == 3 ? bt_le24(p) : bt_le32(p);
    if (len > avail - lb) return short_read(col->type, lb + len, avail, err, errlen);
    *data = p + lb;
    *n = len;
    *used = lb + len;
    return 0;
}

/* Text or bytes, by the column's collation. pad_to: BINARY(N) length to restore (0: none). */
static int text_value(const bt_column_t *col, const uint8_t *s, size_t n, size_t pad_to, bool blob, bt_value_t *out,
                      bt_arena_t *arena, char *err, size_t errlen) {
    const bt_charset_t *cs = bt_charset_of(col->collation);
    /* Binary collation is bytes. So is a BLOB/TEXT whose collation the binlog does not give
     * (binlog_row_metadata=MINIMAL/NO_LOG): reading bytes as text could lose them. */
    if ((cs && cs->kind == BT_CS_BINARY) || (blob && col->collation == 0)) {
        out->kind = BT_VAL_BINARY;
        if (n > UINT32_MAX) return bt_errf(err, errlen, "%s: %zu bytes is too long", type_label(col->type), n);
        if (pad_to > n) {
            /* The binlog strips BINARY(N)'s trailing zero bytes; SELECT shows them. */
            char *d = bt_arena_alloc(arena, pad_to);
            if (!d) return bt_errf(err, errlen, "%s: out of row memory", type_label(col->type));
            memcpy(d, s, n);
            memset(d + n, 0, pad_to - n);
            out->s = d;
            out->len = (uint32_t)pad_to;
            return 0;
        }
        out->s = (const char *)s;
        out->len = (uint32_t)n;
        return 0;
    }
    out->kind = BT_VAL_STRING;
    if (bt_charset_to_utf8(cs, s, n, arena, &out->s, &out->len, err, errlen) == 0) return 0;
    char inner[200];
    snprintf(inner, sizeof inner, "%s", err ? err : "");
    return bt_errf(err, errlen, "%s: %s", type_label(col->type), inner);
}

static int enum_value(const bt_column_t *col, const uint8_t *p, size_t avail, unsigned pack, bt_value_t *out,
                      size_t *used, char *err, size_t errlen) {
    if (pack < 1 || pack > 2) return bt_errf(err, errlen, "ENUM: pack length %u in the metadata (1-2)", pack);
    NEED(pack);
    uint32_t idx = pack == 1 ? p[0] : bt_le16(p);
    out->kind = BT_VAL_ENUM;
    out->u = idx;
    *used = pack;
    if (!col->labels) return 0; /* labels unknown: the index is all there is */
    if (idx == 0) {
        out->s = ""; /* the '' value MySQL stores for invalid input */
        out->len = 0;
    } else {
        if (idx > col->nlabels)
            return bt_errf(err, errlen, "ENUM: index %u beyond the column's %u values", idx, col->nlabels);
        out->s = col->labels[idx - 1];
        out->len = col->label_lens ? col->label_lens[idx - 1] : (uint32_t)strlen(out->s);
    }
    return 0;
}

static int set_value(const bt_column_t *col, const uint8_t *p, size_t avail, unsigned pack, bt_value_t *out,
                     size_t *used, char *err, size_t errlen) {
    if (pack < 1 || pack > 8) return bt_errf(err, errlen, "SET: pack length %u in the metadata (1-8)", pack);
    NEED(pack);
    uint64_t mask = 0;
    for (unsigned i = 0; i < pack; i++) mask |= (uint64_t)p[i] << (8 * i);
    if (col->labels && col->nlabels < 64 && (mask >> col->nlabels))
        return bt_errf(err, errlen, "SET: bits 0x%llx beyond the column's %u values", (unsigned long long)mask,
                       col->nlabels);
    out->kind = BT_VAL_SET;
    out->u = mask;
    *used = pack;
    return 0;
}

/* The CHAR/BINARY/ENUM/SET forms of a STRING column's meta (real_type, max length). */
static void string_meta(uint16_t meta, unsigned *real, unsigned *len) {
    unsigned b0 = meta >> 8, b1 = meta & 0xFF;
    if (b0 == 0) { /* metadata absent: treat as CHAR of up to 255 bytes */
        *real = BT_TYPE_STRING;
        *len = b1 ? b1 : 255;
    } else if ((b0 & 0x30) != 0x30) { /* CHAR over 255 bytes: MySQL bug #37426's encoding */
        *len = b1 | (((b0 & 0x30) ^ 0x30) << 4);
        *real = b0 | 0x30;
    } else {
        *real = b0;
        *len = b1;
    }
}

/* MariaDB compressed column payload (after its length prefix) to plain bytes. */
static int maria_uncompress(const bt_column_t *col, const uint8_t *d, size_t n, const uint8_t **plain, size_t *plen,
                            bt_arena_t *arena, char *err, size_t errlen) {
    const char *tl = type_label(col->type);
    if (n == 0) {
        *plain = d;
        *plen = 0;
        return 0;
    }
    unsigned method = d[0] >> 4;
    if (method == 0) { /* stored as is after the header byte */
        *plain = d + 1;
        *plen = n - 1;
        return 0;
    }
    if (method != 8) return bt_errf(err, errlen, "%s: unknown compression method %u", tl, method);
    unsigned lenlen = d[0] & 7;
    bool raw = d[0] & 8;
    if (lenlen < 1 || lenlen > 4 || n < 1 + lenlen) return bt_errf(err, errlen, "%s: malformed compression header", tl);
    size_t orig = (size_t)bt_be(d + 1, lenlen);
    uint8_t *o = bt_arena_alloc(arena, orig + 1);
    if (!o) return bt_errf(err, errlen, "%s: out of row memory for %zu uncompressed bytes", tl, orig);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, raw ? -MAX_WBITS : MAX_WBITS) != Z_OK)
        return bt_errf(err, errlen, "%s: zlib initialisation failed", tl);
    zs.next_in = (Bytef *)(uintptr_t)(d + 1 + lenlen);
    zs.avail_in = (uInt)(n - 1 - lenlen);
    zs.next_out = o;
    zs.avail_out = (uInt)orig;
    int rc = inflate(&zs, Z_FINISH);
    size_t got = zs.total_out;
    inflateEnd(&zs);
    if (rc != Z_STREAM_END || got != orig)
        return bt_errf(err, errlen, "%s: corrupt compressed data (zlib %d, %zu of %zu bytes)", tl, rc, got, orig);
    *plain = o;
    *plen = orig;
    return 0;
}

int bt_value_decode(const bt_column_t *col, const uint8_t *p, size_t avail, bt_value_t *out, size_t *used,
                    bt_arena_t *arena, char *err, size_t errlen) {
    *out = (bt_value_t){.present = true};
    uint16_t meta = col->meta;
    switch (col->type) {
    case BT_TYPE_TINY:
        NEED(1);
        if (col->is_unsigned) out->kind = BT_VAL_UINT, out->u = p[0];
        else out->kind = BT_VAL_INT, out->i = (int8_t)p[0];
        *used = 1;
        return 0;
    case BT_TYPE_SHORT:
        NEED(2);
        if (col->is_unsigned)
            out->kind = BT_VAL_UINT, out->u = bt_le16(p);
        else
            out->kind = BT_VAL_INT, out->i = (int16_t)bt_le16(p);
        *used = 2;
        return 0;
    case BT_TYPE_INT24: {
        NEED(3);
        uint32_t v = bt_le24(p);
        if (col->is_unsigned) {
            out->kind = BT_VAL_UINT;
            out->u = v;
        } else {
            out->kind = BT_VAL_INT;
            out->i = (int32_t)(v & 0x800000 ? v | 0xFF000000u : v);
        }
        *used = 3;
        return 0;
    }
    case BT_TYPE_LONG:
        NEED(4);
        if (col->is_unsigned)
            out->kind = BT_VAL_UINT, out->u = bt_le32(p);
        else
            out->kind = BT_VAL_INT, out->i = (int32_t)bt_le32(p);
        *used = 4;
        return 0;
    case BT_TYPE_LONGLONG:
        NEED(8);
        if (col->is_unsigned)
            out->kind = BT_VAL_UINT, out->u = bt_le64(p);
        else
            out->kind = BT_VAL_INT, out->i = (int64_t)bt_le64(p);
        *used = 8;
        return 0;
    case BT_TYPE_FLOAT: {
        NEED(4);
        uint32_t bits = bt_le32(p);
        out->kind = BT_VAL_FLOAT;
        memcpy(&out->f, &bits, 4);
        *used = 4;
        return 0;
    }
    case BT_TYPE_DOUBLE: {
        NEED(8);
        uint64_t bits = bt_le64(p);
        out->kind = BT_VAL_DOUBLE;
        memcpy(&out->d, &bits, 8);
        *used = 8;
        return 0;
    }
    case BT_TYPE_YEAR:
        NEED(1);
        out->kind = BT_VAL_YEAR;
        out->u = p[0] ? 1900u + p[0] : 0;
        *used = 1;
        return 0;
    case BT_TYPE_BIT: {
        unsigned nbits = (meta >> 8) * 8 + (meta & 0xFF), n = (nbits + 7) / 8;
        if (nbits < 1 || nbits > 64) return bt_errf(err, errlen, "BIT: %u bits in the metadata (1-64)", nbits);
        NEED(n);
        out->kind = BT_VAL_BIT;
        out->u = bt_be(p, n);
        *used = n;
        return 0;
    }
    case BT_TYPE_NEWDECIMAL: {
        unsigned prec = meta >> 8, scale = meta & 0xFF;
        size_t n = bt_decimal_bin_size(prec, scale);
        if (!n) return bt_errf(err, errlen, "DECIMAL: impossible precision/scale %u,%u in the metadata", prec, scale);
        NEED(n);
        char text[BT_DECIMAL_MAX_TEXT];
        int tl = bt_decimal_to_text(p, prec, scale, text);
        if (tl < 0) return bt_errf(err, errlen, "DECIMAL(%u,%u): digit group out of range", prec, scale);
        char *d = bt_arena_dup(arena, text, (size_t)tl);
        if (!d) return bt_errf(err, errlen, "DECIMAL: out of row memory");
        out->kind = BT_VAL_DECIMAL;
        out->s = d;
        out->len = (uint32_t)tl;
        *used = n;
        return 0;
    }
    case BT_TYPE_DECIMAL:
        return bt_errf(err, errlen, "DECIMAL: the pre-5.0 DECIMAL format is not supported (the binlog "
                                    "does not carry its length); ALTER the column to a current DECIMAL");
    case BT_TYPE_DATE:
    case BT_TYPE_NEWDATE:
    case BT_TYPE_TIME:
    case BT_TYPE_TIME2:
    case BT_TYPE_DATETIME:
    case BT_TYPE_DATETIME2:
    case BT_TYPE_TIMESTAMP:
    case BT_TYPE_TIMESTAMP2:
        return bt_temporal_decode(col, p, avail, out, used, err, errlen);
    case BT_TYPE_VARCHAR:
    case BT_TYPE_VAR_STRING: {
        const uint8_t *d = NULL;
        size_t n = 0;
        if (length_prefixed(col, p, avail, meta > 255 ? 2 : 1, &d, &n, used, err, errlen)) return -1;
        return text_value(col, d, n, 0, false, out, arena, err, errlen);
    }
    case BT_TYPE_STRING: {
        unsigned real, maxlen;
        string_meta(meta, &real, &maxlen);
        if (real == BT_TYPE_ENUM) return enum_value(col, p, avail, maxlen, out, used, err, errlen);
        if (real == BT_TYPE_SET) return set_value(col, p, avail, maxlen, out, used, err, errlen);
        const uint8_t *d = NULL;
        size_t n = 0;
        if (length_prefixed(col, p, avail, maxlen > 255 ? 2 : 1, &d, &n, used, err, errlen)) return -1;
        return text_value(col, d, n, maxlen, false, out, arena, err, errlen);
    }
    case BT_TYPE_ENUM:
        return enum_value(col, p, avail, meta & 0xFF, out, used, err, errlen);
    case BT_TYPE_SET:
        return set_value(col, p, avail, meta & 0xFF, out, used, err, errlen);
    case BT_TYPE_TINY_BLOB:
    case BT_TYPE_BLOB:
    case BT_TYPE_MEDIUM_BLOB:
    case BT_TYPE_LONG_BLOB: {
        static const uint8_t deflb[4] = {1, 3, 4, 2}; /* 249..252 without metadata */
        unsigned lb = meta ? meta : deflb[col->type - BT_TYPE_TINY_BLOB];
        const uint8_t *d = NULL;
        size_t n = 0;
        if (length_prefixed(col, p, avail, lb, &d, &n, used, err, errlen)) return -1;
        return text_value(col, d, n, 0, true, out, arena, err, errlen);
    }
    case BT_TYPE_JSON: {
        const uint8_t *d = NULL;
        size_t n = 0;
        if (length_prefixed(col, p, avail, meta ? meta : 4, &d, &n, used, err, errlen)) return -1;
        bt_buf_t *b = bt_value_scratch();
        if (bt_json_binary_to_text(d, n, b, err, errlen)) {
            bt_value_scratch_trim(b);
            return -1;
        }
        char *t = b->len <= UINT32_MAX ? bt_arena_dup(arena, b->p, b->len) : NULL;
        size_t tl = b->len;
        bt_value_scratch_trim(b);
        if (!t) return bt_errf(err, errlen, "JSON: out of row memory for %zu bytes of text", tl);
        out->kind = BT_VAL_JSON;
        out->s = t;
        out->len = (uint32_t)tl;
        return 0;
    }
    case BT_TYPE_GEOMETRY:
    case BT_TYPE_VECTOR: {
        const uint8_t *d = NULL;
        size_t n = 0;
        if (length_prefixed(col, p, avail, meta ? meta : 4, &d, &n, used, err, errlen)) return -1;
        if (n > UINT32_MAX) return bt_errf(err, errlen, "%s: %zu bytes is too long", type_label(col->type), n);
        if (col->type == BT_TYPE_GEOMETRY && n > 0 && n < 4)
            return bt_errf(err, errlen, "GEOMETRY: %zu bytes, shorter than its SRID", n);
        if (col->type == BT_TYPE_VECTOR && n % 4)
            return bt_errf(err, errlen, "VECTOR: %zu bytes is not a whole number of float32 values", n);
        out->kind = col->type == BT_TYPE_GEOMETRY ? BT_VAL_GEOMETRY : BT_VAL_VECTOR;
        out->s = (const char *)d;
        out->len = (uint32_t)n;
        return 0;
    }
    case BT_TYPE_MARIA_BLOB_COMPRESSED:
    case BT_TYPE_MARIA_VARCHAR_COMPRESSED: {
        bool blob = col->type == BT_TYPE_MARIA_BLOB_COMPRESSED;
        unsigned lb = blob ? (meta ? meta : 2) : (meta > 255 ? 2 : 1);
        const uint8_t *d = NULL, *plain = NULL;
        size_t n = 0, pn = 0;
        if (length_prefixed(col, p, avail, lb, &d, &n, used, err, errlen)) return -1;
        if (maria_uncompress(col, d, n, &plain, &pn, arena, err, errlen)) return -1;
        return text_value(col, plain, pn, 0, blob, out, arena, err, errlen);
    }
    case BT_TYPE_NULL:
        out->kind = BT_VAL_NULL;
        *used = 0;
        return 0;
    default:
        return bt_errf(err, errlen, "column type %u is not supported", col->type);
    }
}
