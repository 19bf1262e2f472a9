/* format.h: turns one row change (or DDL) into Kafka key and value bytes.
 *
 * Formats: json (bintail's own line format, used by `bintail decode` and the stdout/file
 * sinks), debezium, canal, maxwell, dataworks, upsert. Each is one file; all write through
 * the one JSON writer (lib/lib.h) into buffers the caller reuses, so encoding
 * allocates nothing per field. */
#ifndef BT_FORMAT_H
#define BT_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/binlog/binlog.h"
#include "lib/lib.h"

typedef enum bt_format_kind {
    BT_FMT_JSON = 0,
    BT_FMT_DEBEZIUM,
    BT_FMT_CANAL,
    BT_FMT_MAXWELL,
    BT_FMT_DATAWORKS,
    BT_FMT_UPSERT,
} bt_format_kind_t;

/* One change, with where it came from. */
typedef struct bt_change {
    bt_op_t op;                 /* INSERT, UPDATE, DELETE, or READ (a snapshot row); ignored for DDL */
    bool is_ddl;                /* a schema change: db, sql set; table may be NULL */
    const bt_table_t *table;    /* table of a row change (columns, names, primary key) */
    const bt_row_t *before;     /* UPDATE, DELETE; NULL otherwise */
    const bt_row_t *after;      /* INSERT, UPDATE, READ; NULL otherwise */
    const char *db;             /* database: of the table, or of the DDL's session */
    const char *table_name;     /* table name (for DDL: the table it names, when known; may be NULL) */
    const char *sql;            /* DDL text, or the row's statement (ROWS_QUERY/ANNOTATE) when known; may be NULL */
    size_t sql_len;
    /* coordinates */
    const char *file;           /* binlog file; NULL for snapshot rows */
    uint64_t pos;               /* offset of the rows/query event */
    uint32_t row;               /* index of the row within its event (0-based) */
    const char *gtid;           /* GTID of the transaction, "" when none */
    uint32_t server_id;
    int64_t ts_ms;              /* commit time of the change, ms since the epoch (snapshot: read time) */
    int64_t now_ms;             /* processing time */
    uint64_t txn_seq;           /* transaction number, increasing within a run (Maxwell xid stand-in) */
    uint64_t xid;               /* the transaction's XID when known at encoding time, else 0 */
    uint64_t seq;               /* change sequence number, increasing with change order */
    bool snapshot;              /* a full-sync row */
    bool snapshot_last;         /* the last row of a table's snapshot */
    bool txn_last;              /* known to be the last change of its transaction (Maxwell "commit") */
} bt_change_t;

typedef struct bt_format_opts {
    bool tombstones;            /* debezium: a null-value message after each delete (default true) */
    const char *server_name;    /* debezium source.name / topic prefix (default "bintail") */
    const char *connector;      /* debezium source.connector (default "mysql") */
} bt_format_opts_t;

typedef struct bt_format bt_format_t;

/* "json", "debezium", ... -> kind; -1 and a message listing accepted names otherwise. */
int bt_format_parse(const char *name, bt_format_kind_t *out, char *err, size_t errlen);
const char *bt_format_name(bt_format_kind_t kind);

bt_format_t *bt_format_new(bt_format_kind_t kind, const bt_format_opts_t *opts, char *err, size_t errlen);
void bt_format_free(bt_format_t *f);

/* How many messages a change becomes (debezium delete + tombstone = 2; a DDL may be 0 for upsert). */
unsigned bt_format_count(const bt_format_t *f, const bt_change_t *c);
/* Message number idx (0-based) of a change. key is reset and filled (empty = no key);
 * val is reset and filled, or *null_value set for a tombstone. Returns 0, -1 with err. */
int bt_format_encode(bt_format_t *f, const bt_change_t *c, unsigned idx, bt_buf_t *key, bt_buf_t *val,
                     bool *null_value, char *err, size_t errlen);
/* bt_format_encode, the value appended to what val already holds (key still reset): a caller
 * that writes many messages into one buffer saves a copy per message. On failure val is left
 * as it was; a null value (tombstone) appends nothing. */
int bt_format_encode_append(bt_format_t *f, const bt_change_t *c, unsigned idx, bt_buf_t *key, bt_buf_t *val,
                            bool *null_value, char *err, size_t errlen);
/* The primary-key bytes used for partitioning (`--partition-by pk`): a canonical JSON object
 * of the key columns, identical for every format; empty when the table has no key. */
void bt_format_pk_bytes(const bt_change_t *c, bt_buf_t *out);
/* The same for message idx: differs from bt_format_pk_bytes only for the messages about the
 * OLD key of an update that changes the primary key (debezium: the delete and its tombstone;
 * upsert: the tombstone), which must go to the old key's partition for compaction to work.
 * For an update, bt_format_pk_bytes is the new key. */
void bt_format_msg_pk_bytes(const bt_format_t *f, const bt_change_t *c, unsigned idx, bt_buf_t *out);

#endif
