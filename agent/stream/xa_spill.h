/* xa_spill.h: the events of prepared XA transactions, kept on disk until XA COMMIT.
 *
 * An XA transaction reaches the binlog in two groups: at XA PREPARE its rows (XA START ...
 * XA END, XA_PREPARE), at XA COMMIT or XA ROLLBACK, later and perhaps in another file, one
 * statement. Its rows exist only once it commits, so they are not sent at the prepare: the
 * group's raw events (with the FORMAT_DESCRIPTION they need) are written to one file per
 * XID in the state directory, fsynced before the checkpoint may pass the prepare, and
 * decoded again at XA COMMIT. XA ROLLBACK removes the file. Memory stays bounded whatever the
 * transaction's size, and a restart between the two halves finds the record on disk. */
#ifndef BT_XA_SPILL_H
#define BT_XA_SPILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The XID of an XA statement ("XA START X'61',X'',1" -> "X'61',X'',1"), or NULL when sql is
 * not `XA <verb> ...` for the given verb (START, COMMIT, ROLLBACK). */
const char *bt_xa_statement_xid(const char *sql, size_t len, const char *verb, size_t *xidlen);

/* The record an XA COMMIT or XA ROLLBACK of xid at file:pos refers to: the newest record of
 * that XID prepared before it. 1 found (its path in out), 0 none. */
int bt_xa_spill_find(const char *dir, const char *xid, size_t xidlen, const char *file, uint64_t pos, char *out,
                     size_t outlen);

typedef struct bt_xa_writer bt_xa_writer_t;
/* Start recording a group (its XID is known at its XA_PREPARE). */
bt_xa_writer_t *bt_xa_spill_begin(const char *dir, const uint8_t *fde, size_t fdelen, char *err, size_t errlen);
int bt_xa_spill_add(bt_xa_writer_t *w, const char *file, uint64_t pos, const uint8_t *ev, size_t len, char *err,
                    size_t errlen);
/* XA PREPARE of xid was read at file:pos: make the record durable under a name of its XID and
 * position (replacing an older one of the same: a restart read the same prepare again). Frees w. */
int bt_xa_spill_seal(bt_xa_writer_t *w, const char *xid, size_t xidlen, const char *file, uint64_t pos, char *err,
                     size_t errlen);
/* The group never reached its XA PREPARE: remove what was written. */
void bt_xa_spill_abort(bt_xa_writer_t *w);

typedef struct bt_xa_reader bt_xa_reader_t;
/* Open a record (a path from bt_xa_spill_find): 1 opened (*fde, *fdelen: its
 * FORMAT_DESCRIPTION), 0 it is gone, -1 error. */
int bt_xa_replay_open(const char *path, bt_xa_reader_t **r, const uint8_t **fde, size_t *fdelen, char *err,
                      size_t errlen);
/* The next recorded event: 1 (valid until the next call), 0 the end, -1 error (damaged). */
int bt_xa_replay_next(bt_xa_reader_t *r, const uint8_t **ev, size_t *len, const char **file, uint64_t *pos,
                      char *err, size_t errlen);
void bt_xa_replay_close(bt_xa_reader_t *r);

#endif
