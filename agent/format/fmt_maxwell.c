/* fmt_maxwell.c: Maxwell's row and DDL JSON, with the options bintail turns on.
 *   value {"database","table","type":"insert|update|delete|bootstrap-insert","ts":seconds,
 *          "xid":..,"commit":true (last row of the transaction only),"position":"file:pos",
 *          "gtid":..,"server_id":..,"data":{..},"old":{changed columns' previous values}}
 *   key   {"database":..,"table":..,"pk.<column>":value,..}   (Maxwell's "hash" key format)
 * Field order is Maxwell's (RowMap.toJSON). "old" only for updates that changed something;
 * NULL cells are written (output_nulls, Maxwell's default). Maxwell's output_commit_info is on
 * by default; bintail also turns on output_binlog_position, output_gtid_position and
 * output_server_id. Snapshot rows are Maxwell's bootstrap rows: no xid, commit or position.
 * DDL (Maxwell's output_ddl): {"type":"table-create|table-alter|table-drop|database-create|
 * database-alter|database-drop|ddl","database","table","ts":milliseconds,"sql","position",
 * "gtid"} - ts in ms there, as Maxwell writes it. */
#include <stdio.h>
#include <string.h>

#include "agent/format/fmt_internal.h"

unsigned bt_fmt_maxwell_count(const bt_format_t *f, const bt_change_t *c) {
    (void)f;
    (void)c;
    return 1;
}

static const char *ddl_type(bt_ddl_kind_t k, bool *has_table) {
    *has_table = true;
    switch (k) {
    case BT_DDL_CREATE_TABLE: return "table-create";
    case BT_DDL_ALTER_TABLE:
    case BT_DDL_ALTER_TABLE_RENAME:
    case BT_DDL_ALTER_ADD_INDEX:
    case BT_DDL_ALTER_DROP_INDEX:
    case BT_DDL_RENAME_TABLE:
    case BT_DDL_CREATE_INDEX:
    case BT_DDL_DROP_INDEX: return "table-alter";
    case BT_DDL_DROP_TABLE: return "table-drop";
    case BT_DDL_CREATE_DATABASE: *has_table = false; return "database-create";
    case BT_DDL_ALTER_DATABASE: *has_table = false; return "database-alter";
    case BT_DDL_DROP_DATABASE: *has_table = false; return "database-drop";
    case BT_DDL_TRUNCATE:
    case BT_DDL_OTHER: break;
    }
    return "ddl";
}

static void gtid_value(bt_jw_t *w, const bt_change_t *c) {
    if (c->gtid && *c->gtid) bt_jw_str(w, c->gtid);
    else bt_jw_null(w);
}

/* "position":"file:pos","gtid":.. of a binlog change (snapshot rows have no position). */
static void write_position(bt_jw_t *w, bt_format_t *f, const bt_change_t *c) {
    if (!c->file) return;
    bt_fmt_position(&f->scratch, c);
    bt_jw_key(w, "position");
    bt_jw_strn(w, f->scratch.p, f->scratch.len);
    bt_jw_key(w, "gtid");
    gtid_value(w, c);
}

/* The _uuid Maxwell puts in keys of rows without a primary key (and of DDL): Maxwell draws a
 * random UUID; bintail writes the change's coordinates, unique and stable across replays. */
static void write_uuid(bt_format_t *f, bt_jw_t *w, const bt_change_t *c, bool with_row) {
    bt_buf_t *s = &f->scratch;
    bt_buf_reset(s);
    if (c->file) {
        bt_fmt_position(s, c);
        if (with_row) bt_buf_printf(s, ":%u", (unsigned)c->row);
    } else {
        bt_buf_printf(s, "snapshot:%llu", (unsigned long long)c->seq);
    }
    bt_jw_key(w, "_uuid");
    bt_jw_strn(w, s->p ? s->p : "", s->len);
}

