/* table.c: a table's description for the snapshot, from information_schema.
 *
 * DESIGN: snapshot rows go through the same formats as binlog rows, and the formats render a
 * value from its bt_column_t (type, meta, unsigned, collation, labels) and its bt_value_t. So
 * the columns built here must be exactly what the binlog decoder builds from a TABLE_MAP with
 * binlog_row_metadata=FULL; each case below notes the TABLE_MAP encoding it reproduces (the
 * conventions are in agent/binlog/value.h, checked against mariadb-binlog --print-table-metadata).
 * Columns are read with the text protocol; where the text SELECT shows is not the stored value
 * (FLOAT rounds to 6 digits, INET6/UUID/INET4 print as text but are binlogged as bytes) the
 * SELECT list reads an exact form instead. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/snapshot/internal.h"
#include "lib/lib.h"

void bt_snap_table_free(bt_snap_table_t *st) {
    if (!st) return;
    for (uint32_t i = 0; i < st->t.ncols; i++) {
        bt_column_t *col = &st->t.cols[i];
        free((char *)col->name);
        for (uint32_t k = 0; k < col->nlabels; k++) free((char *)col->labels[k]);
        free((void *)col->labels);
        free((void *)col->label_lens);
    }
    free(st->t.cols);
    free((void *)st->t.pk);
    free((char *)st->t.db);
    free((char *)st->t.name);
    free(st->conv);
    free(st->fsp);
    free(st->select_list);
    free(st->where);
    free(st->qname);
    free(st->label);
    free(st);
}

/* ENUM('a','b''c','x\\y') / SET(...) labels as COLUMN_TYPE shows them: quotes doubled,
 * backslashes escaped. Returns the count, or -1 on a malformed list. */
static int parse_labels(const char *coltype, bt_column_t *col) {
    const char *p = strchr(coltype, '(');
    if (!p) return -1;
    p++;
    size_t cap = 8, n = 0;
    const char **labels = bt_xcalloc(cap, sizeof *labels);
    uint32_t *lens = bt_xcalloc(cap, sizeof *lens);
    char *tmp = bt_xmalloc(strlen(coltype) + 1);
    while (*p == '\'') {
        p++;
        size_t k = 0;
        for (;;) {
            if (!*p) goto fail;
            if (*p == '\'' && p[1] == '\'') {
                tmp[k++] = '\'';
                p += 2;
            } else if (*p == '\'') {
                p++;
                break;
            } else if (*p == '\\' && p[1]) {
                switch (p[1]) {
                case '0': tmp[k++] = 0; break;
                case 'n': tmp[k++] = '\n'; break;
                case 'r': tmp[k++] = '\r'; break;
                case 't': tmp[k++] = '\t'; break;
                case 'Z': tmp[k++] = 26; break;
                default: tmp[k++] = p[1]; break;
                }
                p += 2;
            } else {
                tmp[k++] = *p++;
            }
        }
        if (n == cap) {
            cap *= 2;
            labels = bt_xrealloc(labels, cap * sizeof *labels);
            lens = bt_xrealloc(lens, cap * sizeof *lens);
        }
        char *lab = bt_xmalloc(k + 1);
        memcpy(lab, tmp, k);
        lab[k] = 0;
        labels[n] = lab;
        lens[n] = (uint32_t)k;
        n++;
        if (*p == ',') p++;
    }
    free(tmp);
    col->labels = labels;
    col->label_lens = lens;
    col->nlabels = (uint32_t)n;
    return (int)n;
fail:
    for (size_t i = 0; i < n; i++) free((char *)labels[i]);
    free((void *)labels);
    free(lens);
    free(tmp);
    return -1;
}

/* STRING's TABLE_MAP metadata: [real_type, length]; a length over 255 borrows bits 4-5 of the
 * first byte, inverted (MySQL bug #37426's encoding). */
static uint16_t string_meta(uint8_t real_type, unsigned long len) {
    uint8_t b0 = (uint8_t)(real_type ^ ((len & 0x300) >> 4));
    return (uint16_t)(b0 << 8 | (len & 0xff));
}

