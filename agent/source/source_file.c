/* source_file.c: reads the replica's own binlog files from disk, following the index.
 *
 * This puts no load on the server. Files are read in index order; at the end of the newest
 * file the source waits for more bytes with inotify (or polls every 100 ms when inotify is
 * unavailable). It never treats a half-written event at the end of the file being written
 * as corruption: it waits for the rest. Events are yielded only once their transaction's end
 * is on disk (txn_gate.h), so a transaction the server never finished writing is never read.
 *
 * A file is finished after its ROTATE or STOP event, or (a crash leaves none) when the index
 * names a newer file and the file did not grow since we last hit its end: the server writes a
 * file's last bytes before it lists the next file, so the size seen after reading the index is
 * final. What a finished file holds after its last complete transaction (a torn transaction or
 * event, from a crash) was never committed: it is skipped with a warning naming file:offset.
 * A file it still needs that has vanished was purged: that is an error, never a silent skip.
 *
 * DESIGN: one read buffer; an event is yielded as a pointer into it, so the buffer is only
 * compacted or grown at the start of the next call. The buffer grows to the largest event
 * seen (capped at BT_EVENT_MAX_LEN) and shrinks back after a file switch. The framing checks
 * (magic, event_size) are binlog_walk.h's. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/binlog/binlog.h"
#include "agent/source/binlog_walk.h"
#include "agent/source/source.h"
#include "agent/source/txn_gate.h"
#include "lib/lib.h"

#define READ_CHUNK ((size_t)1 << 20)

typedef struct file_source {
    bt_source_t base;
    char dir[PATH_MAX];
    char index[PATH_MAX];
    char name[256];       /* current file (basename) */
    int fd;
    uint8_t *buf;
    size_t cap, len, off; /* buf[off..len) not yet yielded */
    uint64_t buf_pos;     /* file offset of buf[0] */
    uint64_t start_pos;   /* first offset to yield after the FDE (0 = from the start) */
    bool fde_only_once;   /* yield the FDE with skip=true, then jump to start_pos */
    bool file_done;       /* ROTATE/STOP seen: move to the next file when it is listed */
    bool at_end;
    bool eof;             /* the last read returned 0 bytes */
    uint64_t seen_size;   /* file size when we last found no more bytes */
    uint64_t known_size;  /* file size the look-ahead last saw */
    bt_gate_t gate;       /* how far the events belong to complete transactions */
    uint8_t *peek;        /* scratch for the gate's look-ahead beyond the read buffer */
    size_t peek_cap;
    int inotify_fd;
    uint8_t fde_copy[4096];
} file_source_t;

static const char *base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

int bt_binlog_index_find(const char *dir, char *out, size_t outlen, char *err, size_t errlen) {
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "--binlog-dir %s: %s", dir, errno ? strerror(errno) : "not a directory");
        return -1;
    }
    /* Scan for *.index; refuse to guess between several (the relay log has one too). */
    int found = 0;
    char first[PATH_MAX] = "";
    {
        DIR *d = opendir(dir);
        if (!d) {
            snprintf(err, errlen, "--binlog-dir %s: cannot list: %s", dir, strerror(errno));
            return -1;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
            size_t l = strlen(de->d_name);
            if (strstr(de->d_name, "relay")) continue;
            /* mid-rewrite, MySQL's index exists only as <name>.index_crash_safe (open_index) */
            if (l > 17 && !strcmp(de->d_name + l - 17, ".index_crash_safe"))
                l -= 11;
            else if (!(l > 6 && !strcmp(de->d_name + l - 6, ".index")))
                continue;
            if (found && !strncmp(first, de->d_name, l) && !first[l]) continue; /* both forms seen */
            if (!found) snprintf(first, sizeof first, "%.*s", (int)l, de->d_name);
            found++;
        }
        closedir(d);
    }
    if (found == 0) {
        snprintf(err, errlen, "no binlog index (*.index) in %s: is log_bin enabled on this server, and is "
                              "this its binlog directory? Name the index with --binlog-index", dir);
        return -1;
    }
    if (found > 1) {
        snprintf(err, errlen, "several binlog index files in %s: name one with --binlog-index", dir);
        return -1;
    }
    snprintf(out, outlen, "%s/%s", dir, first);
    return 0;
}

