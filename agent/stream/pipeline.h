/* pipeline.h: the reader loop: source -> decoder -> router -> format -> partitioner -> sink,
 * with delivery reports driving the checkpoint.
 *
 * One thread owns all of it. Row changes stream through one at a time; only a transaction's
 * end (XID, COMMIT, DDL) makes a checkpoint candidate, and the checkpoint moves only over
 * transactions whose every message the sink acknowledged. Waiting for the throttle, for a
 * full Kafka queue or for new binlog bytes always keeps serving delivery reports. */
#ifndef BT_PIPELINE_H
#define BT_PIPELINE_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent/binlog/binlog.h"
#include "agent/stream/checkpoint.h"
#include "agent/options.h"
#include "agent/source/source.h"
#include "throttle/throttle.h"

/* Counters the side thread (alerts, control endpoint) reads while the pipeline runs. */
typedef struct bt_pipeline_stats {
    _Atomic int64_t lag_ms;          /* commit time of the newest acknowledged transaction to now; 0 idle */
    _Atomic int64_t sink_failing_ms; /* how long the sink has been failing; 0 healthy */
    _Atomic uint64_t rows;           /* row changes read */
    _Atomic uint64_t messages;       /* messages produced */
    _Atomic uint64_t acked;          /* messages acknowledged */
    _Atomic uint64_t skipped_oversize;
    _Atomic uint64_t skipped_statements; /* account and server statements, never published */
    _Atomic uint64_t transactions;
    _Atomic int64_t last_event_ms; /* when the source last yielded an event (bt_mono_ms) */
    _Atomic int64_t source_advanced_ms;
    _Atomic bool caught_up;
} bt_pipeline_stats_t;

typedef struct bt_pipeline bt_pipeline_t;

typedef struct bt_pipeline_init {
    const bt_config_t *cfg;
    bt_source_t *source;            /* taken over */
    const bt_position_t *resume;    /* checkpoint resumed from, or NULL */
    bt_throttle_t *throttle;        /* shared with the control endpoint; not owned */
    volatile sig_atomic_t *stop;    /* set by signal handlers */
    struct bt_alerts *alerts;       /* for ddl alerts (--alert-ddl); may be NULL */
} bt_pipeline_init_t;

/* What bt_pipeline_run returns; the process exit status (README, "Exit status"). */
enum {
    BT_RUN_OK = 0,       /* stopped cleanly */
    BT_RUN_RETRY = 1,    /* failed; a restart can cure it (server or broker unreachable, disk) */
    BT_RUN_OPERATOR = 3, /* failed; needs an operator (undecodable event, purged binlog, ...) */
};

bt_pipeline_t *bt_pipeline_new(const bt_pipeline_init_t *init, char *err, size_t errlen);
/* Runs until stopped, the end with --stop-at-end, or an error: a BT_RUN_* code (err set when
 * not OK). A stop request inside a transaction finishes it unless that means waiting (for the
 * server, the queue, the throttle); every wait returns at once on a stop. */
int bt_pipeline_run(bt_pipeline_t *p, char *err, size_t errlen);
/* Streaming starts at start (no checkpoint yet): record it as the checkpoint now, so that a
 * stop before the first transaction still resumes there. */
int bt_pipeline_start_at(bt_pipeline_t *p, const bt_position_t *start, char *err, size_t errlen);
/* The id of the server read, for ${server_id} in topics, before the first binlog event
 * tells it (the snapshot sets it from @@server_id). */
void bt_pipeline_set_server_id(bt_pipeline_t *p, uint32_t server_id);
bt_pipeline_stats_t *bt_pipeline_stats(bt_pipeline_t *p);
/* After bt_pipeline_run failed: whether the source or decoder was the cause (source_error). */
bool bt_pipeline_source_failed(const bt_pipeline_t *p);
/* After a failure (of the run or of the snapshot): whether a restart cannot cure it. */
bool bt_pipeline_needs_operator(const bt_pipeline_t *p);
/* The current position (last event read) for alerts: copies under a lock. */
void bt_pipeline_position(bt_pipeline_t *p, char *file, size_t filelen, uint64_t *pos, char *gtid, size_t gtidlen);
void bt_pipeline_free(bt_pipeline_t *p);

/* Full sync (agent/snapshot/) sends rows through the same format, route, partitioner and sink as
 * binlog rows, marked as snapshot reads. Rows are grouped in chunks; a chunk is tracked like a
 * transaction, and its end position (the snapshot's binlog position plus the table and last
 * key done) becomes the checkpoint once the chunk and everything before it is acknowledged. */
void bt_pipeline_chunk_begin(bt_pipeline_t *p);
/* One row (op READ). last = the last row of its table's snapshot. Returns 0, -1 with err;
 * rows of tables the filters exclude are dropped (0). Waits (serving deliveries) when the
 * sink's queue is full or the throttle says so. */
int bt_pipeline_snapshot_row(bt_pipeline_t *p, const bt_table_t *t, const bt_row_t *row, bool last, char *err,
                             size_t errlen);
int bt_pipeline_chunk_end(bt_pipeline_t *p, const bt_position_t *progress, char *err, size_t errlen);
/* Serve delivery reports and write the checkpoint when due; -1 with err after a fatal
 * delivery error or a failed checkpoint write. */
int bt_pipeline_service(bt_pipeline_t *p, int timeout_ms, char *err, size_t errlen);
/* Wait until every message is acknowledged (up to timeout_ms) and write the checkpoint now. */
int bt_pipeline_settle(bt_pipeline_t *p, int timeout_ms, char *err, size_t errlen);
/* Whether the table would be captured (filters), for choosing which tables to snapshot. */
bool bt_pipeline_captures(bt_pipeline_t *p, const char *db, const char *table);
/* Replace the source (after a snapshot, streaming starts at the snapshot's position). */
void bt_pipeline_set_source(bt_pipeline_t *p, bt_source_t *src);

#endif
