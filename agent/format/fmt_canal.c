/* fmt_canal.c: Canal's flat message (canal.mq.flatMessage=true), one row per message:
 *   {"data":[{"col":"text",..}],"database":..,"es":commit_ms,"gtid":..,"id":seq,"isDdl":false,
 *    "mysqlType":{"col":"int",..},"old":[{changed columns' previous text}]|null,
 *    "pkNames":[..]|null,"sql":"","sqlType":{"col":4,..},"table":..,"ts":now_ms,
 *    "type":"INSERT|UPDATE|DELETE"}
 * Keys come in alphabetical order because Canal serializes FlatMessage with fastjson, which
 * sorts fields. Cells are strings as SELECT shows them (bt_value_text), binary ones as
 * Canal's ISO-8859-1 decoding of the bytes; NULL is null. DDL: isDdl true, "sql" the
 * statement, "type" Canal's name for it (CREATE, ALTER, ERASE, ...), the column maps null. */
#include "agent/format/fmt_internal.h"

unsigned bt_fmt_canal_count(const bt_format_t *f, const bt_change_t *c) {
    (void)f;
    (void)c;
    return 1;
}

/* java.sql.Types of a column, as Canal's RowsLogBuffer and LogEventConvert assign them.
 * Canal widens unsigned integers only for values past the signed range; bintail widens by
 * column so that one column keeps one type. */
static int canal_sql_type(const bt_column_t *col) {
    switch (col->type) {
    case BT_TYPE_TINY: return col->is_unsigned ? 5 : -6;            /* SMALLINT : TINYINT */
    case BT_TYPE_SHORT: return col->is_unsigned ? 4 : 5;            /* INTEGER : SMALLINT */
    case BT_TYPE_INT24: return 4;                                   /* INTEGER */
    case BT_TYPE_LONG: return col->is_unsigned ? -5 : 4;            /* BIGINT : INTEGER */
    case BT_TYPE_LONGLONG: return col->is_unsigned ? 3 : -5;        /* DECIMAL : BIGINT */
    case BT_TYPE_DECIMAL:
    case BT_TYPE_NEWDECIMAL: return 3;                              /* DECIMAL */
    case BT_TYPE_FLOAT: return 7;                                   /* REAL */
    case BT_TYPE_DOUBLE: return 8;                                  /* DOUBLE */
    case BT_TYPE_BIT: return -7;                                    /* BIT */
    case BT_TYPE_TIMESTAMP:
    case BT_TYPE_TIMESTAMP2:
    case BT_TYPE_DATETIME:
    case BT_TYPE_DATETIME2: return 93;                              /* TIMESTAMP */
    case BT_TYPE_TIME:
    case BT_TYPE_TIME2: return 92;                                  /* TIME */
    case BT_TYPE_DATE:
    case BT_TYPE_NEWDATE: return 91;                                /* DATE */
    case BT_TYPE_YEAR: return 12;                                   /* VARCHAR, as Canal */
    case BT_TYPE_ENUM:
    case BT_TYPE_SET: return 12;                                    /* labels: VARCHAR */
    case BT_TYPE_JSON: return 12;                                   /* VARCHAR */
    case BT_TYPE_VARCHAR:
    case BT_TYPE_VAR_STRING: return bt_fmt_col_binary(col) ? 2004 : 12;    /* BLOB : VARCHAR */
    case BT_TYPE_STRING: return bt_fmt_col_binary(col) ? 2004 : 1;         /* BLOB : CHAR */
    case BT_TYPE_TINY_BLOB:
    case BT_TYPE_MEDIUM_BLOB:
    case BT_TYPE_LONG_BLOB:
    case BT_TYPE_BLOB: return bt_fmt_col_binary(col) ? 2004 : 2005;        /* BLOB : CLOB */
    case BT_TYPE_GEOMETRY: return 2004;                             /* BLOB */
    case BT_TYPE_VECTOR: return 12;                                 /* "[1.1,2.2]": VARCHAR */
    default: return 1111;                                           /* OTHER */
    }
}

/* Bytes as Canal shows them: each byte one ISO-8859-1 character. */
static void latin1_string(bt_jw_t *w, bt_buf_t *tmp, const char *s, size_t n) {
    bt_buf_reset(tmp);
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)s[i];
        if (b < 0x80) {
            bt_buf_putc(tmp, (char)b);
        } else {
            bt_buf_putc(tmp, (char)(0xC0 | (b >> 6)));
            bt_buf_putc(tmp, (char)(0x80 | (b & 0x3F)));
        }
    }
    bt_jw_strn(w, tmp->p ? tmp->p : "", tmp->len);
}

static void canal_value(bt_format_t *f, bt_jw_t *w, const bt_column_t *col, const bt_value_t *v) {
    switch (v->kind) {
    case BT_VAL_NULL: bt_jw_null(w); return;
    case BT_VAL_BINARY:
    case BT_VAL_GEOMETRY: latin1_string(w, &f->scratch, v->s, v->len); return;
    default: break;
    }
    bt_buf_reset(&f->scratch);
    if (!bt_value_text(&f->scratch, col, v)) bt_jw_null(w);
    else bt_jw_strn(w, f->scratch.p ? f->scratch.p : "", f->scratch.len);
}

