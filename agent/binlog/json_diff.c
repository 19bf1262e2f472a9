/* json_diff.c: MySQL partial JSON updates (PARTIAL_UPDATE_ROWS_EVENT) applied to the before
 * image, so that every row carries the whole document.
 *
 * The diff vector (MySQL sql/json_diff.cc, Json_diff_vector::write_binary):
 *     uint32 LE  length of the diffs that follow
 *     per diff:  uint8 operation: 0 REPLACE, 1 INSERT, 2 REMOVE
 *                lenenc path length, path text as Json_path::to_string() writes it:
 *                  $  then  .name | ."quoted name" | [N] | [last] | [last-N]
 *                REPLACE/INSERT: lenenc value length, value in MySQL binary JSON
 * lenenc is MySQL's net_field_length: < 251 one byte; 252 + 2 bytes; 253 + 3; 254 + 8.
 *
 * How: the before value (JSON text, as bt_value_decode wrote it) is parsed into a small DOM in a
 * private arena; each diff value is converted from binary JSON to text and parsed the same way;
 * the diffs are applied with MySQL's rules (apply_json_diff): REPLACE needs an existing path;
 * INSERT adds an object member that must not exist, or inserts into an array (an index past
 * the end appends); REMOVE deletes an existing member or element; a path that does not resolve
 * is an error, as it is for a MySQL replica. Object members stay in MySQL's key order (shorter
 * keys first, then bytewise), so the result is the text the full document would have given. */
#include <string.h>

#include "agent/binlog/value.h"
#include "agent/binlog/value_internal.h"
#include "lib/lib.h"

enum { N_SCALAR = 0, N_OBJECT, N_ARRAY };

typedef struct jnode jnode_t;
typedef struct jitem {
    const char *key; /* unescaped UTF-8 (objects), NULL in arrays */
    size_t klen;
    jnode_t *val;
} jitem_t;

struct jnode {
    int type;
    const char *raw; /* scalar: its JSON text */
    size_t rawlen;
    jitem_t *items;
    size_t n, cap;
};

typedef struct dctx {
    bt_arena_t mem; /* the DOM; freed at the end */
    char *err;
    size_t errlen;
} dctx_t;

/* JSON text to DOM ------------------------------------------------------------------------------ */

typedef struct parser {
    dctx_t *c;
    const char *s, *end;
    int depth;
} parser_t;

static int perr(parser_t *ps, const char *what) {
    return bt_errf(ps->c->err, ps->c->errlen, "JSON diff: %s at byte %zu of a document", what,
                   (size_t)(ps->end - ps->s));
}

static void skip_ws(parser_t *ps) {
    while (ps->s < ps->end && (*ps->s == ' ' || *ps->s == '\t' || *ps->s == '\n' || *ps->s == '\r')) ps->s++;
}

static int hex4(const char *s, uint32_t *v) {
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char ch = s[i];
        int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
        if (d < 0) return -1;
        *v = *v << 4 | (uint32_t)d;
    }
    return 0;
}

static char *put_cp(char *o, uint32_t cp) {
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | cp >> 6);
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | cp >> 12);
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | cp >> 18);
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/* A JSON string at s (opening quote) up to end: its end (after the closing quote) in *after and,
 * when out is not NULL, its unescaped bytes (allocated in mem). */
static int parse_string(dctx_t *c, const char *s, const char *end, const char **after, char **out, size_t *outlen) {
    const char *q = s + 1;
    bool escapes = false;
    while (q < end && *q != '"') {
        if (*q == '\\') {
            escapes = true;
            q++;
        }
        q++;
    }
    if (q >= end) return bt_errf(c->err, c->errlen, "JSON diff: unterminated string");
    *after = q + 1;
    if (!out) return 0;
    size_t n = (size_t)(q - s - 1);
    char *d = bt_arena_alloc(&c->mem, n + 1);
    if (!d) return bt_errf(c->err, c->errlen, "JSON diff: out of memory");
    if (!escapes) {
        memcpy(d, s + 1, n);
        *out = d;
        *outlen = n;
        return 0;
    }
    char *o = d;
    for (const char *r = s + 1; r < q; r++) {
        if (*r != '\\') {
            *o++ = *r;
            continue;
        }
        r++;
        switch (*r) {
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            uint32_t cp, lo;
            if (q - r < 5 || hex4(r + 1, &cp)) return bt_errf(c->err, c->errlen, "JSON diff: bad \\u escape");
            r += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && q - r >= 7 && r[1] == '\\' && r[2] == 'u' && !hex4(r + 3, &lo) &&
                lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                r += 6;
            } else if (cp >= 0xD800 && cp < 0xE000) {
                cp = 0xFFFD;
            }
            o = put_cp(o, cp); /* never longer than the 6-12 escape bytes it replaces */
            break;
        }
        default: *o++ = *r; break; /* \" \\ \/ */
        }
    }
    *o = 0;
    *out = d;
    *outlen = (size_t)(o - d);
    return 0;
}

