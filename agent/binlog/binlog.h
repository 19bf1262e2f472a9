/* binlog.h: the binlog decoder's public API. Pure: bytes in, typed events out; no I/O.
 *
 * A source frames events (19-byte header, then event_size bytes in all, checksum included)
 * and feeds each one whole with bt_decoder_feed(). bt_decoder_next() then yields what the
 * event means: usually one bt_event_t, several for a MySQL TRANSACTION_PAYLOAD (its inner
 * events, inflated in bounded chunks). For a rows event, bt_rows_next() walks its rows one at
 * a time, so a transaction or an event of any size never has to be held whole.
 *
 * Lifetimes: everything an event points to stays valid until the next bt_decoder_feed()
 * (for an event from inside a TRANSACTION_PAYLOAD, until the next bt_decoder_next(): inner
 * events are inflated one at a time into one buffer, so copy what must outlive the event);
 * row images (bt_row_t and their values) until the next bt_rows_next(). Tables (bt_table_t)
 * live until a TABLE_MAP with the same id replaces them or the decoder sees a new
 * FORMAT_DESCRIPTION; the pipeline must not keep them past a transaction.
 *
 * Errors: every failing call writes "FILE:OFFSET: EVENT_TYPE: what is wrong" into err and
 * returns -1. Nothing is skipped silently: unknown events without the IGNORABLE flag,
 * INCIDENT, encrypted binlogs and row images that disagree with their TABLE_MAP are errors. */
#ifndef BT_BINLOG_H
#define BT_BINLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/lib.h"

/* Event type codes as written in the binlog. */
enum {
    BT_UNKNOWN_EVENT = 0,
    BT_START_EVENT_V3 = 1,
    BT_QUERY_EVENT = 2,
    BT_STOP_EVENT = 3,
    BT_ROTATE_EVENT = 4,
    BT_INTVAR_EVENT = 5,
    BT_RAND_EVENT = 13,
    BT_USER_VAR_EVENT = 14,
    BT_FORMAT_DESCRIPTION_EVENT = 15,
    BT_XID_EVENT = 16,
    BT_BEGIN_LOAD_QUERY_EVENT = 17,
    BT_EXECUTE_LOAD_QUERY_EVENT = 18,
    BT_TABLE_MAP_EVENT = 19,
    BT_WRITE_ROWS_EVENT_V1 = 23,
    BT_UPDATE_ROWS_EVENT_V1 = 24,
    BT_DELETE_ROWS_EVENT_V1 = 25,
    BT_INCIDENT_EVENT = 26,
    BT_HEARTBEAT_LOG_EVENT = 27,
    BT_IGNORABLE_LOG_EVENT = 28,
    BT_ROWS_QUERY_LOG_EVENT = 29,
    BT_WRITE_ROWS_EVENT = 30,
    BT_UPDATE_ROWS_EVENT = 31,
    BT_DELETE_ROWS_EVENT = 32,
    BT_GTID_LOG_EVENT = 33,
    BT_ANONYMOUS_GTID_LOG_EVENT = 34,
    BT_PREVIOUS_GTIDS_LOG_EVENT = 35,
    BT_TRANSACTION_CONTEXT_EVENT = 36,
    BT_VIEW_CHANGE_EVENT = 37,
    BT_XA_PREPARE_LOG_EVENT = 38,
    BT_PARTIAL_UPDATE_ROWS_EVENT = 39,
    BT_TRANSACTION_PAYLOAD_EVENT = 40,
    BT_HEARTBEAT_LOG_EVENT_V2 = 41,
    BT_GTID_TAGGED_LOG_EVENT = 42,
    BT_MARIA_ANNOTATE_ROWS_EVENT = 160,
    BT_MARIA_BINLOG_CHECKPOINT_EVENT = 161,
    BT_MARIA_GTID_EVENT = 162,
    BT_MARIA_GTID_LIST_EVENT = 163,
    BT_MARIA_START_ENCRYPTION_EVENT = 164,
    BT_MARIA_QUERY_COMPRESSED_EVENT = 165,
    BT_MARIA_WRITE_ROWS_COMPRESSED_EVENT_V1 = 166,
    BT_MARIA_UPDATE_ROWS_COMPRESSED_EVENT_V1 = 167,
    BT_MARIA_DELETE_ROWS_COMPRESSED_EVENT_V1 = 168,
    BT_MARIA_WRITE_ROWS_COMPRESSED_EVENT = 169,
    BT_MARIA_UPDATE_ROWS_COMPRESSED_EVENT = 170,
    BT_MARIA_DELETE_ROWS_COMPRESSED_EVENT = 171,
};

