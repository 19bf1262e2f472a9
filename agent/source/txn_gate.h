/* txn_gate.h: which events of a binlog file belong to transactions whose end is written.
 *
 * The server writes a transaction to its binlog at commit, event by event. A file that is
 * still being written can therefore end inside a transaction, and if the server dies there
 * (kill -9, power loss) the transaction never committed: after recovery InnoDB rolls it back
 * and the server starts a new binlog file. Its rows must never reach a consumer. The gate
 * looks ahead of the reader, event header by event header, and moves a horizon over every
 * transaction whose end (XID, COMMIT, XA PREPARE, the statement of a DDL group) is on disk.
 * The reader yields only events below the horizon, so a transaction is handed on only once
 * it is known to be complete; rows still stream (nothing is buffered but offsets).
 *
 * A group followed by anything else in the same file was complete (the server writes groups
 * whole; after a crash it starts a new file): the gate closes it there, whatever it thought of
 * its end. At the end of a file that is known to be finished, bt_gate_finish() tells whether
 * it ends inside a group: that group never committed.
 *
 * The gate is pure: the caller hands it the bytes of each event (as many as it asks for). */
#ifndef BT_TXN_GATE_H
#define BT_TXN_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bt_gate {
    uint64_t horizon;     /* every event that ends at or before this offset may be yielded */
    uint64_t scan;        /* offset of the next event to look at */
    uint64_t group_start; /* offset of the open group's first event */
    bool in_group;        /* a GTID or BEGIN was seen and its end not yet */
    bool body_begun;      /* the group's BEGIN / XA START was seen (a bare GTID + DDL has none) */
    bool until_end;       /* it ends at XID/COMMIT/ROLLBACK/XA_PREPARE only, not at a statement */
    bool off;             /* encrypted events follow: headers cannot be read, no gating */
    uint8_t checksum_len; /* 4 with binlog_checksum=CRC32, from the file's FORMAT_DESCRIPTION */
} bt_gate_t;

enum {
    BT_GATE_OK = 0,   /* the event was taken into account; gate->scan moved past it */
    BT_GATE_NEED = 1, /* hand the same event again with at least *need bytes */
};

/* Start looking at offset pos (a transaction boundary: 4, or a checkpoint position). */
void bt_gate_reset(bt_gate_t *g, uint64_t pos);

/* Look at the event at g->scan, whose first `have` bytes are ev (at least the 19-byte header;
 * size is the event's length from it). Returns BT_GATE_OK or BT_GATE_NEED. */
int bt_gate_step(bt_gate_t *g, const uint8_t *ev, size_t have, uint32_t size, size_t *need);

/* The file is finished (a newer file is listed and no byte was added): true when the last
 * group in it never ended; *torn_from is where it starts. */
bool bt_gate_finish(const bt_gate_t *g, uint64_t *torn_from);

#endif
