/* fmt_json.c: bintail's own line format, one object per change (`bintail decode`, stdout and
 * file sinks). It says everything bintail knows about a change in one flat object:
 *   {"op":"insert|update|delete|read","db","table","before":{..},"after":{..},"pk":[..],
 *    "file","pos","row","gtid","server_id","ts_ms","txn"}
 *   {"op":"ddl","db","table","sql","file","pos","gtid","server_id","ts_ms","txn"}
 * An image the operation has not is left out (an insert has no "before"). The key is the
 * canonical primary-key object, as bt_format_pk_bytes. */
#include "agent/format/fmt_internal.h"

static const char *op_name(bt_op_t op) {
    switch (op) {
    case BT_OP_INSERT: return "insert";
    case BT_OP_UPDATE: return "update";
    case BT_OP_DELETE: return "delete";
    case BT_OP_READ: return "read";
    }
    return "unknown";
}

unsigned bt_fmt_json_count(const bt_format_t *f, const bt_change_t *c) {
    (void)f;
    (void)c;
    return 1;
}

static void str_or_null(bt_jw_t *w, const char *s) {
    if (s && *s) bt_jw_str(w, s);
    else bt_jw_null(w);
}

int bt_fmt_json_encode(bt_format_t *f, const bt_change_t *c, unsigned idx, bt_buf_t *key, bt_buf_t *val,
                       bool *null_value, char *err, size_t errlen) {
    (void)f;
    (void)idx;
    (void)null_value;
    bt_jw_t w;
    bt_jw_init(&w, val);
    bt_jw_obj_begin(&w);
    if (c->is_ddl) {
        bt_jw_key(&w, "op");
        bt_jw_str(&w, "ddl");
        bt_jw_key(&w, "db");
        bt_jw_str(&w, bt_fmt_db(c));
        if (bt_fmt_table(c)) {
            bt_jw_key(&w, "table");
            bt_jw_str(&w, bt_fmt_table(c));
        }
        bt_jw_key(&w, "sql");
        if (c->sql) bt_jw_strn(&w, c->sql, c->sql_len);
        else bt_jw_null(&w);
    } else {
        if (bt_fmt_check_row("json", c, err, errlen) < 0) return -1;
        bt_format_pk_bytes(c, key);
        bt_jw_key(&w, "op");
        bt_jw_str(&w, op_name(c->op));
        bt_jw_key(&w, "db");
        bt_jw_str(&w, bt_fmt_db(c));
        bt_jw_key(&w, "table");
        bt_jw_str(&w, bt_fmt_table(c));
        if (c->op == BT_OP_UPDATE || c->op == BT_OP_DELETE) {
            bt_jw_key(&w, "before");
            bt_fmt_row_object(&w, c->table, c->before);
        }
        if (c->op != BT_OP_DELETE) {
            bt_jw_key(&w, "after");
            bt_fmt_row_object(&w, c->table, c->after);
        }
        bt_jw_key(&w, "pk");
        bt_fmt_pk_names(&w, c->table);
    }
    bt_jw_key(&w, "file");
    str_or_null(&w, c->file);
    bt_jw_key(&w, "pos");
    bt_jw_uint(&w, c->pos);
    if (!c->is_ddl) {
        bt_jw_key(&w, "row");
        bt_jw_uint(&w, c->row);
    }
    bt_jw_key(&w, "gtid");
    str_or_null(&w, c->gtid);
    bt_jw_key(&w, "server_id");
    bt_jw_uint(&w, c->server_id);
    bt_jw_key(&w, "ts_ms");
    bt_jw_int(&w, c->ts_ms);
    bt_jw_key(&w, "txn");
    bt_jw_uint(&w, c->txn_seq);
    bt_jw_obj_end(&w);
    return bt_fmt_finish("json", key, val, err, errlen);
}
