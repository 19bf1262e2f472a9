/* schema.c: information_schema lookups for MINIMAL-metadata binlogs (see schema.h). */
#include "agent/stream/schema.h"

#include <mysql.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/source/mysql_url.h"
#include "lib/lib.h"

#define MAX_COLS 4096

typedef struct entry {
    char *key;          /* "db.table" */
    uint32_t ncols;     /* 0: looked up and not usable (warned) */
    char **names;
    char **types;     /* information_schema DATA_TYPE of each column */
    bool type_warned; /* the binlog's column types differed from these (said once) */
    uint32_t *pk;
    uint32_t npk;
    struct entry *next;
} entry_t;

struct bt_schema {
    char *url, *password_file;
    MYSQL *conn;
    entry_t *entries;   /* a short list: tables without names in the binlog are few */
};

bt_schema_t *bt_schema_new(const char *mysql_url, const char *password_file) {
    bt_schema_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->url = mysql_url ? strdup(mysql_url) : NULL;
    s->password_file = password_file ? strdup(password_file) : NULL;
    if ((mysql_url && !s->url) || (password_file && !s->password_file)) {
        bt_schema_free(s);
        return NULL;
    }
    return s;
}

static void entry_free(entry_t *e) {
    for (uint32_t i = 0; i < e->ncols; i++) free(e->names[i]);
    for (uint32_t i = 0; e->types && i < e->ncols; i++) free(e->types[i]);
    free(e->names);
    free(e->types);
    free(e->pk);
    free(e->key);
    free(e);
}

/* An empty entry for key, not yet in the list; NULL when out of memory. */
static entry_t *entry_new(const char *key) {
    entry_t *e = calloc(1, sizeof *e);
    if (e && !(e->key = strdup(key))) {
        free(e);
        return NULL;
    }
    return e;
}

void bt_schema_free(bt_schema_t *s) {
    if (!s) return;
    while (s->entries) {
        entry_t *e = s->entries;
        s->entries = e->next;
        entry_free(e);
    }
    if (s->conn) mysql_close(s->conn);
    free(s->url);
    free(s->password_file);
    free(s);
}

void bt_schema_invalidate(bt_schema_t *s, const char *db, const char *table) {
    if (!s) return;
    size_t dl = strlen(db ? db : "");
    entry_t **pp = &s->entries;
    while (*pp) {
        entry_t *e = *pp;
        bool same_db = !strncmp(e->key, db ? db : "", dl) && e->key[dl] == '.';
        bool hit = same_db && (!table || !*table || !strcmp(e->key + dl + 1, table));
        if (hit) {
            *pp = e->next;
            entry_free(e);
        } else {
            pp = &e->next;
        }
    }
}

static MYSQL *conn(bt_schema_t *s, char *err, size_t errlen) {
    if (s->conn && mysql_ping(s->conn) == 0) return s->conn;
    if (s->conn) mysql_close(s->conn);
    s->conn = NULL;
    bt_mysql_url_t url;
    char *password = NULL;
    if (bt_mysql_url_parse(s->url, &url, err, errlen) != 0) return NULL;
    if (bt_mysql_password(s->password_file, &password, err, errlen) != 0) return NULL;
    s->conn = bt_mysql_connect(&url, password, 10, err, errlen);
    free(password);
    return s->conn;
}

/* Query one result column list; returns rows as strdup'ed strings (first column). */
static int fetch_names(MYSQL *m, const char *query, char ***out, uint32_t *n, char *err, size_t errlen) {
    *out = NULL;
    *n = 0;
    if (mysql_query(m, query) != 0) {
        snprintf(err, errlen, "information_schema lookup failed: %s", mysql_error(m));
        return -1;
    }
    MYSQL_RES *res = mysql_store_result(m);
    if (!res) {
        snprintf(err, errlen, "information_schema lookup failed: %s", mysql_error(m));
        return -1;
    }
    uint64_t rows = mysql_num_rows(res);
    if (rows > MAX_COLS) rows = MAX_COLS;
    char **v = calloc(rows ? rows : 1, sizeof *v);
    MYSQL_ROW row;
    uint32_t k = 0;
    bool oom = !v;
    while (!oom && k < rows && (row = mysql_fetch_row(res))) {
        if (!(v[k] = strdup(row[0] ? row[0] : ""))) oom = true;
        else k++;
    }
    mysql_free_result(res);
    if (oom) {
        for (uint32_t i = 0; i < k; i++) free(v[i]);
        free(v);
        snprintf(err, errlen, "information_schema lookup: out of memory");
        return -1;
    }
    *out = v;
    *n = k;
    return 0;
}

