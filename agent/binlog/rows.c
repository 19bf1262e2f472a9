/* rows.c: row events (WRITE/UPDATE/DELETE_ROWS v1 and v2, PARTIAL_UPDATE_ROWS, MariaDB's
 * compressed variants) and the row-by-row walk over their images.
 *
 * The event is checked against its TABLE_MAP once, when it is decoded; bt_rows_next() then
 * decodes one row (its before and/or after image) per call into value arrays the decoder
 * keeps, with variable-size values in a per-row arena reset at each call. A row costs no
 * malloc once the arrays have grown to the widest table seen. */
#include "agent/binlog/decoder_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define PARTIAL_JSON_UPDATES 1

static bool has_before(bt_op_t op) { return op == BT_OP_UPDATE || op == BT_OP_DELETE; }
static bool has_after(bt_op_t op) { return op == BT_OP_UPDATE || op == BT_OP_INSERT; }

static uint32_t popcount_bits(const uint8_t *map, uint32_t nbits) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < nbits / 8; i++) n += (uint32_t)__builtin_popcount(map[i]);
    if (nbits % 8) n += (uint32_t)__builtin_popcount(map[nbits / 8] & ((1u << (nbits % 8)) - 1));
    return n;
}

static int ensure_values(bt_decoder_t *dec, uint32_t ncols) {
    if (ncols <= dec->vals_cap) return 0;
    uint32_t cap = dec->vals_cap ? dec->vals_cap : 16;
    while (cap < ncols) cap *= 2;
    bt_value_t *v = realloc(dec->vals, 2 * (size_t)cap * sizeof *v);
    if (!v) return -1;
    dec->vals = v;
    dec->vals_cap = cap;
    return 0;
}

/* MariaDB's own hi-res TIME/DATETIME/TIMESTAMP (5.3 format, still written by 10.0 and for
 * tables created then) look like the classic types in TABLE_MAP, but take 1-3 more bytes per
 * value depending on the column's decimals, which only the schema knows (a schema callback may
 * set meta = decimals). A wrong guess shifts the rest of the event, so such events are walked
 * whole before their first row is returned: a mismatch then stops decoding before any wrong row
 * goes out, instead of one row later. */
static bool ambiguous_widths(const bt_decoder_t *dec, const bt_table_t *t) {
    if (!dec->fde.mariadb) return false;
    for (uint32_t i = 0; i < t->ncols; i++) {
        uint8_t ty = t->cols[i].type;
        if ((ty == BT_TYPE_TIME || ty == BT_TYPE_DATETIME || ty == BT_TYPE_TIMESTAMP) && t->cols[i].meta == 0)
            return true;
    }
    return false;
}

static int check_whole_event(bt_decoder_t *dec, const bt_event_t *ev, char *err, size_t errlen) {
    bt_event_t probe = *ev;
    const bt_row_t *b, *a;
    int r;
    while ((r = bt_rows_next(dec, &probe, &b, &a, err, errlen)) == 1) {
    }
    if (r < 0 && err && errlen) {
        size_t n = strlen(err);
        snprintf(err + n, errlen - n, " (the table has TIME/DATETIME/TIMESTAMP columns in a format whose size the "
                                      "binlog does not record: MariaDB 5.3 hi-res values need the column's decimals "
                                      "from the schema)");
    }
    bt_arena_reset(&dec->arena);
    return r < 0 ? -1 : 0;
}

/* Rows events, all variants:
 *   post-header: table_id u48 (u32 when the FDE's post-header length is 6) | flags u16 |
 *     [v2 (types 30-32, 39, 169-171): extra_len u16 (counts itself) | extra row info[extra_len - 2]]
 *   width packed | columns-present bitmap[(width+7)/8] (before image; the only one for WRITE and
 *     DELETE) | [UPDATE/PARTIAL_UPDATE: after-image bitmap[(width+7)/8]] |
 *   rows (MariaDB *_COMPRESSED: a compressed block holding them, see bt_dec_inflate_mariadb):
 *     { [before image] [after image] }*, each image:
 *       [PARTIAL_UPDATE after image: value_options packed | if & PARTIAL_JSON: partial bits,
 *        one per JSON column of the table, LSB first] |
 *       NULL bitmap[(present columns + 7)/8] | the present non-NULL values in column order. */
