/* xa_spill.c: on-disk records of prepared XA transactions (see xa_spill.h).
 *
 * File layout (host byte order: the record never leaves this machine):
 *   "BTXA1\n" | record(FORMAT_DESCRIPTION) | record*
 *   record = len u32 | pos u64 | file_len u8 | file | the event's bytes
 * A group is recorded into xa-open.spill; its XA_PREPARE names the XID, and the file is renamed
 * to xa-<hash of the XID>-<binlog file>-<offset of the prepare>.spill (MariaDB tells the XID
 * only there). An XID can be used again once its transaction ended, so a name carries the
 * prepare's position too: the record an XA COMMIT needs is the newest one of its XID that was
 * prepared before it, also when the commit is read again after a restart. */
#include "agent/stream/xa_spill.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "agent/source/source.h"

#define MAGIC "BTXA1\n"
#define MAX_RECORD ((size_t)1 << 30)

struct bt_xa_writer {
    FILE *f;
    char dir[4096];
    char path[4200];
};

struct bt_xa_reader {
    FILE *f;
    char path[4200];
    uint8_t *buf;
    size_t cap;
    char file[256];
    uint8_t *fde;
    size_t fdelen;
};

static bool word_at(const char **s, const char *e, const char *kw) {
    const char *p = *s;
    while (p < e && isspace((unsigned char)*p)) p++;
    size_t n = strlen(kw);
    if ((size_t)(e - p) < n || strncasecmp(p, kw, n) != 0) return false;
    if ((size_t)(e - p) > n && !isspace((unsigned char)p[n])) return false;
    *s = p + n;
    return true;
}

const char *bt_xa_statement_xid(const char *sql, size_t len, const char *verb, size_t *xidlen) {
    const char *s = sql, *e = sql + len;
    if (!word_at(&s, e, "XA") || !word_at(&s, e, verb)) return NULL;
    while (s < e && isspace((unsigned char)*s)) s++;
    while (e > s && (isspace((unsigned char)e[-1]) || e[-1] == ';')) e--;
    /* XA COMMIT xid ONE PHASE names the same xid */
    if (e - s > 10 && !strncasecmp(e - 9, "ONE PHASE", 9)) {
        e -= 9;
        while (e > s && isspace((unsigned char)e[-1])) e--;
    }
    if (e == s) return NULL;
    *xidlen = (size_t)(e - s);
    return s;
}

/* "xa-<FNV-1a of the xid, case folded (hex digits may be written either way)>-" */
static void name_prefix(const char *xid, size_t xidlen, char *out, size_t outlen) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < xidlen; i++) h = (h ^ (uint8_t)tolower((unsigned char)xid[i])) * 1099511628211ULL;
    snprintf(out, outlen, "xa-%016llx-", (unsigned long long)h);
}

int bt_xa_spill_find(const char *dir, const char *xid, size_t xidlen, const char *file, uint64_t pos, char *out,
                     size_t outlen) {
    char prefix[64];
    name_prefix(xid, xidlen, prefix, sizeof prefix);
    size_t pl = strlen(prefix);
    DIR *d = opendir(dir);
    if (!d) return 0;
    char best_file[256] = "";
    uint64_t best_pos = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, prefix, pl) != 0) continue;
        /* <file>-<pos>.spill after the prefix */
        char f[256];
        const char *rest = de->d_name + pl, *dash = strrchr(rest, '-');
        if (!dash || (size_t)(dash - rest) >= sizeof f) continue;
        memcpy(f, rest, (size_t)(dash - rest));
        f[dash - rest] = 0;
        char *end;
        uint64_t p = strtoull(dash + 1, &end, 10);
        if (strcmp(end, ".spill") != 0) continue;
        if (bt_binlog_pos_cmp(f, p, file, pos) >= 0) continue; /* prepared after this statement */
        if (!best_file[0] || bt_binlog_pos_cmp(f, p, best_file, best_pos) > 0) {
            snprintf(best_file, sizeof best_file, "%s", f);
            best_pos = p;
        }
    }
    closedir(d);
    if (!best_file[0]) return 0;
    snprintf(out, outlen, "%s/%s%s-%" PRIu64 ".spill", dir, prefix, best_file, best_pos);
    return 1;
}

static int write_record(FILE *f, const char *file, uint64_t pos, const uint8_t *ev, size_t len) {
    uint32_t l = (uint32_t)len;
    size_t fl = strlen(file);
    uint8_t flen = (uint8_t)(fl > 255 ? 255 : fl);
    return fwrite(&l, sizeof l, 1, f) == 1 && fwrite(&pos, sizeof pos, 1, f) == 1 && fwrite(&flen, 1, 1, f) == 1 &&
                   fwrite(file, 1, flen, f) == flen && fwrite(ev, 1, len, f) == len
               ? 0
               : -1;
}