static int blob_pack_len(const char *dt) {
    if (!strncmp(dt, "tiny", 4)) return 1;
    if (!strncmp(dt, "medium", 6)) return 3;
    if (!strncmp(dt, "long", 4)) return 4;
    return 2;
}

static uint8_t geometry_type(const char *dt) {
    static const char *const names[] = {"geometry", "point", "linestring", "polygon", "multipoint",
                                        "multilinestring", "multipolygon", "geometrycollection"};
    for (uint8_t i = 0; i < 8; i++)
        if (!strcmp(dt, names[i])) return i;
    if (!strcmp(dt, "geomcollection")) return 7; /* MySQL 8's name */
    return 0;
}

typedef struct colrow {
    const char *name, *data_type, *column_type, *nullable, *charset, *extra;
    long long precision, scale, dt_precision, octets, collation, pk_seq;
    bool has_precision, has_scale, has_dt_precision, has_octets, has_collation, has_pk_seq;
} colrow_t;

static long long num(const char *s, bool *has) {
    *has = s != NULL;
    return s ? strtoll(s, NULL, 10) : 0;
}

/* One column: type, meta and conversion; appends its SELECT expression. */
static int describe_column(bt_snap_table_t *st, uint32_t i, const colrow_t *r, bool mariadb, bt_buf_t *sel,
                           char *err, size_t errlen) {
    bt_column_t *col = &st->t.cols[i];
    char dt[64];
    snprintf(dt, sizeof dt, "%s", r->data_type ? r->data_type : "");
    for (char *q = dt; *q; q++) *q = (char)(*q >= 'A' && *q <= 'Z' ? *q + 32 : *q);
    bool is_unsigned = r->column_type && strstr(r->column_type, "unsigned") != NULL;
    bool binary_cs = !r->charset; /* binary strings have no character set */
    uint16_t collation = r->has_collation ? (uint16_t)r->collation : 0;
    uint8_t fsp = r->has_dt_precision && r->dt_precision > 0 && r->dt_precision <= 6 ? (uint8_t)r->dt_precision : 0;
    unsigned long octets = r->has_octets && r->octets > 0 ? (unsigned long)r->octets : 0;
    const char *cast = NULL; /* SELECT this instead of the bare column */
    char castbuf[64];
    bt_snap_conv_t conv;

    col->nullable = r->nullable && !strcasecmp(r->nullable, "YES");
    col->collation = 0; /* the binlog has charsets for character, ENUM and SET columns only */
    if (!strcmp(dt, "tinyint") || !strcmp(dt, "smallint") || !strcmp(dt, "mediumint") || !strcmp(dt, "int") ||
        !strcmp(dt, "integer") || !strcmp(dt, "bigint")) {
        col->type = dt[0] == 't' ? BT_TYPE_TINY : dt[0] == 's' ? BT_TYPE_SHORT : dt[0] == 'm' ? BT_TYPE_INT24
                  : dt[0] == 'b' ? BT_TYPE_LONGLONG : BT_TYPE_LONG;
        col->is_unsigned = is_unsigned;
        conv = is_unsigned ? BT_SNAP_UINT : BT_SNAP_INT;
    } else if (!strcmp(dt, "decimal") || !strcmp(dt, "numeric")) {
        col->type = BT_TYPE_NEWDECIMAL; /* meta: precision << 8 | scale */
        col->meta = (uint16_t)((r->precision & 0xff) << 8 | (r->scale & 0xff));
        col->is_unsigned = is_unsigned;
        conv = BT_SNAP_DECIMAL;
    } else if (!strcmp(dt, "float")) {
        col->type = BT_TYPE_FLOAT;
        col->meta = 4;
        col->is_unsigned = is_unsigned;
        conv = BT_SNAP_FLOAT;
        /* SELECT shows a FLOAT with 6 significant digits (16777217 as 16777200); as a DOUBLE the
         * stored value comes back exactly, and converts back to the same float. */
        cast = "+0e0";
    } else if (!strcmp(dt, "double") || !strcmp(dt, "real") || !strcmp(dt, "double precision")) {
        col->type = BT_TYPE_DOUBLE;
        col->meta = 8;
        col->is_unsigned = is_unsigned;
        conv = BT_SNAP_DOUBLE;
    } else if (!strcmp(dt, "date")) {
        col->type = BT_TYPE_DATE;
        conv = BT_SNAP_DATE;
    } else if (!strcmp(dt, "datetime")) {
        col->type = BT_TYPE_DATETIME2; /* meta: fsp (MySQL 5.6 format, MariaDB's default since 10.1) */
        col->meta = fsp;
        conv = BT_SNAP_DATETIME;
    } else if (!strcmp(dt, "timestamp")) {
        col->type = BT_TYPE_TIMESTAMP2;
        col->meta = fsp;
        conv = BT_SNAP_TIMESTAMP;
    } else if (!strcmp(dt, "time")) {
        col->type = BT_TYPE_TIME2;
        col->meta = fsp;
        conv = BT_SNAP_TIME;
    } else if (!strcmp(dt, "year")) {
        col->type = BT_TYPE_YEAR;
        conv = BT_SNAP_YEAR;
    } else if (!strcmp(dt, "bit")) {
        long long bits = r->has_precision ? r->precision : 1;
        col->type = BT_TYPE_BIT; /* meta: bytes << 8 | bits, BIT(M) = bytes * 8 + bits */
        col->meta = (uint16_t)((bits / 8) << 8 | (bits % 8));
        conv = BT_SNAP_BIT;
    } else if (!strcmp(dt, "enum") || !strcmp(dt, "set")) {
        bool is_enum = dt[0] == 'e';
        int n = parse_labels(r->column_type ? r->column_type : "", col);
        if (n < 0) {
            snprintf(err, errlen, "snapshot of %s: column %s: cannot read the labels of %s", st->label, col->name,
                     r->column_type ? r->column_type : "(null)");
            return -1;
        }
        /* TABLE_MAP says STRING with [real_type, pack length] */
        col->wire_type = BT_TYPE_STRING;
        col->type = is_enum ? BT_TYPE_ENUM : BT_TYPE_SET;
        unsigned pack = is_enum ? (n < 256 ? 1 : 2) : (unsigned)((n + 7) / 8);
        if (!is_enum && pack > 4) pack = 8;
        col->meta = (uint16_t)((is_enum ? BT_TYPE_ENUM : BT_TYPE_SET) << 8 | pack);
        col->collation = collation;
        conv = is_enum ? BT_SNAP_ENUM : BT_SNAP_SET;
    } else if (!strcmp(dt, "char") || !strcmp(dt, "binary")) {
        col->type = BT_TYPE_STRING;
        col->meta = string_meta(BT_TYPE_STRING, octets);
        col->collation = binary_cs ? 63 : collation;
        conv = binary_cs ? BT_SNAP_BINARY : BT_SNAP_TEXT;
    } else if (!strcmp(dt, "varchar") || !strcmp(dt, "varbinary")) {
        col->type = BT_TYPE_VARCHAR; /* meta: the maximum length in bytes */
        col->meta = (uint16_t)octets;
        col->collation = binary_cs ? 63 : collation;
        conv = binary_cs ? BT_SNAP_BINARY : BT_SNAP_TEXT;
    } else if (strstr(dt, "text") || strstr(dt, "blob")) {
        col->type = BT_TYPE_BLOB; /* meta: the length's byte count (TINY 1 .. LONG 4) */
        col->meta = (uint16_t)blob_pack_len(dt);
        col->collation = binary_cs ? 63 : collation;
        conv = binary_cs ? BT_SNAP_BINARY : BT_SNAP_TEXT;
    } else if (!strcmp(dt, "json")) {
        /* MySQL's binary JSON (MariaDB's JSON is LONGTEXT and arrives as text above) */
        col->type = BT_TYPE_JSON;
        col->meta = 4;
        conv = BT_SNAP_JSON;
    } else if (strstr(dt, "point") || strstr(dt, "polygon") || strstr(dt, "linestring") || !strcmp(dt, "geometry") ||
               strstr(dt, "collection")) {
        col->type = BT_TYPE_GEOMETRY; /* the text protocol sends the stored SRID + WKB bytes */
        col->meta = 4;
        col->geometry_type = geometry_type(dt);
        if (mariadb) col->collation = 63; /* MariaDB's binlog lists GEOMETRY among the binary-charset columns */
        conv = BT_SNAP_GEOMETRY;
    } else if (!strcmp(dt, "inet6") || !strcmp(dt, "uuid") || !strcmp(dt, "inet4")) {
        /* MariaDB's fixed-size types are binlogged as BINARY(n); SELECT prints them as text */
        unsigned n = dt[4] == '4' ? 4 : 16;
        col->type = BT_TYPE_STRING;
        col->meta = string_meta(BT_TYPE_STRING, n);
        col->collation = 63;
        conv = BT_SNAP_BINARY;
        snprintf(castbuf, sizeof castbuf, "AS BINARY(%u)", n);
        cast = castbuf;
    } else {
        bt_warn("snapshot of %s: column %s has type %s, which the snapshot reads as text", st->label, col->name,
                r->column_type ? r->column_type : dt);
        col->type = BT_TYPE_BLOB;
        col->meta = 4;
        col->collation = binary_cs ? 63 : collation;
        conv = binary_cs ? BT_SNAP_BINARY : BT_SNAP_TEXT;
    }
    if (!col->wire_type) col->wire_type = col->type;
    /* MySQL's INVISIBLE columns (the binlog marks them; MariaDB's binlog does not) */
    col->invisible = !mariadb && r->extra && strstr(r->extra, "INVISIBLE") != NULL;
    st->conv[i] = (uint8_t)conv;
    st->fsp[i] = fsp;

    if (i) bt_buf_putc(sel, ',');
    if (cast && cast[0] == '+') { /* (`f`+0e0) */
        bt_buf_putc(sel, '(');
        bt_snap_quote_ident(sel, col->name);
        bt_buf_puts(sel, cast);
        bt_buf_putc(sel, ')');
    } else if (cast) { /* CAST(`c` AS BINARY(16)) */
        bt_buf_puts(sel, "CAST(");
        bt_snap_quote_ident(sel, col->name);
        bt_buf_printf(sel, " %s)", cast);
    } else {
        bt_snap_quote_ident(sel, col->name);
    }
    return 0;
}