/* Column type codes (MYSQL_TYPE_*), as in TABLE_MAP. */
enum {
    BT_TYPE_DECIMAL = 0, BT_TYPE_TINY = 1, BT_TYPE_SHORT = 2, BT_TYPE_LONG = 3,
    BT_TYPE_FLOAT = 4, BT_TYPE_DOUBLE = 5, BT_TYPE_NULL = 6, BT_TYPE_TIMESTAMP = 7,
    BT_TYPE_LONGLONG = 8, BT_TYPE_INT24 = 9, BT_TYPE_DATE = 10, BT_TYPE_TIME = 11,
    BT_TYPE_DATETIME = 12, BT_TYPE_YEAR = 13, BT_TYPE_NEWDATE = 14, BT_TYPE_VARCHAR = 15,
    BT_TYPE_BIT = 16, BT_TYPE_TIMESTAMP2 = 17, BT_TYPE_DATETIME2 = 18, BT_TYPE_TIME2 = 19,
    BT_TYPE_TYPED_ARRAY = 20, BT_TYPE_VECTOR = 242, BT_TYPE_INVALID = 243, BT_TYPE_BOOL = 244,
    BT_TYPE_JSON = 245, BT_TYPE_NEWDECIMAL = 246, BT_TYPE_ENUM = 247, BT_TYPE_SET = 248,
    BT_TYPE_TINY_BLOB = 249, BT_TYPE_MEDIUM_BLOB = 250, BT_TYPE_LONG_BLOB = 251,
    BT_TYPE_BLOB = 252, BT_TYPE_VAR_STRING = 253, BT_TYPE_STRING = 254, BT_TYPE_GEOMETRY = 255,
};

/* One column of a table, from TABLE_MAP and its optional metadata. */
typedef struct bt_column {
    uint8_t type;        /* BT_TYPE_*; STRING columns that are really ENUM/SET carry BT_TYPE_ENUM/SET */
    uint8_t wire_type;   /* the type code exactly as in TABLE_MAP (before the ENUM/SET resolution) */
    uint16_t meta;       /* type metadata (lengths, precision/scale, fsp, pack length) */
    bool nullable;
    bool is_unsigned;    /* from SIGNEDNESS metadata; false when unknown */
    bool pk;             /* part of the primary key */
    bool invisible;      /* MySQL INVISIBLE column (COLUMN_VISIBILITY metadata) */
    uint16_t collation;  /* collation id for text columns; 63 = binary; 0 = unknown */
    const char *name;    /* NUL-terminated: the column name, or "@N" (1-based) when unknown */
    uint32_t name_len;
    const char **labels; /* ENUM or SET strings (UTF-8), NULL when the binlog has none */
    const uint32_t *label_lens;
    uint32_t nlabels;
    uint32_t vector_dim; /* VECTOR dimensionality, 0 if unknown */
    uint8_t geometry_type;
} bt_column_t;

typedef struct bt_table {
    uint64_t id;           /* table id of this TABLE_MAP */
    const char *db;        /* NUL-terminated */
    const char *name;      /* NUL-terminated */
    uint32_t ncols;
    bt_column_t *cols;
    uint32_t npk;
    const uint32_t *pk;    /* primary key column indexes, in key order */
    bool has_names;        /* names came from the binlog or the schema lookup, not "@N" */
} bt_table_t;