static jnode_t *new_node(dctx_t *c) {
    jnode_t *n = bt_arena_alloc(&c->mem, sizeof *n);
    if (n) memset(n, 0, sizeof *n);
    return n;
}

static int add_item(dctx_t *c, jnode_t *parent, size_t at, const char *key, size_t klen, jnode_t *val) {
    if (parent->n == parent->cap) {
        size_t ncap = parent->cap ? parent->cap * 2 : 4;
        jitem_t *ni = bt_arena_alloc(&c->mem, ncap * sizeof *ni);
        if (!ni) return bt_errf(c->err, c->errlen, "JSON diff: out of memory");
        if (parent->n) memcpy(ni, parent->items, parent->n * sizeof *ni);
        parent->items = ni;
        parent->cap = ncap;
    }
    memmove(parent->items + at + 1, parent->items + at, (parent->n - at) * sizeof *parent->items);
    parent->items[at] = (jitem_t){key, klen, val};
    parent->n++;
    return 0;
}

static int parse_value(parser_t *ps, jnode_t **out);

static int parse_container(parser_t *ps, jnode_t *node, char close) {
    if (++ps->depth > BT_JSON_MAX_DEPTH) return perr(ps, "document nested too deeply");
    ps->s++;
    skip_ws(ps);
    if (ps->s < ps->end && *ps->s == close) {
        ps->s++;
        ps->depth--;
        return 0;
    }
    for (;;) {
        char *key = NULL;
        size_t klen = 0;
        skip_ws(ps);
        if (node->type == N_OBJECT) {
            if (ps->s >= ps->end || *ps->s != '"') return perr(ps, "expected a member name");
            if (parse_string(ps->c, ps->s, ps->end, &ps->s, &key, &klen)) return -1;
            skip_ws(ps);
            if (ps->s >= ps->end || *ps->s != ':') return perr(ps, "expected ':'");
            ps->s++;
        }
        jnode_t *val;
        if (parse_value(ps, &val)) return -1;
        if (add_item(ps->c, node, node->n, key, klen, val)) return -1;
        skip_ws(ps);
        if (ps->s < ps->end && *ps->s == ',') {
            ps->s++;
            continue;
        }
        if (ps->s < ps->end && *ps->s == close) {
            ps->s++;
            ps->depth--;
            return 0;
        }
        return perr(ps, "expected ',' or the end of an object/array");
    }
}

static int parse_value(parser_t *ps, jnode_t **out) {
    skip_ws(ps);
    if (ps->s >= ps->end) return perr(ps, "unexpected end");
    char ch = *ps->s;
    jnode_t *n = new_node(ps->c);
    if (!n) return perr(ps, "out of memory");
    *out = n;
    if (ch == '{' || ch == '[') {
        n->type = ch == '{' ? N_OBJECT : N_ARRAY;
        return parse_container(ps, n, ch == '{' ? '}' : ']');
    }
    const char *start = ps->s;
    if (ch == '"') {
        if (parse_string(ps->c, ps->s, ps->end, &ps->s, NULL, NULL)) return -1;
    } else {
        while (ps->s < ps->end && !strchr(",]} \t\r\n", *ps->s)) ps->s++;
        if (ps->s == start) return perr(ps, "expected a value");
    }
    n->type = N_SCALAR;
    n->raw = start;
    n->rawlen = (size_t)(ps->s - start);
    return 0;
}

