/* checkpoint.c: delivery tracker and atomic checkpoint file (see checkpoint.h). */
#include "agent/stream/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lib/lib.h"

void bt_tracker_init(bt_tracker_t *t, size_t max_slots) {
    memset(t, 0, sizeof *t);
    t->head = t->next = 1;
    t->max_slots = max_slots;
}

void bt_tracker_free(bt_tracker_t *t) {
    for (uint64_t s = t->head; s < t->next; s++) free(t->slots[s % t->cap].text);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

static bt_txn_slot_t *slot(bt_tracker_t *t, uint64_t seq) {
    if (seq < t->head || seq >= t->next) return NULL;
    return &t->slots[seq % t->cap];
}

/* Double the ring, keeping each live slot at seq % cap. */
static int grow(bt_tracker_t *t) {
    size_t ncap = t->cap ? t->cap * 2 : 64;
    bt_txn_slot_t *ns = calloc(ncap, sizeof *ns);
    if (!ns) return -1;
    for (uint64_t s = t->head; s < t->next; s++) ns[s % ncap] = t->slots[s % t->cap];
    free(t->slots);
    t->slots = ns;
    t->cap = ncap;
    return 0;
}

size_t bt_tracker_pending(const bt_tracker_t *t) { return (size_t)(t->next - t->head); }

bool bt_tracker_full(const bt_tracker_t *t) { return t->max_slots && bt_tracker_pending(t) >= t->max_slots; }

uint64_t bt_tracker_open(bt_tracker_t *t) {
    if (bt_tracker_full(t)) return 0;
    if (t->next - t->head >= t->cap && grow(t) != 0) return 0;
    uint64_t seq = t->next++;
    bt_txn_slot_t *s = &t->slots[seq % t->cap];
    memset(s, 0, sizeof *s);
    return seq;
}

void bt_tracker_add_msg(bt_tracker_t *t, uint64_t seq) {
    bt_txn_slot_t *s = slot(t, seq);
    if (!s) return;
    s->outstanding++;
    t->outstanding++;
}

/* Store a position in a slot: the numbers in place, the texts in one allocation. */
static int slot_set_end(bt_txn_slot_t *s, const bt_position_t *end) {
    size_t lf = strlen(end->file), lg = strlen(end->gtid);
    size_t lt = end->snapshot_active ? strlen(end->snapshot_table) : 0;
    size_t lk = end->snapshot_active ? strlen(end->snapshot_last_key) : 0;
    size_t need = lf + lg + lt + lk + 4;
    if (need > s->text_cap) { /* (a run of transactions passed to one waiting slot allocates once) */
        char *nt = malloc(need);
        if (!nt) return -1;
        free(s->text);
        s->text = nt;
        s->text_cap = need;
    }
    char *p = s->text;
    memcpy(p, end->file, lf + 1), p += lf + 1;
    memcpy(p, end->gtid, lg + 1), p += lg + 1;
    memcpy(p, end->snapshot_active ? end->snapshot_table : "", lt + 1), p += lt + 1;
    memcpy(p, end->snapshot_active ? end->snapshot_last_key : "", lk + 1);
    s->ended = true;
    s->snapshot_active = end->snapshot_active;
    s->server_id = end->server_id;
    s->file_created = end->file_created;
    s->pos = end->pos;
    s->commit_ts_ms = end->commit_ts_ms;
    return 0;
}

static void slot_get_end(const bt_txn_slot_t *s, bt_position_t *out) {
    memset(out, 0, sizeof *out);
    const char *p = s->text;
    snprintf(out->file, sizeof out->file, "%s", p), p += strlen(p) + 1;
    snprintf(out->gtid, sizeof out->gtid, "%s", p), p += strlen(p) + 1;
    out->snapshot_active = s->snapshot_active;
    snprintf(out->snapshot_table, sizeof out->snapshot_table, "%s", p), p += strlen(p) + 1;
    snprintf(out->snapshot_last_key, sizeof out->snapshot_last_key, "%s", p);
    out->server_id = s->server_id;
    out->file_created = s->file_created;
    out->pos = s->pos;
    out->commit_ts_ms = s->commit_ts_ms;
}

int bt_tracker_end(bt_tracker_t *t, uint64_t seq, const bt_position_t *end) {
    bt_txn_slot_t *s = slot(t, seq);
    if (!s) return 0;
    return slot_set_end(s, end);
}

int bt_tracker_pass(bt_tracker_t *t, const bt_position_t *pos) {
    if (t->head == t->next) { /* nothing in flight: safe at once */
        t->safe = *pos;
        t->has_safe = true;
        t->safe_changes++;
        return 0;
    }
    /* Safe exactly when the newest transaction with messages is: move its end forward. */
    bt_txn_slot_t *s = &t->slots[(t->next - 1) % t->cap];
    if (!s->ended) return 0; /* (no position passes an open transaction) */
    return slot_set_end(s, pos);
}

void bt_tracker_ack(bt_tracker_t *t, uint64_t seq, bool ok) {
    bt_txn_slot_t *s = slot(t, seq);
    if (!s || !s->outstanding) return;
    s->outstanding--;
    t->outstanding--;
    if (!ok) s->failed = true;
}

bool bt_tracker_advance(bt_tracker_t *t) {
    bool moved = false;
    bt_txn_slot_t *last = NULL;
    while (t->head < t->next) {
        bt_txn_slot_t *s = &t->slots[t->head % t->cap];
        if (!s->ended || s->outstanding || s->failed) break;
        if (last) free(last->text), last->text = NULL, last->text_cap = 0;
        last = s;
        t->head++;
        moved = true;
    }
    if (moved) {
        slot_get_end(last, &t->safe); /* only the newest safe end is copied out */
        free(last->text);
        last->text = NULL;
        last->text_cap = 0;
        t->has_safe = true;
        t->safe_changes++;
    }
    return moved;
}

bool bt_tracker_idle(const bt_tracker_t *t) {
    if (t->outstanding) return false;
    for (uint64_t s = t->head; s < t->next; s++)
        if (t->slots[s % t->cap].ended) return false;
    return true;
}

/* ---------------------------------------------------------------- the file */

static int fsync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int bt_checkpoint_write(const char *state_dir, const bt_position_t *p, char *err, size_t errlen) {
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/checkpoint.json", state_dir);
    snprintf(tmp, sizeof tmp, "%s/.checkpoint.json.tmp", state_dir);

    bt_buf_t b;
    bt_buf_init(&b, 1 << 20);
    bt_jw_t w;
    bt_jw_init(&w, &b);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    bt_jw_obj_begin(&w);
    bt_jw_key(&w, "version"), bt_jw_int(&w, 1);
    bt_jw_key(&w, "file"), bt_jw_str(&w, p->file);
    bt_jw_key(&w, "pos"), bt_jw_uint(&w, p->pos);
    bt_jw_key(&w, "gtid"), bt_jw_str(&w, p->gtid);
    bt_jw_key(&w, "server_id"), bt_jw_uint(&w, p->server_id);
    bt_jw_key(&w, "file_created"), bt_jw_uint(&w, p->file_created);
    bt_jw_key(&w, "commit_ts_ms"), bt_jw_int(&w, p->commit_ts_ms);
    if (p->snapshot_active) {
        bt_jw_key(&w, "snapshot_table"), bt_jw_str(&w, p->snapshot_table);
        bt_jw_key(&w, "snapshot_last_key"), bt_jw_str(&w, p->snapshot_last_key);
    }
    bt_jw_key(&w, "written_ms"), bt_jw_int(&w, (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000);
    bt_jw_obj_end(&w);
    bt_buf_putc(&b, '\n');

    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write checkpoint %s: %s", tmp, strerror(errno));
        bt_buf_free(&b);
        return -1;
    }
    ssize_t wr = write(fd, b.p, b.len);
    int ok = wr == (ssize_t)b.len && fsync(fd) == 0;
    int saved = errno;
    close(fd);
    bt_buf_free(&b);
    if (!ok || rename(tmp, path) != 0 || fsync_dir(state_dir) != 0) {
        snprintf(err, errlen, "cannot write checkpoint %s: %s", path, strerror(ok ? errno : saved));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Minimal reader for the file written above: finds "key": and reads a string or a number. */
static const char *find_key(const char *text, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(text, pat);
    return p ? p + strlen(pat) : NULL;
}

static int read_str(const char *text, const char *key, char *out, size_t outlen) {
    const char *p = find_key(text, key);
    if (!p || *p != '"') return -1;
    p++;
    size_t n = 0;
    while (*p && *p != '"') {
        if (*p == '\\' && p[1]) p++;
        if (n + 1 < outlen) out[n++] = *p;
        p++;
    }
    if (*p != '"') return -1;
    out[n] = 0;
    return 0;
}

static int read_num(const char *text, const char *key, int64_t *out) {
    const char *p = find_key(text, key);
    if (!p) return -1;
    char *end;
    *out = strtoll(p, &end, 10);
    return end == p ? -1 : 0;
}

int bt_checkpoint_read(const char *state_dir, bt_position_t *p, char *err, size_t errlen) {
    char path[4096];
    snprintf(path, sizeof path, "%s/checkpoint.json", state_dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) return 0;
        snprintf(err, errlen, "cannot read checkpoint %s: %s", path, strerror(errno));
        return -1;
    }
    char text[8192];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    memset(p, 0, sizeof *p);
    int64_t pos = 0, sid = 0, created = 0, ts = 0, version = 0;
    if (read_num(text, "version", &version) || version != 1 || read_str(text, "file", p->file, sizeof p->file) ||
        read_num(text, "pos", &pos) || read_str(text, "gtid", p->gtid, sizeof p->gtid) ||
        read_num(text, "server_id", &sid) || read_num(text, "file_created", &created)) {
        snprintf(err, errlen, "checkpoint %s is damaged or from an unknown version: move it away and restart "
                              "with --start (or --reset-checkpoint)", path);
        return -1;
    }
    read_num(text, "commit_ts_ms", &ts);
    if (find_key(text, "snapshot_table")) {
        p->snapshot_active = true;
        read_str(text, "snapshot_table", p->snapshot_table, sizeof p->snapshot_table);
        read_str(text, "snapshot_last_key", p->snapshot_last_key, sizeof p->snapshot_last_key);
    }
    p->pos = (uint64_t)pos;
    p->server_id = (uint32_t)sid;
    p->file_created = (uint32_t)created;
    p->commit_ts_ms = ts;
    return 1;
}