/* MySQL rewrites its index by writing <index>_crash_safe, deleting the index and renaming the
 * new one into place (move_crash_safe_index_file_to_index_file), so for a moment there is no
 * index. Then the crash-safe copy is the complete new list; without one the rename is only
 * late, and the index is waited for (up to a second) rather than taken as missing. */
static FILE *open_index(const char *index) {
    char safe[PATH_MAX + 16];
    snprintf(safe, sizeof safe, "%s_crash_safe", index);
    for (int tries = 0;; tries++) {
        FILE *f = fopen(index, "r");
        if (f || errno != ENOENT) return f;
        if ((f = fopen(safe, "r"))) return f;
        if (tries == 100) {
            errno = ENOENT;
            return NULL;
        }
        usleep(10 * 1000);
    }
}

int bt_binlog_index_read(const char *dir, const char *index, char ***files, size_t *nfiles, char *err,
                         size_t errlen) {
    FILE *f = open_index(index);
    if (!f) {
        snprintf(err, errlen, "cannot open binlog index %s: %s%s", index, strerror(errno),
                 errno == EACCES ? " (run bintail as a user that can read the server's binlog directory, "
                                   "e.g. in the mysql group)" : "");
        return -1;
    }
    char line[PATH_MAX];
    char **v = NULL;
    size_t n = 0;
    (void)dir;
    while (fgets(line, sizeof line, f)) {
        size_t l = strcspn(line, "\r\n");
        line[l] = 0;
        if (!l) continue;
        v = bt_xrealloc(v, (n + 1) * sizeof *v);
        v[n++] = bt_xstrdup(base_name(line));
    }
    fclose(f);
    *files = v;
    *nfiles = n;
    return 0;
}