int bt_ev_rows(bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, char *err, size_t errlen) {
    uint8_t t = c->type;
    bt_op_t op;
    bool v2 = false, compressed = false;
    switch (t) {
    case BT_WRITE_ROWS_EVENT_V1: op = BT_OP_INSERT; break;
    case BT_UPDATE_ROWS_EVENT_V1: op = BT_OP_UPDATE; break;
    case BT_DELETE_ROWS_EVENT_V1: op = BT_OP_DELETE; break;
    case BT_WRITE_ROWS_EVENT: op = BT_OP_INSERT; v2 = true; break;
    case BT_UPDATE_ROWS_EVENT: case BT_PARTIAL_UPDATE_ROWS_EVENT: op = BT_OP_UPDATE; v2 = true; break;
    case BT_DELETE_ROWS_EVENT: op = BT_OP_DELETE; v2 = true; break;
    case BT_MARIA_WRITE_ROWS_COMPRESSED_EVENT_V1: op = BT_OP_INSERT; compressed = true; break;
    case BT_MARIA_UPDATE_ROWS_COMPRESSED_EVENT_V1: op = BT_OP_UPDATE; compressed = true; break;
    case BT_MARIA_DELETE_ROWS_COMPRESSED_EVENT_V1: op = BT_OP_DELETE; compressed = true; break;
    case BT_MARIA_WRITE_ROWS_COMPRESSED_EVENT: op = BT_OP_INSERT; compressed = v2 = true; break;
    case BT_MARIA_UPDATE_ROWS_COMPRESSED_EVENT: op = BT_OP_UPDATE; compressed = v2 = true; break;
    case BT_MARIA_DELETE_ROWS_COMPRESSED_EVENT: op = BT_OP_DELETE; compressed = v2 = true; break;
    default: return bt_dec_fail(dec, c, err, errlen, "not a rows event");
    }
    unsigned post = bt_dec_post_len(dec, t, v2 ? 10 : 8);
    if (post != 6 && post != 8 && post != 10)
        return bt_dec_fail(dec, c, err, errlen, "impossible post-header length %u", post);
    bt_rd_t r;
    bt_rd_init(&r, c->body, c->len);
    uint64_t id, width;
    uint16_t flags, extra = 0;
    if (!bt_rd_need(&r, post, "post-header")) return bt_dec_malformed(dec, c, &r, err, errlen);
    id = post == 6 ? bt_le32(r.p) : bt_le48(r.p);
    flags = bt_le16(r.p + (post == 6 ? 4 : 6));
    (void)flags;
    if (post == 10) {
        extra = bt_le16(r.p + 8);
        r.p += post;
        if (extra < 2) return bt_dec_fail(dec, c, err, errlen, "impossible extra row info length %u", (unsigned)extra);
        if (!bt_rd_skip(&r, extra - 2u, "extra row info")) return bt_dec_malformed(dec, c, &r, err, errlen);
    } else {
        r.p += post;
    }
    const uint8_t *cols_b, *cols_a = NULL;
    if (!bt_rd_packed(&r, &width, "column count")) return bt_dec_malformed(dec, c, &r, err, errlen);
    if (width > 65535) return bt_dec_fail(dec, c, err, errlen, "impossible column count %" PRIu64, width);
    size_t bm = (size_t)(width + 7) / 8;
    if (!bt_rd_bytes(&r, bm, &cols_b, "columns-present bitmap")) return bt_dec_malformed(dec, c, &r, err, errlen);
    if (op == BT_OP_UPDATE && !bt_rd_bytes(&r, bm, &cols_a, "after-image columns bitmap"))
        return bt_dec_malformed(dec, c, &r, err, errlen);
    const uint8_t *rows = r.p;
    size_t nrows = bt_rd_left(&r);

    bt_table_entry_t *te = bt_tables_find(dec, id);
    if (!te) {
        /* A "dummy" event (all-ones table id, no rows) only closes a statement. */
        if (nrows == 0 && (id == 0xffffffu || id == 0xffffffffu || id == 0xffffffffffffu)) {
            bt_dec_event_init(dec, c, ev, BT_EV_OTHER);
            return 0;
        }
        return bt_dec_fail(dec, c, err, errlen, "unknown table id %" PRIu64 " (no TABLE_MAP for it was seen)", id);
    }
    const bt_table_t *tb = &te->t;
    if (width != tb->ncols)
        return bt_dec_fail(dec, c, err, errlen, "the event has %" PRIu64 " columns but the TABLE_MAP of %s.%s says %u",
                           width, tb->db, tb->name, tb->ncols);
    if (compressed && bt_dec_inflate_mariadb(dec, c, rows, nrows, &rows, &nrows, err, errlen) < 0) return -1;
    if (ensure_values(dec, tb->ncols) < 0) return bt_dec_fail(dec, c, err, errlen, "out of memory");

    bt_dec_event_init(dec, c, ev, BT_EV_ROWS);
    ev->u.rows.table = tb;
    ev->u.rows.op = op;
    ev->u.rows.partial_json = t == BT_PARTIAL_UPDATE_ROWS_EVENT;
    bt_rows_cursor_t *cur = &ev->u.rows.cursor;
    cur->cur = rows;
    cur->end = rows + nrows;
    if (op == BT_OP_INSERT) {
        cur->cols_after = cols_b;
        cur->nafter = popcount_bits(cols_b, tb->ncols);
    } else {
        cur->cols_before = cols_b;
        cur->nbefore = popcount_bits(cols_b, tb->ncols);
        if (cols_a) {
            cur->cols_after = cols_a;
            cur->nafter = popcount_bits(cols_a, tb->ncols);
        }
    }
    if (ambiguous_widths(dec, tb)) return check_whole_event(dec, ev, err, errlen);
    return 0;
}