static int parse_doc(dctx_t *c, const char *text, size_t len, jnode_t **out) {
    parser_t ps = {c, text, text + len, 0};
    if (parse_value(&ps, out)) return -1;
    skip_ws(&ps);
    if (ps.s != ps.end) return perr(&ps, "trailing bytes");
    return 0;
}

/* DOM to text ----------------------------------------------------------------------------------- */

static void write_node(bt_buf_t *b, const jnode_t *n) {
    if (n->type == N_SCALAR) {
        bt_buf_append(b, n->raw, n->rawlen);
        return;
    }
    bt_buf_putc(b, n->type == N_OBJECT ? '{' : '[');
    for (size_t i = 0; i < n->n; i++) {
        if (i) bt_buf_putc(b, ',');
        if (n->type == N_OBJECT) {
            bt_buf_putc(b, '"');
            bt_json_escape(b, n->items[i].key, n->items[i].klen);
            bt_buf_append(b, "\":", 2);
        }
        write_node(b, n->items[i].val);
    }
    bt_buf_putc(b, n->type == N_OBJECT ? '}' : ']');
}

/* Paths ----------------------------------------------------------------------------------------- */

typedef struct leg {
    bool member;
    const char *key; /* member name, unescaped */
    size_t klen;
    bool from_end; /* [last-N] */
    uint64_t index;
} leg_t;

#define MAX_LEGS 128

static bool ident_char(unsigned char ch, bool first) {
    return ch == '_' || ch == '$' || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch >= 0x80 ||
           (!first && ch >= '0' && ch <= '9');
}

static int parse_path(dctx_t *c, const char *s, size_t len, leg_t *legs, size_t *nlegs) {
    const char *e = s + len;
    size_t n = 0;
    while (s < e && *s == ' ') s++;
    if (s >= e || *s != '$') return bt_errf(c->err, c->errlen, "JSON diff: path does not start with '$'");
    s++;
    for (;;) {
        while (s < e && *s == ' ') s++;
        if (s >= e) break;
        if (n == MAX_LEGS) return bt_errf(c->err, c->errlen, "JSON diff: path too long");
        leg_t *l = &legs[n];
        memset(l, 0, sizeof *l);
        if (*s == '.') {
            s++;
            while (s < e && *s == ' ') s++;
            l->member = true;
            if (s < e && *s == '"') {
                char *k;
                if (parse_string(c, s, e, &s, &k, &l->klen)) return -1;
                l->key = k;
            } else {
                const char *k = s;
                while (s < e && ident_char((unsigned char)*s, s == k)) s++;
                if (s == k) return bt_errf(c->err, c->errlen, "JSON diff: bad member name in a path");
                l->key = k;
                l->klen = (size_t)(s - k);
            }
        } else if (*s == '[') {
            s++;
            while (s < e && *s == ' ') s++;
            if (e - s >= 4 && memcmp(s, "last", 4) == 0) {
                l->from_end = true;
                s += 4;
                while (s < e && *s == ' ') s++;
                if (s < e && *s == '-') {
                    s++;
                    while (s < e && *s == ' ') s++;
                } else {
                    goto close; /* [last] is [last-0] */
                }
            }
            if (s >= e || *s < '0' || *s > '9') return bt_errf(c->err, c->errlen, "JSON diff: bad array index in a path");
            while (s < e && *s >= '0' && *s <= '9') {
                if (l->index > (UINT32_MAX)) return bt_errf(c->err, c->errlen, "JSON diff: array index too large");
                l->index = l->index * 10 + (uint64_t)(*s++ - '0');
            }
        close:
            while (s < e && *s == ' ') s++;
            if (s >= e || *s != ']') return bt_errf(c->err, c->errlen, "JSON diff: expected ']' in a path");
            s++;
        } else {
            return bt_errf(c->err, c->errlen, "JSON diff: unsupported path leg (wildcards cannot be diffs)");
        }
        n++;
    }
    *nlegs = n;
    return 0;
}