bt_xa_writer_t *bt_xa_spill_begin(const char *dir, const uint8_t *fde, size_t fdelen, char *err, size_t errlen) {
    bt_xa_writer_t *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(w->dir, sizeof w->dir, "%s", dir);
    snprintf(w->path, sizeof w->path, "%s/xa-open.spill", dir);
    w->f = fopen(w->path, "wbe");
    if (!w->f || fwrite(MAGIC, 1, 6, w->f) != 6 || write_record(w->f, "", 0, fde, fdelen) != 0) {
        snprintf(err, errlen, "cannot write the XA record %s: %s (the state directory must be writable)", w->path,
                 strerror(errno));
        bt_xa_spill_abort(w);
        return NULL;
    }
    return w;
}

int bt_xa_spill_add(bt_xa_writer_t *w, const char *file, uint64_t pos, const uint8_t *ev, size_t len, char *err,
                    size_t errlen) {
    if (write_record(w->f, file, pos, ev, len) != 0) {
        snprintf(err, errlen, "cannot write the XA record %s: %s", w->path, strerror(errno));
        return -1;
    }
    return 0;
}

int bt_xa_spill_seal(bt_xa_writer_t *w, const char *xid, size_t xidlen, const char *file, uint64_t pos, char *err,
                     size_t errlen) {
    char final[4200], prefix[64];
    name_prefix(xid, xidlen, prefix, sizeof prefix);
    snprintf(final, sizeof final, "%s/%s%s-%" PRIu64 ".spill", w->dir, prefix, file, pos);
    int ok = fflush(w->f) == 0 && fsync(fileno(w->f)) == 0;
    int saved = errno;
    ok = fclose(w->f) == 0 && ok;
    w->f = NULL;
    if (ok && rename(w->path, final) != 0) ok = 0, saved = errno;
    if (ok) { /* the rename is durable before the checkpoint may pass the prepare */
        int dfd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ok = dfd >= 0 && fsync(dfd) == 0;
        saved = errno;
        if (dfd >= 0) close(dfd);
    }
    if (!ok) {
        snprintf(err, errlen, "cannot write the XA record %s: %s", final, strerror(saved));
        unlink(w->path);
    }
    free(w);
    return ok ? 0 : -1;
}

void bt_xa_spill_abort(bt_xa_writer_t *w) {
    if (!w) return;
    if (w->f) fclose(w->f);
    unlink(w->path);
    free(w);
}

/* One record into r->buf: 1, 0 at a clean end, -1 damaged. */
static int read_record(bt_xa_reader_t *r, size_t *len, uint64_t *pos) {
    uint32_t l;
    uint8_t flen;
    if (fread(&l, sizeof l, 1, r->f) != 1) return feof(r->f) ? 0 : -1;
    if (fread(pos, sizeof *pos, 1, r->f) != 1 || fread(&flen, 1, 1, r->f) != 1 || l > MAX_RECORD) return -1;
    if (fread(r->file, 1, flen, r->f) != flen) return -1;
    r->file[flen] = 0;
    if (l > r->cap) {
        uint8_t *nb = realloc(r->buf, l);
        if (!nb) return -1;
        r->buf = nb;
        r->cap = l;
    }
    if (fread(r->buf, 1, l, r->f) != l) return -1;
    *len = l;
    return 1;
}

int bt_xa_replay_open(const char *path, bt_xa_reader_t **out, const uint8_t **fde, size_t *fdelen, char *err,
                      size_t errlen) {
    bt_xa_reader_t *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(r->path, sizeof r->path, "%s", path);
    r->f = fopen(r->path, "rbe");
    if (!r->f) {
        int e = errno;
        if (e != ENOENT) snprintf(err, errlen, "cannot read the XA record %s: %s", r->path, strerror(e));
        free(r);
        return e == ENOENT ? 0 : -1;
    }
    char magic[6];
    uint64_t pos;
    size_t len;
    if (fread(magic, 1, 6, r->f) != 6 || memcmp(magic, MAGIC, 6) || read_record(r, &len, &pos) != 1 ||
        !(r->fde = malloc(len))) {
        snprintf(err, errlen, "the XA record %s is damaged: remove it (its transaction's rows are then not sent)",
                 r->path);
        bt_xa_replay_close(r);
        return -1;
    }
    memcpy(r->fde, r->buf, len);
    r->fdelen = len;
    *fde = r->fde;
    *fdelen = r->fdelen;
    *out = r;
    return 1;
}

int bt_xa_replay_next(bt_xa_reader_t *r, const uint8_t **ev, size_t *len, const char **file, uint64_t *pos,
                      char *err, size_t errlen) {
    int rc = read_record(r, len, pos);
    if (rc < 0) {
        snprintf(err, errlen, "the XA record %s is damaged (truncated): remove it and restart", r->path);
        return -1;
    }
    if (rc == 0) return 0;
    *ev = r->buf;
    *file = r->file;
    return 1;
}

void bt_xa_replay_close(bt_xa_reader_t *r) {
    if (!r) return;
    if (r->f) fclose(r->f);
    free(r->buf);
    free(r->fde);
    free(r);
}
