/* snapshot.h: full sync: a consistent, chunked, resumable read of the existing rows that
 * hands over to the binlog at exactly the snapshot's position. */
#ifndef BT_SNAPSHOT_H
#define BT_SNAPSHOT_H

#include <signal.h>
#include <stddef.h>

#include "agent/stream/checkpoint.h"
#include "agent/options.h"
#include "agent/stream/pipeline.h"
#include "throttle/throttle.h"

typedef struct bt_snapshot_opts {
    const bt_config_t *cfg;        /* --mysql, --snapshot-*, filters */
    bt_throttle_t *throttle;       /* BT_THROTTLE_SNAPSHOT limits */
    const bt_position_t *resume;   /* a checkpoint with snapshot_active, or NULL for a new snapshot */
    volatile sig_atomic_t *stop;
} bt_snapshot_opts_t;

/* Reads every captured table through the pipeline (bt_pipeline_chunk_begin/_snapshot_row/
 * _chunk_end), checkpointing progress. On success *start is the binlog position streaming
 * must start from (the snapshot's point). Returns 0 done, 1 stopped by a signal (progress is
 * in the checkpoint), -1 with err. */
int bt_snapshot_run(const bt_snapshot_opts_t *o, bt_pipeline_t *p, bt_position_t *start, char *err, size_t errlen);

#endif
