/* binlog_walk.h: the framing of a binlog file, for everything in agent/source/ that steps
 * through one: the magic number, the v4 common header (19 bytes, event_size at offset 9), the
 * bounds an event_size must keep, and a walker that steps over a file event by event.
 *
 * A binlog file is the 4-byte magic "\xfebin", then events back to back, the first one the
 * file's FORMAT_DESCRIPTION. Each event starts with the common header and is event_size bytes
 * long in all (checksum included), so stepping needs only the headers. The walker reads with
 * pread and keeps no buffer: it suits scans that read headers and skip bodies (--start). Readers
 * with their own buffers (the file source, the block reader of `bintail decode`) share the
 * checks instead: bt_binlog_magic_check(), bt_event_size_ok() and bt_event_size_error(). What a
 * torn or impossible event means (wait, skip, fail) stays each caller's decision: the walker
 * only says which it is, with file:offset in err. */
#ifndef BT_BINLOG_WALK_H
#define BT_BINLOG_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/lib.h"

#define BT_BINLOG_MAGIC                                                                                                \
    "\xfe"                                                                                                             \
    "bin"
#define BT_BINLOG_MAGIC_LEN 4 /* also the offset of a file's first event, its FORMAT_DESCRIPTION */
#define BT_EVENT_HEADER_LEN 19
/* Larger than any event a server writes (max_allowed_packet is at most 1 GiB): a larger
 * event_size is damage, and must not make a reader allocate it. */
#define BT_EVENT_MAX_LEN          ((size_t)1 << 30)
#define BT_LOG_EVENT_ARTIFICIAL_F 0x20 /* header flag: made up by the server, not in the file */

/* The fields of the common header h (at least BT_EVENT_HEADER_LEN bytes). */
static inline uint32_t bt_event_timestamp(const uint8_t *h) { return bt_le32(h); }
static inline uint8_t bt_event_type(const uint8_t *h) { return h[4]; }
static inline uint32_t bt_event_server_id(const uint8_t *h) { return bt_le32(h + 5); }
static inline uint32_t bt_event_size(const uint8_t *h) { return bt_le32(h + 9); }
static inline uint32_t bt_event_next_pos(const uint8_t *h) { return bt_le32(h + 13); }
static inline uint16_t bt_event_flags(const uint8_t *h) { return bt_le16(h + 17); }

/* Whether an event_size can be real: at least a header, at most BT_EVENT_MAX_LEN. */
static inline bool bt_event_size_ok(uint32_t size) { return size >= BT_EVENT_HEADER_LEN && size <= BT_EVENT_MAX_LEN; }
/* The message for an event_size that is not: "FILE:POS: impossible event length N (...)". */
void bt_event_size_error(char *err, size_t errlen, const char *file, uint64_t pos, uint32_t size);
/* The message for a file that ends inside the event at pos, of which `have` bytes are there:
 * inside its header when size is 0 (not known yet), else inside its size bytes. */
void bt_event_torn_error(char *err, size_t errlen, const char *file, uint64_t pos, uint64_t have, uint32_t size);

/* The magic of the open file fd (path names it in err): 1 a binlog; 0 fewer than 4 bytes can
 * be read (a file the server is creating now); -1 something else is there (err says so). */
int bt_binlog_magic_check(int fd, const char *path, char *err, size_t errlen);

/* A walk over the events of one file, by pread. */
typedef struct bt_binlog_walk {
    int fd;                         /* -1 when not open */
    const char *file;               /* the caller's name of the file, for messages */
    uint64_t pos;                   /* offset of the current event */
    uint8_t h[BT_EVENT_HEADER_LEN]; /* its header, once bt_binlog_walk_header() returned EVENT */
    uint32_t size;                  /* its event_size, likewise */
} bt_binlog_walk_t;

enum {
    BT_WALK_BAD = -1,  /* the header at pos has an impossible event_size: damage, or no binlog */
    BT_WALK_END = 0,   /* no byte at pos: the events written so far are all behind */
    BT_WALK_EVENT = 1, /* a whole event is at pos: its header is in h, its length in size */
    BT_WALK_TORN = 2,  /* the file ends inside the event at pos (still being written, or a crash) */
};

/* Opens dir/file (file stays the caller's and must outlive the walk) and checks the magic;
 * the walk starts at the first event. 0; -1 with err (cannot open, not a binlog). A file too
 * short to hold the magic yet is opened: its walk just ends at once. */
int bt_binlog_walk_open(bt_binlog_walk_t *w, const char *dir, const char *file, char *err, size_t errlen);
/* Reads the header at w->pos: one of the BT_WALK_ codes; BAD and TORN also write err,
 * naming file:offset. An event counts as whole once its last byte is written. */
int bt_binlog_walk_header(bt_binlog_walk_t *w, char *err, size_t errlen);
/* Reads n bytes at offset off of the current event into buf; false when they are not all
 * inside the event (a body too short for what the caller expects) or cannot be read. */
bool bt_binlog_walk_body(const bt_binlog_walk_t *w, size_t off, void *buf, size_t n);
/* Steps to the event after the current one (after a header returned BT_WALK_EVENT). */
static inline void bt_binlog_walk_next(bt_binlog_walk_t *w) { w->pos += w->size; }
void bt_binlog_walk_close(bt_binlog_walk_t *w);

#endif
