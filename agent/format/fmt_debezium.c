/* fmt_debezium.c: the value and key a Debezium MySQL connector writes with the JSON converter
 * and schemas.enable=false:
 *   key   {"id":1004}                                   (the primary-key columns)
 *   value {"before":{..}|null,"after":{..}|null,"source":{...},"op":"c|u|d|r","ts_ms":..,
 *          "transaction":null}
 * Deletes are followed by a tombstone (same key, null value) when tombstones are on. An update
 * that changes the primary key becomes what Debezium makes of it: a delete with the old key,
 * its tombstone, and a create with the new key. DDL becomes a schema-change event:
 *   key {"databaseName":db}, value {"source":{..},"ts_ms":..,"databaseName":db,
 *   "schemaName":null,"ddl":"...","tableChanges":[]}
 * Cell values follow bintail's value table (bt_value_json), not Kafka Connect's logical types;
 * docs/formats.md lists the differences. */
#include "config.h"

#include "agent/format/fmt_internal.h"

static bool has_tombstone(const bt_format_t *f, const bt_change_t *c) {
    return f->tombstones && c->table && c->table->npk > 0;
}

unsigned bt_fmt_debezium_count(const bt_format_t *f, const bt_change_t *c) {
    if (c->is_ddl) return 1;
    unsigned tomb = has_tombstone(f, c) ? 1 : 0;
    if (c->op == BT_OP_DELETE) return 1 + tomb;
    if (bt_fmt_pk_changed(c)) return 2 + tomb;
    return 1;
}

bool bt_fmt_debezium_old_key(const bt_format_t *f, const bt_change_t *c, unsigned idx) {
    if (c->is_ddl || !bt_fmt_pk_changed(c)) return false;
    return idx < 1 + (has_tombstone(f, c) ? 1u : 0u);
}

/* The members of "source" before "row", from the fields of c they are made of. */
static void render_source_prefix(bt_buf_t *out, const bt_format_t *f, const bt_change_t *c) {
    bt_jw_t w;
    bt_buf_reset(out);
    bt_jw_init(&w, out);
    bt_jw_obj_begin(&w);
    bt_jw_key(&w, "version");
    bt_jw_str(&w, PACKAGE_VERSION);
    bt_jw_key(&w, "connector");
    bt_jw_str(&w, f->connector);
    bt_jw_key(&w, "name");
    bt_jw_str(&w, f->server_name);
    bt_jw_key(&w, "ts_ms");
    bt_jw_int(&w, c->ts_ms);
    bt_jw_key(&w, "snapshot");
    bt_jw_str(&w, c->snapshot ? (c->snapshot_last ? "last" : "true") : "false");
    bt_jw_key(&w, "db");
    bt_jw_str(&w, bt_fmt_db(c));
    bt_jw_key(&w, "table");
    if (bt_fmt_table(c)) bt_jw_str(&w, bt_fmt_table(c));
    else bt_jw_null(&w);
    bt_jw_key(&w, "server_id");
    bt_jw_uint(&w, c->server_id);
    bt_jw_key(&w, "gtid");
    if (c->gtid && *c->gtid) bt_jw_str(&w, c->gtid);
    else bt_jw_null(&w);
    bt_jw_key(&w, "file");
    bt_jw_str(&w, c->file ? c->file : "");
    bt_jw_key(&w, "pos");
    bt_jw_uint(&w, c->pos);
    bt_jw_key(&w, "row");
}

/* Appends a string field to a fingerprint: its bytes and a NUL, or one 0xff byte for NULL
 * (which no text field contains, so NULL and "" differ). */
static size_t fp_str(char *fp, size_t at, size_t cap, const char *s) {
    if (at == SIZE_MAX) return at;
    if (!s) {
        if (at + 1 > cap) return SIZE_MAX;
        fp[at] = (char)0xff;
        return at + 1;
    }
    size_t n = strlen(s) + 1;
    if (at + n > cap) return SIZE_MAX;
    memcpy(fp + at, s, n);
    return at + n;
}

/* Everything render_source_prefix reads from c, as bytes; SIZE_MAX when it does not fit in
 * cap (then the prefix is rendered afresh). */
static size_t source_fingerprint(char *fp, size_t cap, const bt_change_t *c) {
    struct {
        int64_t ts_ms;
        uint64_t server_id, pos;
        uint8_t snapshot;
    } nums;
    memset(&nums, 0, sizeof nums);
    nums.ts_ms = c->ts_ms;
    nums.server_id = c->server_id;
    nums.pos = c->pos;
    nums.snapshot = (uint8_t)(c->snapshot ? (c->snapshot_last ? 2 : 1) : 0);
    if (cap < sizeof nums) return SIZE_MAX;
    memcpy(fp, &nums, sizeof nums);
    size_t at = sizeof nums;
    at = fp_str(fp, at, cap, bt_fmt_db(c));
    at = fp_str(fp, at, cap, bt_fmt_table(c));
    at = fp_str(fp, at, cap, c->gtid && *c->gtid ? c->gtid : NULL);
    return fp_str(fp, at, cap, c->file ? c->file : "");
}