/* Position of an array leg in an array of `size` elements; false when outside it. */
static bool leg_pos(const leg_t *l, size_t size, size_t *pos) {
    if (!l->from_end) {
        *pos = l->index < size ? (size_t)l->index : size;
        return l->index < size;
    }
    if (l->index >= size) {
        *pos = 0;
        return false;
    }
    *pos = size - 1 - (size_t)l->index;
    return true;
}

/* MySQL's key order: shorter first, then bytewise. */
static int key_cmp(const char *a, size_t al, const char *b, size_t bl) {
    if (al != bl) return al < bl ? -1 : 1;
    return memcmp(a, b, al);
}

static bool find_member(const jnode_t *obj, const char *k, size_t kl, size_t *at) {
    for (size_t i = 0; i < obj->n; i++) {
        int r = key_cmp(k, kl, obj->items[i].key, obj->items[i].klen);
        if (r == 0) {
            *at = i;
            return true;
        }
    }
    /* not found: where it would go */
    size_t i = 0;
    while (i < obj->n && key_cmp(obj->items[i].key, obj->items[i].klen, k, kl) < 0) i++;
    *at = i;
    return false;
}

/* Walks legs[0..n) from root; NULL when a leg does not resolve (no auto-wrapping). */
static jnode_t *seek(jnode_t *node, const leg_t *legs, size_t n) {
    for (size_t i = 0; i < n && node; i++) {
        size_t at;
        if (node->type == N_ARRAY && !legs[i].member) {
            node = leg_pos(&legs[i], node->n, &at) ? node->items[at].val : NULL;
        } else if (node->type == N_OBJECT && legs[i].member) {
            node = find_member(node, legs[i].key, legs[i].klen, &at) ? node->items[at].val : NULL;
        } else {
            node = NULL;
        }
    }
    return node;
}

static const char *const op_names[3] = {"REPLACE", "INSERT", "REMOVE"};

static int apply_one(dctx_t *c, jnode_t **root, int op, const leg_t *legs, size_t nlegs, jnode_t *val,
                     const char *path, size_t plen) {
#define REJECT(why)                                                                                       \
    return bt_errf(c->err, c->errlen, "JSON diff: %s at %.*s: %s in the before image", op_names[op], \
                   (int)(plen > 200 ? 200 : plen), path, why)
    if (nlegs == 0) {
        if (op != 0) REJECT("the document root can only be replaced");
        *root = val;
        return 0;
    }
    jnode_t *parent = seek(*root, legs, nlegs - 1);
    if (!parent) REJECT("path not found");
    const leg_t *last = &legs[nlegs - 1];
    size_t at;
    if (parent->type == N_OBJECT && last->member) {
        bool found = find_member(parent, last->key, last->klen, &at);
        if (op == 0) {
            if (!found) REJECT("member not found");
            parent->items[at].val = val;
            return 0;
        }
        if (op == 1) {
            if (found) REJECT("member already exists");
            char *k = bt_arena_dup(&c->mem, last->key, last->klen);
            if (!k) return bt_errf(c->err, c->errlen, "JSON diff: out of memory");
            return add_item(c, parent, at, k, last->klen, val);
        }
        if (!found) REJECT("member not found");
        memmove(parent->items + at, parent->items + at + 1, (parent->n - at - 1) * sizeof *parent->items);
        parent->n--;
        return 0;
    }
    if (parent->type == N_ARRAY && !last->member) {
        bool inside = leg_pos(last, parent->n, &at);
        if (op == 1) return add_item(c, parent, at, NULL, 0, val); /* past the end: appended */
        if (!inside) REJECT("array index out of range");
        if (op == 0) {
            parent->items[at].val = val;
            return 0;
        }
        memmove(parent->items + at, parent->items + at + 1, (parent->n - at - 1) * sizeof *parent->items);
        parent->n--;
        return 0;
    }
    REJECT("path leg does not match the value's type");
#undef REJECT
}

/* lenenc integer (net_field_length); 0 bytes when malformed or truncated. */
static size_t read_lenenc(const uint8_t *p, size_t avail, uint64_t *v) {
    if (avail < 1) return 0;
    if (p[0] < 251) {
        *v = p[0];
        return 1;
    }
    size_t n = p[0] == 252 ? 2 : p[0] == 253 ? 3 : p[0] == 254 ? 8 : 0;
    if (!n || avail < 1 + n) return 0;
    *v = 0;
    for (size_t i = 0; i < n; i++) *v |= (uint64_t)p[1 + i] << (8 * i);
    return 1 + n;
}

