/* fmt_dataworks.c: the schema/payload JSON the DataWorks and ApsaraMQ MySQL-to-Kafka
 * connectors write (/work/shared/formats/dataworks-example.json gives the shape):
 *   {"schema":{"dataColumn":[{"name","type"},..],"primaryKey":[..],
 *              "source":{"dbType":"MySQL","dbName","tableName"}},
 *    "payload":{"before":{"dataColumn":{..}}|null,"after":{"dataColumn":{..}}|null,
 *               "sequenceId":"..","timestamp":{"eventTime","systemTime","checkpointTime"},
 *               "op":"INSERT|UPDATE_BEFOR|UPDATE_AFTER|DELETE|CREATE|ALTER|..","ddl":null},
 *    "version":"0.0.1"}
 * Types are the six DataWorks names (LONG, DOUBLE, BOOLEAN, DATE, BYTES, STRING); DATE cells
 * are epoch milliseconds, BYTES base64. An update is two messages, UPDATE_BEFOR then
 * UPDATE_AFTER (DataWorks' spelling), sharing one sequenceId; each carries both images.
 * Full-sync (snapshot) rows carry sequenceId, eventTime and checkpointTime of -1. */
#include <stdio.h>
#include <string.h>

#include "agent/format/fmt_internal.h"

unsigned bt_fmt_dataworks_count(const bt_format_t *f, const bt_change_t *c) {
    (void)f;
    return !c->is_ddl && c->op == BT_OP_UPDATE ? 2 : 1;
}

static bool is_bit1(const bt_column_t *col) {
    /* BIT(n) metadata is n%8 in the low byte and n/8 in the high one: BIT(1) is 1 either way
     * the two bytes are combined. */
    return col->type == BT_TYPE_BIT && col->meta == 1;
}

static const char *dw_type(const bt_column_t *col) {
    switch (col->type) {
    case BT_TYPE_TINY:
    case BT_TYPE_SHORT:
    case BT_TYPE_INT24:
    case BT_TYPE_LONG:
    case BT_TYPE_LONGLONG:
    case BT_TYPE_YEAR: return "LONG";
    case BT_TYPE_BIT: return is_bit1(col) ? "BOOLEAN" : "LONG";
    case BT_TYPE_BOOL: return "BOOLEAN";
    case BT_TYPE_FLOAT:
    case BT_TYPE_DOUBLE: return "DOUBLE";
    case BT_TYPE_DECIMAL:
    case BT_TYPE_NEWDECIMAL: return "STRING"; /* exact digits; a DOUBLE would round them */
    case BT_TYPE_DATE:
    case BT_TYPE_NEWDATE:
    case BT_TYPE_DATETIME:
    case BT_TYPE_DATETIME2:
    case BT_TYPE_TIMESTAMP:
    case BT_TYPE_TIMESTAMP2: return "DATE";
    case BT_TYPE_VARCHAR:
    case BT_TYPE_VAR_STRING:
    case BT_TYPE_STRING:
    case BT_TYPE_TINY_BLOB:
    case BT_TYPE_MEDIUM_BLOB:
    case BT_TYPE_LONG_BLOB:
    case BT_TYPE_BLOB:
    case BT_TYPE_GEOMETRY: return bt_fmt_col_binary(col) ? "BYTES" : "STRING";
    default: return "STRING"; /* TIME, ENUM, SET, JSON, VECTOR */
    }
}

/* Days from 1970-01-01 to a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Epoch milliseconds of a date or datetime read as UTC; false for zero or partial dates,
 * which name no instant. */
static bool civil_ms(const bt_time_t *t, bool with_time, int64_t *ms) {
    if (t->month < 1 || t->month > 12 || t->day < 1 || t->day > 31) return false;
    int64_t v = days_from_civil(t->year, t->month, t->day) * 86400000;
    if (with_time) v += ((int64_t)t->hour * 3600 + t->minute * 60 + t->second) * 1000 + t->usec / 1000;
    *ms = v;
    return true;
}

static void dw_value(bt_format_t *f, bt_jw_t *w, const bt_column_t *col, const bt_value_t *v) {
    int64_t ms;
    switch ((bt_vkind_t)v->kind) {
    case BT_VAL_NULL: bt_jw_null(w); return;
    case BT_VAL_INT: bt_jw_int(w, v->i); return;
    case BT_VAL_UINT:
    case BT_VAL_YEAR: bt_jw_uint(w, v->u); return;
    case BT_VAL_BIT:
        if (is_bit1(col)) bt_jw_bool(w, v->u != 0);
        else bt_jw_uint(w, v->u);
        return;
    case BT_VAL_FLOAT: bt_jw_float(w, v->f); return;
    case BT_VAL_DOUBLE: bt_jw_double(w, v->d); return;
    case BT_VAL_DATE:
    case BT_VAL_DATETIME:
        if (civil_ms(&v->t, v->kind == BT_VAL_DATETIME, &ms)) bt_jw_int(w, ms);
        else bt_jw_null(w);
        return;
    case BT_VAL_TIMESTAMP:
        if (v->i == 0 && v->t.usec == 0) bt_jw_null(w); /* the zero timestamp */
        else bt_jw_int(w, v->i * 1000 + (int64_t)(v->t.usec / 1000));
        return;
    case BT_VAL_GEOMETRY: /* WKB without MySQL's 4-byte SRID prefix, as in bintail's value table */
        if (v->len >= 4) bt_jw_base64(w, v->s + 4, v->len - 4);
        else bt_jw_base64(w, v->s, v->len);
        return;
    case BT_VAL_BINARY: bt_jw_base64(w, v->s, v->len); return;
    case BT_VAL_DECIMAL:
    case BT_VAL_STRING:
    case BT_VAL_JSON: bt_jw_strn(w, v->s ? v->s : "", v->len); return;
    case BT_VAL_TIME:
    case BT_VAL_ENUM:
    case BT_VAL_SET:
    case BT_VAL_VECTOR: break; /* text: "-12:00:01", "small", "a,c", "[1.1,2.2]" */
    }
    bt_buf_reset(&f->scratch);
    if (bt_value_text(&f->scratch, col, v)) bt_jw_strn(w, f->scratch.p ? f->scratch.p : "", f->scratch.len);
    else bt_jw_null(w);
}

