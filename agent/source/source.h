/* source.h: where raw binlog events come from (local files or the replication protocol).
 *
 * A source yields whole events (19-byte header through checksum) with their coordinates, in
 * binlog order, and never a half-written one: at the end of the binlog it waits (up to the
 * caller's timeout) and returns 0, so the reader loop can serve deliveries meanwhile.
 * Coordinates are the file the event is in and its offset; events are valid until the next
 * call. The first event a source yields for any file is that file's FORMAT_DESCRIPTION, even
 * when reading starts later in the file, so the decoder always knows the format. */
#ifndef BT_SOURCE_H
#define BT_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bt_raw_event {
    const uint8_t *data;  /* the whole event */
    size_t len;
    const char *file;     /* binlog file name (basename), valid until the next call */
    uint64_t pos;         /* offset of the event in that file */
    bool skip;            /* a FORMAT_DESCRIPTION replayed before the start position: decode, emit nothing */
} bt_raw_event_t;

typedef struct bt_source bt_source_t;

typedef struct bt_source_ops {
    const char *name;
    /* 1 = *ev filled; 0 = nothing new within timeout_ms (caught up); -1 = error in err. */
    int (*next)(bt_source_t *src, bt_raw_event_t *ev, int timeout_ms, char *err, size_t errlen);
    /* true once everything written so far has been yielded (for --stop-at-end). */
    bool (*at_end)(bt_source_t *src);
    void (*free)(bt_source_t *src);
} bt_source_ops_t;

struct bt_source {
    const bt_source_ops_t *ops;
    /* Set with a failure that a restart cannot cure (a purged or damaged binlog file, a
     * position the server no longer has): the agent exits with the "needs an operator" code. */
    bool needs_operator;
};

/* Where to start reading: a file and offset. file NULL means "earliest". */
typedef struct bt_start_pos {
    char file[256];
    uint64_t pos;
} bt_start_pos_t;

static inline int bt_source_next(bt_source_t *s, bt_raw_event_t *ev, int timeout_ms, char *err, size_t errlen) {
    return s->ops->next(s, ev, timeout_ms, err, errlen);
}
static inline void bt_source_free(bt_source_t *s) {
    if (s) s->ops->free(s);
}

/* Local files (source_file.c). dir: the directory holding the binlog files; index: the index
 * file (NULL: the only *.index in dir). start->file empty: the first file in the index.
 * Returns NULL with err (missing directory or index, unreadable file, purged start file);
 * *needs_operator tells whether a restart could cure it (false) or not (purged, damaged). */
bt_source_t *bt_source_file_new(const char *dir, const char *index, const bt_start_pos_t *start,
                                bool *needs_operator, char *err, size_t errlen);
/* Tests only (NULL otherwise): called when the file source found no more bytes and is about to
 * read the index, the moment where a server may append and rotate (tests widen that window). */
extern void (*bt_source_file_index_hook)(void);
/* Paths of the files listed in the index, in order (for --start resolution). Caller frees. */
int bt_binlog_index_read(const char *dir, const char *index, char ***files, size_t *nfiles, char *err, size_t errlen);
/* Binlog order: files are numbered, so a longer name is later (.999999 < .1000000), else by
 * bytes; positions by file, then offset. <0, 0, >0 like strcmp. */
int bt_binlog_name_cmp(const char *a, const char *b);
int bt_binlog_pos_cmp(const char *fa, uint64_t pa, const char *fb, uint64_t pb);
/* Find the index file in dir. */
int bt_binlog_index_find(const char *dir, char *out, size_t outlen, char *err, size_t errlen);

/* Replication protocol (source_repl.c). */
typedef struct bt_repl_opts {
    const char *host;
    unsigned port;
    const char *user;
    const char *password;
    uint32_t server_id;       /* ours, as a replica */
    const char *gtid;         /* start by GTID when set (MariaDB "0-1-5,1-2-9" or MySQL GTID set) */
    int64_t retry_connect_ms; /* keep reconnecting for this long */
    int heartbeat_ms;         /* master heartbeat period requested */
} bt_repl_opts_t;
bt_source_t *bt_source_repl_new(const bt_repl_opts_t *opts, const bt_start_pos_t *start, char *err, size_t errlen);
/* The checksum algorithm the replication stream uses before its first FORMAT_DESCRIPTION
 * (0 none, 1 CRC32), for bt_decoder_set_checksum(); 0 for other sources (their FDE tells). */
uint8_t bt_source_repl_checksum(bt_source_t *src);

#endif
