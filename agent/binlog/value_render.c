/* value_render.c: decoded cells as typed JSON (README "Values"), as the text SELECT shows, and
 * column type names.
 *
 * Renderers are called for columns present in a row image only: whether an absent column
 * (binlog_row_image=MINIMAL/NOBLOB) is left out or written is the format's decision. Given
 * one anyway (present = false), bt_value_json writes null and bt_value_text returns false.
 *
 * Choices worth knowing:
 *   - TIMESTAMP is UTC: JSON "YYYY-MM-DDTHH:MM:SS[.ffffff]Z", text "YYYY-MM-DD HH:MM:SS[.ffffff]";
 *     the zero timestamp keeps its zeros ("0000-00-00T00:00:00Z").
 *   - Temporal fractions have exactly the column's fsp digits, as SELECT shows them.
 *   - GEOMETRY in JSON is the WKB without MySQL's 4-byte SRID prefix (base64); its text form
 *     is the stored bytes (SRID + WKB), which is what SELECT returns.
 *   - Binary text (bt_value_text) is the raw bytes; formats that need a text encoding (Canal's
 *     ISO-8859-1 strings) convert them.
 *   - ENUM/SET without labels in the binlog (no binlog_row_metadata=FULL) render as their index
 *     and bit mask numbers.
 *   - FLOAT/DOUBLE text is the shortest form that reads back to the same value (SELECT shows
 *     FLOAT rounded to 6 digits; bintail does not lose the rest).
 *   - VECTOR text is "[1.1,2.2]" (as VECTOR_TO_STRING, shortest forms). */
#include <string.h>

#include "agent/binlog/binlog.h"
#include "agent/binlog/value_internal.h"
#include "lib/lib.h"

/* "YYYY-MM-DD HH:MM:SS[.ffffff]" (sep ' ') or with 'T' and a trailing 'Z' for TIMESTAMP in
 * JSON; returns the length. Buffer of 48 bytes. */
static size_t fmt_temporal(char *o, const bt_value_t *v, bool iso) {
    size_t n = 0;
    switch (v->kind) {
    case BT_VAL_DATE:
        return bt_fmt_date(o, v->t.year, v->t.month, v->t.day);
    case BT_VAL_TIME:
        return bt_fmt_hms(o, v->neg, v->t.hour, v->t.minute, v->t.second, v->t.usec, v->fsp);
    case BT_VAL_DATETIME:
        n = bt_fmt_date(o, v->t.year, v->t.month, v->t.day);
        o[n++] = ' ';
        n += bt_fmt_hms(o + n, false, v->t.hour, v->t.minute, v->t.second, v->t.usec, v->fsp);
        return n;
    case BT_VAL_TIMESTAMP: {
        bt_time_t t = {0};
        if (v->i != 0 || v->t.usec != 0) bt_civil_from_unix(v->i, &t);
        n = bt_fmt_date(o, t.year, t.month, t.day);
        o[n++] = iso ? 'T' : ' ';
        n += bt_fmt_hms(o + n, false, t.hour, t.minute, t.second, v->t.usec, v->fsp);
        if (iso) o[n++] = 'Z';
        return n;
    }
    default:
        return 0;
    }
}

/* Bit i of a SET, in label order. */
static void set_labels_json(bt_jw_t *w, const bt_column_t *col, uint64_t mask) {
    bt_jw_arr_begin(w);
    for (uint32_t i = 0; i < col->nlabels && i < 64; i++) {
        if (!(mask >> i & 1)) continue;
        bt_jw_strn(w, col->labels[i], col->label_lens ? col->label_lens[i] : strlen(col->labels[i]));
    }
    bt_jw_arr_end(w);
}

