/* format.c: format names, dispatch, the primary-key bytes, and helpers the formats share.
 *
 * DESIGN: a format is two functions (how many messages a change becomes, and message idx of
 * it), listed in one table below. Everything is written through the JSON writer into the
 * caller's reused buffers; the only memory a format owns is one scratch buffer for short
 * texts (key names, converted strings), so steady-state encoding allocates nothing. */
#include "agent/format/fmt_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct fmt_ops {
    const char *name;
    unsigned (*count)(const bt_format_t *f, const bt_change_t *c);
    int (*encode)(bt_format_t *f, const bt_change_t *c, unsigned idx, bt_buf_t *key, bt_buf_t *val,
                  bool *null_value, char *err, size_t errlen);
    /* NULL when every message of a change is about its current (new) key. */
    bool (*old_key)(const bt_format_t *f, const bt_change_t *c, unsigned idx);
} fmt_ops_t;

/* Indexed by bt_format_kind_t. */
static const fmt_ops_t fmt_ops[] = {
    {"json", bt_fmt_json_count, bt_fmt_json_encode, NULL},
    {"debezium", bt_fmt_debezium_count, bt_fmt_debezium_encode, bt_fmt_debezium_old_key},
    {"canal", bt_fmt_canal_count, bt_fmt_canal_encode, NULL},
    {"maxwell", bt_fmt_maxwell_count, bt_fmt_maxwell_encode, NULL},
    {"dataworks", bt_fmt_dataworks_count, bt_fmt_dataworks_encode, NULL},
    {"upsert", bt_fmt_upsert_count, bt_fmt_upsert_encode, bt_fmt_upsert_old_key},
};
#define FMT_COUNT (sizeof fmt_ops / sizeof fmt_ops[0])

/* Scratch texts are short (a key name, one converted cell); the cap only stops runaways. */
#define FMT_SCRATCH_MAX ((size_t)1 << 30)

int bt_format_parse(const char *name, bt_format_kind_t *out, char *err, size_t errlen) {
    for (size_t i = 0; name && i < FMT_COUNT; i++) {
        if (strcasecmp(name, fmt_ops[i].name) == 0) {
            *out = (bt_format_kind_t)i;
            return 0;
        }
    }
    return bt_errf(err, errlen,
                   "unknown format \"%s\" (accepted: json, debezium, canal, maxwell, dataworks, upsert)",
                   name ? name : "");
}

const char *bt_format_name(bt_format_kind_t kind) {
    return (unsigned)kind < FMT_COUNT ? fmt_ops[kind].name : "unknown";
}

bt_format_t *bt_format_new(bt_format_kind_t kind, const bt_format_opts_t *opts, char *err, size_t errlen) {
    if ((unsigned)kind >= FMT_COUNT) {
        bt_errf(err, errlen, "format: unknown kind %d", (int)kind);
        return NULL;
    }
    bt_format_t *f = calloc(1, sizeof *f);
    if (!f) {
        bt_errf(err, errlen, "format %s: out of memory", fmt_ops[kind].name);
        return NULL;
    }
    f->kind = kind;
    f->tombstones = opts ? opts->tombstones : true;
    const char *name = opts && opts->server_name && *opts->server_name ? opts->server_name : "bintail";
    const char *conn = opts && opts->connector && *opts->connector ? opts->connector : "mysql";
    f->server_name = strdup(name);
    f->connector = strdup(conn);
    bt_buf_init(&f->scratch, FMT_SCRATCH_MAX);
    bt_buf_init(&f->src_prefix, FMT_SCRATCH_MAX);
    bt_buf_init(&f->src_fields, FMT_SCRATCH_MAX);
    if (!f->server_name || !f->connector) {
        bt_format_free(f);
        bt_errf(err, errlen, "format %s: out of memory", fmt_ops[kind].name);
        return NULL;
    }
    return f;
}

void bt_format_free(bt_format_t *f) {
    if (!f) return;
    free(f->server_name);
    free(f->connector);
    bt_buf_free(&f->scratch);
    bt_buf_free(&f->src_prefix);
    bt_buf_free(&f->src_fields);
    free(f);
}

