/* partition.c: the bytes the partitioner hashes for a change (--partition-by). */
#include "agent/stream/internal.h"

/* The bytes the partitioner hashes for this change. */
void bt_pl_partition_input(bt_pipeline_t *p, const bt_change_t *c, const bt_buf_t *key) {
    bt_buf_reset(&p->hash);
    switch (p->pspec.strategy) {
    case BT_PARTITION_PK:
        if (key->len) {
            bt_buf_append(&p->hash, key->p, key->len);
            return;
        }
        /* no key (a table without a primary key): per-table order */
        /* fall through */
    case BT_PARTITION_TABLE:
        bt_buf_puts(&p->hash, c->db ? c->db : "");
        bt_buf_putc(&p->hash, '.');
        bt_buf_puts(&p->hash, c->table_name ? c->table_name : "");
        return;
    case BT_PARTITION_DATABASE:
        bt_buf_puts(&p->hash, c->db ? c->db : "");
        return;
    case BT_PARTITION_COLUMN: {
        const bt_row_t *row = c->after ? c->after : c->before;
        bt_jw_t w;
        bt_jw_init(&w, &p->hash);
        bt_jw_arr_begin(&w);
        for (size_t i = 0; i < p->pspec.ncolumns && c->table && row; i++) {
            for (uint32_t j = 0; j < c->table->ncols; j++) {
                if (!strcmp(c->table->cols[j].name, p->pspec.columns[i]) && row->v[j].present) {
                    bt_value_json(&w, &c->table->cols[j], &row->v[j]);
                    break;
                }
            }
        }
        bt_jw_arr_end(&w);
        return;
    }
    default:
        return;
    }
}
