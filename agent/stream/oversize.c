/* oversize.c: messages over --max-record-bytes (--oversize fail, skip, drop-columns). */
#include "agent/stream/internal.h"

/* Rough encoded size of a value, for choosing which columns --oversize drop-columns nulls. */
static size_t value_weight(const bt_value_t *v) {
    if (!v->present || v->kind == BT_VAL_NULL) return 0;
    return v->s ? v->len : 8;
}

/* --oversize drop-columns: copy the row images with the largest columns set to NULL, one
 * more column each round, until the message fits (or nothing is left to drop). The copies
 * stay in c (pointing at p->scratch_rows) for the change's later messages; the names of the
 * dropped columns accumulate in `dropped` (the bintail.dropped header of every later message). */
static int shrink_change(bt_pipeline_t *p, bt_change_t *c, unsigned idx, bool *null_value, char *dropped,
                         size_t droppedlen, char *err, size_t errlen) {
    const bt_table_t *t = c->table;
    if (!t || t->ncols > 4096) return 1;
    bt_value_t *vb = p->scratch_values, *va = p->scratch_values + 4096;
    bt_row_t *rb = &p->scratch_rows[0], *ra = &p->scratch_rows[1];
    if (c->before && c->before != rb) {
        memcpy(vb, c->before->v, t->ncols * sizeof *vb);
        *rb = (bt_row_t){t->ncols, vb};
        c->before = rb;
    }
    if (c->after && c->after != ra) {
        memcpy(va, c->after->v, t->ncols * sizeof *va);
        *ra = (bt_row_t){t->ncols, va};
        c->after = ra;
    }
    size_t n = strlen(dropped);
    for (;;) {
        uint32_t best = UINT32_MAX;
        size_t best_w = 0;
        for (uint32_t i = 0; i < t->ncols; i++) {
            if (t->cols[i].pk) continue; /* the key must stay: it identifies the row */
            size_t w = (c->before ? value_weight(&vb[i]) : 0) + (c->after ? value_weight(&va[i]) : 0);
            if (w > best_w) best_w = w, best = i;
        }
        if (best == UINT32_MAX) return 1; /* nothing left to drop */
        if (c->before && vb[best].present) vb[best].kind = BT_VAL_NULL, vb[best].s = NULL, vb[best].len = 0;
        if (c->after && va[best].present) va[best].kind = BT_VAL_NULL, va[best].s = NULL, va[best].len = 0;
        n += (size_t)snprintf(dropped + n, n < droppedlen ? droppedlen - n : 0, "%s%s", n ? "," : "",
                              t->cols[best].name);
        if (n >= droppedlen) n = droppedlen - 1;
        if (bt_format_encode(p->fmt, c, idx, &p->key, &p->val, null_value, err, errlen) != 0) return -1;
        size_t size = p->key.len + (*null_value ? 0 : p->val.len);
        if ((int64_t)size <= p->cfg->max_record_bytes) return 0;
    }
}

static void skip_warning(bt_pipeline_t *p, const bt_change_t *c, size_t size) {
    bt_warn("skipped a change of %s.%s (key %.*s) at %s:%" PRIu64 ": a %zu-byte message, over --max-record-bytes %"
            PRId64 " (--oversize skip)", c->db, c->table_name ? c->table_name : "",
            (int)(p->key.len > 200 ? 200 : p->key.len), p->key.p ? (const char *)p->key.p : "",
            c->file ? c->file : "snapshot", c->pos, size, p->cfg->max_record_bytes);
    atomic_fetch_add(&p->stats.skipped_oversize, 1);
}

/* A message over --max-record-bytes: 0 = go on with what is in key/val now (shrunk), 1 = skip
 * it, -1 = stop with err. */
int bt_pl_handle_oversize(bt_pipeline_t *p, bt_change_t *c, unsigned idx, bool *null_value, size_t size,
                           char *dropped, size_t droppedlen, char *err, size_t errlen) {
    const char *policy = p->cfg->oversize;
    if (!strcmp(policy, "drop-columns") && c->table) {
        if (!p->scratch_values && !(p->scratch_values = malloc(2 * 4096 * sizeof(bt_value_t)))) {
            snprintf(err, errlen, "out of memory for --oversize drop-columns");
            return -1;
        }
        int rc = shrink_change(p, c, idx, null_value, dropped, droppedlen, err, errlen);
        if (rc <= 0) {
            if (rc == 0)
                bt_warn("%s.%s at %s:%" PRIu64 ": a %zu-byte message was over --max-record-bytes; sent with "
                        "columns %s set to null", c->db, c->table_name, c->file ? c->file : "snapshot", c->pos,
                        size, dropped);
            return rc;
        }
        /* even with every column but the key set to null it does not fit */
        snprintf(err, errlen, "a %zu-byte message for %s.%s (key %.*s) at %s:%" PRIu64 " is over --max-record-bytes "
                 "%" PRId64 " even with every column but the key set to null (--oversize drop-columns): raise the "
                 "limit (and the topic's max.message.bytes), or use --oversize skip", size, c->db,
                 c->table_name ? c->table_name : "", (int)(p->key.len > 200 ? 200 : p->key.len),
                 p->key.p ? (const char *)p->key.p : "", c->file ? c->file : "snapshot", c->pos,
                 p->cfg->max_record_bytes);
        return -1;
    }
    if (!strcmp(policy, "skip")) {
        skip_warning(p, c, size);
        return 1;
    }
    snprintf(err, errlen, "a %zu-byte message for %s.%s (key %.*s) at %s:%" PRIu64
                          " is over --max-record-bytes %" PRId64 ": raise the limit (and the topic's "
                          "max.message.bytes), or use --oversize skip or drop-columns",
             size, c->db, c->table_name ? c->table_name : "", (int)(p->key.len > 200 ? 200 : p->key.len),
             p->key.p ? (const char *)p->key.p : "", c->file ? c->file : "snapshot", c->pos, p->cfg->max_record_bytes);
    return -1;
}

/* --oversize skip drops a whole change, never a part of it (a delete without its tombstone, a
 * key-changing update's delete without its create): a change of several messages is checked
 * whole before any of them goes out. 1 = skip it, 0 = it fits, -1 = error. */
int bt_pl_oversize_skips_change(bt_pipeline_t *p, const bt_change_t *c, unsigned n, char *err, size_t errlen) {
    if (n < 2 || strcmp(p->cfg->oversize, "skip") != 0) return 0;
    for (unsigned idx = 0; idx < n; idx++) {
        bool null_value = false;
        if (bt_format_encode(p->fmt, c, idx, &p->key, &p->val, &null_value, err, errlen) != 0) return -1;
        size_t size = p->key.len + (null_value ? 0 : p->val.len);
        if ((int64_t)size > p->cfg->max_record_bytes) {
            skip_warning(p, c, size);
            return 1;
        }
    }
    return 0;
}