unsigned bt_format_count(const bt_format_t *f, const bt_change_t *c) {
    if (!f || !c || (unsigned)f->kind >= FMT_COUNT) return 0;
    return fmt_ops[f->kind].count(f, c);
}

int bt_format_encode_append(bt_format_t *f, const bt_change_t *c, unsigned idx, bt_buf_t *key, bt_buf_t *val,
                            bool *null_value, char *err, size_t errlen) {
    if (!f || !c || !key || !val || !null_value) return bt_errf(err, errlen, "format: missing argument");
    const fmt_ops_t *ops = &fmt_ops[f->kind];
    bt_buf_reset(key);
    *null_value = false;
    unsigned n = ops->count(f, c);
    if (idx >= n)
        return bt_errf(err, errlen, "format %s: message %u asked of a change that makes %u", ops->name, idx,
                       n);
    size_t start = val->len;
    int rc = ops->encode(f, c, idx, key, val, null_value, err, errlen);
    if (rc < 0 && val->len > start) { /* never leave half a message behind */
        val->len = start;
        val->p[start] = 0;
    }
    return rc;
}

int bt_format_encode(bt_format_t *f, const bt_change_t *c, unsigned idx, bt_buf_t *key, bt_buf_t *val,
                     bool *null_value, char *err, size_t errlen) {
    if (val) bt_buf_reset(val);
    return bt_format_encode_append(f, c, idx, key, val, null_value, err, errlen);
}

void bt_format_pk_bytes(const bt_change_t *c, bt_buf_t *out) {
    bt_buf_reset(out);
    if (!c || c->is_ddl || !c->table || c->table->npk == 0) return;
    bt_jw_t w;
    bt_jw_init(&w, out);
    bt_fmt_pk_object(&w, c, false);
}

void bt_format_msg_pk_bytes(const bt_format_t *f, const bt_change_t *c, unsigned idx, bt_buf_t *out) {
    if (f && c && fmt_ops[f->kind].old_key && fmt_ops[f->kind].old_key(f, c, idx)) {
        bt_buf_reset(out);
        if (c->is_ddl || !c->table || c->table->npk == 0) return;
        bt_jw_t w;
        bt_jw_init(&w, out);
        bt_fmt_pk_object(&w, c, true);
        return;
    }
    bt_format_pk_bytes(c, out);
}

/* Shared helpers. ---------------------------------------------------------------------------- */

const char *bt_fmt_db(const bt_change_t *c) {
    if (c->db) return c->db;
    if (c->table && c->table->db) return c->table->db;
    return "";
}

const char *bt_fmt_table(const bt_change_t *c) {
    if (c->table_name) return c->table_name;
    if (c->table && c->table->name) return c->table->name;
    return c->is_ddl ? NULL : "";
}

int bt_fmt_check_row(const char *fmt, const bt_change_t *c, char *err, size_t errlen) {
    if (!c->table) return bt_errf(err, errlen, "format %s: row change without a table", fmt);
    switch (c->op) {
    case BT_OP_INSERT:
    case BT_OP_READ:
        if (!c->after) return bt_errf(err, errlen, "format %s: %s.%s: insert without an after image", fmt,
                                      bt_fmt_db(c), bt_fmt_table(c));
        return 0;
    case BT_OP_DELETE:
        if (!c->before) return bt_errf(err, errlen, "format %s: %s.%s: delete without a before image", fmt,
                                       bt_fmt_db(c), bt_fmt_table(c));
        return 0;
    case BT_OP_UPDATE:
        if (!c->before || !c->after)
            return bt_errf(err, errlen, "format %s: %s.%s: update without both images", fmt, bt_fmt_db(c),
                           bt_fmt_table(c));
        return 0;
    }
    return bt_errf(err, errlen, "format %s: %s.%s: unknown operation %d", fmt, bt_fmt_db(c),
                   bt_fmt_table(c), (int)c->op);
}