static entry_t *lookup(bt_schema_t *s, const bt_table_t *t, const char *key, char *err, size_t errlen) {
    MYSQL *m = conn(s, err, errlen);
    if (!m) return NULL;
    char db[260], tb[260], q[1400];
    mysql_real_escape_string(m, db, t->db, (unsigned long)strnlen(t->db, 128));
    mysql_real_escape_string(m, tb, t->name, (unsigned long)strnlen(t->name, 128));
    entry_t *e = entry_new(key);
    if (!e) {
        snprintf(err, errlen, "%s: out of memory for its column names", key);
        return NULL;
    }
    snprintf(q, sizeof q, "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='%s' "
                          "AND TABLE_NAME='%s' ORDER BY ORDINAL_POSITION", db, tb);
    if (fetch_names(m, q, &e->names, &e->ncols, err, errlen) != 0) {
        entry_free(e);
        return NULL;
    }
    uint32_t ntypes = 0;
    snprintf(q, sizeof q,
             "SELECT LOWER(DATA_TYPE) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='%s' "
             "AND TABLE_NAME='%s' ORDER BY ORDINAL_POSITION",
             db, tb);
    if (fetch_names(m, q, &e->types, &ntypes, err, errlen) != 0) {
        entry_free(e);
        return NULL;
    }
    if (ntypes != e->ncols) { /* the table changed between the two queries: not usable now */
        for (uint32_t i = 0; i < ntypes; i++) free(e->types[i]);
        free(e->types);
        e->types = NULL;
        for (uint32_t i = 0; i < e->ncols; i++) free(e->names[i]);
        e->ncols = 0;
    }
    char **pkn;
    uint32_t npk;
    snprintf(q, sizeof q, "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA='%s' "
                          "AND TABLE_NAME='%s' AND CONSTRAINT_NAME='PRIMARY' ORDER BY ORDINAL_POSITION", db, tb);
    if (fetch_names(m, q, &pkn, &npk, err, errlen) != 0) {
        entry_free(e);
        return NULL;
    }
    e->pk = calloc(npk ? npk : 1, sizeof *e->pk);
    for (uint32_t i = 0; i < npk; i++) {
        for (uint32_t j = 0; e->pk && j < e->ncols; j++)
            if (!strcmp(pkn[i], e->names[j])) e->pk[e->npk++] = j;
        free(pkn[i]);
    }
    free(pkn);
    if (!e->pk) {
        entry_free(e);
        snprintf(err, errlen, "%s: out of memory for its primary key", key);
        return NULL;
    }
    e->next = s->entries;
    s->entries = e;
    return e;
}

/* A column type family, so that the binlog's type codes and information_schema's DATA_TYPE can
 * be compared: an ALTER that drops one column and adds another keeps the count but (mostly)
 * not the types. NULL: no family known (never a reason to refuse the names). */
static const char *binlog_family(uint8_t type) {
    switch (type) {
    case BT_TYPE_TINY:
    case BT_TYPE_SHORT:
    case BT_TYPE_INT24:
    case BT_TYPE_LONG:
    case BT_TYPE_LONGLONG: return "int";
    case BT_TYPE_FLOAT:
    case BT_TYPE_DOUBLE: return "float";
    case BT_TYPE_DECIMAL:
    case BT_TYPE_NEWDECIMAL: return "decimal";
    case BT_TYPE_DATE:
    case BT_TYPE_NEWDATE: return "date";
    case BT_TYPE_TIME:
    case BT_TYPE_TIME2: return "time";
    case BT_TYPE_DATETIME:
    case BT_TYPE_DATETIME2: return "datetime";
    case BT_TYPE_TIMESTAMP:
    case BT_TYPE_TIMESTAMP2: return "timestamp";
    case BT_TYPE_YEAR: return "year";
    case BT_TYPE_BIT: return "bit";
    case BT_TYPE_VARCHAR:
    case BT_TYPE_VAR_STRING:
    case BT_TYPE_STRING: return "string";
    case BT_TYPE_ENUM: return "enum";
    case BT_TYPE_SET: return "set";
    case BT_TYPE_TINY_BLOB:
    case BT_TYPE_MEDIUM_BLOB:
    case BT_TYPE_LONG_BLOB:
    case BT_TYPE_BLOB: return "blob";
    case BT_TYPE_JSON: return "json";
    case BT_TYPE_GEOMETRY: return "geometry";
    case BT_TYPE_VECTOR: return "vector";
    default: return NULL;
    }
}

