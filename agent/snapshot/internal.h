/* internal.h: what the full-sync files share (private to agent/snapshot/).
 *
 *   snapshot.c  the run: table list, worker threads, the caller's loop that feeds the
 *               pipeline, resume.
 *   point.c     the consistent point: every reader's read view and the binlog position that
 *               matches it, checked against the binlog bintail streams from.
 *   chunk.c     one table read chunk by chunk in primary-key order, rows into the queue.
 *   queue.c     the bounded row queue from the readers to the caller's thread.
 *   progress.c  the frontier (the checkpoint claim), per-table progress log, the bar.
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
#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

#include "agent/binlog/binlog.h"
#include "agent/snapshot/snapshot.h"
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

/* ---------------------------------------------------------------- the run (snapshot.c) */

typedef enum { BT_SNAP_MSG_ROW, BT_SNAP_MSG_START, BT_SNAP_MSG_CHUNK } bt_snap_msg_kind_t;

typedef struct bt_snap_msg {
    struct bt_snap_msg *next;
    bt_snap_msg_kind_t kind;
    size_t entry;        /* index in the run's table list */
    bt_snap_table_t *st; /* ROW, START, CHUNK: the table (owned by its entry) */
    size_t bytes;        /* what it counts against the queue */
    bool last;           /* ROW: the table's last row; CHUNK: the table is done */
    char *key;           /* CHUNK: the last key (JSON), NULL = none */
    bt_row_t row;        /* ROW: values point into this allocation */
    bt_value_t v[];
} bt_snap_msg_t;

/* The bounded queue (queue.c): count and bytes, see QUEUE_MAX_ROWS/_BYTES there. */
typedef struct bt_snap_queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    bt_snap_msg_t *head, *tail;
    size_t count, bytes;
} bt_snap_queue_t;

/* One table of the run's list, in (db, table) byte order. */
typedef struct bt_snap_entry {
    char *db, *name, *label;
    int64_t estimate;
    char *engine;
    const char *where;   /* --snapshot-where condition, or NULL */
    char *resume_key;    /* the checkpoint's last key when resuming inside this table */
    bt_snap_table_t *st; /* set by its reader; freed by the caller's thread when done or at the end */
    /* the caller's thread only: */
    bool started, done;
    char *last_key; /* key of the last finished chunk ("" or NULL: none) */
    uint64_t rows;
    int64_t start_ms;
} bt_snap_entry_t;

typedef struct bt_snap_run bt_snap_run_t;

typedef struct bt_snap_worker {
    bt_snap_run_t *run;
    bt_snap_conn_t conn;
    pthread_t tid;
    bool started;
} bt_snap_worker_t;

struct bt_snap_run {
    const bt_snapshot_opts_t *o;
    const bt_config_t *cfg;
    bt_pipeline_t *p;
    bt_snap_pace_t pace;
    bt_mysql_url_t url;
    char *password;
    bt_snap_worker_t *workers;
    int nworkers;
    bt_snap_entry_t *entries;
    size_t nentries;
    _Atomic size_t next_entry;
    bt_snap_queue_t q;
    pthread_mutex_t err_lock;
    char werr[2048]; /* the first reader error */
    atomic_bool failed;
    bt_position_t point; /* the snapshot's binlog position (streaming starts here) */
    int64_t chunk_rows;
    pcre2_code *skip; /* --snapshot-skip */
    pcre2_match_data *skip_md;
    /* progress (caller's thread) */
    bool tty, bar_shown;
    int64_t last_bar_ms, last_log_ms, start_ms;
    uint64_t rows_total;
};

/* Records the first reader error and ends the run: waits return, readers stop. */
void bt_snap_run_fail(bt_snap_run_t *run, const char *msg);

/* ---------------------------------------------------------------- the consistent point (point.c) */

/* Starts every reader's transaction and sets run->point to the binlog position of their read
 * view (a resumed run keeps the checkpoint's point). 0, or -1 with err. */
int bt_snap_take_point(bt_snap_run_t *run, char *err, size_t errlen);
/* Sets the pipeline's server id and checks the point is in the binlog bintail streams from
 * (same server, same file), warning about prepared XA transactions. 0, or -1 with err. */
int bt_snap_check_point(bt_snap_run_t *run, char *err, size_t errlen);

/* ---------------------------------------------------------------- reading a table (chunk.c) */

/* Reads table idx of the run's list through w's connection into the queue; 0 done, -1 failed
 * or stopped (the run knows which). */
int bt_snap_read_table(bt_snap_worker_t *w, size_t idx);

/* ---------------------------------------------------------------- the row queue (queue.c) */

/* A message of that kind with no row; never NULL. */
bt_snap_msg_t *bt_snap_msg_new(bt_snap_msg_kind_t kind, size_t entry, bt_snap_table_t *st);
void bt_snap_msg_free(bt_snap_msg_t *m);
void bt_snap_queue_init(bt_snap_queue_t *q);
void bt_snap_queue_destroy(bt_snap_queue_t *q);
/* Wakes every waiter: the run is ending. */
void bt_snap_queue_wake(bt_snap_queue_t *q);
/* Hands m over (the queue owns it from here, even on failure); waits while the queue is full.
 * -1 when the run is ending. */
int bt_snap_queue_push(bt_snap_run_t *run, bt_snap_msg_t *m);
/* Takes everything queued (a list), waiting up to timeout_ms for something. */
bt_snap_msg_t *bt_snap_queue_take_all(bt_snap_queue_t *q, int timeout_ms);

/* ---------------------------------------------------------------- progress (progress.c) */

/* The checkpoint claim after everything handed over so far (see progress.c: the frontier). */
void bt_snap_frontier(bt_snap_run_t *run, bt_position_t *pos);
/* One log line for table e: its progress, or its totals once done. */
void bt_snap_log_table(bt_snap_run_t *run, bt_snap_entry_t *e, int64_t now);
/* The periodic log lines and the terminal's bar; force logs now. */
void bt_snap_progress(bt_snap_run_t *run, bool force);
/* Erases the bar (before a log line, at the end). */
void bt_snap_bar_clear(bt_snap_run_t *run);

#endif