const bt_row_t *bt_fmt_main_row(const bt_change_t *c) {
    return c->op == BT_OP_DELETE ? c->before : c->after;
}

const bt_value_t *bt_fmt_cell(const bt_row_t *r, uint32_t i) {
    if (!r || i >= r->ncols || !r->v[i].present) return NULL;
    return &r->v[i];
}

const bt_value_t *bt_fmt_pk_cell(const bt_change_t *c, uint32_t col, bool old) {
    const bt_value_t *v = bt_fmt_cell(old ? c->before : c->after, col);
    return v ? v : bt_fmt_cell(old ? c->after : c->before, col);
}

void bt_fmt_col_key(bt_jw_t *w, const bt_column_t *col, uint32_t i) {
    if (col->name && (col->name_len || !col->name[0])) {
        bt_jw_keyn(w, col->name, col->name_len);
    } else if (col->name) {
        bt_jw_keyn(w, col->name, strlen(col->name));
    } else {
        char tmp[16];
        int n = snprintf(tmp, sizeof tmp, "@%" PRIu32, i + 1);
        bt_jw_keyn(w, tmp, (size_t)n);
    }
}

/* A typed cell, NULL as null whatever the renderer would do with it. */
static void typed_value(bt_jw_t *w, const bt_column_t *col, const bt_value_t *v) {
    if (!v || v->kind == BT_VAL_NULL) bt_jw_null(w);
    else bt_value_json(w, col, v);
}

void bt_fmt_row_object(bt_jw_t *w, const bt_table_t *t, const bt_row_t *r) {
    if (!r) {
        bt_jw_null(w);
        return;
    }
    bt_jw_obj_begin(w);
    for (uint32_t i = 0; i < t->ncols; i++) {
        const bt_value_t *v = bt_fmt_cell(r, i);
        if (!v) continue;
        bt_fmt_col_key(w, &t->cols[i], i);
        typed_value(w, &t->cols[i], v);
    }
    bt_jw_obj_end(w);
}

void bt_fmt_pk_object(bt_jw_t *w, const bt_change_t *c, bool old) {
    const bt_table_t *t = c->table;
    bt_jw_obj_begin(w);
    for (uint32_t k = 0; k < t->npk; k++) {
        uint32_t i = t->pk[k];
        if (i >= t->ncols) continue;
        bt_fmt_col_key(w, &t->cols[i], i);
        typed_value(w, &t->cols[i], bt_fmt_pk_cell(c, i, old));
    }
    bt_jw_obj_end(w);
}

void bt_fmt_pk_names(bt_jw_t *w, const bt_table_t *t) {
    bt_jw_arr_begin(w);
    for (uint32_t k = 0; k < t->npk; k++) {
        uint32_t i = t->pk[k];
        if (i >= t->ncols) continue;
        const bt_column_t *col = &t->cols[i];
        if (col->name) bt_jw_strn(w, col->name, col->name_len ? col->name_len : strlen(col->name));
        else {
            char tmp[16];
            int n = snprintf(tmp, sizeof tmp, "@%" PRIu32, i + 1);
            bt_jw_strn(w, tmp, (size_t)n);
        }
    }
    bt_jw_arr_end(w);
}

