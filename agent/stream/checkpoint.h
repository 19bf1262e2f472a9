/* checkpoint.h: what has been delivered, and the crash-safe record of it.
 *
 * The tracker follows every transaction from its first message to its end and counts its
 * messages still waiting for a delivery report. The safe position is the end of the newest
 * transaction that, with every transaction before it, is fully acknowledged: a restart from
 * there loses nothing (and repeats at most what came after it). Transactions that produced no
 * message (filtered tables) take no slot: they become safe as soon as everything before them
 * is. The number of slots is bounded, so memory does not grow with the number of transactions
 * read while one message waits for its acknowledgement.
 *
 * The checkpoint file holds that position plus the identity of the binlog it belongs to
 * (server id and creation time of the file, from its FORMAT_DESCRIPTION), so a checkpoint of
 * a rebuilt replica whose new files reuse the old names is refused instead of trusted. */
#ifndef BT_CHECKPOINT_H
#define BT_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for a GTID state's text: a MySQL set of some 40 server uuids with a few intervals each. */
#define BT_GTID_TEXT_MAX 2048

typedef struct bt_position {
    char file[256];
    uint64_t pos;            /* where the next transaction starts */
    char gtid[BT_GTID_TEXT_MAX]; /* GTID state after it: MySQL executed set, MariaDB last GTID per domain */
    uint32_t server_id;      /* server id in the file's FORMAT_DESCRIPTION */
    uint32_t file_created;   /* timestamp of the file's FORMAT_DESCRIPTION */
    int64_t commit_ts_ms;    /* commit time of the last transaction, 0 if none */
    /* Full sync in progress (streaming starts at file:pos once it is done). Tables are read
     * in (db, table) order: those before snapshot_table are finished; snapshot_table is
     * finished up to the key snapshot_last_key (JSON array of the key values, "" = none). */
    bool snapshot_active;
    char snapshot_table[512];      /* "db.table" in progress, "" before the first */
    char snapshot_last_key[2048];
} bt_position_t;

/* A transaction with messages in flight. Slots are small: the texts of its end position
 * (file, GTID, snapshot progress) share one allocation, made when it ends. */
typedef struct bt_txn_slot {
    uint32_t outstanding;    /* messages without a delivery report */
    bool ended;              /* its end was seen: the end fields are valid */
    bool failed;
    bool snapshot_active;
    uint32_t server_id, file_created;
    uint64_t pos;
    int64_t commit_ts_ms;
    char *text;              /* "file\0gtid\0snapshot_table\0snapshot_last_key\0" */
    size_t text_cap;         /* its allocation: positions passed to a waiting slot reuse it */
} bt_txn_slot_t;

typedef struct bt_tracker {
    bt_txn_slot_t *slots;    /* ring indexed by seq % cap */
    size_t cap;
    size_t max_slots;        /* bound on transactions in flight (0 = none) */
    uint64_t head;           /* oldest transaction not yet safe */
    uint64_t next;           /* sequence number of the next slot */
    uint64_t outstanding;    /* messages in flight, all transactions */
    bt_position_t safe;      /* newest safe position */
    bool has_safe;
    uint64_t safe_changes;   /* incremented whenever safe advances */
} bt_tracker_t;

/* max_slots bounds the transactions with messages in flight at once (the pipeline pauses
 * reading when bt_tracker_full()); 0 = no bound. */
void bt_tracker_init(bt_tracker_t *t, size_t max_slots);
void bt_tracker_free(bt_tracker_t *t);
/* A transaction's first message: open its slot. Returns its sequence number, 0 when the
 * tracker is full or memory ran out. Transactions that send nothing never take a slot. */
uint64_t bt_tracker_open(bt_tracker_t *t);
bool bt_tracker_full(const bt_tracker_t *t);
void bt_tracker_add_msg(bt_tracker_t *t, uint64_t seq);
/* The transaction ended at end (its commit); it becomes safe once its messages are
 * acknowledged. -1 when memory ran out. */
int bt_tracker_end(bt_tracker_t *t, uint64_t seq, const bt_position_t *end);
/* A position that needs no delivery (a transaction that sent nothing, the start of the next
 * binlog file): it becomes safe as soon as everything before it is. -1 when memory ran out. */
int bt_tracker_pass(bt_tracker_t *t, const bt_position_t *pos);
/* A delivery report. ok=false marks the transaction failed: the safe position stops before it. */
void bt_tracker_ack(bt_tracker_t *t, uint64_t seq, bool ok);
/* Move the safe position over the acknowledged prefix; returns true if it moved. */
bool bt_tracker_advance(bt_tracker_t *t);
/* True when no message is in flight and every ended transaction is safe. */
bool bt_tracker_idle(const bt_tracker_t *t);
/* Transactions with a slot (in flight or waiting for an earlier one). */
size_t bt_tracker_pending(const bt_tracker_t *t);

/* Checkpoint file <state_dir>/checkpoint.json. */
int bt_checkpoint_write(const char *state_dir, const bt_position_t *p, char *err, size_t errlen);
/* 1 = read into p, 0 = there is none, -1 = unreadable/corrupt (err says which file and how to fix). */
int bt_checkpoint_read(const char *state_dir, bt_position_t *p, char *err, size_t errlen);

#endif
