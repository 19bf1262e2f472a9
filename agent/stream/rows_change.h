/* rows_change.h: a row of a rows event as a bt_change_t, the same way for the daemon's pipeline
 * and for `bintail decode`.
 *
 * Coordinates: (file, pos, row) names a row uniquely. pos is the rows event's offset, except
 * for the inner events of a TRANSACTION_PAYLOAD, which all carry the payload's offset: there
 * row runs on across the payload's inner rows events instead of restarting at each. */
#ifndef BT_ROWS_CHANGE_H
#define BT_ROWS_CHANGE_H

#include "agent/binlog/binlog.h"
#include "agent/format/format.h"

/* Row numbering across the inner events of one payload. Zero-initialise. */
typedef struct bt_row_numbering {
    char file[256];       /* the payload being numbered: its file (a copy: callers reuse their
                           * buffer when the file changes) and offset + 1 (0: none) */
    uint64_t pos_plus1;
    uint32_t next;        /* its next row number */
} bt_row_numbering_t;

/* Fills c with what a row takes from its rows event, just after bt_rows_next returned it:
 * op, table, images, db and table names, file and pos, and the row number. Everything else
 * (transaction coordinates, times, sequence numbers, statement) is zero for the caller to set. */
void bt_rows_change(bt_change_t *c, bt_row_numbering_t *num, const char *file, const bt_event_t *ev,
                    const bt_row_t *before, const bt_row_t *after);

#endif