bool bt_fmt_value_equal(const bt_value_t *a, const bt_value_t *b) {
    if (a->kind != b->kind) return false;
    switch ((bt_vkind_t)a->kind) {
    case BT_VAL_NULL: return true;
    case BT_VAL_INT: return a->i == b->i;
    case BT_VAL_UINT:
    case BT_VAL_YEAR:
    case BT_VAL_BIT:
    case BT_VAL_SET: return a->u == b->u;
    case BT_VAL_ENUM: return a->u == b->u;
    case BT_VAL_FLOAT: return memcmp(&a->f, &b->f, sizeof a->f) == 0 || a->f == b->f;
    case BT_VAL_DOUBLE: return memcmp(&a->d, &b->d, sizeof a->d) == 0 || a->d == b->d;
    case BT_VAL_TIMESTAMP: return a->i == b->i && a->t.usec == b->t.usec;
    case BT_VAL_DATE:
        return a->t.year == b->t.year && a->t.month == b->t.month && a->t.day == b->t.day;
    case BT_VAL_DATETIME:
        return a->t.year == b->t.year && a->t.month == b->t.month && a->t.day == b->t.day &&
               a->t.hour == b->t.hour && a->t.minute == b->t.minute && a->t.second == b->t.second &&
               a->t.usec == b->t.usec;
    case BT_VAL_TIME:
        return a->neg == b->neg && a->t.hour == b->t.hour && a->t.minute == b->t.minute &&
               a->t.second == b->t.second && a->t.usec == b->t.usec;
    case BT_VAL_DECIMAL:
    case BT_VAL_STRING:
    case BT_VAL_BINARY:
    case BT_VAL_JSON:
    case BT_VAL_GEOMETRY:
    case BT_VAL_VECTOR:
        return a->len == b->len && (a->len == 0 || memcmp(a->s, b->s, a->len) == 0);
    }
    return false;
}

bool bt_fmt_col_changed(const bt_change_t *c, uint32_t i) {
    const bt_value_t *b = bt_fmt_cell(c->before, i), *a = bt_fmt_cell(c->after, i);
    return a && b && !bt_fmt_value_equal(a, b);
}

bool bt_fmt_pk_changed(const bt_change_t *c) {
    if (c->is_ddl || c->op != BT_OP_UPDATE || !c->table || !c->before || !c->after) return false;
    for (uint32_t k = 0; k < c->table->npk; k++)
        if (bt_fmt_col_changed(c, c->table->pk[k])) return true;
    return false;
}

bool bt_fmt_col_binary(const bt_column_t *col) {
    switch (col->type) {
    case BT_TYPE_GEOMETRY: return true;
    case BT_TYPE_TINY_BLOB:
    case BT_TYPE_MEDIUM_BLOB:
    case BT_TYPE_LONG_BLOB:
    case BT_TYPE_BLOB:
    case BT_TYPE_VARCHAR:
    case BT_TYPE_VAR_STRING:
    case BT_TYPE_STRING: return col->collation == 63; /* 0, unknown, is UTF-8 text as for the decoder */
    default: return false;
    }
}

void bt_fmt_position(bt_buf_t *out, const bt_change_t *c) {
    bt_buf_reset(out);
    if (!c->file) return;
    char num[20];
    bt_buf_puts(out, c->file);
    bt_buf_putc(out, ':');
    bt_buf_append(out, num, (size_t)bt_fmt_u64(num, c->pos));
}

int bt_fmt_finish(const char *fmt, const bt_buf_t *key, const bt_buf_t *val, char *err, size_t errlen) {
    if (key->failed || val->failed)
        return bt_errf(err, errlen, "format %s: message larger than the buffer cap (%zu bytes)", fmt,
                       key->failed ? key->max : val->max);
    return 0;
}

/* DDL classification. -------------------------------------------------------------------------- */

typedef struct sqlscan {
    const char *p, *end;
} sqlscan_t;

static bool is_word_byte(unsigned char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
           ch == '$' || ch >= 0x80;
}

/* Skips blanks, comments and the markers of executable comments (whose text is SQL). */
static void sql_skip(sqlscan_t *sc) {
    while (sc->p < sc->end) {
        const char *p = sc->p;
        size_t left = (size_t)(sc->end - p);
        unsigned char ch = (unsigned char)*p;
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v') {
            sc->p++;
        } else if (left >= 3 && p[0] == '/' && p[1] == '*' &&
                   (p[2] == '!' || (p[2] == 'M' && left >= 4 && p[3] == '!'))) {
            sc->p += p[2] == '!' ? 3 : 4;
            while (sc->p < sc->end && *sc->p >= '0' && *sc->p <= '9') sc->p++;
        } else if (left >= 2 && p[0] == '/' && p[1] == '*') {
            const char *q = p + 2;
            while (q + 1 < sc->end && !(q[0] == '*' && q[1] == '/')) q++;
            sc->p = q + 1 < sc->end ? q + 2 : sc->end;
        } else if (left >= 2 && p[0] == '*' && p[1] == '/') {
            sc->p += 2; /* end of an executable comment */
        } else if (ch == '#' || (left >= 2 && p[0] == '-' && p[1] == '-' &&
                                 (left == 2 || (unsigned char)p[2] <= ' '))) {
            while (sc->p < sc->end && *sc->p != '\n') sc->p++;
        } else {
            return;
        }
    }
}

