/* fmt_internal.h: what the format files share (private to agent/format/).
 *
 * Each format is a pair of functions, count and encode, reached through format.c's table.
 * The helpers here are the pieces several formats need: the row as a JSON object of typed
 * values, the primary key as an object, "did this update change the key", "did this column
 * change", and a small classifier of DDL statements by their leading keywords. */
#ifndef BT_FMT_INTERNAL_H
#define BT_FMT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/format/format.h"
#include "lib/lib.h"

struct bt_format {
    bt_format_kind_t kind;
    bool tombstones;
    char *server_name;
    char *connector;
    bt_buf_t scratch; /* per-message scratch text (key names, Latin-1 conversions, type names) */
    /* Debezium: the "source" object rendered up to its "row": member, reused for every row of
     * a rows event (all it holds but the row number is per event); src_fields is what it was
     * rendered from, compared field by field before reuse. */
    bt_buf_t src_prefix;
    bt_buf_t src_fields;
};

/* Per-format entry points. count never fails; encode writes message idx of c (idx < count). */
unsigned bt_fmt_json_count(const bt_format_t *f, const bt_change_t *c);
int bt_fmt_json_encode(bt_format_t *f, const bt_change_t *c, unsigned idx, bt_buf_t *key, bt_buf_t *val,
                       bool *null_value, char *err, size_t errlen);
unsigned bt_fmt_debezium_count(const bt_format_t *f, const bt_change_t *c);
int bt_fmt_debezium_encode(bt_format_t *f, const bt_change_t *c, unsigned idx, bt_buf_t *key, bt_buf_t *val,
                           bool *null_value, char *err, size_t errlen);
/* Which message of a Debezium change concerns the row's old key (see bt_format_msg_pk_bytes). */
bool bt_fmt_debezium_old_key(const bt_format_t *f, const bt_change_t *c, unsigned idx);
unsigned bt_fmt_canal_count(const bt_format_t *f, const bt_change_t *c);
int bt_fmt_canal_encode(bt_format_t *f, const bt_change_t *c, unsigned idx, bt_buf_t *key, bt_buf_t *val,
                        bool *null_value, char *err, size_t errlen);
unsigned bt_fmt_maxwell_count(const bt_format_t *f, const bt_change_t *c);
int bt_fmt_maxwell_encode(bt_format_t *f, const bt_change_t *c, unsigned idx, bt_buf_t *key, bt_buf_t *val,
                          bool *null_value, char *err, size_t errlen);
unsigned bt_fmt_dataworks_count(const bt_format_t *f, const bt_change_t *c);
int bt_fmt_dataworks_encode(bt_format_t *f, const bt_change_t *c, unsigned idx, bt_buf_t *key, bt_buf_t *val,
                            bool *null_value, char *err, size_t errlen);
unsigned bt_fmt_upsert_count(const bt_format_t *f, const bt_change_t *c);
int bt_fmt_upsert_encode(bt_format_t *f, const bt_change_t *c, unsigned idx, bt_buf_t *key, bt_buf_t *val,
                         bool *null_value, char *err, size_t errlen);
bool bt_fmt_upsert_old_key(const bt_format_t *f, const bt_change_t *c, unsigned idx);

/* Shared helpers (format.c). ---------------------------------------------------------------- */

/* Database and table name of a change ("" when unknown; table may be NULL for DDL). */
const char *bt_fmt_db(const bt_change_t *c);
const char *bt_fmt_table(const bt_change_t *c);

/* Checks that a row change carries what its op needs (table, images); -1 with err otherwise. */
int bt_fmt_check_row(const char *fmt, const bt_change_t *c, char *err, size_t errlen);

/* The image a row message shows: after for INSERT/UPDATE/READ, before for DELETE. */
const bt_row_t *bt_fmt_main_row(const bt_change_t *c);

/* The value of column i in row r, or NULL when the row does not carry it (absent column). */
const bt_value_t *bt_fmt_cell(const bt_row_t *r, uint32_t i);

/* Value of primary-key column col: from the after image (the new key) or, with old, from the
 * before image; either way falling back to the other image when the column is absent there
 * (binlog_row_image=MINIMAL leaves unchanged columns out of the after image). NULL if neither. */
const bt_value_t *bt_fmt_pk_cell(const bt_change_t *c, uint32_t col, bool old);

/* Writes a column name as an object key ("@N" when the table has no name for it). */
void bt_fmt_col_key(bt_jw_t *w, const bt_column_t *col, uint32_t i);

/* {"name": typed value, ...} of the row's present columns, in table order (NULL row: null). */
void bt_fmt_row_object(bt_jw_t *w, const bt_table_t *t, const bt_row_t *r);

/* {"pk1": typed value, ...} of the key columns in key order (new key, or the old one). */
void bt_fmt_pk_object(bt_jw_t *w, const bt_change_t *c, bool old);

/* ["pk1", ...] */
void bt_fmt_pk_names(bt_jw_t *w, const bt_table_t *t);

/* True when an UPDATE's after image gives a primary-key column a different value. */
bool bt_fmt_pk_changed(const bt_change_t *c);

/* True when two cells hold the same value (same column, so same type). */
bool bt_fmt_value_equal(const bt_value_t *a, const bt_value_t *b);

/* True when column i is in both images of an update and its value differs. */
bool bt_fmt_col_changed(const bt_change_t *c, uint32_t i);

/* True when a column holds bytes rather than text (binary collation 63; GEOMETRY). */
bool bt_fmt_col_binary(const bt_column_t *col);

/* "file:pos", or "" for changes without a file (snapshot rows). */
void bt_fmt_position(bt_buf_t *out, const bt_change_t *c);

/* What a DDL statement does, from its leading keywords (comments and executable-comment
 * markers skipped). Deliberately shallow: enough to name the change the way Canal and
 * Maxwell name it, never a SQL parser. */
typedef enum bt_ddl_kind {
    BT_DDL_OTHER = 0,
    BT_DDL_CREATE_TABLE,
    BT_DDL_ALTER_TABLE,
    BT_DDL_ALTER_TABLE_RENAME, /* ALTER TABLE t RENAME [TO|AS] u */
    BT_DDL_ALTER_ADD_INDEX,    /* ALTER TABLE t ADD INDEX|KEY|UNIQUE|FULLTEXT|SPATIAL ... */
    BT_DDL_ALTER_DROP_INDEX,   /* ALTER TABLE t DROP INDEX|KEY ... */
    BT_DDL_DROP_TABLE,
    BT_DDL_RENAME_TABLE,
    BT_DDL_TRUNCATE,
    BT_DDL_CREATE_INDEX,
    BT_DDL_DROP_INDEX,
    BT_DDL_CREATE_DATABASE,
    BT_DDL_ALTER_DATABASE,
    BT_DDL_DROP_DATABASE,
} bt_ddl_kind_t;

bt_ddl_kind_t bt_fmt_ddl_kind(const char *sql, size_t len);
/* Canal's EventType name of a DDL (CREATE, ALTER, ERASE, RENAME, TRUNCATE, CINDEX, DINDEX,
 * QUERY); DataWorks uses the same names. */
const char *bt_fmt_ddl_canal_type(bt_ddl_kind_t k);

/* Finishes an encode: -1 with err when a buffer hit its cap. */
int bt_fmt_finish(const char *fmt, const bt_buf_t *key, const bt_buf_t *val, char *err, size_t errlen);

#endif
