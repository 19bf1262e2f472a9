/* partition.c: the bytes the partitioner hashes for a change (--partition-by). */
#include "agent/stream/internal.h"

/* The index of the column named name in t (MySQL column names are case-insensitive), or -1. */
static int column_index(const bt_table_t *t, const char *name) {
    for (uint32_t j = 0; j < t->ncols; j++)
        if (!strcasecmp(t->cols[j].name, name)) return (int)j;
    return -1;
}

/* "--partition-by column:NAME" names a column this table lacks: every row of it would hash the
 * same empty input and land in one partition, so it is an error the operator must settle. */
static int missing_column(const bt_table_t *t, const char *name, char *err, size_t errlen) {
    if (!t->has_names)
        return bt_errf(err, errlen,
                       "--partition-by column:%s: the binlog carries no column names for %s.%s "
                       "(binlog_row_metadata=MINIMAL): set binlog_row_metadata=FULL on the server, or give "
                       "--mysql so bintail can look the names up",
                       name, t->db, t->name);
    bt_buf_t cols;
    bt_buf_init(&cols, 600);
    for (uint32_t j = 0; j < t->ncols; j++) bt_buf_printf(&cols, "%s%s", j ? ", " : "", t->cols[j].name);
    int rc = bt_errf(err, errlen,
                     "--partition-by column:%s: table %s.%s has no column '%s' (its columns: %s); "
                     "name columns every captured table has, or narrow --include",
                     name, t->db, t->name, name, cols.p ? cols.p : "");
    bt_buf_free(&cols);
    return rc;
}

/* The values of the --partition-by columns as a JSON array. A column missing from one image
 * (binlog_row_image=MINIMAL) is taken from the other. */
static int column_values(bt_pipeline_t *p, const bt_change_t *c, char *err, size_t errlen) {
    bt_jw_t w;
    bt_jw_init(&w, &p->hash);
    bt_jw_arr_begin(&w);
    for (size_t i = 0; i < p->pspec.ncolumns && c->table && (c->after || c->before); i++) {
        int j = column_index(c->table, p->pspec.columns[i]);
        if (j < 0) return missing_column(c->table, p->pspec.columns[i], err, errlen);
        const bt_row_t *row = c->after && c->after->v[j].present ? c->after : c->before;
        if (row && row->v[j].present) bt_value_json(&w, &c->table->cols[j], &row->v[j]);
    }
    bt_jw_arr_end(&w);
    return 0;
}

/* The bytes the partitioner hashes for this change; -1 with err when they cannot be made. */
int bt_pl_partition_input(bt_pipeline_t *p, const bt_change_t *c, const bt_buf_t *key, char *err, size_t errlen) {
    bt_buf_reset(&p->hash);
    switch (p->pspec.strategy) {
    case BT_PARTITION_PK:
        if (key->len) {
            bt_buf_append(&p->hash, key->p, key->len);
            return 0;
        }
        /* no key (a table without a primary key): per-table order */
        /* fall through */
    case BT_PARTITION_TABLE:
        bt_buf_puts(&p->hash, c->db ? c->db : "");
        bt_buf_putc(&p->hash, '.');
        bt_buf_puts(&p->hash, c->table_name ? c->table_name : "");
        return 0;
    case BT_PARTITION_DATABASE: bt_buf_puts(&p->hash, c->db ? c->db : ""); return 0;
    case BT_PARTITION_COLUMN: return column_values(p, c, err, errlen);
    default: return 0;
    }
}