static float vector_elem(const char *s, uint32_t i) {
    const uint8_t *p = (const uint8_t *)s + 4 * (size_t)i;
    uint32_t bits = bt_le32(p);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

void bt_value_json(struct bt_jw *w, const bt_column_t *col, const bt_value_t *v) {
    char buf[64];
    size_t n;
    if (!v || !v->present) {
        bt_jw_null(w);
        return;
    }
    switch ((bt_vkind_t)v->kind) {
    case BT_VAL_NULL: bt_jw_null(w); return;
    case BT_VAL_INT: bt_jw_int(w, v->i); return;
    case BT_VAL_UINT:
    case BT_VAL_YEAR:
    case BT_VAL_BIT: bt_jw_uint(w, v->u); return;
    case BT_VAL_FLOAT: bt_jw_float(w, v->f); return;
    case BT_VAL_DOUBLE: bt_jw_double(w, v->d); return;
    case BT_VAL_DECIMAL:
    case BT_VAL_STRING: bt_jw_strn(w, v->s, v->len); return;
    case BT_VAL_BINARY: bt_jw_base64(w, v->s, v->len); return;
    case BT_VAL_DATE:
    case BT_VAL_DATETIME:
    case BT_VAL_TIME:
    case BT_VAL_TIMESTAMP:
        /* Plain ASCII: written with its quotes as a raw value, skipping the escaper. */
        buf[0] = '"';
        n = 1 + fmt_temporal(buf + 1, v, true);
        buf[n++] = '"';
        bt_jw_raw(w, buf, n);
        return;
    case BT_VAL_ENUM:
        if (v->s) bt_jw_strn(w, v->s, v->len);
        else bt_jw_uint(w, v->u);
        return;
    case BT_VAL_SET:
        if (col && col->labels) set_labels_json(w, col, v->u);
        else bt_jw_uint(w, v->u);
        return;
    case BT_VAL_JSON:
        if (v->len) bt_jw_raw(w, v->s, v->len);
        else bt_jw_null(w);
        return;
    case BT_VAL_GEOMETRY:
        if (v->len >= 4) bt_jw_base64(w, v->s + 4, v->len - 4);
        else bt_jw_base64(w, v->s, 0);
        return;
    case BT_VAL_VECTOR:
        bt_jw_arr_begin(w);
        for (uint32_t i = 0; i < v->len / 4; i++) bt_jw_float(w, vector_elem(v->s, i));
        bt_jw_arr_end(w);
        return;
    }
    bt_jw_null(w);
}

static void put_uint(bt_buf_t *out, uint64_t u) {
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    char *o = bt_buf_reserve(out, (size_t)n);
    if (!o) return;
    for (int i = 0; i < n; i++) o[i] = tmp[n - 1 - i];
    bt_buf_commit(out, (size_t)n);
}

bool bt_value_text(bt_buf_t *out, const bt_column_t *col, const bt_value_t *v) {
    char buf[64];
    int n;
    if (!v || !v->present || v->kind == BT_VAL_NULL) return false;
    switch ((bt_vkind_t)v->kind) {
    case BT_VAL_NULL: return false;
    case BT_VAL_INT:
        if (v->i < 0) {
            bt_buf_putc(out, '-');
            put_uint(out, 0 - (uint64_t)v->i);
        } else {
            put_uint(out, (uint64_t)v->i);
        }
        return true;
    case BT_VAL_UINT:
    case BT_VAL_BIT: put_uint(out, v->u); return true;
    case BT_VAL_YEAR:
        buf[0] = (char)('0' + v->u / 1000 % 10);
        buf[1] = (char)('0' + v->u / 100 % 10);
        buf[2] = (char)('0' + v->u / 10 % 10);
        buf[3] = (char)('0' + v->u % 10);
        bt_buf_append(out, buf, 4);
        return true;
    case BT_VAL_FLOAT:
        n = bt_fmt_float(buf, v->f);
        bt_buf_append(out, buf, (size_t)n);
        return true;
    case BT_VAL_DOUBLE:
        n = bt_fmt_double(buf, v->d);
        bt_buf_append(out, buf, (size_t)n);
        return true;
    case BT_VAL_DECIMAL:
    case BT_VAL_STRING:
    case BT_VAL_BINARY:
    case BT_VAL_JSON:
    case BT_VAL_GEOMETRY: bt_buf_append(out, v->s, v->len); return true;
    case BT_VAL_DATE:
    case BT_VAL_DATETIME:
    case BT_VAL_TIME:
    case BT_VAL_TIMESTAMP: bt_buf_append(out, buf, fmt_temporal(buf, v, false)); return true;
    case BT_VAL_ENUM:
        if (v->s) bt_buf_append(out, v->s, v->len);
        else put_uint(out, v->u);
        return true;
    case BT_VAL_SET:
        if (col && col->labels) {
            bool first = true;
            for (uint32_t i = 0; i < col->nlabels && i < 64; i++) {
                if (!(v->u >> i & 1)) continue;
                if (!first) bt_buf_putc(out, ',');
                first = false;
                bt_buf_append(out, col->labels[i], col->label_lens ? col->label_lens[i] : strlen(col->labels[i]));
            }
        } else {
            put_uint(out, v->u);
        }
        return true;
    case BT_VAL_VECTOR:
        bt_buf_putc(out, '[');
        for (uint32_t i = 0; i < v->len / 4; i++) {
            if (i) bt_buf_putc(out, ',');
            n = bt_fmt_float(buf, vector_elem(v->s, i));
            bt_buf_append(out, buf, (size_t)n);
        }
        bt_buf_putc(out, ']');
        return true;
    }
    return false;
}

/* Type names ------------------------------------------------------------------------------------ */

static bool col_binary(const bt_column_t *col) {
    const bt_charset_t *cs = bt_charset_of(col->collation);
    return cs && cs->kind == BT_CS_BINARY;
}

/* Characters of a text column of maxbytes bytes, when its charset is known. */
static unsigned char_len(const bt_column_t *col, unsigned maxbytes) {
    const bt_charset_t *cs = bt_charset_of(col->collation);
    return cs && cs->mbmaxlen ? maxbytes / cs->mbmaxlen : maxbytes;
}

static void labels_list(bt_buf_t *out, const char *kind, const bt_column_t *col) {
    bt_buf_puts(out, kind);
    if (!col->labels) return;
    bt_buf_putc(out, '(');
    for (uint32_t i = 0; i < col->nlabels; i++) {
        if (i) bt_buf_putc(out, ',');
        bt_buf_putc(out, '\'');
        const char *s = col->labels[i];
        size_t n = col->label_lens ? col->label_lens[i] : strlen(s);
        for (size_t j = 0; j < n; j++) {
            if (s[j] == '\'') bt_buf_putc(out, '\''); /* SQL doubles quotes inside literals */
            bt_buf_putc(out, s[j]);
        }
        bt_buf_putc(out, '\'');
    }
    bt_buf_putc(out, ')');
}

static void with_fsp(bt_buf_t *out, const char *name, unsigned fsp) {
    bt_buf_puts(out, name);
    if (fsp) bt_buf_printf(out, "(%u)", fsp);
}

static void blob_name(bt_buf_t *out, const bt_column_t *col, unsigned lenbytes) {
    static const char *const prefix[5] = {"", "tiny", "", "medium", "long"};
    bool bytes = col_binary(col) || col->collation == 0;
    bt_buf_puts(out, lenbytes <= 4 ? prefix[lenbytes] : "");
    bt_buf_puts(out, bytes ? "blob" : "text");
}

void bt_column_type_name(bt_buf_t *out, const bt_column_t *col) {
    static const char *const ints[] = {[BT_TYPE_TINY] = "tinyint", [BT_TYPE_SHORT] = "smallint",
                                       [BT_TYPE_INT24] = "mediumint", [BT_TYPE_LONG] = "int",
                                       [BT_TYPE_LONGLONG] = "bigint"};
    static const char *const geoms[] = {"geometry", "point", "linestring", "polygon", "multipoint",
                                        "multilinestring", "multipolygon", "geometrycollection"};
    unsigned meta = col->meta;
    switch (col->type) {
    case BT_TYPE_TINY:
    case BT_TYPE_SHORT:
    case BT_TYPE_INT24:
    case BT_TYPE_LONG:
    case BT_TYPE_LONGLONG:
        bt_buf_puts(out, ints[col->type]);
        if (col->is_unsigned) bt_buf_puts(out, " unsigned");
        return;
    case BT_TYPE_FLOAT: bt_buf_puts(out, "float"); return;
    case BT_TYPE_DOUBLE: bt_buf_puts(out, "double"); return;
    case BT_TYPE_NEWDECIMAL: bt_buf_printf(out, "decimal(%u,%u)", meta >> 8, meta & 0xFF); return;
    case BT_TYPE_DECIMAL: bt_buf_puts(out, "decimal"); return;
    case BT_TYPE_YEAR: bt_buf_puts(out, "year"); return;
    case BT_TYPE_DATE:
    case BT_TYPE_NEWDATE: bt_buf_puts(out, "date"); return;
    case BT_TYPE_TIME:
    case BT_TYPE_TIME2: with_fsp(out, "time", meta); return;
    case BT_TYPE_DATETIME:
    case BT_TYPE_DATETIME2: with_fsp(out, "datetime", meta); return;
    case BT_TYPE_TIMESTAMP:
    case BT_TYPE_TIMESTAMP2: with_fsp(out, "timestamp", meta); return;
    case BT_TYPE_BIT: bt_buf_printf(out, "bit(%u)", (meta >> 8) * 8 + (meta & 0xFF)); return;
    case BT_TYPE_VARCHAR:
    case BT_TYPE_VAR_STRING:
        if (col_binary(col)) bt_buf_printf(out, "varbinary(%u)", meta);
        else bt_buf_printf(out, "varchar(%u)", char_len(col, meta));
        return;
    case BT_TYPE_MARIA_VARCHAR_COMPRESSED:
        if (col_binary(col)) bt_buf_printf(out, "varbinary(%u) compressed", meta ? meta - 1 : 0);
        else bt_buf_printf(out, "varchar(%u) compressed", char_len(col, meta ? meta - 1 : 0));
        return;
    case BT_TYPE_STRING: {
        unsigned b0 = meta >> 8, b1 = meta & 0xFF, real = b0, len = b1;
        if (b0 && (b0 & 0x30) != 0x30) {
            len = b1 | (((b0 & 0x30) ^ 0x30) << 4);
            real = b0 | 0x30;
        }
        if (real == BT_TYPE_ENUM) labels_list(out, "enum", col);
        else if (real == BT_TYPE_SET) labels_list(out, "set", col);
        else if (col_binary(col)) bt_buf_printf(out, "binary(%u)", len);
        else bt_buf_printf(out, "char(%u)", char_len(col, len));
        return;
    }
    case BT_TYPE_ENUM: labels_list(out, "enum", col); return;
    case BT_TYPE_SET: labels_list(out, "set", col); return;
    case BT_TYPE_TINY_BLOB: blob_name(out, col, 1); return;
    case BT_TYPE_MEDIUM_BLOB: blob_name(out, col, 3); return;
    case BT_TYPE_LONG_BLOB: blob_name(out, col, 4); return;
    case BT_TYPE_BLOB: blob_name(out, col, meta ? meta : 2); return;
    case BT_TYPE_MARIA_BLOB_COMPRESSED:
        blob_name(out, col, meta ? meta : 2);
        bt_buf_puts(out, " compressed");
        return;
    case BT_TYPE_JSON: bt_buf_puts(out, "json"); return;
    case BT_TYPE_GEOMETRY: bt_buf_puts(out, col->geometry_type < 8 ? geoms[col->geometry_type] : "geometry"); return;
    case BT_TYPE_VECTOR:
        if (col->vector_dim) bt_buf_printf(out, "vector(%u)", col->vector_dim);
        else bt_buf_puts(out, "vector");
        return;
    case BT_TYPE_NULL: bt_buf_puts(out, "null"); return;
    default: bt_buf_printf(out, "unknown(%u)", col->type); return;
    }
}
