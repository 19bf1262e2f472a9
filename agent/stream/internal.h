/* internal.h: what the files of the reader loop share (private to agent/stream/).
 *
 *   pipeline.c   the loop and its wiring: events in, checkpoint and lag, the snapshot's API
 *   txn.c        transactions and GTIDs: begin, end, abandon, the tracker's positions
 *   emit.c       a change's messages to the sink, and the waits on that path
 *   partition.c  the partitioner's input for a change
 *   oversize.c   messages over --max-record-bytes
 *   xa.c         XA transactions: recorded at the prepare, sent at the commit
 *   ddl.c        the table a DDL statement names */
#ifndef BT_STREAM_INTERNAL_H
#define BT_STREAM_INTERNAL_H

#include "agent/stream/pipeline.h"
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "agent/binlog/binlog.h"
#include "agent/binlog/gtid_set.h"
#include "alerts/alerts.h"
#include "agent/format/format.h"
#include "lib/lib.h"
#include "agent/stream/route.h"
#include "agent/stream/rows_change.h"
#include "agent/stream/schema.h"
#include "agent/sink/sink.h"
#include "agent/stream/xa_spill.h"
#include "partitioner/partitioner.h"

/* Returned through the producing path when a stop request cut a wait short (see wait_serving). */
#define BT_PIPE_STOPPED (-2)

struct bt_pipeline {
    const bt_config_t *cfg;
    bt_source_t *src;
    bt_decoder_t *dec;
    bt_format_t *fmt;
    bt_router_t *router;
    bt_sink_t *sink;
    bt_partition_spec_t pspec;
    bt_throttle_t *thr;
    volatile sig_atomic_t *stop;
    bt_alerts_t *alerts;
    bt_schema_t *schema;      /* names for MINIMAL-metadata tables */
    bool source_failed;
    bt_tracker_t tracker;
    bt_pipeline_stats_t stats;
    bt_buf_t key, val, hash;
    uint64_t rand_state;

    /* the transaction being read */
    bool in_txn;
    bool txn_body;            /* its BEGIN / XA START was read */
    bool txn_until_end;       /* it ends at XID/COMMIT only, even after a DDL (CREATE ... SELECT) */
    uint64_t txn;             /* its tracker slot; 0 until its first message */
    uint64_t txn_count;       /* transactions begun (the formats' transaction number) */
    char gtid[160];
    int64_t txn_ts_ms;
    uint64_t change_seq;
    bt_row_numbering_t rows;  /* row numbers across a TRANSACTION_PAYLOAD's inner events */

    /* where we are */
    char file[256];
    uint64_t pos;
    uint32_t file_server_id, file_created;
    bool file_identity_known;
    uint32_t route_server_id; /* ${server_id}: the id of the server bintail reads */
    char passed_file[256];    /* file of the newest position handed to the tracker */
    const bt_raw_event_t *raw; /* the event being decoded */
    uint8_t fde_raw[4096];    /* the current file's FORMAT_DESCRIPTION, for XA records */
    size_t fde_len;
    bt_gtid_set_t *gtid_state; /* MySQL: executed set; MariaDB: last GTID per domain */
    bt_buf_t gtid_text;        /* its text, rendered per transaction */
    bool gtid_truncated;       /* warned once that the text outgrew BT_GTID_TEXT_MAX */
    char last_gtid_text[BT_GTID_TEXT_MAX];
    pthread_mutex_t pos_lock;

    char fatal[1024];         /* set from a delivery report: stop with this error */
    bool needs_operator;      /* the error is one a restart cannot cure */
    bool schema_failed;       /* a schema lookup failed (the decoder's error is not the event's) */
    bool stopping;            /* a stop was requested inside a transaction: finishing it */

    /* XA: a prepared group's events are recorded, and sent at its XA COMMIT (xa_spill.h) */
    bt_xa_writer_t *xa;       /* recording the group being read */
    bt_decoder_t *xa_dec;     /* decodes records at XA COMMIT */
    char xa_dir[PATH_MAX];    /* the state dir, or a private temporary one */
    bool xa_tmpdir;
    struct xa_done {          /* committed records, removed once the checkpoint passes the commit */
        char path[PATH_MAX];
        char file[256];
        uint64_t pos;
    } *xa_done;
    size_t nxa_done;
    /* --oversize drop-columns: copies of a change's row images with columns nulled. They live
     * here, not on a stack frame, because every later message of the same change (a
     * key-changing update, a delete's tombstone) is encoded from them too. */
    bt_value_t *scratch_values; /* 2 x 4096 values, allocated on first use */
    bt_row_t scratch_rows[2];
    int64_t last_ckpt_ms;
    int64_t last_housekeeping_ms;
    uint64_t ckpt_written_changes;
};

void bt_pl_txn_begin(bt_pipeline_t *p, const char *gtid, int64_t ts_ms);
void bt_pl_here(bt_pipeline_t *p, uint64_t pos, bt_position_t *out);
int bt_pl_track_end(bt_pipeline_t *p, const bt_position_t *end);
void bt_pl_note_gtid(bt_pipeline_t *p, const bt_event_t *ev);
void bt_pl_note_gtid_set(bt_pipeline_t *p, const char *text);
void bt_pl_gtid_seed(bt_pipeline_t *p, const char *text);
int bt_pl_txn_end(bt_pipeline_t *p, const bt_event_t *ev, char *err, size_t errlen);
int bt_pl_txn_abandon(bt_pipeline_t *p, const bt_event_t *ev, const char *what, char *err, size_t errlen);
void bt_pl_update_lag(bt_pipeline_t *p, bool idle);
bool bt_pl_wait_serving(bt_pipeline_t *p, int ms);
int bt_pl_emit(bt_pipeline_t *p, const bt_change_t *change, const char *topic, char *err, size_t errlen);
void bt_pl_change_coords(bt_pipeline_t *p, const bt_event_t *ev, bt_change_t *c);
int bt_pl_send_rows(bt_pipeline_t *p, bt_decoder_t *dec, bt_event_t *ev, const char *file, char *err,
                     size_t errlen);
void bt_pl_note_stop(bt_pipeline_t *p);
int bt_pl_partition_input(bt_pipeline_t *p, const bt_change_t *c, const bt_buf_t *key, char *err, size_t errlen);
int bt_pl_handle_oversize(bt_pipeline_t *p, bt_change_t *c, unsigned idx, bool *null_value, size_t size,
                           char *dropped, size_t droppedlen, char *err, size_t errlen);
int bt_pl_oversize_skips_change(bt_pipeline_t *p, const bt_change_t *c, unsigned n, char *err, size_t errlen);
int bt_pl_xa_start(bt_pipeline_t *p, const bt_event_t *ev, char *err, size_t errlen);
int bt_pl_xa_record(bt_pipeline_t *p, const bt_event_t *ev, char *err, size_t errlen);
int bt_pl_xa_end(bt_pipeline_t *p, const bt_event_t *ev, char *err, size_t errlen);
void bt_pl_xa_forget_committed(bt_pipeline_t *p);
int bt_pl_schema_lookup(void *ctx, bt_table_t *t, char *err, size_t errlen);
void bt_pl_ddl_table(const char *sql, size_t len, char *db, size_t dblen, char *table, size_t tlen);

#endif
