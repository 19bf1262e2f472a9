/* binlog_walk.c: the magic and header checks of a binlog file, and the pread walker over its
 * events (binlog_walk.h says who uses which). */
#include "agent/source/binlog_walk.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void bt_event_size_error(char *err, size_t errlen, const char *file, uint64_t pos, uint32_t size) {
    snprintf(err, errlen, "%s:%llu: impossible event length %u (the file is damaged or not a binlog)", file,
             (unsigned long long)pos, size);
}

void bt_event_torn_error(char *err, size_t errlen, const char *file, uint64_t pos, uint64_t have, uint32_t size) {
    if (size == 0)
        snprintf(err, errlen,
                 "%s:%llu: the file ends inside an event header (%llu of %d bytes; the server is still "
                 "writing it, or stopped while writing it)",
                 file, (unsigned long long)pos, (unsigned long long)have, BT_EVENT_HEADER_LEN);
    else
        snprintf(err, errlen,
                 "%s:%llu: the file ends inside an event (%llu of %u bytes; the server is still "
                 "writing it, or stopped while writing it)",
                 file, (unsigned long long)pos, (unsigned long long)have, size);
}

int bt_binlog_magic_check(int fd, const char *path, char *err, size_t errlen) {
    uint8_t magic[BT_BINLOG_MAGIC_LEN];
    ssize_t r = pread(fd, magic, sizeof magic, 0);
    if (r != (ssize_t)sizeof magic) return 0;
    if (memcmp(magic, BT_BINLOG_MAGIC, sizeof magic) == 0) return 1;
    snprintf(err, errlen, "%s is not a binlog file (bad magic number)", path);
    return -1;
}

int bt_binlog_walk_open(bt_binlog_walk_t *w, const char *dir, const char *file, char *err, size_t errlen) {
    char path[PATH_MAX + 300];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    memset(w, 0, sizeof *w);
    w->file = file;
    w->pos = BT_BINLOG_MAGIC_LEN;
    w->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (w->fd < 0) {
        snprintf(err, errlen, "cannot open binlog file %s: %s", path, strerror(errno));
        return -1;
    }
    if (bt_binlog_magic_check(w->fd, path, err, errlen) < 0) {
        bt_binlog_walk_close(w);
        return -1;
    }
    return 0;
}

int bt_binlog_walk_header(bt_binlog_walk_t *w, char *err, size_t errlen) {
    ssize_t r = pread(w->fd, w->h, BT_EVENT_HEADER_LEN, (off_t)w->pos);
    if (r <= 0) return BT_WALK_END;
    if (r < BT_EVENT_HEADER_LEN) {
        bt_event_torn_error(err, errlen, w->file, w->pos, (uint64_t)r, 0);
        return BT_WALK_TORN;
    }
    w->size = bt_event_size(w->h);
    if (!bt_event_size_ok(w->size)) {
        bt_event_size_error(err, errlen, w->file, w->pos, w->size);
        return BT_WALK_BAD;
    }
    /* Whole once its last byte is there: the server appends, so no byte before it is missing. */
    uint8_t last;
    if (pread(w->fd, &last, 1, (off_t)(w->pos + w->size - 1)) != 1) {
        struct stat st;
        uint64_t have = fstat(w->fd, &st) == 0 && (uint64_t)st.st_size > w->pos ? (uint64_t)st.st_size - w->pos : 0;
        bt_event_torn_error(err, errlen, w->file, w->pos, have, w->size);
        return BT_WALK_TORN;
    }
    return BT_WALK_EVENT;
}

bool bt_binlog_walk_body(const bt_binlog_walk_t *w, size_t off, void *buf, size_t n) {
    if (off > w->size || n > w->size - off) return false;
    return pread(w->fd, buf, n, (off_t)(w->pos + off)) == (ssize_t)n;
}

void bt_binlog_walk_close(bt_binlog_walk_t *w) {
    if (w->fd >= 0) close(w->fd);
    w->fd = -1;
}