static const char *schema_family(const char *t) {
    static const char *const map[][2] = {
        {"tinyint", "int"},
        {"smallint", "int"},
        {"mediumint", "int"},
        {"int", "int"},
        {"integer", "int"},
        {"bigint", "int"},
        {"float", "float"},
        {"double", "float"},
        {"real", "float"},
        {"decimal", "decimal"},
        {"numeric", "decimal"},
        {"date", "date"},
        {"time", "time"},
        {"datetime", "datetime"},
        {"timestamp", "timestamp"},
        {"year", "year"},
        {"bit", "bit"},
        {"char", "string"},
        {"varchar", "string"},
        {"binary", "string"},
        {"varbinary", "string"},
        {"inet4", "string"},
        {"inet6", "string"},
        {"uuid", "string"},
        {"enum", "enum"},
        {"set", "set"},
        {"tinytext", "blob"},
        {"text", "blob"},
        {"mediumtext", "blob"},
        {"longtext", "blob"},
        {"tinyblob", "blob"},
        {"blob", "blob"},
        {"mediumblob", "blob"},
        {"longblob", "blob"},
        {"json", "json"},
        {"geometry", "geometry"},
        {"point", "geometry"},
        {"linestring", "geometry"},
        {"polygon", "geometry"},
        {"multipoint", "geometry"},
        {"multilinestring", "geometry"},
        {"multipolygon", "geometry"},
        {"geometrycollection", "geometry"},
        {"geomcollection", "geometry"},
        {"vector", "vector"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(map[i][0], t)) return map[i][1];
    return NULL;
}

/* The first column whose binlog type and current type differ, or -1. */
static int type_mismatch(const entry_t *e, const bt_table_t *t) {
    for (uint32_t i = 0; e->types && i < t->ncols; i++) {
        const char *a = binlog_family(t->cols[i].type), *b = schema_family(e->types[i]);
        if (a && b && strcmp(a, b)) return (int)i;
    }
    return -1;
}

int bt_schema_lookup(void *ctx, bt_table_t *t, char *err, size_t errlen) {
    bt_schema_t *s = ctx;
    char key[600];
    snprintf(key, sizeof key, "%s.%s", t->db, t->name);
    entry_t *e;
    for (e = s->entries; e; e = e->next)
        if (!strcmp(e->key, key)) break;
    if (!e && !s->url) {
        /* Remember the table so the warning is said once. */
        if ((e = entry_new(key))) {
            e->next = s->entries;
            s->entries = e;
        }
        bt_warn("%s: the binlog has no column names (binlog_row_metadata=MINIMAL): columns are named @1..@%u. "
                "Set binlog_row_metadata=FULL on the server, or give --mysql so bintail can look them up",
                key, t->ncols);
        return 0;
    }
    if (!e) {
        e = lookup(s, t, key, err, errlen);
        if (!e) return -1; /* the server did not answer: stop rather than guess */
        if (e->ncols != t->ncols)
            bt_warn("%s: the binlog has %u columns but the table has %u now (its schema changed since): columns "
                    "stay @1..@%u for this table version", key, t->ncols, e->ncols, t->ncols);
    }
    if (!e->ncols || e->ncols != t->ncols) return 0;
    int bad = type_mismatch(e, t);
    if (bad >= 0) {
        if (!e->type_warned)
            bt_warn("%s: column %d is %s in the binlog but `%s` (%s) in the table now (its schema changed since "
                    "this event was written): columns stay @1..@%u for this table version",
                    key, bad + 1, binlog_family(t->cols[bad].type), e->names[bad], e->types[bad], t->ncols);
        e->type_warned = true;
        return 0;
    }
    e->type_warned = false;
    return bt_table_set_names(NULL, t, (const char *const *)e->names, e->ncols, e->pk, e->npk);
}