/* ---- rows ------------------------------------------------------------------------------- */

typedef struct image_ctx {
    bt_decoder_t *dec;
    const bt_event_t *ev;
    const bt_table_t *t;
    const char *which;        /* "before" / "after" */
    const uint8_t *partial;   /* partial bits (after image of PARTIAL_UPDATE_ROWS), or NULL */
    const bt_value_t *bvals;  /* the before image, for JSON diffs */
} image_ctx_t;

static int row_fail(const image_ctx_t *x, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int row_fail(const image_ctx_t *x, char *err, size_t errlen, const char *fmt, ...) {
    bt_evctx_t c = {.type = x->ev->type, .pos = x->ev->pos, .in_payload = x->ev->in_payload};
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return bt_dec_fail(x->dec, &c, err, errlen, "%s.%s row %u (%s image): %s", x->t->db, x->t->name,
                       x->ev->u.rows.cursor.row_index, x->which, msg);
}

/* Decodes one image at *pp. cols: the columns-present bitmap; npresent: how many it has. */
static int decode_image(const image_ctx_t *x, const uint8_t *cols, uint32_t npresent, bt_value_t *vals,
                        const uint8_t **pp, const uint8_t *end, char *err, size_t errlen) {
    const bt_table_t *t = x->t;
    const uint8_t *p = *pp;
    size_t nb = ((size_t)npresent + 7) / 8;
    if ((size_t)(end - p) < nb)
        return row_fail(x, err, errlen, "row image shorter than the TABLE_MAP says: %zu bytes left, the NULL bitmap "
                                        "needs %zu", (size_t)(end - p), nb);
    const uint8_t *nulls = p;
    p += nb;
    uint32_t k = 0, j = 0;
    char verr[256];
    for (uint32_t i = 0; i < t->ncols; i++) {
        const bt_column_t *col = &t->cols[i];
        bt_value_t *v = &vals[i];
        bool json = col->type == BT_TYPE_JSON;
        uint32_t jidx = j;
        j += json;
        if (!bt_bit(cols, i)) {
            memset(v, 0, sizeof *v);
            continue; /* kind NULL, present false: not in this image */
        }
        if (bt_bit(nulls, k++)) {
            memset(v, 0, sizeof *v);
            v->present = true;
            continue;
        }
        size_t used = 0;
        int rc;
        verr[0] = 0;
        if (json && x->partial && bt_bit(x->partial, jidx)) {
            const bt_value_t *b = x->bvals ? &x->bvals[i] : NULL;
            if (!b || !b->present || b->kind == BT_VAL_NULL)
                return row_fail(x, err, errlen,
                                "column %u (%s): a partial JSON update, but the before image does not carry the "
                                "column (binlog_row_image=MINIMAL/NOBLOB with binlog_row_value_options=PARTIAL_JSON), "
                                "so the new document cannot be known from the binlog",
                                i + 1, col->name);
            rc = bt_json_apply_diff(b, p, (size_t)(end - p), v, &used, &x->dec->arena, verr, sizeof verr);
        } else {
            rc = bt_value_decode(col, p, (size_t)(end - p), v, &used, &x->dec->arena, verr, sizeof verr);
        }
        if (rc < 0)
            return row_fail(x, err, errlen, "column %u (%s, type %u): %s", i + 1, col->name, (unsigned)col->type,
                            verr[0] ? verr : "cannot decode the value");
        if (used > (size_t)(end - p))
            return row_fail(x, err, errlen, "column %u (%s): value decoder overran the image", i + 1, col->name);
        v->present = true;
        p += used;
    }
    *pp = p;
    return 0;
}

int bt_rows_next(bt_decoder_t *dec, bt_event_t *ev, const bt_row_t **before, const bt_row_t **after, char *err,
                 size_t errlen) {
    *before = *after = NULL;
    if (ev->kind != BT_EV_ROWS) return 0;
    bt_rows_cursor_t *cur = &ev->u.rows.cursor;
    if (cur->cur >= cur->end) return 0;
    const bt_table_t *t = ev->u.rows.table;
    if (t->ncols > dec->vals_cap) { /* cannot happen: sized when the event was decoded */
        bt_evctx_t c = {.type = ev->type, .pos = ev->pos, .in_payload = ev->in_payload};
        return bt_dec_fail(dec, &c, err, errlen, "internal error: value arrays too small");
    }
    bt_arena_reset(&dec->arena);
    bt_value_t *bv = dec->vals, *av = dec->vals + dec->vals_cap;
    image_ctx_t x = {dec, ev, t, "before", NULL, NULL};
    const uint8_t *p = cur->cur;
    bt_op_t op = ev->u.rows.op;
    if (has_before(op)) {
        if (decode_image(&x, cur->cols_before, cur->nbefore, bv, &p, cur->end, err, errlen) < 0) return -1;
        dec->before.ncols = t->ncols;
        dec->before.v = bv;
        *before = &dec->before;
    }
    if (has_after(op)) {
        x.which = "after";
        if (ev->u.rows.partial_json) {
            bt_rd_t r;
            bt_rd_init(&r, p, (size_t)(cur->end - p));
            uint64_t opts;
            if (!bt_rd_packed(&r, &opts, "value_options"))
                return row_fail(&x, err, errlen, "row image shorter than the TABLE_MAP says: no value_options");
            if (opts & ~(uint64_t)PARTIAL_JSON_UPDATES)
                return row_fail(&x, err, errlen, "unknown value_options 0x%" PRIx64, opts);
            cur->value_options = (uint32_t)opts;
            if (opts & PARTIAL_JSON_UPDATES) {
                uint32_t njson = ((const bt_table_entry_t *)t)->njson;
                if (!bt_rd_bytes(&r, (njson + 7) / 8, &x.partial, "partial bits"))
                    return row_fail(&x, err, errlen, "row image shorter than the TABLE_MAP says: no partial bits");
                x.bvals = bv;
            }
            p = r.p;
        }
        if (decode_image(&x, cur->cols_after, cur->nafter, av, &p, cur->end, err, errlen) < 0) return -1;
        dec->after.ncols = t->ncols;
        dec->after.v = av;
        *after = &dec->after;
    }
    if (p == cur->cur) /* would repeat forever: no row can be zero bytes long */
        return row_fail(&x, err, errlen, "a row image without columns (columns-present bitmaps are empty)");
    cur->cur = p;
    cur->row_index++;
    return 1;
}