int bt_snap_table_load(bt_snap_conn_t *c, const char *db, const char *name, bt_snap_table_t **out, char *err,
                       size_t errlen) {
    *out = NULL;
    bt_snap_table_t *st = bt_xcalloc(1, sizeof *st);
    bt_buf_t q, sel;
    bt_buf_init(&q, 0);
    bt_buf_init(&sel, 0);
    MYSQL_RES *res = NULL;
    st->t.db = bt_xstrdup(db);
    st->t.name = bt_xstrdup(name);
    size_t ll = strlen(db) + strlen(name) + 2;
    st->label = bt_xmalloc(ll);
    snprintf(st->label, ll, "%s.%s", db, name);
    bt_snap_quote_ident(&q, db);
    bt_buf_putc(&q, '.');
    bt_snap_quote_ident(&q, name);
    if (q.failed) goto oom;
    st->qname = bt_xstrdup(q.p);

    /* One query per table: columns in order, the collation id (the binlog's charset metadata
     * carries ids; MariaDB's uca1400 names are missing from COLLATIONS, so fall back to the
     * character set's default collation, which has the same charset), the primary key order. */
    bt_buf_reset(&q);
    bt_buf_puts(&q, "SELECT c.COLUMN_NAME, c.DATA_TYPE, c.COLUMN_TYPE, c.IS_NULLABLE, c.NUMERIC_PRECISION, "
                    "c.NUMERIC_SCALE, c.DATETIME_PRECISION, c.CHARACTER_OCTET_LENGTH, c.CHARACTER_SET_NAME, "
                    "COALESCE((SELECT co.ID FROM information_schema.COLLATIONS co WHERE co.COLLATION_NAME = "
                    "c.COLLATION_NAME LIMIT 1), (SELECT co.ID FROM information_schema.COLLATIONS co WHERE "
                    "co.CHARACTER_SET_NAME = c.CHARACTER_SET_NAME AND co.IS_DEFAULT = 'Yes' LIMIT 1)), "
                    "s.SEQ_IN_INDEX, c.EXTRA FROM information_schema.COLUMNS c "
                    /* constants, not c.TABLE_SCHEMA: only then does the server open just this
                     * table for STATISTICS instead of every table (0.2 s per table) */
                    "LEFT JOIN information_schema.STATISTICS s ON s.INDEX_NAME = 'PRIMARY' AND "
                    "s.COLUMN_NAME = c.COLUMN_NAME AND s.TABLE_SCHEMA = ");
    bt_snap_quote_string(c, &q, db, strlen(db));
    bt_buf_puts(&q, " AND s.TABLE_NAME = ");
    bt_snap_quote_string(c, &q, name, strlen(name));
    bt_buf_puts(&q, " WHERE c.TABLE_SCHEMA = ");
    bt_snap_quote_string(c, &q, db, strlen(db));
    bt_buf_puts(&q, " AND c.TABLE_NAME = ");
    bt_snap_quote_string(c, &q, name, strlen(name));
    bt_buf_puts(&q, " ORDER BY c.ORDINAL_POSITION");
    if (q.failed) goto oom;
    if (!(res = bt_snap_query(c, q.p, st->label, err, errlen))) goto fail;
    uint64_t nrows = mysql_num_rows(res);
    if (nrows == 0) { /* dropped since the list was read */
        mysql_free_result(res);
        bt_snap_table_free(st);
        bt_buf_free(&q);
        bt_buf_free(&sel);
        return 0;
    }
    if (nrows > 65535) {
        snprintf(err, errlen, "snapshot of %s: %llu columns?", st->label, (unsigned long long)nrows);
        goto fail;
    }
    st->t.ncols = (uint32_t)nrows;
    st->t.cols = bt_xcalloc(nrows, sizeof *st->t.cols);
    st->conv = bt_xcalloc(nrows, 1);
    st->fsp = bt_xcalloc(nrows, 1);
    uint32_t *pk = bt_xcalloc(nrows, sizeof *pk);
    long long *pkseq = bt_xcalloc(nrows, sizeof *pkseq);
    st->t.pk = pk;
    MYSQL_ROW row;
    uint32_t i = 0;
    while ((row = mysql_fetch_row(res)) && i < st->t.ncols) {
        colrow_t r = {0};
        r.name = row[0];
        r.data_type = row[1];
        r.column_type = row[2];
        r.nullable = row[3];
        r.precision = num(row[4], &r.has_precision);
        r.scale = num(row[5], &r.has_scale);
        r.dt_precision = num(row[6], &r.has_dt_precision);
        r.octets = num(row[7], &r.has_octets);
        r.charset = row[8];
        r.collation = num(row[9], &r.has_collation);
        r.pk_seq = num(row[10], &r.has_pk_seq);
        r.extra = row[11];
        bt_column_t *col = &st->t.cols[i];
        char *nm = bt_xstrdup(r.name ? r.name : "");
        col->name = nm;
        col->name_len = (uint32_t)strlen(nm);
        if (describe_column(st, i, &r, c->mariadb, &sel, err, errlen) != 0) {
            free(pkseq);
            goto fail;
        }
        if (r.has_pk_seq && r.pk_seq > 0) {
            col->pk = true;
            /* insertion by key position */
            uint32_t k = st->t.npk++;
            while (k > 0 && pkseq[k - 1] > r.pk_seq) {
                pk[k] = pk[k - 1];
                pkseq[k] = pkseq[k - 1];
                k--;
            }
            pk[k] = i;
            pkseq[k] = r.pk_seq;
        }
        i++;
    }
    free(pkseq);
    st->t.has_names = true;
    if (sel.failed) goto oom;
    st->select_list = bt_xstrdup(sel.p);
    mysql_free_result(res);
    bt_buf_free(&q);
    bt_buf_free(&sel);
    *out = st;
    return 0;
oom:
    snprintf(err, errlen, "snapshot of %s.%s: out of memory", db, name);
fail:
    if (res) mysql_free_result(res);
    bt_snap_table_free(st);
    bt_buf_free(&q);
    bt_buf_free(&sel);
    return -1;
}