/* "source" is the same for every row of a rows event but for its row number, so its prefix
 * is rendered once per event and copied (it is about half of each message). */
static void write_source(bt_jw_t *w, bt_format_t *f, const bt_change_t *c) {
    char fp[512];
    size_t n = source_fingerprint(fp, sizeof fp, c);
    if (n == SIZE_MAX || n != f->src_fields.len || memcmp(fp, f->src_fields.p, n) != 0) {
        render_source_prefix(&f->src_prefix, f, c);
        bt_buf_reset(&f->src_fields);
        if (n != SIZE_MAX) bt_buf_append(&f->src_fields, fp, n);
    }
    static const char suffix[] = ",\"thread\":null,\"query\":null}";
    if (f->src_prefix.failed) w->b->failed = true;
    bt_jw_raw(w, f->src_prefix.p, f->src_prefix.len);
    /* The row number goes right after the prefix's "row": a writer of its own, as w has already
     * counted the whole object as one value. */
    bt_jw_t row;
    bt_jw_init(&row, w->b);
    bt_jw_uint(&row, c->row);
    bt_buf_append(w->b, suffix, sizeof suffix - 1);
}

static void write_envelope(bt_jw_t *w, bt_format_t *f, const bt_change_t *c, const bt_row_t *before,
                           const bt_row_t *after, const char *op) {
    bt_jw_obj_begin(w);
    bt_jw_key(w, "before");
    bt_fmt_row_object(w, c->table, before);
    bt_jw_key(w, "after");
    bt_fmt_row_object(w, c->table, after);
    bt_jw_key(w, "source");
    write_source(w, f, c);
    bt_jw_key(w, "op");
    bt_jw_str(w, op);
    bt_jw_key(w, "ts_ms");
    bt_jw_int(w, c->now_ms);
    bt_jw_key(w, "transaction");
    bt_jw_null(w);
    bt_jw_obj_end(w);
}

static void write_key(bt_buf_t *key, const bt_change_t *c, bool old) {
    if (c->table->npk == 0) return; /* no key: Debezium's key is null */
    bt_jw_t w;
    bt_jw_init(&w, key);
    bt_fmt_pk_object(&w, c, old);
}

int bt_fmt_debezium_encode(bt_format_t *f, const bt_change_t *c, unsigned idx, bt_buf_t *key, bt_buf_t *val,
                           bool *null_value, char *err, size_t errlen) {
    bt_jw_t w;
    if (c->is_ddl) {
        bt_jw_init(&w, key);
        bt_jw_obj_begin(&w);
        bt_jw_key(&w, "databaseName");
        bt_jw_str(&w, bt_fmt_db(c));
        bt_jw_obj_end(&w);
        bt_jw_init(&w, val);
        bt_jw_obj_begin(&w);
        bt_jw_key(&w, "source");
        write_source(&w, f, c);
        bt_jw_key(&w, "ts_ms");
        bt_jw_int(&w, c->now_ms);
        bt_jw_key(&w, "databaseName");
        bt_jw_str(&w, bt_fmt_db(c));
        bt_jw_key(&w, "schemaName");
        bt_jw_null(&w);
        bt_jw_key(&w, "ddl");
        if (c->sql) bt_jw_strn(&w, c->sql, c->sql_len);
        else bt_jw_str(&w, "");
        bt_jw_key(&w, "tableChanges");
        bt_jw_arr_begin(&w);
        bt_jw_arr_end(&w);
        bt_jw_obj_end(&w);
        return bt_fmt_finish("debezium", key, val, err, errlen);
    }
    if (bt_fmt_check_row("debezium", c, err, errlen) < 0) return -1;
    bool tomb = has_tombstone(f, c);
    bt_jw_init(&w, val);
    if (c->op == BT_OP_DELETE) {
        write_key(key, c, false);
        if (idx == 1) *null_value = true;
        else write_envelope(&w, f, c, c->before, NULL, "d");
    } else if (c->op == BT_OP_UPDATE && bt_fmt_pk_changed(c)) {
        unsigned last = tomb ? 2 : 1;
        write_key(key, c, idx < last);
        if (idx == last) write_envelope(&w, f, c, NULL, c->after, "c");
        else if (idx == 1) *null_value = true;
        else write_envelope(&w, f, c, c->before, NULL, "d");
    } else {
        write_key(key, c, false);
        switch (c->op) {
        case BT_OP_INSERT: write_envelope(&w, f, c, NULL, c->after, "c"); break;
        case BT_OP_READ: write_envelope(&w, f, c, NULL, c->after, "r"); break;
        default: write_envelope(&w, f, c, c->before, c->after, "u"); break;
        }
    }
    return bt_fmt_finish("debezium", key, val, err, errlen);
}
