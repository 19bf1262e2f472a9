/* test_formats_stub.c: stand-ins for the decoder's value rendering (agent/binlog/value_render.c)
 * until that file lands, so test_formats links. The test never relies on how these render a
 * typed value: expected messages are built with the same functions. */
#include <inttypes.h>
#include <stdio.h>

#include "agent/binlog/binlog.h"
#include "agent/json/jsonw.h"

bool bt_value_text(bt_buf_t *out, const bt_column_t *col, const bt_value_t *v) {
    (void)col;
    switch ((bt_vkind_t)v->kind) {
    case BT_VAL_NULL: return false;
    case BT_VAL_INT: bt_buf_printf(out, "%" PRId64, v->i); return true;
    case BT_VAL_UINT:
    case BT_VAL_YEAR:
    case BT_VAL_BIT:
    case BT_VAL_SET: bt_buf_printf(out, "%" PRIu64, v->u); return true;
    case BT_VAL_FLOAT: bt_buf_printf(out, "%g", (double)v->f); return true;
    case BT_VAL_DOUBLE: bt_buf_printf(out, "%g", v->d); return true;
    case BT_VAL_DATE: bt_buf_printf(out, "%04u-%02u-%02u", v->t.year, v->t.month, v->t.day); return true;
    case BT_VAL_DATETIME:
        bt_buf_printf(out, "%04u-%02u-%02u %02u:%02u:%02u", v->t.year, v->t.month, v->t.day, v->t.hour,
                      v->t.minute, v->t.second);
        return true;
    case BT_VAL_TIMESTAMP: bt_buf_printf(out, "@%" PRId64, v->i); return true;
    case BT_VAL_TIME:
        bt_buf_printf(out, "%s%02u:%02u:%02u", v->neg ? "-" : "", v->t.hour, v->t.minute, v->t.second);
        return true;
    case BT_VAL_ENUM:
    case BT_VAL_DECIMAL:
    case BT_VAL_STRING:
    case BT_VAL_BINARY:
    case BT_VAL_JSON:
    case BT_VAL_GEOMETRY:
    case BT_VAL_VECTOR: bt_buf_append(out, v->s ? v->s : "", v->len); return true;
    }
    return false;
}

void bt_value_json(struct bt_jw *w, const bt_column_t *col, const bt_value_t *v) {
    switch ((bt_vkind_t)v->kind) {
    case BT_VAL_NULL: bt_jw_null(w); return;
    case BT_VAL_INT: bt_jw_int(w, v->i); return;
    case BT_VAL_UINT:
    case BT_VAL_YEAR:
    case BT_VAL_BIT: bt_jw_uint(w, v->u); return;
    case BT_VAL_FLOAT: bt_jw_float(w, v->f); return;
    case BT_VAL_DOUBLE: bt_jw_double(w, v->d); return;
    case BT_VAL_BINARY:
    case BT_VAL_GEOMETRY:
    case BT_VAL_VECTOR: bt_jw_base64(w, v->s, v->len); return;
    case BT_VAL_JSON: bt_jw_raw(w, v->s, v->len); return;
    default: break;
    }
    bt_buf_t tmp;
    bt_buf_init(&tmp, 0);
    bt_value_text(&tmp, col, v);
    bt_jw_strn(w, tmp.p ? tmp.p : "", tmp.len);
    bt_buf_free(&tmp);
}

void bt_column_type_name(bt_buf_t *out, const bt_column_t *col) {
    switch (col->type) {
    case BT_TYPE_LONG: bt_buf_puts(out, col->is_unsigned ? "int unsigned" : "int"); break;
    case BT_TYPE_LONGLONG: bt_buf_puts(out, col->is_unsigned ? "bigint unsigned" : "bigint"); break;
    case BT_TYPE_SHORT: bt_buf_puts(out, col->is_unsigned ? "smallint unsigned" : "smallint"); break;
    case BT_TYPE_VARCHAR: bt_buf_printf(out, "varchar(%u)", (unsigned)col->meta / 4); break;
    case BT_TYPE_NEWDECIMAL: bt_buf_printf(out, "decimal(%u,%u)", col->meta >> 8, col->meta & 0xff); break;
    case BT_TYPE_DATETIME2: bt_buf_puts(out, "datetime"); break;
    case BT_TYPE_DATE: bt_buf_puts(out, "date"); break;
    case BT_TYPE_BLOB: bt_buf_puts(out, col->collation == 63 ? "blob" : "text"); break;
    default: bt_buf_printf(out, "type%u", col->type); break;
    }
}
