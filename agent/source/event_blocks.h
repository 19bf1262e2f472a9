/* event_blocks.h: whole binlog events, in place, from a file read in large blocks.
 *
 * `bintail decode` reads files at hundreds of MB/s. Reading each event with its own small read
 * costs a system call and a copy per event (zlib's gzread copies short reads through its own
 * buffer); reading 1 MB blocks lets gzread fill our buffer directly, plain or gzip, and events
 * are handed out where they lie. Only an event that straddles the end of a block is moved.
 * bt_event_blocks_event() frames one whole event with the checks of binlog_walk.h. */
#ifndef BT_EVENT_BLOCKS_H
#define BT_EVENT_BLOCKS_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

typedef struct bt_event_blocks {
    gzFile gz;
    uint8_t *buf;
    size_t cap;    /* bytes allocated */
    size_t start;  /* first byte not yet handed out */
    size_t end;    /* bytes read into buf */
    int eof;       /* gzread returned 0 */
} bt_event_blocks_t;

/* Starts reading gz (which stays the caller's). */
void bt_event_blocks_init(bt_event_blocks_t *eb, gzFile gz);
void bt_event_blocks_free(bt_event_blocks_t *eb);
/* Forgets what was read ahead: call after seeking gz. */
void bt_event_blocks_reset(bt_event_blocks_t *eb);
#define BT_EVENT_BLOCKS_READ_ERROR (-1L)
#define BT_EVENT_BLOCKS_NO_MEMORY (-2L)
/* Points *p at the next n bytes and consumes them. Returns n, fewer (0 at a clean end) when the
 * file ends first (then *p holds those few bytes and nothing is consumed), or one of the two
 * errors above. *p stays valid until the next call. */
long bt_event_blocks_take(bt_event_blocks_t *eb, size_t n, const uint8_t **p);
/* Like take, without consuming: the bytes stay next in line. */
long bt_event_blocks_peek(bt_event_blocks_t *eb, size_t n, const uint8_t **p);
#define BT_EVENT_BLOCKS_TORN (-3L) /* the file ends inside the event */
#define BT_EVENT_BLOCKS_BAD  (-4L) /* its event_size is impossible (damage, or no binlog) */
/* Takes the next whole event (after the magic): 1 with *ev (valid until the next call) and
 * *size set; 0 at a clean end; TORN or BAD with err naming file:pos (file and pos only name the
 * event), or one of the two errors above (err untouched). */
long bt_event_blocks_event(bt_event_blocks_t *eb, const char *file, uint64_t pos, const uint8_t **ev, uint32_t *size,
                           char *err, size_t errlen);

#endif