/* A decoded cell. Pointers refer to the event bytes or the decoder's per-row arena. */
typedef enum bt_vkind {
    BT_VAL_NULL = 0,
    BT_VAL_INT,       /* i: signed integer types */
    BT_VAL_UINT,      /* u: unsigned integer types */
    BT_VAL_FLOAT,     /* f: FLOAT */
    BT_VAL_DOUBLE,    /* d: DOUBLE */
    BT_VAL_DECIMAL,   /* s,len: exact decimal text as SELECT shows it, e.g. "-12.3400" */
    BT_VAL_STRING,    /* s,len: text converted to UTF-8 */
    BT_VAL_BINARY,    /* s,len: raw bytes (BINARY, VARBINARY, BLOB, text in a binary collation) */
    BT_VAL_DATE,      /* t.year, t.month, t.day (zero and partial dates kept as stored) */
    BT_VAL_DATETIME,  /* t.year..t.second, t.usec; fsp */
    BT_VAL_TIMESTAMP, /* i: seconds since the epoch (UTC), t.usec; fsp; 0 = zero timestamp */
    BT_VAL_TIME,      /* neg, t.hour (may exceed 24, up to 838), t.minute, t.second, t.usec; fsp */
    BT_VAL_YEAR,      /* u: 0 or 1901..2155 */
    BT_VAL_BIT,       /* u: the bits, right-aligned */
    BT_VAL_ENUM,      /* u: 1-based index (0 = the '' error value); s,len: its label or NULL */
    BT_VAL_SET,       /* u: bitmask; labels come from the column */
    BT_VAL_JSON,      /* s,len: JSON text (MySQL binary JSON converted; MariaDB JSON is text) */
    BT_VAL_GEOMETRY,  /* s,len: 4-byte SRID then WKB, as stored */
    BT_VAL_VECTOR,    /* s,len: little-endian float32 values */
} bt_vkind_t;

typedef struct bt_time {
    uint16_t year;
    uint8_t month, day;
    uint32_t hour; /* TIME: up to 838 */
    uint8_t minute, second;
    uint32_t usec;
} bt_time_t;

typedef struct bt_value {
    uint8_t kind;    /* bt_vkind_t */
    bool present;    /* false: the column is not in this row image (binlog_row_image=MINIMAL/NOBLOB) */
    bool neg;        /* TIME: negative */
    uint8_t fsp;     /* fractional second digits of temporal columns (0-6) */
    uint32_t len;
    int64_t i;
    uint64_t u;
    double d;
    float f;
    const char *s;
    bt_time_t t;
} bt_value_t;

typedef struct bt_row {
    uint32_t ncols;
    bt_value_t *v; /* ncols values, in column order */
} bt_row_t;

typedef enum bt_op { BT_OP_INSERT = 1, BT_OP_UPDATE, BT_OP_DELETE, BT_OP_READ } bt_op_t;

typedef enum bt_ev_kind {
    BT_EV_OTHER = 0,  /* informational, nothing for the pipeline (INTVAR, RAND, ignorable...) */
    BT_EV_FORMAT,     /* FORMAT_DESCRIPTION: u.fde */
    BT_EV_ROTATE,     /* u.rotate: the next file */
    BT_EV_STOP,       /* the server stopped (clean shutdown); a new file follows */
    BT_EV_GTID,       /* a transaction starts: u.gtid (MySQL GTID/ANONYMOUS_GTID, MariaDB GTID) */
    BT_EV_BEGIN,      /* QUERY "BEGIN" (or XA START) */
    BT_EV_COMMIT,     /* XID, QUERY "COMMIT", XA_PREPARE or "XA COMMIT": the transaction ends; u.xid */
    BT_EV_ROLLBACK,   /* QUERY "ROLLBACK": the group ends and its changes did not happen */
    BT_EV_DDL,        /* any other QUERY with a schema change: u.query (implicitly commits) */
    BT_EV_DML_STATEMENT, /* INSERT/UPDATE/DELETE/... as SQL text: statement-based logging, no rows */
    BT_EV_TABLE_MAP,  /* u.table */
    BT_EV_ROWS,       /* u.rows: walk with bt_rows_next() */
    BT_EV_ROWS_QUERY, /* ROWS_QUERY / ANNOTATE_ROWS: u.query.sql is the statement text */
    BT_EV_GTID_LIST,  /* PREVIOUS_GTIDS or MariaDB GTID_LIST: u.gtid_list */
    BT_EV_HEARTBEAT,  /* replication heartbeat: u.rotate.next_file/pos is the server's position */
    BT_EV_ADMIN,      /* a QUERY about accounts, privileges or the server (GRANT, CREATE USER, SET
                       * PASSWORD, FLUSH, ...): no schema change, and its text may hold
                       * credentials: never published or logged. u.query */
} bt_ev_kind_t;

