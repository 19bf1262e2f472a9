/* ev_query.c: SQL text events: QUERY (and MariaDB's QUERY_COMPRESSED), EXECUTE_LOAD_QUERY,
 * ROWS_QUERY and MariaDB's ANNOTATE_ROWS; and the classifier that tells a transaction's BEGIN,
 * COMMIT or ROLLBACK from a statement-logged DML statement and from DDL. */
#include "agent/binlog/decoder_internal.h"

#include <ctype.h>

/* Status variable codes (Q_*) and what we need from them. */
enum {
    Q_FLAGS2 = 0, Q_SQL_MODE = 1, Q_CATALOG = 2, Q_AUTO_INCREMENT = 3, Q_CHARSET = 4, Q_TIME_ZONE = 5,
    Q_CATALOG_NZ = 6, Q_LC_TIME_NAMES = 7, Q_CHARSET_DATABASE = 8, Q_TABLE_MAP_FOR_UPDATE = 9,
    Q_MASTER_DATA_WRITTEN = 10, Q_INVOKER = 11, Q_UPDATED_DB_NAMES = 12, Q_MICROSECONDS = 13,
    Q_EXPLICIT_DEFAULTS_FOR_TIMESTAMP = 16, Q_DDL_LOGGED_WITH_XID = 17, Q_DEFAULT_COLLATION_FOR_UTF8MB4 = 18,
    Q_SQL_REQUIRE_PRIMARY_KEY = 19, Q_DEFAULT_TABLE_ENCRYPTION = 20,
    Q_HRNOW = 128, Q_XID = 129, Q_GTID_FLAGS3 = 130, /* MariaDB */
};

/* Walks the status variables by their known sizes. An unknown code ends the walk without error:
 * status_vars_len already told where they end, and servers only append codes. Returns false on
 * a short read (r->want names the variable). */
static bool parse_status_vars(bt_rd_t *r, uint16_t *client_charset) {
    while (bt_rd_left(r) > 0) {
        uint8_t code = *r->p++;
        uint8_t n;
        switch (code) {
        case Q_FLAGS2: case Q_MASTER_DATA_WRITTEN:
            if (!bt_rd_skip(r, 4, "a 4-byte status variable")) return false;
            break;
        case Q_SQL_MODE: case Q_TABLE_MAP_FOR_UPDATE: case Q_DDL_LOGGED_WITH_XID: case Q_XID:
            if (!bt_rd_skip(r, 8, "an 8-byte status variable")) return false;
            break;
        case Q_AUTO_INCREMENT:
            if (!bt_rd_skip(r, 4, "Q_AUTO_INCREMENT")) return false;
            break;
        case Q_CHARSET: {
            uint16_t cs;
            if (!bt_rd_u16(r, &cs, "Q_CHARSET") || !bt_rd_skip(r, 4, "Q_CHARSET")) return false;
            *client_charset = cs;
            break;
        }
        case Q_TIME_ZONE: case Q_CATALOG_NZ:
            if (!bt_rd_u8(r, &n, "a status variable length") || !bt_rd_skip(r, n, "a status variable string"))
                return false;
            break;
        case Q_CATALOG:
            if (!bt_rd_u8(r, &n, "Q_CATALOG length") || !bt_rd_skip(r, (size_t)n + 1, "Q_CATALOG")) return false;
            break;
        case Q_LC_TIME_NAMES: case Q_CHARSET_DATABASE: case Q_DEFAULT_COLLATION_FOR_UTF8MB4:
            if (!bt_rd_skip(r, 2, "a 2-byte status variable")) return false;
            break;
        case Q_INVOKER:
            if (!bt_rd_u8(r, &n, "Q_INVOKER user length") || !bt_rd_skip(r, n, "Q_INVOKER user") ||
                !bt_rd_u8(r, &n, "Q_INVOKER host length") || !bt_rd_skip(r, n, "Q_INVOKER host"))
                return false;
            break;
        case Q_UPDATED_DB_NAMES: {
            uint8_t count;
            if (!bt_rd_u8(r, &count, "Q_UPDATED_DB_NAMES count")) return false;
            if (count == 254) break; /* OVER_MAX_DBS_IN_EVENT_MTS: no names follow */
            for (unsigned i = 0; i < count; i++) {
                const uint8_t *z = memchr(r->p, 0, bt_rd_left(r));
                if (!z) {
                    r->want = "Q_UPDATED_DB_NAMES name";
                    return false;
                }
                r->p = z + 1;
            }
            break;
        }
        case Q_MICROSECONDS: case Q_HRNOW:
            if (!bt_rd_skip(r, 3, "a 3-byte status variable")) return false;
            break;
        case Q_EXPLICIT_DEFAULTS_FOR_TIMESTAMP: case Q_SQL_REQUIRE_PRIMARY_KEY: case Q_DEFAULT_TABLE_ENCRYPTION:
        case Q_GTID_FLAGS3:
            if (!bt_rd_skip(r, 1, "a 1-byte status variable")) return false;
            break;
        default:
            r->p = r->end;
            return true;
        }
    }
    return true;
}

