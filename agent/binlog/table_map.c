/* table_map.c: TABLE_MAP events with all their optional metadata, and the decoder's table
 * store (table id -> table), which rows events look their columns up in.
 *
 * Each table lives in one small pool of chunks freed together, so replacing or dropping a
 * table is one call and a table's size follows its event's size. The store drops everything
 * on a new FORMAT_DESCRIPTION, and at the start of a transaction once it holds more than
 * BT_TABLES_SOFT_MAX tables: servers write a TABLE_MAP before the rows of every statement, so a
 * table is never needed across transactions, and memory stays bounded on a long stream whose
 * table ids keep growing. */
#include "agent/binlog/decoder_internal.h"
#include "agent/binlog/value_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#define BT_TABLES_SOFT_MAX 4096

/* Optional metadata field types (binlog_row_metadata=FULL adds names, strings, keys). */
enum {
    OM_SIGNEDNESS = 1, OM_DEFAULT_CHARSET = 2, OM_COLUMN_CHARSET = 3, OM_COLUMN_NAME = 4,
    OM_SET_STR_VALUE = 5, OM_ENUM_STR_VALUE = 6, OM_GEOMETRY_TYPE = 7, OM_SIMPLE_PRIMARY_KEY = 8,
    OM_PRIMARY_KEY_WITH_PREFIX = 9, OM_ENUM_AND_SET_DEFAULT_CHARSET = 10, OM_ENUM_AND_SET_COLUMN_CHARSET = 11,
    OM_COLUMN_VISIBILITY = 12, OM_VECTOR_DIMENSIONALITY = 13,
};

/* ---- per-table pool --------------------------------------------------------------------- */

struct bt_pool_chunk {
    struct bt_pool_chunk *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
};