typedef struct bt_fde {
    uint16_t binlog_version;
    char server_version[51];
    bool mariadb;
    uint8_t checksum_alg; /* 0 none, 1 CRC32, 255 = the FDE predates checksums */
} bt_fde_t;

typedef struct bt_rows_cursor {
    /* decoder-private iteration state */
    const uint8_t *cur, *end;
    const uint8_t *cols_before, *cols_after; /* columns-present bitmaps */
    uint32_t nbefore, nafter;
    uint32_t row_index;
    uint32_t value_options; /* PARTIAL_JSON */
} bt_rows_cursor_t;

typedef struct bt_event {
    bt_ev_kind_t kind;
    uint8_t type;         /* raw event type code */
    uint16_t flags;       /* header flags */
    uint32_t timestamp;   /* header timestamp, seconds since the epoch */
    uint32_t server_id;
    const char *file;     /* file the event came from (as set by bt_decoder_set_file) */
    uint64_t pos;         /* offset of the event (for events inside a TRANSACTION_PAYLOAD: of the payload) */
    uint64_t end_pos;     /* offset right after it: where reading resumes */
    bool in_payload;      /* came out of a TRANSACTION_PAYLOAD */
    union {
        bt_fde_t fde;
        struct {
            const char *next_file; /* NUL-terminated copy */
            uint64_t pos;
        } rotate;
        struct {
            char text[160];        /* "uuid:gno", "uuid:tag:gno", MariaDB "domain-server-seq"; "" for ANONYMOUS */
            bool anonymous;
            bool standalone;       /* MariaDB FL_STANDALONE: a single statement, no BEGIN/COMMIT */
            bool xa_prepared;      /* MariaDB FL_PREPARED_XA: the group is an XA transaction's prepare */
            uint32_t domain;       /* MariaDB */
            uint64_t seq;          /* MariaDB sequence or MySQL gno */
            int64_t commit_ts_us;  /* MySQL 8 original commit timestamp, 0 if absent */
        } gtid;
        struct {
            uint64_t xid;
        } xid;
        struct {                   /* XA_PREPARE (kind BT_EV_COMMIT) */
            bool one_phase;        /* MySQL's XA COMMIT ... ONE PHASE: the prepare is the commit */
            char xid[300];         /* as the server writes it in XA COMMIT: X'gtrid',X'bqual',formatID */
        } xa;
        struct {
            const char *db;
            size_t db_len;
            const char *sql;
            size_t sql_len;
            uint32_t thread_id;
            uint16_t error_code;
            uint16_t client_charset; /* collation id of character_set_client, 0 if absent */
        } query;
        const bt_table_t *table;
        struct {
            const bt_table_t *table;
            bt_op_t op;
            bool partial_json;       /* PARTIAL_UPDATE_ROWS: JSON diffs already applied to the after image */
            bt_rows_cursor_t cursor;
        } rows;
        struct {
            const char *text;        /* GTID set text, NUL-terminated */
        } gtid_list;
    } u;
} bt_event_t;

/* Called when a TABLE_MAP carries no column names (binlog_row_metadata=MINIMAL): the agent may
 * fill names and the primary key from its schema cache with bt_table_set_names(). Return 0, or
 * -1 with err to stop. The decoder itself never does I/O. */
