/* rows_change.c: see rows_change.h. */
#include "agent/stream/rows_change.h"

#include <stdio.h>
#include <string.h>

static uint32_t row_number(bt_row_numbering_t *num, const char *file, const bt_event_t *ev) {
    if (!ev->in_payload) {
        num->pos_plus1 = 0;
        /* bt_rows_next has already counted the row it returned */
        return ev->u.rows.cursor.row_index ? ev->u.rows.cursor.row_index - 1 : 0;
    }
    if (!file) file = "";
    if (num->pos_plus1 != ev->pos + 1 || strncmp(num->file, file, sizeof num->file - 1) != 0) {
        snprintf(num->file, sizeof num->file, "%s", file);
        num->pos_plus1 = ev->pos + 1;
        num->next = 0;
    }
    return num->next++;
}

void bt_rows_change(bt_change_t *c, bt_row_numbering_t *num, const char *file, const bt_event_t *ev,
                    const bt_row_t *before, const bt_row_t *after) {
    const bt_table_t *t = ev->u.rows.table;
    memset(c, 0, sizeof *c);
    c->op = ev->u.rows.op;
    c->table = t;
    c->before = before;
    c->after = after;
    c->db = t->db;
    c->table_name = t->name;
    c->file = file;
    c->pos = ev->pos;
    c->row = row_number(num, file, ev);
}
