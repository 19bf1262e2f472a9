/* fmt_upsert.c: the key-compacted table view of a stream. Key: the primary-key object;
 * value: the row after the change as {"column": typed value}; a delete is a tombstone (null
 * value). An update that changes the primary key first tombstones the old key, then writes
 * the row under the new one. DDL makes no message. Meant for binlog_row_image=FULL: with
 * partial images the value holds only the columns the binlog carried. */
#include "agent/format/fmt_internal.h"

unsigned bt_fmt_upsert_count(const bt_format_t *f, const bt_change_t *c) {
    (void)f;
    if (c->is_ddl) return 0;
    return bt_fmt_pk_changed(c) ? 2 : 1;
}

bool bt_fmt_upsert_old_key(const bt_format_t *f, const bt_change_t *c, unsigned idx) {
    (void)f;
    return idx == 0 && !c->is_ddl && bt_fmt_pk_changed(c);
}

int bt_fmt_upsert_encode(bt_format_t *f, const bt_change_t *c, unsigned idx, bt_buf_t *key, bt_buf_t *val,
                         bool *null_value, char *err, size_t errlen) {
    (void)f;
    if (bt_fmt_check_row("upsert", c, err, errlen) < 0) return -1;
    bool old = idx == 0 && bt_fmt_pk_changed(c);
    if (c->table->npk) {
        bt_jw_t kw;
        bt_jw_init(&kw, key);
        bt_fmt_pk_object(&kw, c, old);
    }
    if (c->op == BT_OP_DELETE || old) {
        *null_value = true;
    } else {
        bt_jw_t w;
        bt_jw_init(&w, val);
        bt_fmt_row_object(&w, c->table, c->after);
    }
    return bt_fmt_finish("upsert", key, val, err, errlen);
}