/* The next token: a word, a quoted identifier or string (quotes kept, so never a keyword),
 * or one punctuation byte. False at the end. */
static bool sql_next(sqlscan_t *sc, const char **tok, size_t *n) {
    sql_skip(sc);
    if (sc->p >= sc->end) return false;
    const char *s = sc->p;
    unsigned char ch = (unsigned char)*s;
    if (ch == '`' || ch == '\'' || ch == '"') {
        const char *q = s + 1;
        while (q < sc->end) {
            if (*q == (char)ch) {
                if (q + 1 < sc->end && q[1] == (char)ch) {
                    q += 2;
                    continue;
                }
                break;
            }
            if (*q == '\\' && ch != '`' && q + 1 < sc->end) q++;
            q++;
        }
        sc->p = q < sc->end ? q + 1 : sc->end;
    } else if (is_word_byte(ch)) {
        const char *q = s;
        while (q < sc->end && is_word_byte((unsigned char)*q)) q++;
        sc->p = q;
    } else {
        sc->p = s + 1;
    }
    *tok = s;
    *n = (size_t)(sc->p - s);
    return true;
}

static bool kw(const char *tok, size_t n, const char *word) {
    size_t wl = strlen(word);
    return n == wl && strncasecmp(tok, word, n) == 0;
}

/* Next token, skipping any of the listed modifier words (NULL-terminated list). */
static bool sql_next_skipping(sqlscan_t *sc, const char **tok, size_t *n, const char *const *skip) {
    while (sql_next(sc, tok, n)) {
        bool modifier = false;
        for (const char *const *s = skip; *s; s++)
            if (kw(*tok, *n, *s)) modifier = true;
        if (!modifier) return true;
    }
    return false;
}

/* Skips a table name (`db`.`t`, db.t, t, MariaDB's IF EXISTS before it) and returns the
 * token after it. */
static bool sql_after_name(sqlscan_t *sc, const char **tok, size_t *n) {
    if (!sql_next(sc, tok, n)) return false;
    if (kw(*tok, *n, "IF")) {
        if (!sql_next(sc, tok, n) || !kw(*tok, *n, "EXISTS") || !sql_next(sc, tok, n)) return false;
    }
    if (!sql_next(sc, tok, n)) return false;
    if (*n == 1 && **tok == '.') {
        if (!sql_next(sc, tok, n) || !sql_next(sc, tok, n)) return false;
    }
    return true;
}