typedef int (*bt_schema_fn)(void *ctx, bt_table_t *table, char *err, size_t errlen);

typedef struct bt_decoder_opts {
    bt_schema_fn schema_cb;   /* optional */
    void *schema_ctx;
    size_t max_event_bytes;   /* refuse larger events; 0 = 1 GiB */
    size_t max_row_bytes;     /* cap for one row's decoded values; 0 = 1 GiB */
    bool skip_checksum;       /* do not verify CRC32 (for benchmarks only) */
} bt_decoder_opts_t;

typedef struct bt_decoder bt_decoder_t;

bt_decoder_t *bt_decoder_new(const bt_decoder_opts_t *opts);
void bt_decoder_free(bt_decoder_t *dec);
/* Name used in coordinates and error messages for the events that follow. */
void bt_decoder_set_file(bt_decoder_t *dec, const char *file);
/* For network streams: the checksum algorithm negotiated (0 none, 1 CRC32) before any FDE. */
void bt_decoder_set_checksum(bt_decoder_t *dec, uint8_t alg);
const bt_fde_t *bt_decoder_fde(const bt_decoder_t *dec);

/* Feed one whole event, read at offset pos. The bytes must stay unchanged until the next feed. */
int bt_decoder_feed(bt_decoder_t *dec, const uint8_t *ev, size_t len, uint64_t pos, char *err, size_t errlen);
/* The next event decoded from what was fed: 1 = *ev filled, 0 = nothing more, -1 = error. */
int bt_decoder_next(bt_decoder_t *dec, bt_event_t *ev, char *err, size_t errlen);
/* The next row of a BT_EV_ROWS event: 1 = row (before and/or after set, the other NULL for
 * inserts/deletes), 0 = no more rows, -1 = error. */
int bt_rows_next(bt_decoder_t *dec, bt_event_t *ev, const bt_row_t **before, const bt_row_t **after,
                 char *err, size_t errlen);

/* For schema callbacks: set column i's name and mark primary-key columns (pk_cols, npk). */
int bt_table_set_names(bt_decoder_t *dec, bt_table_t *table, const char *const *names, uint32_t nnames,
                       const uint32_t *pk_cols, uint32_t npk);

/* What a QUERY event's statement is: BT_EV_BEGIN (BEGIN, XA START), BT_EV_COMMIT (COMMIT, XA
 * COMMIT, XA PREPARE), BT_EV_ROLLBACK, BT_EV_DML_STATEMENT, BT_EV_ADMIN, BT_EV_DDL, or
 * BT_EV_OTHER (XA END, SAVEPOINT, empty). */
bt_ev_kind_t bt_query_classify(const char *sql, size_t len);
/* Whether a statement ends in START TRANSACTION: MySQL 8.0.21+ writes CREATE TABLE ... SELECT
 * so, and its rows and XID follow it in the same group. */
bool bt_query_starts_transaction(const char *sql, size_t len);
/* Whether a FORMAT_DESCRIPTION body (header removed) ends with the checksum algorithm byte. */
bool bt_fde_has_alg(const uint8_t *body, size_t len);

/* Name of an event type code, e.g. "WRITE_ROWS_EVENT_V1"; "UNKNOWN(n)" for others (static or buf). */
const char *bt_event_type_name(uint8_t type);

/* Values: rendering (value_render.c). ------------------------------------------------------- */
struct bt_jw;
/* The typed JSON value of a cell, per the README's value table. */
void bt_value_json(struct bt_jw *w, const bt_column_t *col, const bt_value_t *v);
/* The text SELECT would show (for formats that carry strings, e.g. Canal); false for NULL. */
bool bt_value_text(bt_buf_t *out, const bt_column_t *col, const bt_value_t *v);
/* SQL type name of a column as far as the binlog tells it, e.g. "int unsigned", "varchar(255)",
 * "decimal(10,2)", "datetime(6)", "enum('a','b')". */
void bt_column_type_name(bt_buf_t *out, const bt_column_t *col);

#endif