static void image(bt_format_t *f, bt_jw_t *w, const bt_table_t *t, const bt_row_t *r) {
    if (!r) {
        bt_jw_null(w);
        return;
    }
    bt_jw_obj_begin(w);
    bt_jw_key(w, "dataColumn");
    bt_jw_obj_begin(w);
    for (uint32_t i = 0; i < t->ncols; i++) {
        const bt_value_t *v = bt_fmt_cell(r, i);
        if (!v) continue;
        bt_fmt_col_key(w, &t->cols[i], i);
        dw_value(f, w, &t->cols[i], v);
    }
    bt_jw_obj_end(w);
    bt_jw_obj_end(w);
}

int bt_fmt_dataworks_encode(bt_format_t *f, const bt_change_t *c, unsigned idx, bt_buf_t *key, bt_buf_t *val,
                            bool *null_value, char *err, size_t errlen) {
    (void)null_value;
    if (!c->is_ddl) {
        if (bt_fmt_check_row("dataworks", c, err, errlen) < 0) return -1;
        bt_format_pk_bytes(c, key);
    }
    const bt_table_t *t = c->is_ddl ? NULL : c->table;
    bt_jw_t w;
    bt_jw_init(&w, val);
    bt_jw_obj_begin(&w);
    bt_jw_key(&w, "schema");
    bt_jw_obj_begin(&w);
    bt_jw_key(&w, "dataColumn");
    if (t) {
        bt_jw_arr_begin(&w);
        for (uint32_t i = 0; i < t->ncols; i++) {
            bt_jw_obj_begin(&w);
            bt_jw_key(&w, "name");
            const bt_column_t *col = &t->cols[i];
            if (col->name) bt_jw_strn(&w, col->name, col->name_len ? col->name_len : strlen(col->name));
            else {
                char tmp[16];
                int n = snprintf(tmp, sizeof tmp, "@%u", (unsigned)i + 1);
                bt_jw_strn(&w, tmp, (size_t)n);
            }
            bt_jw_key(&w, "type");
            bt_jw_str(&w, dw_type(col));
            bt_jw_obj_end(&w);
        }
        bt_jw_arr_end(&w);
    } else {
        bt_jw_null(&w);
    }
    bt_jw_key(&w, "primaryKey");
    if (t) bt_fmt_pk_names(&w, t);
    else bt_jw_null(&w);
    bt_jw_key(&w, "source");
    bt_jw_obj_begin(&w);
    bt_jw_key(&w, "dbType");
    bt_jw_str(&w, "MySQL");
    bt_jw_key(&w, "dbName");
    bt_jw_str(&w, bt_fmt_db(c));
    bt_jw_key(&w, "tableName");
    if (bt_fmt_table(c)) bt_jw_str(&w, bt_fmt_table(c));
    else bt_jw_null(&w);
    bt_jw_obj_end(&w);
    bt_jw_obj_end(&w); /* schema */

    bt_jw_key(&w, "payload");
    bt_jw_obj_begin(&w);
    const char *op;
    if (c->is_ddl) {
        bt_jw_key(&w, "before");
        bt_jw_null(&w);
        bt_jw_key(&w, "after");
        bt_jw_null(&w);
        op = bt_fmt_ddl_canal_type(bt_fmt_ddl_kind(c->sql, c->sql_len));
    } else {
        bool has_before = c->op == BT_OP_UPDATE || c->op == BT_OP_DELETE;
        bool has_after = c->op != BT_OP_DELETE;
        bt_jw_key(&w, "before");
        image(f, &w, t, has_before ? c->before : NULL);
        bt_jw_key(&w, "after");
        image(f, &w, t, has_after ? c->after : NULL);
        if (c->op == BT_OP_DELETE) op = "DELETE";
        else if (c->op == BT_OP_UPDATE) op = idx == 0 ? "UPDATE_BEFOR" : "UPDATE_AFTER";
        else op = "INSERT";
    }
    bool full_sync = c->snapshot && !c->is_ddl;
    bt_jw_key(&w, "sequenceId");
    if (full_sync) bt_jw_str(&w, "-1");
    else bt_jw_uint_str(&w, c->seq);
    bt_jw_key(&w, "timestamp");
    bt_jw_obj_begin(&w);
    bt_jw_key(&w, "eventTime");
    bt_jw_int(&w, full_sync ? -1 : c->ts_ms);
    bt_jw_key(&w, "systemTime");
    bt_jw_int(&w, c->now_ms);
    bt_jw_key(&w, "checkpointTime");
    bt_jw_int(&w, full_sync ? -1 : c->ts_ms);
    bt_jw_obj_end(&w);
    bt_jw_key(&w, "op");
    bt_jw_str(&w, op);
    bt_jw_key(&w, "ddl");
    if (c->is_ddl && c->sql) bt_jw_strn(&w, c->sql, c->sql_len);
    else bt_jw_null(&w);
    bt_jw_obj_end(&w); /* payload */
    bt_jw_key(&w, "version");
    bt_jw_str(&w, "0.0.1");
    bt_jw_obj_end(&w);
    if (f->scratch.failed)
        return bt_errf(err, errlen, "format dataworks: a cell is larger than the buffer cap");
    return bt_fmt_finish("dataworks", key, val, err, errlen);
}