/* ---- classification --------------------------------------------------------------------- */

/* Skips blanks and comments; executable comments ("/" "*!NNNNN ...") are entered, since their
 * body is the statement. */
static const char *skip_noise(const char *s, const char *e) {
    for (;;) {
        while (s < e && isspace((unsigned char)*s)) s++;
        if (e - s >= 3 && s[0] == '/' && s[1] == '*' && s[2] == '!') {
            s += 3;
            while (s < e && isdigit((unsigned char)*s)) s++;
            continue;
        }
        if (e - s >= 2 && s[0] == '/' && s[1] == '*') {
            const char *z = s + 2;
            while (e - z >= 2 && !(z[0] == '*' && z[1] == '/')) z++;
            s = e - z >= 2 ? z + 2 : e;
            continue;
        }
        if ((e - s >= 1 && s[0] == '#') || (e - s >= 3 && s[0] == '-' && s[1] == '-' && isspace((unsigned char)s[2]))) {
            while (s < e && *s != '\n') s++;
            continue;
        }
        return s;
    }
}

/* Matches the keyword kw (upper case) at *s as a whole word; advances past it on success. */
static bool word(const char **s, const char *e, const char *kw) {
    const char *p = skip_noise(*s, e);
    size_t n = strlen(kw);
    if ((size_t)(e - p) < n) return false;
    for (size_t i = 0; i < n; i++)
        if (toupper((unsigned char)p[i]) != kw[i]) return false;
    if ((size_t)(e - p) > n && (isalnum((unsigned char)p[n]) || p[n] == '_')) return false;
    *s = p + n;
    return true;
}

/* Statements about accounts, privileges and the server itself rather than the schema. They
 * are never published: they are no schema change a consumer could apply, and their text can
 * carry credentials (CREATE USER ... IDENTIFIED BY 'secret', a password hash). */
static bool is_admin(const char *s, const char *e) {
    const char *t = s;
    if (word(&t, e, "GRANT") || word(&t, e, "REVOKE") || word(&t, e, "FLUSH") || word(&t, e, "INSTALL") ||
        word(&t, e, "UNINSTALL") || word(&t, e, "RESET") || word(&t, e, "PURGE") || word(&t, e, "KILL") ||
        word(&t, e, "ANALYZE") || word(&t, e, "OPTIMIZE") || word(&t, e, "REPAIR") || word(&t, e, "CHECK") ||
        word(&t, e, "CHECKSUM") || word(&t, e, "SHUTDOWN") || word(&t, e, "CACHE"))
        return true;
    t = s;
    if (word(&t, e, "SET")) { /* not SET STATEMENT ... FOR <statement> */
        const char *u = t;
        if (word(&u, e, "PASSWORD") || word(&u, e, "ROLE")) return true;
        u = t;
        return word(&u, e, "DEFAULT") && word(&u, e, "ROLE");
    }
    t = s;
    if (word(&t, e, "CREATE") || word(&t, e, "ALTER") || word(&t, e, "DROP") || word(&t, e, "RENAME")) {
        const char *u = t;
        if (word(&u, e, "OR")) { /* CREATE OR REPLACE USER/ROLE */
            if (!word(&u, e, "REPLACE")) return false;
            t = u;
        }
        u = t;
        if (word(&u, e, "DEFINER")) return false; /* CREATE DEFINER=... VIEW/PROCEDURE: schema */
        u = t;
        return word(&u, e, "USER") || word(&u, e, "ROLE") || word(&u, e, "SERVER") ||
               word(&u, e, "RESOURCE") || word(&u, e, "LOGFILE") || word(&u, e, "TABLESPACE") ||
               word(&u, e, "INSTANCE") || word(&u, e, "UNDO");
    }
    return false;
}

bool bt_query_starts_transaction(const char *sql, size_t len) {
    static const char kw[] = "START TRANSACTION";
    size_t n = sizeof kw - 1;
    while (len && (isspace((unsigned char)sql[len - 1]) || sql[len - 1] == ';')) len--;
    if (len < n) return false;
    for (size_t i = 0; i < n; i++)
        if (toupper((unsigned char)sql[len - n + i]) != kw[i]) return false;
    return true;
}

bt_ev_kind_t bt_query_classify(const char *sql, size_t len) {
    const char *s = sql, *e = sql + len;
    if (skip_noise(s, e) == e) return BT_EV_OTHER;
    if (word(&s, e, "BEGIN")) return BT_EV_BEGIN;
    if (word(&s, e, "COMMIT")) return BT_EV_COMMIT;
    if (word(&s, e, "ROLLBACK")) {
        const char *t = s;
        if (word(&t, e, "WORK")) s = t;
        return word(&s, e, "TO") ? BT_EV_OTHER : BT_EV_ROLLBACK; /* ROLLBACK TO SAVEPOINT keeps the transaction */
    }
    if (word(&s, e, "SAVEPOINT")) return BT_EV_OTHER;
    if (word(&s, e, "RELEASE")) return BT_EV_OTHER;
    if (word(&s, e, "XA")) {
        if (word(&s, e, "START") || word(&s, e, "BEGIN")) return BT_EV_BEGIN;
        if (word(&s, e, "COMMIT") || word(&s, e, "PREPARE")) return BT_EV_COMMIT;
        if (word(&s, e, "ROLLBACK")) return BT_EV_ROLLBACK;
        return BT_EV_OTHER; /* XA END, XA RECOVER */
    }
    static const char *const dml[] = {"INSERT", "UPDATE", "DELETE", "REPLACE", "LOAD", "WITH"};
    for (size_t i = 0; i < sizeof dml / sizeof dml[0]; i++)
        if (word(&s, e, dml[i])) return BT_EV_DML_STATEMENT;
    if (is_admin(s, e)) return BT_EV_ADMIN;
    return BT_EV_DDL;
}

