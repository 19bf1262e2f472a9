/* internal.h: what the full-sync files share (private to agent/snapshot/).
 *
 *   snapshot.c  the run: consistent point, table list, worker threads, the bounded row queue
 *               to the caller's thread, chunk progress, resume, progress log.
 *   conn.c      snapshot connections: session setup, paced queries (--snapshot-max-qps as a
 *               hard per-second cap), server errors that name the GRANT to add.
 *   table.c     information_schema -> bt_table_t, column by column exactly as the binlog
 *               decoder fills it from TABLE_MAP, plus the SELECT list.
 *   value.c     one text-protocol cell -> bt_value_t (the decoder's typed values), and
 *               primary-key values <-> the resume key (JSON) <-> SQL literals. */
#ifndef BT_SNAPSHOT_INTERNAL_H
#define BT_SNAPSHOT_INTERNAL_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>

#include "agent/binlog/binlog.h"
#include "agent/source/mysql_url.h"
#include "lib/lib.h"
#include "throttle/throttle.h"

/* ---------------------------------------------------------------- pacing (conn.c) */

/* Snapshot queries pass two gates. The throttle's token bucket (shared with `bintail
 * throttle`, so a limit changed at run time applies) gives the long-run rate, but it lets a
 * full bucket go at once: with the default burst of one second of budget, --snapshot-max-qps 5
 * would allow 5 queries at t=0 plus 4 more before t=1. The second gate is a sliding window
 * over the last queries, so that no interval of one second ever holds more than max-qps
 * queries (for max-qps < 1: one query per 1/max-qps seconds). */
#define BT_SNAP_PACE_RING 4096 /* window bookkeeping up to this many queries per second */
#define BT_SNAP_IN_FLIGHT INT64_MAX

typedef struct bt_snap_pace {
    bt_throttle_t *thr;            /* may be NULL: unlimited */
    volatile sig_atomic_t *stop;   /* SIGTERM/SIGINT */
    atomic_bool abort;             /* the run is ending (error or stop): waits return at once */
    pthread_mutex_t lock;
    /* The window counts a query from the moment its answer started to arrive (the server has
     * stamped it by then), and a query still in flight holds the window until then: so however
     * long the network takes, the server never sees more than the cap in one second. */
    int64_t sent[BT_SNAP_PACE_RING]; /* monotonic ns, or BT_SNAP_IN_FLIGHT; ring by sequence */
    uint64_t seq[BT_SNAP_PACE_RING]; /* which query a slot holds */
    uint64_t next;                 /* sequence number of the next query */
    uint64_t queries;              /* queries sent, for the log */
} bt_snap_pace_t;

void bt_snap_pace_init(bt_snap_pace_t *pc, bt_throttle_t *thr, volatile sig_atomic_t *stop);
void bt_snap_pace_destroy(bt_snap_pace_t *pc);
/* True when the run should end (a signal or an abort). */
bool bt_snap_pace_stopped(bt_snap_pace_t *pc);
/* Wait until k queries may be sent back to back, and record them as in flight; *ticket names
 * them for bt_snap_pace_done(). Returns 0, 1 when k is more than one window holds (nothing
 * waited for or recorded: send them one by one), or -1 when stopped meanwhile. */
int bt_snap_pace_queries(bt_snap_pace_t *pc, unsigned k, uint64_t *ticket);
/* The k queries of ticket were answered (or failed): they count from now. */
void bt_snap_pace_done(bt_snap_pace_t *pc, uint64_t ticket, unsigned k);
/* One row of about `bytes` bytes read: wait for the snapshot rows/bytes limits. 0, -1 stopped. */
int bt_snap_pace_row(bt_snap_pace_t *pc, double bytes);
/* Sleep up to ns in short slices; false if stopped meanwhile. */
bool bt_snap_sleep(bt_snap_pace_t *pc, int64_t ns);

/* ---------------------------------------------------------------- connections (conn.c) */

typedef struct bt_snap_conn {
    MYSQL *m;
    bt_snap_pace_t *pace;
    const bt_mysql_url_t *url;     /* for error messages (user@host) */
    bool mariadb;
    unsigned long version;         /* mysql_get_server_version(): 100611 = 10.6.11 */
    bool unpaced;                  /* inside the brief global read lock: queries were reserved in advance */
} bt_snap_conn_t;

/* Connect and set the session up for reading: utf8mb4, time_zone '+00:00' (TIMESTAMP values
 * arrive in UTC), long network timeouts (the reader may pause while Kafka is slow), REPEATABLE
 * READ. Returns 0 or -1 with err. */