static void write_key(bt_format_t *f, bt_buf_t *key, const bt_change_t *c) {
    bt_jw_t w;
    bt_jw_init(&w, key);
    bt_jw_obj_begin(&w);
    bt_jw_key(&w, "database");
    bt_jw_str(&w, bt_fmt_db(c));
    const char *table = bt_fmt_table(c);
    if (table || !c->is_ddl) {
        bt_jw_key(&w, "table");
        bt_jw_str(&w, table ? table : "");
    }
    const bt_table_t *t = c->table;
    if (c->is_ddl || !t || t->npk == 0) {
        write_uuid(f, &w, c, !c->is_ddl);
    } else {
        for (uint32_t k = 0; k < t->npk; k++) {
            uint32_t i = t->pk[k];
            if (i >= t->ncols) continue;
            const bt_column_t *col = &t->cols[i];
            bt_buf_t *s = &f->scratch;
            bt_buf_reset(s);
            bt_buf_puts(s, "pk.");
            if (col->name) {
                size_t n = col->name_len ? col->name_len : strlen(col->name);
                for (size_t j = 0; j < n; j++) {
                    char ch = col->name[j];
                    bt_buf_putc(s, ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch);
                }
            } else {
                bt_buf_printf(s, "@%u", (unsigned)i + 1);
            }
            bt_jw_keyn(&w, s->p, s->len);
            const bt_value_t *v = bt_fmt_pk_cell(c, i, false);
            if (!v || v->kind == BT_VAL_NULL) bt_jw_null(&w);
            else bt_value_json(&w, col, v);
        }
    }
    bt_jw_obj_end(&w);
}

int bt_fmt_maxwell_encode(bt_format_t *f, const bt_change_t *c, unsigned idx, bt_buf_t *key, bt_buf_t *val,
                          bool *null_value, char *err, size_t errlen) {
    (void)idx;
    (void)null_value;
    bt_jw_t w;
    if (!c->is_ddl && bt_fmt_check_row("maxwell", c, err, errlen) < 0) return -1;
    write_key(f, key, c);
    bt_jw_init(&w, val);
    bt_jw_obj_begin(&w);
    if (c->is_ddl) {
        bool has_table;
        const char *type = ddl_type(bt_fmt_ddl_kind(c->sql, c->sql_len), &has_table);
        bt_jw_key(&w, "type");
        bt_jw_str(&w, type);
        bt_jw_key(&w, "database");
        bt_jw_str(&w, bt_fmt_db(c));
        if (has_table && bt_fmt_table(c)) {
            bt_jw_key(&w, "table");
            bt_jw_str(&w, bt_fmt_table(c));
        }
        bt_jw_key(&w, "ts");
        bt_jw_int(&w, c->ts_ms);
        bt_jw_key(&w, "sql");
        if (c->sql) bt_jw_strn(&w, c->sql, c->sql_len);
        else bt_jw_str(&w, "");
        write_position(&w, f, c);
        bt_jw_obj_end(&w);
        return bt_fmt_finish("maxwell", key, val, err, errlen);
    }
    bool boot = c->op == BT_OP_READ || c->snapshot;
    const char *type = c->op == BT_OP_INSERT   ? "insert"
                       : c->op == BT_OP_UPDATE ? "update"
                       : c->op == BT_OP_DELETE ? "delete"
                                               : "bootstrap-insert";
    if (c->snapshot && c->op == BT_OP_INSERT) type = "bootstrap-insert";
    bt_jw_key(&w, "database");
    bt_jw_str(&w, bt_fmt_db(c));
    bt_jw_key(&w, "table");
    bt_jw_str(&w, bt_fmt_table(c));
    bt_jw_key(&w, "type");
    bt_jw_str(&w, type);
    bt_jw_key(&w, "ts");
    int64_t secs = c->ts_ms >= 0 ? c->ts_ms / 1000 : -((-c->ts_ms + 999) / 1000);
    bt_jw_int(&w, secs);
    if (!boot) {
        bt_jw_key(&w, "xid");
        bt_jw_uint(&w, c->xid ? c->xid : c->txn_seq);
        if (c->txn_last) {
            bt_jw_key(&w, "commit");
            bt_jw_bool(&w, true);
        }
        write_position(&w, f, c);
        bt_jw_key(&w, "server_id");
        bt_jw_uint(&w, c->server_id);
    }
    bt_jw_key(&w, "data");
    bt_fmt_row_object(&w, c->table, bt_fmt_main_row(c));
    if (c->op == BT_OP_UPDATE) {
        const bt_table_t *t = c->table;
        bool any = false;
        for (uint32_t i = 0; i < t->ncols; i++) {
            if (!bt_fmt_col_changed(c, i)) continue;
            if (!any) {
                bt_jw_key(&w, "old");
                bt_jw_obj_begin(&w);
                any = true;
            }
            bt_fmt_col_key(&w, &t->cols[i], i);
            const bt_value_t *v = bt_fmt_cell(c->before, i);
            if (v->kind == BT_VAL_NULL) bt_jw_null(&w);
            else bt_value_json(&w, &t->cols[i], v);
        }
        if (any) bt_jw_obj_end(&w);
    }
    bt_jw_obj_end(&w);
    if (f->scratch.failed)
        return bt_errf(err, errlen, "format maxwell: a key is larger than the buffer cap");
    return bt_fmt_finish("maxwell", key, val, err, errlen);
}