static void *pool_alloc(bt_table_entry_t *te, size_t n) {
    n = (n + 7) & ~(size_t)7;
    bt_pool_chunk_t *c = te->pool;
    if (!c || c->size - c->used < n) {
        size_t size = n > 1024 ? n : 1024;
        c = malloc(sizeof *c + size);
        if (!c) return NULL;
        c->used = 0;
        c->size = size;
        c->next = te->pool;
        te->pool = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

static char *pool_dup(bt_table_entry_t *te, const void *s, size_t n) {
    char *d = pool_alloc(te, n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

static void entry_free(bt_table_entry_t *te) {
    bt_pool_chunk_t *c = te->pool;
    while (c) {
        bt_pool_chunk_t *next = c->next;
        free(c);
        c = next;
    }
    free(te);
}

/* ---- the store -------------------------------------------------------------------------- */

static uint32_t slot(const bt_decoder_t *dec, uint64_t id) {
    return (uint32_t)((id * 0x9E3779B97F4A7C15ull) >> 32) & (dec->nbuckets - 1);
}

bt_table_entry_t *bt_tables_find(bt_decoder_t *dec, uint64_t id) {
    if (dec->last && dec->last->t.id == id) return dec->last;
    if (!dec->nbuckets) return NULL;
    for (bt_table_entry_t *te = dec->buckets[slot(dec, id)]; te; te = te->next)
        if (te->t.id == id) return dec->last = te;
    return NULL;
}

void bt_tables_clear(bt_decoder_t *dec) {
    for (uint32_t i = 0; i < dec->nbuckets; i++) {
        bt_table_entry_t *te = dec->buckets[i];
        while (te) {
            bt_table_entry_t *next = te->next;
            entry_free(te);
            te = next;
        }
        dec->buckets[i] = NULL;
    }
    dec->ntables = 0;
    dec->last = NULL;
}

void bt_tables_free(bt_decoder_t *dec) {
    bt_tables_clear(dec);
    free(dec->buckets);
    dec->buckets = NULL;
    dec->nbuckets = 0;
}

/* Drops every table at a transaction start when the store has grown large (see the top). */
void bt_tables_trim(bt_decoder_t *dec) {
    if (dec->ntables > BT_TABLES_SOFT_MAX) bt_tables_clear(dec);
}

static int tables_put(bt_decoder_t *dec, bt_table_entry_t *te) {
    if (dec->ntables + 1 > dec->nbuckets) {
        uint32_t n = dec->nbuckets ? dec->nbuckets * 2 : 64;
        bt_table_entry_t **nb = calloc(n, sizeof *nb);
        if (!nb) return -1;
        uint32_t old = dec->nbuckets;
        bt_table_entry_t **ob = dec->buckets;
        dec->buckets = nb;
        dec->nbuckets = n;
        for (uint32_t i = 0; i < old; i++) {
            bt_table_entry_t *e = ob[i];
            while (e) {
                bt_table_entry_t *next = e->next;
                uint32_t s = slot(dec, e->t.id);
                e->next = nb[s];
                nb[s] = e;
                e = next;
            }
        }
        free(ob);
    }
    bt_table_entry_t **pp = &dec->buckets[slot(dec, te->t.id)];
    while (*pp) {
        if ((*pp)->t.id == te->t.id) { /* a new TABLE_MAP with the same id replaces the old one */
            bt_table_entry_t *old = *pp;
            te->next = old->next;
            *pp = te;
            if (dec->last == old) dec->last = NULL;
            entry_free(old);
            return 0;
        }
        pp = &(*pp)->next;
    }
    te->next = NULL;
    *pp = te;
    dec->ntables++;
    return 0;
}

/* ---- column classes, as the optional metadata counts them ------------------------------- */

static bool is_numeric(uint8_t t, bool mariadb) {
    switch (t) {
    case BT_TYPE_TINY: case BT_TYPE_SHORT: case BT_TYPE_INT24: case BT_TYPE_LONG: case BT_TYPE_LONGLONG:
    case BT_TYPE_NEWDECIMAL: case BT_TYPE_FLOAT: case BT_TYPE_DOUBLE:
        return true;
    case BT_TYPE_YEAR:
        /* YEAR gets a SIGNEDNESS bit from both servers: a real MySQL 9.7 writes one (a table
         * id INT, YEAR, BIGINT UNSIGNED, MEDIUMINT, TINYINT UNSIGNED has five bits, YEAR's set),
         * as MariaDB does; tests/integration/type_matrix.sh checks it against both. */
        (void)mariadb;
        return true;
    default:
        return false;
    }
}

/* Character columns get a COLUMN_CHARSET / DEFAULT_CHARSET entry. MariaDB counts GEOMETRY (a
 * BLOB underneath) and its COMPRESSED columns among them; MySQL 9 counts VECTOR. ENUM and SET
 * have their own lists. */
static bool is_character(uint8_t t, bool mariadb) {
    switch (t) {
    case BT_TYPE_STRING: case BT_TYPE_VAR_STRING: case BT_TYPE_VARCHAR: case BT_TYPE_BLOB:
    case BT_TYPE_TINY_BLOB: case BT_TYPE_MEDIUM_BLOB: case BT_TYPE_LONG_BLOB:
        return true;
    case BT_TYPE_GEOMETRY:
    case 140: /* MariaDB BLOB COMPRESSED */
    case 141: /* MariaDB VARCHAR COMPRESSED */
        return mariadb;
    case BT_TYPE_VECTOR:
        return !mariadb;
    default:
        return false;
    }
}

/* Type metadata of one column as a 16-bit value, the way MySQL's table_def assembles it:
 * STRING/ENUM/SET and NEWDECIMAL high byte first (real type << 8 | length; precision << 8 |
 * scale), VARCHAR/VAR_STRING and BIT little-endian (max length; bits % 8 | bytes << 8), one-byte
 * metadata as is. */
static uint16_t assemble_meta(uint8_t type, const uint8_t *m, size_t n) {
    if (n == 0) return 0;
    if (n == 1) return m[0];
    switch (type) {
    case BT_TYPE_STRING: case BT_TYPE_ENUM: case BT_TYPE_SET: case BT_TYPE_NEWDECIMAL:
        return (uint16_t)(m[0] << 8 | m[1]);
    default:
        return bt_le16(m);
    }
}

/* ---- optional metadata ------------------------------------------------------------------ */

typedef struct om_ctx {
    bt_decoder_t *dec;
    const bt_evctx_t *c;
    bt_table_entry_t *te;
    char *err;
    size_t errlen;
} om_ctx_t;

#define OM_FAIL(...) bt_dec_fail(x->dec, x->c, x->err, x->errlen, __VA_ARGS__)

/* Column index of the k-th column for which pick() holds, or ncols. */
typedef bool (*col_pick_fn)(const bt_column_t *col, bool mariadb);
static bool pick_numeric(const bt_column_t *col, bool m) { return is_numeric(col->type, m); }
static bool pick_character(const bt_column_t *col, bool m) { return is_character(col->type, m); }
static bool pick_enum_set(const bt_column_t *col, bool m) { (void)m; return col->type == BT_TYPE_ENUM || col->type == BT_TYPE_SET; }
static bool pick_enum(const bt_column_t *col, bool m) { (void)m; return col->type == BT_TYPE_ENUM; }
static bool pick_set(const bt_column_t *col, bool m) { (void)m; return col->type == BT_TYPE_SET; }
static bool pick_geometry(const bt_column_t *col, bool m) { (void)m; return col->type == BT_TYPE_GEOMETRY; }
static bool pick_vector(const bt_column_t *col, bool m) { (void)m; return col->type == BT_TYPE_VECTOR; }

static uint32_t count_cols(const bt_table_t *t, col_pick_fn pick, bool mariadb) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->ncols; i++) n += pick(&t->cols[i], mariadb);
    return n;
}

/* The k-th picked column's index (k < count). */
static uint32_t nth_col(const bt_table_t *t, col_pick_fn pick, bool mariadb, uint32_t k) {
    for (uint32_t i = 0; i < t->ncols; i++)
        if (pick(&t->cols[i], mariadb) && k-- == 0) return i;
    return t->ncols;
}

/* SIGNEDNESS: one bit per numeric column, most significant bit first. */
static int om_signedness(om_ctx_t *x, const uint8_t *v, size_t n, bool mariadb) {
    bt_table_t *t = &x->te->t;
    uint32_t k = 0, nnum = count_cols(t, pick_numeric, mariadb);
    if ((size_t)nnum > n * 8) return OM_FAIL("SIGNEDNESS metadata has %zu bits for %u numeric columns", n * 8, nnum);
    for (uint32_t i = 0; i < t->ncols; i++)
        if (is_numeric(t->cols[i].type, mariadb)) t->cols[i].is_unsigned = bt_bit_msb(v, k++);
    return 0;
}

/* DEFAULT_CHARSET / ENUM_AND_SET_DEFAULT_CHARSET: default collation, then pairs of
 * (index among the picked columns, collation) for the exceptions.
 * COLUMN_CHARSET / ENUM_AND_SET_COLUMN_CHARSET: one collation per picked column. */
static int om_charset(om_ctx_t *x, const uint8_t *v, size_t n, bool per_column, col_pick_fn pick, bool mariadb,
                      const char *what) {
    bt_table_t *t = &x->te->t;
    uint32_t npick = count_cols(t, pick, mariadb);
    bt_rd_t r;
    bt_rd_init(&r, v, n);
    uint64_t cs, idx;
    if (per_column) {
        for (uint32_t k = 0; k < npick; k++) {
            if (!bt_rd_packed(&r, &cs, what)) return OM_FAIL("%s metadata lists fewer than %u columns", what, npick);
            if (cs > 0xffff) return OM_FAIL("impossible collation id %" PRIu64 " in %s", cs, what);
            t->cols[nth_col(t, pick, mariadb, k)].collation = (uint16_t)cs;
        }
        if (bt_rd_left(&r)) return OM_FAIL("%s metadata lists more than %u columns", what, npick);
        return 0;
    }
    if (!bt_rd_packed(&r, &cs, what)) return OM_FAIL("%s metadata has no default collation", what);
    if (cs > 0xffff) return OM_FAIL("impossible collation id %" PRIu64 " in %s", cs, what);
    for (uint32_t i = 0; i < t->ncols; i++)
        if (pick(&t->cols[i], mariadb)) t->cols[i].collation = (uint16_t)cs;
    while (bt_rd_left(&r)) {
        if (!bt_rd_packed(&r, &idx, what) || !bt_rd_packed(&r, &cs, what))
            return OM_FAIL("malformed %s metadata: a column/collation pair is cut short", what);
        if (idx >= npick || cs > 0xffff)
            return OM_FAIL("%s metadata names column %" PRIu64 " of %u with collation %" PRIu64, what, idx, npick, cs);
        t->cols[nth_col(t, pick, mariadb, (uint32_t)idx)].collation = (uint16_t)cs;
    }
    return 0;
}

/* COLUMN_NAME: for every column, length (packed) and name. */
static int om_names(om_ctx_t *x, const uint8_t *v, size_t n) {
    bt_table_t *t = &x->te->t;
    bt_rd_t r;
    bt_rd_init(&r, v, n);
    for (uint32_t i = 0; i < t->ncols; i++) {
        uint64_t len;
        const uint8_t *s;
        if (!bt_rd_packed(&r, &len, "name") || !bt_rd_bytes(&r, len, &s, "name"))
            return OM_FAIL("COLUMN_NAME metadata lists fewer than %u columns", t->ncols);
        char *d = pool_dup(x->te, s, len);
        if (!d) return OM_FAIL("out of memory");
        t->cols[i].name = d;
        t->cols[i].name_len = (uint32_t)len;
    }
    if (bt_rd_left(&r)) return OM_FAIL("COLUMN_NAME metadata lists more than %u columns", t->ncols);
    t->has_names = true;
    return 0;
}

/* SET_STR_VALUE / ENUM_STR_VALUE: for every SET (ENUM) column: count (packed), then count
 * strings, each length (packed) and bytes. */
static int om_labels(om_ctx_t *x, const uint8_t *v, size_t n, col_pick_fn pick, const char *what) {
    bt_table_t *t = &x->te->t;
    uint32_t npick = count_cols(t, pick, false);
    bt_rd_t r;
    bt_rd_init(&r, v, n);
    for (uint32_t k = 0; k < npick; k++) {
        bt_column_t *col = &t->cols[nth_col(t, pick, false, k)];
        uint64_t cnt;
        if (!bt_rd_packed(&r, &cnt, what)) return OM_FAIL("%s metadata lists fewer than %u columns", what, npick);
        if (cnt > bt_rd_left(&r) || cnt > 65535) /* every label takes at least its length byte */
            return OM_FAIL("%s metadata: impossible count %" PRIu64, what, cnt);
        const char **labels = pool_alloc(x->te, (size_t)cnt * sizeof *labels + 1);
        uint32_t *lens = pool_alloc(x->te, (size_t)cnt * sizeof *lens + 1);
        if (!labels || !lens) return OM_FAIL("out of memory");
        for (uint64_t j = 0; j < cnt; j++) {
            uint64_t len;
            const uint8_t *s;
            if (!bt_rd_packed(&r, &len, what) || !bt_rd_bytes(&r, len, &s, what))
                return OM_FAIL("malformed %s metadata: a string is cut short", what);
            if (!(labels[j] = pool_dup(x->te, s, len))) return OM_FAIL("out of memory");
            lens[j] = (uint32_t)len;
        }
        col->labels = labels;
        col->label_lens = lens;
        col->nlabels = (uint32_t)cnt;
    }
    if (bt_rd_left(&r)) return OM_FAIL("%s metadata lists more than %u columns", what, npick);
    return 0;
}

/* GEOMETRY_TYPE / VECTOR_DIMENSIONALITY: one packed number per GEOMETRY (VECTOR) column. */
static int om_per_column_number(om_ctx_t *x, const uint8_t *v, size_t n, col_pick_fn pick, const char *what) {
    bt_table_t *t = &x->te->t;
    uint32_t npick = count_cols(t, pick, false);
    bt_rd_t r;
    bt_rd_init(&r, v, n);
    for (uint32_t k = 0; k < npick; k++) {
        uint64_t num;
        if (!bt_rd_packed(&r, &num, what)) return OM_FAIL("%s metadata lists fewer than %u columns", what, npick);
        bt_column_t *col = &t->cols[nth_col(t, pick, false, k)];
        if (pick == pick_vector) {
            if (num > 16383) return OM_FAIL("impossible VECTOR dimensionality %" PRIu64, num);
            col->vector_dim = (uint32_t)num;
        } else {
            if (num > 255) return OM_FAIL("impossible geometry type %" PRIu64, num);
            col->geometry_type = (uint8_t)num;
        }
    }
    if (bt_rd_left(&r)) return OM_FAIL("%s metadata lists more than %u columns", what, npick);
    return 0;
}

/* SIMPLE_PRIMARY_KEY: column indexes (packed). PRIMARY_KEY_WITH_PREFIX: pairs of column index
 * and prefix length (0 = the whole column). */
static int om_primary_key(om_ctx_t *x, const uint8_t *v, size_t n, bool with_prefix) {
    bt_table_t *t = &x->te->t;
    bt_rd_t r;
    bt_rd_init(&r, v, n);
    uint32_t *pk = pool_alloc(x->te, (n + 1) * sizeof *pk); /* at most one entry per byte */
    if (!pk) return OM_FAIL("out of memory");
    uint32_t npk = 0;
    while (bt_rd_left(&r)) {
        uint64_t idx, prefix;
        if (!bt_rd_packed(&r, &idx, "primary key column") ||
            (with_prefix && !bt_rd_packed(&r, &prefix, "primary key prefix")))
            return OM_FAIL("malformed primary key metadata");
        if (idx >= t->ncols) return OM_FAIL("primary key names column %" PRIu64 " of %u", idx, t->ncols);
        if (t->cols[idx].pk) return OM_FAIL("primary key names column %" PRIu64 " twice", idx);
        t->cols[idx].pk = true;
        pk[npk++] = (uint32_t)idx;
    }
    t->pk = pk;
    t->npk = npk;
    return 0;
}

/* COLUMN_VISIBILITY: one bit per column, most significant first; 1 = visible. */
static int om_visibility(om_ctx_t *x, const uint8_t *v, size_t n) {
    bt_table_t *t = &x->te->t;
    if ((size_t)t->ncols > n * 8) return OM_FAIL("COLUMN_VISIBILITY metadata has %zu bits for %u columns", n * 8, t->ncols);
    for (uint32_t i = 0; i < t->ncols; i++) t->cols[i].invisible = !bt_bit_msb(v, i);
    return 0;
}

static int parse_optional(om_ctx_t *x, const uint8_t *p, size_t n) {
    bool mariadb = x->dec->fde.mariadb;
    bt_rd_t r;
    bt_rd_init(&r, p, n);
    while (bt_rd_left(&r)) {
        uint8_t type;
        uint64_t len;
        const uint8_t *v;
        if (!bt_rd_u8(&r, &type, "optional metadata type") || !bt_rd_packed(&r, &len, "optional metadata length") ||
            !bt_rd_bytes(&r, len, &v, "optional metadata value"))
            return bt_dec_malformed(x->dec, x->c, &r, x->err, x->errlen);
        int rc = 0;
        switch (type) {
        case OM_SIGNEDNESS: rc = om_signedness(x, v, len, mariadb); break;
        case OM_DEFAULT_CHARSET: rc = om_charset(x, v, len, false, pick_character, mariadb, "DEFAULT_CHARSET"); break;
        case OM_COLUMN_CHARSET: rc = om_charset(x, v, len, true, pick_character, mariadb, "COLUMN_CHARSET"); break;
        case OM_COLUMN_NAME: rc = om_names(x, v, len); break;
        case OM_SET_STR_VALUE: rc = om_labels(x, v, len, pick_set, "SET_STR_VALUE"); break;
        case OM_ENUM_STR_VALUE: rc = om_labels(x, v, len, pick_enum, "ENUM_STR_VALUE"); break;
        case OM_GEOMETRY_TYPE: rc = om_per_column_number(x, v, len, pick_geometry, "GEOMETRY_TYPE"); break;
        case OM_SIMPLE_PRIMARY_KEY: rc = om_primary_key(x, v, len, false); break;
        case OM_PRIMARY_KEY_WITH_PREFIX: rc = om_primary_key(x, v, len, true); break;
        case OM_ENUM_AND_SET_DEFAULT_CHARSET:
            rc = om_charset(x, v, len, false, pick_enum_set, mariadb, "ENUM_AND_SET_DEFAULT_CHARSET");
            break;
        case OM_ENUM_AND_SET_COLUMN_CHARSET:
            rc = om_charset(x, v, len, true, pick_enum_set, mariadb, "ENUM_AND_SET_COLUMN_CHARSET");
            break;
        case OM_COLUMN_VISIBILITY: rc = om_visibility(x, v, len); break;
        case OM_VECTOR_DIMENSIONALITY: rc = om_per_column_number(x, v, len, pick_vector, "VECTOR_DIMENSIONALITY"); break;
        default: break; /* a field from a newer server: its length lets us step over it */
        }
        if (rc < 0) return -1;
    }
    return 0;
}

/* ENUM/SET labels arrive as bytes in their column's charset, which the optional metadata names
 * only after the labels (ENUM_AND_SET_*_CHARSET): convert them once everything is read. */
static int labels_to_utf8(bt_table_entry_t *te, char *err, size_t errlen) {
    bt_arena_t tmp;
    bt_arena_init(&tmp, 0);
    int rc = 0;
    for (uint32_t i = 0; i < te->t.ncols && rc == 0; i++) {
        bt_column_t *col = &te->t.cols[i];
        const bt_charset_t *cs = col->labels ? bt_charset_of(col->collation) : NULL;
        for (uint32_t j = 0; cs && j < col->nlabels; j++) {
            const char *out;
            uint32_t olen;
            if (bt_charset_to_utf8(cs, (const uint8_t *)col->labels[j], col->label_lens[j], &tmp, &out, &olen, err,
                                   errlen) != 0) {
                rc = -1;
                break;
            }
            if (out == col->labels[j]) continue; /* already UTF-8 */
            char *d = pool_dup(te, out, olen);
            if (!d) {
                snprintf(err, errlen, "out of memory");
                rc = -1;
                break;
            }
            col->labels[j] = d;
            ((uint32_t *)col->label_lens)[j] = olen;
        }
    }
    bt_arena_free(&tmp);
    return rc;
}

/* ---- the event -------------------------------------------------------------------------- */

/* "@N" names, 1-based, for tables whose binlog carries no names. */
static int default_names(bt_table_entry_t *te) {
    for (uint32_t i = 0; i < te->t.ncols; i++) {
        char tmp[16];
        int n = snprintf(tmp, sizeof tmp, "@%u", i + 1);
        char *d = pool_dup(te, tmp, (size_t)n);
        if (!d) return -1;
        te->t.cols[i].name = d;
        te->t.cols[i].name_len = (uint32_t)n;
    }
    te->t.has_names = false;
    return 0;
}

/* TABLE_MAP_EVENT:
 *   post-header: table_id u48 (u32 when the FDE gives a 6-byte post-header) | flags u16
 *   db_len u8 | db | NUL | table_len u8 | table | NUL | ncols packed | types u8[ncols] |
 *   meta_len packed | meta[meta_len] (per column, bt_column_meta_len(type) bytes) |
 *   null_bits[(ncols+7)/8] (LSB first) | optional metadata: { type u8 | length packed | value }* */
int bt_ev_table_map(bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, char *err, size_t errlen) {
    unsigned post = bt_dec_post_len(dec, c->type, 8);
    bt_rd_t r;
    bt_rd_init(&r, c->body, c->len);
    uint64_t id, ncols, meta_len;
    uint8_t db_len, tb_len, nul1, nul2;
    const uint8_t *db, *tb, *types, *meta, *nulls;
    if (!bt_rd_need(&r, post, "post-header")) return bt_dec_malformed(dec, c, &r, err, errlen);
    id = post == 6 ? bt_le32(r.p) : bt_le48(r.p);
    r.p += post;
    if (!bt_rd_u8(&r, &db_len, "db_len") || !bt_rd_bytes(&r, db_len, &db, "db name") ||
        !bt_rd_u8(&r, &nul1, "NUL after the db name") || !bt_rd_u8(&r, &tb_len, "table_len") ||
        !bt_rd_bytes(&r, tb_len, &tb, "table name") || !bt_rd_u8(&r, &nul2, "NUL after the table name") ||
        !bt_rd_packed(&r, &ncols, "column count") || !bt_rd_bytes(&r, ncols, &types, "column types") ||
        !bt_rd_packed(&r, &meta_len, "metadata length") || !bt_rd_bytes(&r, meta_len, &meta, "column metadata") ||
        !bt_rd_bytes(&r, (ncols + 7) / 8, &nulls, "NULL bitmap"))
        return bt_dec_malformed(dec, c, &r, err, errlen);
    if (nul1 || nul2) return bt_dec_fail(dec, c, err, errlen, "malformed event: names are not NUL-terminated");
    if (ncols == 0 || ncols > 65535)
        return bt_dec_fail(dec, c, err, errlen, "impossible column count %" PRIu64, ncols);

    bt_table_entry_t *te = calloc(1, sizeof *te);
    if (!te) return bt_dec_fail(dec, c, err, errlen, "out of memory");
    bt_table_t *t = &te->t;
    t->id = id;
    t->ncols = (uint32_t)ncols;
    t->db = pool_dup(te, db, db_len);
    t->name = pool_dup(te, tb, tb_len);
    t->cols = pool_alloc(te, (size_t)ncols * sizeof *t->cols);
    if (!t->db || !t->name || !t->cols) {
        entry_free(te);
        return bt_dec_fail(dec, c, err, errlen, "out of memory");
    }
    memset(t->cols, 0, (size_t)ncols * sizeof *t->cols);
    static const uint32_t no_pk[1] = {0};
    t->pk = no_pk;

    size_t mo = 0;
    for (uint32_t i = 0; i < t->ncols; i++) {
        bt_column_t *col = &t->cols[i];
        uint8_t wt = types[i];
        size_t ml = bt_column_meta_len(wt);
        if (ml > meta_len - mo) {
            entry_free(te);
            return bt_dec_fail(dec, c, err, errlen,
                               "column %u (type %u) needs %zu metadata bytes but only %" PRIu64 " of %" PRIu64 " are left",
                               i + 1, (unsigned)wt, ml, meta_len - mo, meta_len);
        }
        col->wire_type = wt;
        col->type = wt;
        col->meta = assemble_meta(wt, meta + mo, ml);
        mo += ml;
        col->nullable = bt_bit(nulls, i);
        /* CHAR columns carry their real type in the metadata's high byte: ENUM and SET are
         * logged as STRING. */
        if (wt == BT_TYPE_STRING && ml == 2 && (meta[mo - 2] == BT_TYPE_ENUM || meta[mo - 2] == BT_TYPE_SET))
            col->type = meta[mo - 2];
        if (col->type == BT_TYPE_JSON) te->njson++;
    }
    if (mo != meta_len) {
        entry_free(te);
        return bt_dec_fail(dec, c, err, errlen, "the column types need %zu metadata bytes but the event has %" PRIu64,
                           mo, meta_len);
    }

    om_ctx_t x = {dec, c, te, err, errlen};
    if (parse_optional(&x, r.p, bt_rd_left(&r)) < 0) {
        entry_free(te);
        return -1;
    }
    char lerr[256];
    if (labels_to_utf8(te, lerr, sizeof lerr) != 0) {
        entry_free(te);
        return bt_dec_fail(dec, c, err, errlen, "ENUM/SET labels of %s.%s: %s", t->db, t->name, lerr);
    }
    if (!t->has_names) {
        if (default_names(te) < 0) {
            entry_free(te);
            return bt_dec_fail(dec, c, err, errlen, "out of memory");
        }
        if (dec->opts.schema_cb) {
            char cberr[256] = "";
            if (dec->opts.schema_cb(dec->opts.schema_ctx, t, cberr, sizeof cberr) < 0) {
                bt_dec_fail(dec, c, err, errlen, "schema lookup for %s.%s failed: %s", t->db, t->name, cberr);
                entry_free(te);
                return -1;
            }
        }
    }
    if (tables_put(dec, te) < 0) {
        entry_free(te);
        return bt_dec_fail(dec, c, err, errlen, "out of memory");
    }
    dec->last = te;
    bt_dec_event_init(dec, c, ev, BT_EV_TABLE_MAP);
    ev->u.table = t;
    return 0;
}

int bt_table_set_names(bt_decoder_t *dec, bt_table_t *table, const char *const *names, uint32_t nnames,
                       const uint32_t *pk_cols, uint32_t npk) {
    (void)dec;
    bt_table_entry_t *te = (bt_table_entry_t *)table; /* the table is the entry's first member */
    for (uint32_t i = 0; i < npk; i++)
        if (pk_cols[i] >= table->ncols) return -1;
    for (uint32_t i = 0; i < nnames && i < table->ncols; i++) {
        if (!names[i]) continue;
        size_t n = strlen(names[i]);
        char *d = pool_dup(te, names[i], n);
        if (!d) return -1;
        table->cols[i].name = d;
        table->cols[i].name_len = (uint32_t)n;
    }
    if (pk_cols && npk) {
        uint32_t *pk = pool_alloc(te, (size_t)npk * sizeof *pk);
        if (!pk) return -1;
        for (uint32_t i = 0; i < table->ncols; i++) table->cols[i].pk = false;
        for (uint32_t i = 0; i < npk; i++) {
            pk[i] = pk_cols[i];
            table->cols[pk_cols[i]].pk = true;
        }
        table->pk = pk;
        table->npk = npk;
    }
    if (nnames) table->has_names = true;
    return 0;
}