int bt_snap_conn_open(bt_snap_conn_t *c, const bt_mysql_url_t *url, const char *password, bt_snap_pace_t *pace,
                      char *err, size_t errlen);
void bt_snap_conn_close(bt_snap_conn_t *c);
/* Send one statement (paced unless c->unpaced). `what` names the object for the error, e.g.
 * "db.table" or "the snapshot's binlog position". 0, or -1 with err ("WHAT: server error N:
 * message", plus the GRANT that would fix a privilege error). */
int bt_snap_exec(bt_snap_conn_t *c, const char *sql, size_t len, const char *what, char *err, size_t errlen);
/* bt_snap_exec + mysql_store_result (small metadata queries). NULL with err. */
MYSQL_RES *bt_snap_query(bt_snap_conn_t *c, const char *sql, const char *what, char *err, size_t errlen);
/* Format the connection's current error as bt_snap_exec does. */
void bt_snap_error(bt_snap_conn_t *c, const char *sql, const char *what, char *err, size_t errlen);
/* Abandon a result being streamed (mysql_use_result) when the run stops: the socket is shut
 * down, so freeing the result does not first read the rest of a large table. The connection
 * is unusable afterwards. Called by the thread that owns the connection. */
void bt_snap_conn_cancel(bt_snap_conn_t *c);
/* Append `name` quoted with backticks (doubling backticks inside). */
void bt_snap_quote_ident(bt_buf_t *b, const char *name);
/* Append 'text' escaped for the connection's character set. */
void bt_snap_quote_string(bt_snap_conn_t *c, bt_buf_t *b, const char *s, size_t n);

/* ---------------------------------------------------------------- tables (table.c) */

/* How a cell's text becomes a value; decided once per column from information_schema. */
typedef enum bt_snap_conv {
    BT_SNAP_INT, BT_SNAP_UINT, BT_SNAP_FLOAT, BT_SNAP_DOUBLE, BT_SNAP_DECIMAL,
    BT_SNAP_DATE, BT_SNAP_DATETIME, BT_SNAP_TIMESTAMP, BT_SNAP_TIME, BT_SNAP_YEAR, BT_SNAP_BIT,
    BT_SNAP_ENUM, BT_SNAP_SET, BT_SNAP_TEXT, BT_SNAP_BINARY, BT_SNAP_JSON, BT_SNAP_GEOMETRY,
} bt_snap_conv_t;

typedef struct bt_snap_table {
    bt_table_t t;                  /* what the formats see: like a TABLE_MAP with full metadata */
    uint8_t *conv;                 /* bt_snap_conv_t per column */
    uint8_t *fsp;                  /* temporal fractional digits per column */
    char *select_list;             /* "`a`,(`f`+0e0),..." */
    char *where;                   /* --snapshot-where condition, or NULL */
    char *qname;                   /* "`db`.`table`" */
    char *label;                   /* "db.table" (the checkpoint's snapshot_table) */
} bt_snap_table_t;

/* Reads the columns and primary key of db.name. *out is NULL (and 0 returned) when the table no
 * longer exists. Returns -1 with err. */
int bt_snap_table_load(bt_snap_conn_t *c, const char *db, const char *name, bt_snap_table_t **out, char *err,
                       size_t errlen);
void bt_snap_table_free(bt_snap_table_t *st);

/* ---------------------------------------------------------------- values (value.c) */

/* Cell i of a row as the text protocol sent it (s[len] must be a NUL this function may rely
 * on; s stays valid as long as *v is used). Fills *v like the binlog decoder would: kind,
 * present, fsp and the fields of that kind. Returns 0, or -1 with err naming the column. */
int bt_snap_cell(const bt_snap_table_t *st, uint32_t i, char *s, unsigned long len, bt_value_t *v, char *err,
                 size_t errlen);

/* The resume key: a JSON array of the primary-key values of a row, in key order. Numbers are
 * JSON numbers in their exact text (BIGINT UNSIGNED and DECIMAL do not go through a double),
 * ENUM/SET/BIT/YEAR their numeric value (that is how those compare in key order), text a JSON
 * string, binary values a JSON string of hex digits, temporal values their SQL text. Appends to
 * out; returns false if a value cannot be expressed (the caller then keeps no resume key). */
bool bt_snap_key_json(const bt_snap_table_t *st, const bt_row_t *row, bt_buf_t *out);
/* Parse a resume key for st: one SQL literal per key column (malloc'd strings into lits[npk]).
 * Returns 0, or -1 with err when it does not fit the table's key any more. */
int bt_snap_key_parse(bt_snap_conn_t *c, const bt_snap_table_t *st, const char *json, char ***lits, char *err,
                      size_t errlen);
void bt_snap_key_free(char **lits, uint32_t n);

#endif
