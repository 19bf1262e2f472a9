/* sink_stream.c: the stdout and file sinks: one message per line, the value's JSON text.
 *
 * Tombstones are written as the line `null`; keys are not written (they are part of the
 * value in every format). A file whose name ends in .zst/.lz4/.snappy/.gz goes through a
 * streaming compressor from codecs/; sync() flushes the compressor (the file then decodes up
 * to that point with the standard tool) and fsyncs, so the checkpoint never runs ahead of
 * what is on disk.
 *
 * After a crash the file may end in a half-written line or compression frame, which would
 * make everything appended after it unreadable. So each sync also records the file's length
 * in PATH.synced, and opening the file cuts it back to that length: what is cut was never
 * covered by a checkpoint, so it is written again after the restart. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/sink/sink.h"
#include "codecs/codecs.h"

typedef struct stream_sink {
    bt_sink_t base;
    int fd;
    bool is_stdout;
    char path[4096];
    bt_compressor_t *comp;
    char *wbuf;             /* write-behind buffer: fewer syscalls for small messages */
    size_t wlen, wcap;
} stream_sink_t;

static int write_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int comp_write_cb(void *ctx, const void *buf, size_t len) {
    stream_sink_t *s = ctx;
    return write_all(s->fd, buf, len);
}

static int flush_wbuf(stream_sink_t *s) {
    if (!s->wlen) return 0;
    int rc = s->comp ? bt_compressor_write(s->comp, s->wbuf, s->wlen) : write_all(s->fd, s->wbuf, s->wlen);
    s->wlen = 0;
    return rc;
}

static int stream_append(stream_sink_t *s, const void *p, size_t n) {
    if (s->wlen + n > s->wcap && flush_wbuf(s) != 0) return -1;
    if (n > s->wcap) return s->comp ? bt_compressor_write(s->comp, p, n) : write_all(s->fd, p, n);
    memcpy(s->wbuf + s->wlen, p, n);
    s->wlen += n;
    return 0;
}

static int stream_produce(bt_sink_t *base, const bt_msg_t *m, char *err, size_t errlen) {
    stream_sink_t *s = (stream_sink_t *)base;
    int rc = m->tombstone ? stream_append(s, "null", 4) : stream_append(s, m->val, m->vlen);
    if (rc == 0) rc = stream_append(s, "\n", 1);
    if (rc == 0 && s->is_stdout) rc = flush_wbuf(s); /* interactive: show changes at once */
    if (rc != 0) {
        snprintf(err, errlen, "cannot write to %s: %s", s->is_stdout ? "stdout" : s->path, strerror(errno));
        return -1;
    }
    base->ack(base->ack_ctx, m->opaque, true, NULL, false);
    return 0;
}

static void stream_poll(bt_sink_t *base, int timeout_ms) {
    (void)base;
    (void)timeout_ms;
}

static int stream_partitions(bt_sink_t *base, const char *topic, bool keyed, char *err, size_t errlen) {
    (void)base, (void)topic, (void)keyed, (void)err, (void)errlen;
    return 1;
}

/* Record the durable length of the file in PATH.synced (atomically). */
static int write_synced_length(stream_sink_t *s) {
    struct stat st;
    if (fstat(s->fd, &st) != 0) return -1;
    char side[4200], tmp[4300];
    snprintf(side, sizeof side, "%s.synced", s->path);
    snprintf(tmp, sizeof tmp, "%s.synced.tmp", s->path);
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    fprintf(f, "%lld\n", (long long)st.st_size);
    int rc = fflush(f) == 0 && fdatasync(fileno(f)) == 0 ? 0 : -1;
    if (fclose(f) != 0) rc = -1;
    return rc == 0 ? rename(tmp, side) : -1;
}