int bt_json_apply_diff(const bt_value_t *before_json, const uint8_t *p, size_t avail, bt_value_t *out,
                       size_t *used, bt_arena_t *arena, char *err, size_t errlen) {
    if (avail < 4) return bt_errf(err, errlen, "JSON diff: %zu bytes left, the length needs 4", avail);
    size_t total = bt_le32(p);
    if (total > avail - 4)
        return bt_errf(err, errlen, "JSON diff: %zu bytes of diffs, only %zu left in the row image", total, avail - 4);
    *used = 4 + total; /* known even when the diffs cannot be applied: a caller may skip them */
    if (!before_json || !before_json->present)
        return bt_errf(err, errlen, "JSON diff: the before image does not carry this JSON column, so the "
                                    "partial update cannot be applied (use binlog_row_image=FULL, or "
                                    "binlog_row_value_options='')");
    if (before_json->kind != BT_VAL_JSON)
        return bt_errf(err, errlen, "JSON diff: the before value is %s, not a JSON document",
                       before_json->kind == BT_VAL_NULL ? "NULL" : "not JSON");

    dctx_t c;
    bt_arena_init(&c.mem, 0);
    c.err = err;
    c.errlen = errlen;
    bt_buf_t vtext;
    bt_buf_init(&vtext, 0);
    int rc = -1;
    jnode_t *root;
    if (parse_doc(&c, before_json->s ? before_json->s : "null", before_json->s ? before_json->len : 4, &root))
        goto done;

    const uint8_t *q = p + 4, *end = p + 4 + total;
    while (q < end) {
        int op = *q++;
        if (op > 2) {
            bt_errf(err, errlen, "JSON diff: unknown operation %d", op);
            goto done;
        }
        uint64_t plen, vlen;
        size_t k = read_lenenc(q, (size_t)(end - q), &plen);
        if (!k || plen > (uint64_t)((size_t)(end - q) - k)) {
            bt_errf(err, errlen, "JSON diff: path length out of bounds");
            goto done;
        }
        q += k;
        const char *path = (const char *)q;
        q += plen;
        leg_t legs[MAX_LEGS];
        size_t nlegs = 0;
        if (parse_path(&c, path, (size_t)plen, legs, &nlegs)) goto done;
        jnode_t *val = NULL;
        if (op != 2) {
            k = read_lenenc(q, (size_t)(end - q), &vlen);
            if (!k || vlen > (uint64_t)((size_t)(end - q) - k)) {
                bt_errf(err, errlen, "JSON diff: value length out of bounds");
                goto done;
            }
            q += k;
            bt_buf_reset(&vtext);
            if (bt_json_binary_to_text(q, (size_t)vlen, &vtext, err, errlen)) goto done;
            char *t = bt_arena_dup(&c.mem, vtext.p, vtext.len);
            if (!t) {
                bt_errf(err, errlen, "JSON diff: out of memory");
                goto done;
            }
            if (parse_doc(&c, t, vtext.len, &val)) goto done;
            q += vlen;
        }
        if (apply_one(&c, &root, op, legs, nlegs, val, path, (size_t)plen)) goto done;
    }

    bt_buf_t *b = bt_value_scratch();
    write_node(b, root);
    if (b->failed || b->len > UINT32_MAX) {
        bt_errf(err, errlen, "JSON diff: out of memory for the document");
        bt_value_scratch_trim(b);
        goto done;
    }
    char *text = bt_arena_dup(arena, b->p, b->len);
    size_t tl = b->len;
    bt_value_scratch_trim(b);
    if (!text) {
        bt_errf(err, errlen, "JSON diff: out of row memory for %zu bytes", tl);
        goto done;
    }
    *out = (bt_value_t){.present = true, .kind = BT_VAL_JSON, .s = text, .len = (uint32_t)tl};
    *used = 4 + total;
    rc = 0;
done:
    bt_buf_free(&vtext);
    bt_arena_free(&c.mem);
    return rc;
}