/* QUERY_EVENT, QUERY_COMPRESSED_EVENT (MariaDB), EXECUTE_LOAD_QUERY_EVENT:
 *   post-header (FDE length; 13 for QUERY, 26 for EXECUTE_LOAD_QUERY):
 *     thread_id u32 | exec_time u32 | db_len u8 | error_code u16 | status_vars_len u16 |
 *     [EXECUTE_LOAD_QUERY: file_id u32 | start_pos u32 | end_pos u32 | dup_handling u8]
 *   status_vars[status_vars_len] | db[db_len] | NUL | query (the rest of the body;
 *   QUERY_COMPRESSED: a MariaDB compressed block, see bt_dec_inflate_mariadb) */
int bt_ev_query(bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, char *err, size_t errlen) {
    unsigned post = bt_dec_post_len(dec, c->type, c->type == BT_EXECUTE_LOAD_QUERY_EVENT ? 26 : 13);
    bt_rd_t r;
    bt_rd_init(&r, c->body, c->len);
    uint32_t thread_id;
    uint8_t db_len;
    uint16_t error_code, svlen = 0;
    if (!bt_rd_u32(&r, &thread_id, "thread_id") || !bt_rd_skip(&r, 4, "exec_time") ||
        !bt_rd_u8(&r, &db_len, "db_len") || !bt_rd_u16(&r, &error_code, "error_code"))
        return bt_dec_malformed(dec, c, &r, err, errlen);
    if (post >= 13 && !bt_rd_u16(&r, &svlen, "status_vars_len")) return bt_dec_malformed(dec, c, &r, err, errlen);
    if (post > 13 && !bt_rd_skip(&r, post - 13, "the rest of the post-header"))
        return bt_dec_malformed(dec, c, &r, err, errlen);
    const uint8_t *sv, *db;
    uint8_t nul;
    if (!bt_rd_bytes(&r, svlen, &sv, "status variables")) return bt_dec_malformed(dec, c, &r, err, errlen);
    bt_rd_t s;
    bt_rd_init(&s, sv, svlen);
    uint16_t client_cs = 0;
    if (!parse_status_vars(&s, &client_cs)) return bt_dec_malformed(dec, c, &s, err, errlen);
    if (!bt_rd_bytes(&r, db_len, &db, "db name") || !bt_rd_u8(&r, &nul, "NUL after the db name"))
        return bt_dec_malformed(dec, c, &r, err, errlen);
    if (nul != 0) return bt_dec_fail(dec, c, err, errlen, "malformed event: the db name is not NUL-terminated");
    const uint8_t *q = r.p;
    size_t qlen = bt_rd_left(&r);
    if (c->type == BT_MARIA_QUERY_COMPRESSED_EVENT &&
        bt_dec_inflate_mariadb(dec, c, r.p, bt_rd_left(&r), &q, &qlen, err, errlen) < 0)
        return -1;
    const char *dbz = bt_dec_keep_text(dec, db, db_len);
    if (!dbz) return bt_dec_fail(dec, c, err, errlen, "out of memory");
    bt_dec_event_init(dec, c, ev, bt_query_classify((const char *)q, qlen));
    ev->u.query.db = dbz;
    ev->u.query.db_len = db_len;
    ev->u.query.sql = (const char *)q;
    ev->u.query.sql_len = qlen;
    ev->u.query.thread_id = thread_id;
    ev->u.query.error_code = error_code;
    ev->u.query.client_charset = client_cs;
    return 0;
}

/* ROWS_QUERY_LOG_EVENT: length u8 (of old, truncated to 255; ignored) | the statement (the rest).
 * ANNOTATE_ROWS_EVENT (MariaDB): the statement is the whole body. */
int bt_ev_rows_query(bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, char *err, size_t errlen) {
    bt_rd_t r;
    bt_rd_init(&r, c->body, c->len);
    if (c->type == BT_ROWS_QUERY_LOG_EVENT && !bt_rd_skip(&r, 1, "length"))
        return bt_dec_malformed(dec, c, &r, err, errlen);
    bt_dec_event_init(dec, c, ev, BT_EV_ROWS_QUERY);
    ev->u.query.sql = (const char *)r.p;
    ev->u.query.sql_len = bt_rd_left(&r);
    ev->u.query.db = "";
    return 0;
}