/* Cut the file back to the length recorded at the last sync (see the top of this file). */
static int cut_to_synced_length(stream_sink_t *s, char *err, size_t errlen) {
    char side[4200];
    snprintf(side, sizeof side, "%s.synced", s->path);
    FILE *f = fopen(side, "r");
    if (!f) return 0; /* never synced: a new file */
    long long len = -1;
    int n = fscanf(f, "%lld", &len);
    fclose(f);
    struct stat st;
    if (n != 1 || len < 0 || fstat(s->fd, &st) != 0) return 0;
    if (st.st_size > len) {
        if (ftruncate(s->fd, (off_t)len) != 0) {
            snprintf(err, errlen, "--sink file:%s: cannot cut the unsynced tail: %s", s->path, strerror(errno));
            return -1;
        }
        fprintf(stderr, "bintail: %s: removed %lld bytes written after the last checkpoint (an unclean stop); "
                        "they are written again\n", s->path, (long long)(st.st_size - len));
    }
    return 0;
}

static int stream_sync(bt_sink_t *base, char *err, size_t errlen) {
    stream_sink_t *s = (stream_sink_t *)base;
    int rc = flush_wbuf(s);
    if (rc == 0 && s->comp) rc = bt_compressor_flush(s->comp);
    if (rc == 0 && !s->is_stdout && fdatasync(s->fd) != 0) rc = -1;
    if (rc == 0 && !s->is_stdout) rc = write_synced_length(s);
    if (rc != 0) snprintf(err, errlen, "cannot sync %s: %s", s->is_stdout ? "stdout" : s->path, strerror(errno));
    return rc;
}

static uint64_t stream_in_flight(bt_sink_t *base) {
    (void)base;
    return 0;
}

static int64_t stream_failing_ms(bt_sink_t *base) {
    (void)base;
    return 0;
}

static void stream_free(bt_sink_t *base) {
    stream_sink_t *s = (stream_sink_t *)base;
    if (!s) return;
    flush_wbuf(s);
    if (s->comp) {
        bt_compressor_finish(s->comp);
        bt_compressor_free(s->comp);
    }
    if (!s->is_stdout && s->fd >= 0) {
        if (fdatasync(s->fd) == 0) write_synced_length(s);
        close(s->fd);
    }
    free(s->wbuf);
    free(s);
}

static const bt_sink_ops_t stream_ops = {"stream",      stream_produce,   stream_poll, stream_partitions,
                                         stream_sync,   stream_in_flight, stream_failing_ms, stream_free};

static stream_sink_t *stream_alloc(void) {
    stream_sink_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->base.ops = &stream_ops;
    s->wcap = 256 * 1024;
    s->wbuf = malloc(s->wcap);
    if (!s->wbuf) {
        free(s);
        return NULL;
    }
    return s;
}

bt_sink_t *bt_sink_stdout_new(char *err, size_t errlen) {
    stream_sink_t *s = stream_alloc();
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->fd = STDOUT_FILENO;
    s->is_stdout = true;
    snprintf(s->path, sizeof s->path, "stdout");
    return &s->base;
}

bt_sink_t *bt_sink_file_new(const char *path, char *err, size_t errlen) {
    stream_sink_t *s = stream_alloc();
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(s->path, sizeof s->path, "%s", path);
    /* Append: a restart continues the file (at-least-once: a restart may repeat lines). A
     * compressed file gets a new frame appended, which the standard tools read as one stream. */
    s->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (s->fd < 0) {
        snprintf(err, errlen, "--sink file:%s: cannot open: %s", path, strerror(errno));
        free(s->wbuf);
        free(s);
        return NULL;
    }
    if (cut_to_synced_length(s, err, errlen) != 0) {
        close(s->fd);
        free(s->wbuf);
        free(s);
        return NULL;
    }
    bt_codec_t codec = bt_codec_from_path(path);
    if (codec != BT_CODEC_NONE) {
        s->comp = bt_compressor_new(codec, 0, comp_write_cb, s, err, errlen);
        if (!s->comp) {
            close(s->fd);
            free(s->wbuf);
            free(s);
            return NULL;
        }
    }
    return &s->base;
}