static void free_list(char **v, size_t n) {
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

int bt_binlog_name_cmp(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    return la != lb ? (la < lb ? -1 : 1) : strcmp(a, b);
}

int bt_binlog_pos_cmp(const char *fa, uint64_t pa, const char *fb, uint64_t pb) {
    int c = bt_binlog_name_cmp(fa, fb);
    return c ? c : (pa < pb ? -1 : pa > pb);
}

/* The file that follows `name`: the first listed name after it in binlog order. 1 found
 * (copied to next), 0 none yet, -1 error. The server rewrites the index in place when it
 * purges (MySQL replaces it by delete and rename), so a read may see it half-written, or not
 * at all: only the order of the names counts, never their place in a possibly torn file, and
 * a missing index means "not yet". Whether our own file is still listed does not matter: it
 * is open, and a file that vanished before it was opened is reported by open_current(). */
static int next_in_index(file_source_t *fs, const char *name, char *next, size_t nextlen, char *err, size_t errlen) {
    char **v;
    size_t n;
    if (bt_binlog_index_read(fs->dir, fs->index, &v, &n, err, errlen) != 0)
        return access(fs->index, F_OK) != 0 && errno == ENOENT ? 0 : -1;
    const char *best = NULL;
    for (size_t i = 0; i < n; i++)
        if (v[i] && bt_binlog_name_cmp(v[i], name) > 0 && (!best || bt_binlog_name_cmp(v[i], best) < 0)) best = v[i];
    if (best) snprintf(next, nextlen, "%s", best);
    free_list(v, n);
    return best ? 1 : 0;
}

static int open_current(file_source_t *fs, char *err, size_t errlen) {
    char path[PATH_MAX + 300];
    snprintf(path, sizeof path, "%s/%s", fs->dir, fs->name);
    fs->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fs->fd < 0) {
        if (errno == ENOENT) {
            snprintf(err, errlen, "binlog file %s is gone: it was purged before bintail read it (the data in "
                                  "it is lost to bintail). Keep binlogs longer (binlog_expire_logs_seconds), then "
                                  "restart with --reset-checkpoint and a new snapshot", path);
            fs->base.needs_operator = true;
        } else {
            snprintf(err, errlen, "cannot open binlog file %s: %s", path, strerror(errno));
        }
        return -1;
    }
    /* A file too short for the magic is being created: its events are waited for. */
    if (bt_binlog_magic_check(fs->fd, path, err, errlen) < 0) {
        fs->base.needs_operator = true;
        return -1;
    }
    fs->buf_pos = BT_BINLOG_MAGIC_LEN;
    fs->len = fs->off = 0;
    fs->eof = false;
    fs->file_done = false;
    fs->seen_size = fs->known_size = 0;
    bt_gate_reset(&fs->gate, BT_BINLOG_MAGIC_LEN);
    if (lseek(fs->fd, BT_BINLOG_MAGIC_LEN, SEEK_SET) < 0) {
        snprintf(err, errlen, "cannot seek in %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static void close_current(file_source_t *fs) {
    if (fs->fd >= 0) close(fs->fd);
    fs->fd = -1;
    if (fs->cap > 4 * READ_CHUNK) { /* give back the memory of a huge event */
        free(fs->buf);
        fs->buf = NULL;
        fs->cap = 0;
    }
    fs->len = fs->off = 0;
}

/* Make at least `need` bytes available at buf[off]; 1 = yes, 0 = not yet written, -1 = error. */
static int fill(file_source_t *fs, size_t need, char *err, size_t errlen) {
    if (fs->len - fs->off >= need) return 1;
    if (fs->off > 0) { /* compact: drop what was already yielded */
        memmove(fs->buf, fs->buf + fs->off, fs->len - fs->off);
        fs->buf_pos += fs->off;
        fs->len -= fs->off;
        fs->off = 0;
    }
    if (need > fs->cap) {
        size_t ncap = fs->cap ? fs->cap : READ_CHUNK;
        while (ncap < need) ncap *= 2;
        uint8_t *nb = realloc(fs->buf, ncap);
        if (!nb) {
            snprintf(err, errlen, "out of memory for a %zu-byte event in %s", need, fs->name);
            return -1;
        }
        fs->buf = nb;
        fs->cap = ncap;
    }
    while (fs->len < need) {
        ssize_t r = read(fs->fd, fs->buf + fs->len, fs->cap - fs->len);
        if (r < 0) {
            if (errno == EINTR) continue;
            snprintf(err, errlen, "read error in %s at offset %llu: %s", fs->name,
                     (unsigned long long)(fs->buf_pos + fs->len), strerror(errno));
            return -1;
        }
        if (r == 0) {
            fs->eof = true;
            return 0;
        }
        fs->len += (size_t)r;
    }
    fs->eof = false;
    return 1;
}

/* Wait until the directory changes or timeout_ms passes. */
static void wait_for_change(file_source_t *fs, int timeout_ms) {
    if (timeout_ms <= 0) return;
    if (fs->inotify_fd < 0) {
        struct timespec ts = {0, (timeout_ms < 100 ? timeout_ms : 100) * 1000000L};
        nanosleep(&ts, NULL);
        return;
    }
    struct pollfd pfd = {fs->inotify_fd, POLLIN, 0};
    /* Cap the wait: inotify does not report writes through some filesystems (NFS, overlays). */
    if (poll(&pfd, 1, timeout_ms < 250 ? timeout_ms : 250) > 0) {
        char drain[4096];
        while (read(fs->inotify_fd, drain, sizeof drain) > 0) {
        }
    }
}

static int switch_to(file_source_t *fs, const char *next, char *err, size_t errlen) {
    bt_info("following the binlog to %s", next);
    close_current(fs);
    snprintf(fs->name, sizeof fs->name, "%s", next);
    fs->start_pos = 0;
    fs->fde_only_once = false;
    return open_current(fs, err, errlen) == 0 ? 1 : -1;
}

/* Whether the current file is finished although it ended without ROTATE or STOP (a crash):
 * a newer file is listed, and the file has not grown since we last found nothing more in it.
 * 1 finished (next names the newer file), 0 not yet (wait), 2 it grew (read again now), -1 error. */
void (*bt_source_file_index_hook)(void);

static int finished_without_rotate(file_source_t *fs, char *next, size_t nextlen, char *err, size_t errlen) {
    if (bt_source_file_index_hook) bt_source_file_index_hook();
    int rc = next_in_index(fs, fs->name, next, nextlen, err, errlen);
    if (rc <= 0) return rc;
    struct stat st;
    if (fstat(fs->fd, &st) != 0) {
        snprintf(err, errlen, "cannot stat %s: %s", fs->name, strerror(errno));
        return -1;
    }
    if ((uint64_t)st.st_size != fs->seen_size) {
        /* Bytes arrived between our last read and the index naming the next file (or we have
         * not looked since): read them before moving on, or they would be skipped. */
        fs->seen_size = (uint64_t)st.st_size;
        return 2;
    }
    return 1;
}

/* The finished file ends with bytes that are no complete transaction: say what is skipped. */
static void report_torn_tail(file_source_t *fs, const char *next) {
    uint64_t from;
    uint64_t pos = fs->buf_pos + fs->off;
    if (bt_gate_finish(&fs->gate, &from))
        bt_warn("%s:%llu: the last transaction in this file never committed (the file ends inside it: the server "
                "stopped while writing it, and its recovery rolled it back); skipped, continuing with %s",
                fs->name, (unsigned long long)from, next);
    else if (fs->seen_size > pos)
        bt_warn("%s:%llu: the file ends with an incomplete event (%llu bytes; the server stopped while writing "
                "it); skipped, continuing with %s", fs->name, (unsigned long long)pos,
                (unsigned long long)(fs->seen_size - pos), next);
}

/* Bytes [off, off+n) of the current file for the gate, from the read buffer when they are in
 * it, else with pread. NULL when fewer than n bytes are written yet. */
static const uint8_t *peek(file_source_t *fs, uint64_t off, size_t n, char *err, size_t errlen, bool *failed) {
    if (off >= fs->buf_pos && off + n <= fs->buf_pos + fs->len) return fs->buf + (off - fs->buf_pos);
    if (n > fs->peek_cap) {
        uint8_t *np = realloc(fs->peek, n);
        if (!np) {
            snprintf(err, errlen, "out of memory reading ahead in %s", fs->name);
            *failed = true;
            return NULL;
        }
        fs->peek = np;
        fs->peek_cap = n;
    }
    ssize_t r = pread(fs->fd, fs->peek, n, (off_t)off);
    if (r < 0) {
        snprintf(err, errlen, "read error in %s at offset %llu: %s", fs->name, (unsigned long long)off,
                 strerror(errno));
        *failed = true;
        return NULL;
    }
    return (size_t)r == n ? fs->peek : NULL;
}

/* Move the gate's horizon to at least `end`. 1 done, 0 not yet (the file ends inside a
 * transaction, or inside an event), -1 error. */
static int gate_cover(file_source_t *fs, uint64_t end, char *err, size_t errlen) {
    bt_gate_t *g = &fs->gate;
    bool failed = false;
    while (g->horizon < end) {
        const uint8_t *h = peek(fs, g->scan, BT_EVENT_HEADER_LEN, err, errlen, &failed);
        if (!h) return failed ? -1 : 0;
        uint32_t size = bt_event_size(h);
        if (!bt_event_size_ok(size)) {
            g->horizon = UINT64_MAX; /* damaged: the reader reports it with its offset */
            return 1;
        }
        /* An event counts only once all of it is written: a torn XID ends nothing. The file's
         * size is asked again only when the event reaches past what was seen last. */
        if (g->scan + size > fs->known_size) {
            struct stat st;
            if (fstat(fs->fd, &st) != 0) {
                snprintf(err, errlen, "cannot stat %s: %s", fs->name, strerror(errno));
                return -1;
            }
            fs->known_size = (uint64_t)st.st_size;
            if (g->scan + size > fs->known_size) return 0;
        }
        size_t want = BT_EVENT_HEADER_LEN, need = 0; /* most events need no more than their header */
        for (;;) {
            const uint8_t *ev = want == BT_EVENT_HEADER_LEN ? h : peek(fs, g->scan, want, err, errlen, &failed);
            if (!ev) return failed ? -1 : 0;
            if (bt_gate_step(g, ev, want, size, &need) == BT_GATE_OK) break;
            want = need;
        }
    }
    return 1;
}

/* The FORMAT_DESCRIPTION of a file read from a later offset: hand it out (skip = true, from a
 * copy, since the buffer is refilled from the new offset), then continue at start_pos. */
static int jump_to_start(file_source_t *fs, bt_raw_event_t *ev, const uint8_t *h, uint32_t size, uint64_t pos,
                         char *err, size_t errlen) {
    ev->skip = true;
    fs->off = fs->len = 0;
    fs->buf_pos = fs->start_pos;
    if (lseek(fs->fd, (off_t)fs->start_pos, SEEK_SET) < 0) {
        snprintf(err, errlen, "cannot seek to %s:%llu: %s", fs->name, (unsigned long long)fs->start_pos,
                 strerror(errno));
        return -1;
    }
    bt_gate_reset(&fs->gate, fs->start_pos); /* a checkpoint is always at a transaction boundary */
    fs->start_pos = 0;
    if (size > sizeof fs->fde_copy) {
        snprintf(err, errlen, "%s:%llu: FORMAT_DESCRIPTION event too large (%u)", fs->name, (unsigned long long)pos,
                 size);
        return -1;
    }
    memcpy(fs->fde_copy, h, size);
    ev->data = fs->fde_copy;
    return 1;
}

/* The next complete event of a complete transaction in the current file: 1 yielded, 0 none
 * now (fs->eof: the bytes end; else the transaction is still being written), -1 error. */
static int next_event(file_source_t *fs, bt_raw_event_t *ev, char *err, size_t errlen) {
    int rc = fill(fs, BT_EVENT_HEADER_LEN, err, errlen);
    if (rc <= 0) return rc;
    const uint8_t *h = fs->buf + fs->off;
    uint32_t size = bt_event_size(h);
    uint64_t pos = fs->buf_pos + fs->off;
    if (!bt_event_size_ok(size)) {
        bt_event_size_error(err, errlen, fs->name, pos, size);
        fs->base.needs_operator = true;
        return -1;
    }
    rc = fill(fs, size, err, errlen);
    if (rc <= 0) return rc;
    if (pos + size > fs->gate.horizon) {
        rc = gate_cover(fs, pos + size, err, errlen);
        if (rc < 0) return -1;
        if (rc == 0) {
            fs->eof = false; /* complete bytes, incomplete transaction */
            return 0;
        }
    }
    h = fs->buf + fs->off;
    uint8_t type = bt_event_type(h);
    uint16_t flags = bt_event_flags(h);
    ev->data = h;
    ev->len = size;
    ev->file = fs->name;
    ev->pos = pos;
    ev->skip = false;
    fs->off += size;
    if (type == BT_FORMAT_DESCRIPTION_EVENT && fs->start_pos > pos + size)
        return jump_to_start(fs, ev, h, size, pos, err, errlen);
    if (type == BT_STOP_EVENT || (type == BT_ROTATE_EVENT && !(flags & BT_LOG_EVENT_ARTIFICIAL_F)))
        fs->file_done = true;
    return 1;
}

static int file_next(bt_source_t *src, bt_raw_event_t *ev, int timeout_ms, char *err, size_t errlen) {
    file_source_t *fs = (file_source_t *)src;
    int64_t t0 = bt_mono_ms();
    char next[256];
    for (;;) {
        if (fs->file_done) { /* ROTATE or STOP read: the file is complete; move on once the next is listed */
            int rc = next_in_index(fs, fs->name, next, sizeof next, err, errlen);
            if (rc < 0) return -1;
            fs->at_end = rc == 0;
            if (rc == 0) goto wait;
            if (switch_to(fs, next, err, errlen) < 0) return -1;
        }
        int rc = next_event(fs, ev, err, errlen);
        if (rc < 0) return -1;
        if (rc == 1) {
            fs->at_end = false;
            return 1;
        }
        /* Nothing more now: is the file finished (crash: no ROTATE), or still being written? */
        rc = finished_without_rotate(fs, next, sizeof next, err, errlen);
        if (rc < 0) return -1;
        if (rc == 2) continue;
        if (rc == 1) {
            report_torn_tail(fs, next);
            if (switch_to(fs, next, err, errlen) < 0) return -1;
            continue;
        }
        /* at the end when everything written so far was yielded (not inside a transaction) */
        fs->at_end = fs->eof && fs->len == fs->off && !fs->gate.in_group;
    wait:;
        int64_t elapsed = bt_mono_ms() - t0;
        if (elapsed >= timeout_ms) return 0;
        wait_for_change(fs, (int)(timeout_ms - elapsed));
    }
}

static bool file_at_end(bt_source_t *src) { return ((file_source_t *)src)->at_end; }

static void file_free(bt_source_t *src) {
    file_source_t *fs = (file_source_t *)src;
    if (!fs) return;
    close_current(fs);
    free(fs->buf);
    free(fs->peek);
    if (fs->inotify_fd >= 0) close(fs->inotify_fd);
    free(fs);
}

static const bt_source_ops_t file_ops = {"file", file_next, file_at_end, file_free};

bt_source_t *bt_source_file_new(const char *dir, const char *index, const bt_start_pos_t *start,
                                bool *needs_operator, char *err, size_t errlen) {
    *needs_operator = false;
    file_source_t *fs = bt_xcalloc(1, sizeof *fs);
    fs->base.ops = &file_ops;
    fs->fd = -1;
    fs->inotify_fd = -1;
    if (index) {
        snprintf(fs->index, sizeof fs->index, "%s", index);
        if (dir) snprintf(fs->dir, sizeof fs->dir, "%s", dir);
        else {
            snprintf(fs->dir, sizeof fs->dir, "%s", index);
            char *slash = strrchr(fs->dir, '/');
            if (slash) *slash = 0;
            else snprintf(fs->dir, sizeof fs->dir, ".");
        }
    } else {
        snprintf(fs->dir, sizeof fs->dir, "%s", dir);
        if (bt_binlog_index_find(dir, fs->index, sizeof fs->index, err, errlen) != 0) goto fail;
    }
    char **v;
    size_t n;
    if (bt_binlog_index_read(fs->dir, fs->index, &v, &n, err, errlen) != 0) goto fail;
    if (n == 0) {
        free_list(v, n);
        snprintf(err, errlen, "the binlog index %s lists no files", fs->index);
        goto fail;
    }
    if (start && start->file[0]) {
        bool listed = false;
        for (size_t i = 0; i < n; i++) listed |= v[i] && !strcmp(v[i], base_name(start->file));
        char path[PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s", fs->dir, base_name(start->file));
        if (!listed && access(path, F_OK) == 0) listed = true; /* an index read while the server rewrote it */
        if (!listed) {
            snprintf(err, errlen, "binlog file %s (start position %s:%llu) is not in %s: it was purged. The "
                                  "changes since then are no longer available; restart with --reset-checkpoint "
                                  "(and a new snapshot) to continue", start->file, start->file,
                     (unsigned long long)start->pos, fs->index);
            free_list(v, n);
            *needs_operator = true;
            goto fail;
        }
        snprintf(fs->name, sizeof fs->name, "%s", base_name(start->file));
        fs->start_pos = start->pos > BT_BINLOG_MAGIC_LEN ? start->pos : 0;
    } else { /* the first file in binlog order (not in the index's order: it may be mid-rewrite) */
        size_t first = 0;
        for (size_t i = 1; i < n; i++)
            if (v[i] && (!v[first] || bt_binlog_name_cmp(v[i], v[first]) < 0)) first = i;
        snprintf(fs->name, sizeof fs->name, "%s", v[first] ? v[first] : "");
    }
    free_list(v, n);
    if (open_current(fs, err, errlen) != 0) {
        *needs_operator = fs->base.needs_operator;
        goto fail;
    }
    fs->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fs->inotify_fd >= 0 &&
        inotify_add_watch(fs->inotify_fd, fs->dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
        bt_warn("inotify on %s failed (%s): polling every 100 ms instead", fs->dir, strerror(errno));
        close(fs->inotify_fd);
        fs->inotify_fd = -1;
    }
    return &fs->base;
fail:
    file_free(&fs->base);
    return NULL;
}