bt_ddl_kind_t bt_fmt_ddl_kind(const char *sql, size_t len) {
    static const char *const create_mods[] = {"OR", "REPLACE", "TEMPORARY", "UNIQUE", "FULLTEXT", "SPATIAL",
                                              "ONLINE", "OFFLINE", "IGNORE", NULL};
    static const char *const drop_mods[] = {"TEMPORARY", "ONLINE", "OFFLINE", NULL};
    static const char *const alter_mods[] = {"ONLINE", "OFFLINE", "IGNORE", NULL};
    static const char *const none[] = {NULL};
    if (!sql) return BT_DDL_OTHER;
    sqlscan_t sc = {sql, sql + len};
    const char *t;
    size_t n;
    if (!sql_next(&sc, &t, &n)) return BT_DDL_OTHER;
    if (kw(t, n, "CREATE")) {
        if (!sql_next_skipping(&sc, &t, &n, create_mods)) return BT_DDL_OTHER;
        if (kw(t, n, "TABLE")) return BT_DDL_CREATE_TABLE;
        if (kw(t, n, "INDEX")) return BT_DDL_CREATE_INDEX;
        if (kw(t, n, "DATABASE") || kw(t, n, "SCHEMA")) return BT_DDL_CREATE_DATABASE;
        return BT_DDL_OTHER;
    }
    if (kw(t, n, "DROP")) {
        if (!sql_next_skipping(&sc, &t, &n, drop_mods)) return BT_DDL_OTHER;
        if (kw(t, n, "TABLE") || kw(t, n, "TABLES")) return BT_DDL_DROP_TABLE;
        if (kw(t, n, "INDEX")) return BT_DDL_DROP_INDEX;
        if (kw(t, n, "DATABASE") || kw(t, n, "SCHEMA")) return BT_DDL_DROP_DATABASE;
        return BT_DDL_OTHER;
    }
    if (kw(t, n, "ALTER")) {
        if (!sql_next_skipping(&sc, &t, &n, alter_mods)) return BT_DDL_OTHER;
        if (kw(t, n, "DATABASE") || kw(t, n, "SCHEMA")) return BT_DDL_ALTER_DATABASE;
        if (!kw(t, n, "TABLE")) return BT_DDL_OTHER;
        if (!sql_after_name(&sc, &t, &n)) return BT_DDL_ALTER_TABLE;
        if (kw(t, n, "RENAME")) {
            if (!sql_next_skipping(&sc, &t, &n, none)) return BT_DDL_ALTER_TABLE;
            if (kw(t, n, "COLUMN") || kw(t, n, "INDEX") || kw(t, n, "KEY")) return BT_DDL_ALTER_TABLE;
            return BT_DDL_ALTER_TABLE_RENAME;
        }
        if (kw(t, n, "ADD")) {
            if (!sql_next(&sc, &t, &n)) return BT_DDL_ALTER_TABLE;
            if (kw(t, n, "INDEX") || kw(t, n, "KEY") || kw(t, n, "UNIQUE") || kw(t, n, "FULLTEXT") ||
                kw(t, n, "SPATIAL"))
                return BT_DDL_ALTER_ADD_INDEX;
            return BT_DDL_ALTER_TABLE;
        }
        if (kw(t, n, "DROP")) {
            if (!sql_next(&sc, &t, &n)) return BT_DDL_ALTER_TABLE;
            if (kw(t, n, "INDEX") || kw(t, n, "KEY")) return BT_DDL_ALTER_DROP_INDEX;
            return BT_DDL_ALTER_TABLE;
        }
        return BT_DDL_ALTER_TABLE;
    }
    if (kw(t, n, "TRUNCATE")) return BT_DDL_TRUNCATE;
    if (kw(t, n, "RENAME")) {
        if (sql_next(&sc, &t, &n) && (kw(t, n, "TABLE") || kw(t, n, "TABLES"))) return BT_DDL_RENAME_TABLE;
        return BT_DDL_OTHER;
    }
    return BT_DDL_OTHER;
}

const char *bt_fmt_ddl_canal_type(bt_ddl_kind_t k) {
    switch (k) {
    case BT_DDL_CREATE_TABLE: return "CREATE";
    case BT_DDL_ALTER_TABLE: return "ALTER";
    case BT_DDL_ALTER_TABLE_RENAME:
    case BT_DDL_RENAME_TABLE: return "RENAME";
    case BT_DDL_ALTER_ADD_INDEX:
    case BT_DDL_CREATE_INDEX: return "CINDEX";
    case BT_DDL_ALTER_DROP_INDEX:
    case BT_DDL_DROP_INDEX: return "DINDEX";
    case BT_DDL_DROP_TABLE: return "ERASE";
    case BT_DDL_TRUNCATE: return "TRUNCATE";
    case BT_DDL_CREATE_DATABASE:
    case BT_DDL_ALTER_DATABASE:
    case BT_DDL_DROP_DATABASE:
    case BT_DDL_OTHER: break;
    }
    return "QUERY";
}