static void text_row(bt_format_t *f, bt_jw_t *w, const bt_change_t *c, const bt_row_t *r, bool changed_only) {
    const bt_table_t *t = c->table;
    bt_jw_obj_begin(w);
    for (uint32_t i = 0; i < t->ncols; i++) {
        const bt_value_t *v = bt_fmt_cell(r, i);
        if (!v || (changed_only && !bt_fmt_col_changed(c, i))) continue;
        bt_fmt_col_key(w, &t->cols[i], i);
        canal_value(f, w, &t->cols[i], v);
    }
    bt_jw_obj_end(w);
}

static void common_head(bt_jw_t *w, const bt_change_t *c) {
    bt_jw_key(w, "database");
    bt_jw_str(w, bt_fmt_db(c));
    bt_jw_key(w, "es");
    bt_jw_int(w, c->ts_ms);
    bt_jw_key(w, "gtid");
    bt_jw_str(w, c->gtid ? c->gtid : "");
    bt_jw_key(w, "id");
    bt_jw_uint(w, c->seq);
    bt_jw_key(w, "isDdl");
    bt_jw_bool(w, c->is_ddl);
}

static void common_tail(bt_jw_t *w, const bt_change_t *c, const char *type) {
    bt_jw_key(w, "table");
    bt_jw_str(w, bt_fmt_table(c) ? bt_fmt_table(c) : "");
    bt_jw_key(w, "ts");
    bt_jw_int(w, c->now_ms);
    bt_jw_key(w, "type");
    bt_jw_str(w, type);
}

int bt_fmt_canal_encode(bt_format_t *f, const bt_change_t *c, unsigned idx, bt_buf_t *key, bt_buf_t *val,
                        bool *null_value, char *err, size_t errlen) {
    (void)idx;
    (void)null_value;
    bt_jw_t w;
    bt_jw_init(&w, val);
    bt_jw_obj_begin(&w);
    if (c->is_ddl) {
        bt_jw_key(&w, "data");
        bt_jw_null(&w);
        common_head(&w, c);
        bt_jw_key(&w, "mysqlType");
        bt_jw_null(&w);
        bt_jw_key(&w, "old");
        bt_jw_null(&w);
        bt_jw_key(&w, "pkNames");
        bt_jw_null(&w);
        bt_jw_key(&w, "sql");
        if (c->sql) bt_jw_strn(&w, c->sql, c->sql_len);
        else bt_jw_str(&w, "");
        bt_jw_key(&w, "sqlType");
        bt_jw_null(&w);
        common_tail(&w, c, bt_fmt_ddl_canal_type(bt_fmt_ddl_kind(c->sql, c->sql_len)));
        bt_jw_obj_end(&w);
        return bt_fmt_finish("canal", key, val, err, errlen);
    }
    if (bt_fmt_check_row("canal", c, err, errlen) < 0) return -1;
    bt_format_pk_bytes(c, key);
    const bt_table_t *t = c->table;
    const bt_row_t *r = bt_fmt_main_row(c);
    uint32_t present = 0;
    for (uint32_t i = 0; i < t->ncols; i++)
        if (bt_fmt_cell(r, i)) present++;

    bt_jw_key(&w, "data");
    if (present) {
        bt_jw_arr_begin(&w);
        text_row(f, &w, c, r, false);
        bt_jw_arr_end(&w);
    } else {
        bt_jw_null(&w);
    }
    common_head(&w, c);
    bt_jw_key(&w, "mysqlType");
    if (present) {
        bt_jw_obj_begin(&w);
        for (uint32_t i = 0; i < t->ncols; i++) {
            if (!bt_fmt_cell(r, i)) continue;
            bt_fmt_col_key(&w, &t->cols[i], i);
            bt_buf_reset(&f->scratch);
            bt_column_type_name(&f->scratch, &t->cols[i]);
            bt_jw_strn(&w, f->scratch.p ? f->scratch.p : "", f->scratch.len);
        }
        bt_jw_obj_end(&w);
    } else {
        bt_jw_null(&w);
    }
    bt_jw_key(&w, "old");
    if (c->op == BT_OP_UPDATE) {
        bt_jw_arr_begin(&w);
        text_row(f, &w, c, c->before, true);
        bt_jw_arr_end(&w);
    } else {
        bt_jw_null(&w);
    }
    bt_jw_key(&w, "pkNames");
    if (t->npk) bt_fmt_pk_names(&w, t);
    else bt_jw_null(&w);
    bt_jw_key(&w, "sql");
    bt_jw_str(&w, "");
    bt_jw_key(&w, "sqlType");
    if (present) {
        bt_jw_obj_begin(&w);
        for (uint32_t i = 0; i < t->ncols; i++) {
            if (!bt_fmt_cell(r, i)) continue;
            bt_fmt_col_key(&w, &t->cols[i], i);
            bt_jw_int(&w, canal_sql_type(&t->cols[i]));
        }
        bt_jw_obj_end(&w);
    } else {
        bt_jw_null(&w);
    }
    const char *type = c->op == BT_OP_UPDATE ? "UPDATE" : c->op == BT_OP_DELETE ? "DELETE" : "INSERT";
    common_tail(&w, c, type);
    bt_jw_obj_end(&w);
    if (f->scratch.failed)
        return bt_errf(err, errlen, "format canal: a cell is larger than the buffer cap");
    return bt_fmt_finish("canal", key, val, err, errlen);
}
