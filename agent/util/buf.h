/* buf.h: a growable byte buffer with a hard cap, reused across messages.
 *
 * Every output path (JSON writer, formats, decoder scratch space) appends into one of these
 * and resets it per message, so the steady state allocates nothing. The cap turns a runaway
 * input (a corrupt length, a 4 GB row) into an error instead of unbounded memory growth. */
#ifndef BT_BUF_H
#define BT_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct bt_buf {
    char *p;        /* data; always NUL-terminated after each append (p[len] == 0) */
    size_t len;     /* bytes used */
    size_t cap;     /* bytes allocated (excluding the NUL) */
    size_t max;     /* hard cap on len; 0 = BT_BUF_DEFAULT_MAX */
    bool failed;    /* set when an append hit the cap or malloc failed; sticky until reset */
} bt_buf_t;

#define BT_BUF_DEFAULT_MAX ((size_t)1 << 30)

void bt_buf_init(bt_buf_t *b, size_t max);
void bt_buf_free(bt_buf_t *b);
static inline void bt_buf_reset(bt_buf_t *b) {
    b->len = 0;
    b->failed = false;
    if (b->p) b->p[0] = 0;
}
/* Make room for n more bytes; returns a pointer to the free space or NULL (and sets failed). */
char *bt_buf_reserve(bt_buf_t *b, size_t n);
bool bt_buf_append_slow(bt_buf_t *b, const void *data, size_t n);
/* Inline fast path: appends run for every field of every message. */
static inline bool bt_buf_append(bt_buf_t *b, const void *data, size_t n) {
    if (b->len + n < b->cap) {
        memcpy(b->p + b->len, data, n);
        b->len += n;
        b->p[b->len] = 0;
        return true;
    }
    return bt_buf_append_slow(b, data, n);
}
static inline bool bt_buf_putc(bt_buf_t *b, char c) {
    if (b->len + 1 < b->cap) {
        b->p[b->len++] = c;
        b->p[b->len] = 0;
        return true;
    }
    return bt_buf_append(b, &c, 1);
}
static inline bool bt_buf_puts(bt_buf_t *b, const char *s) { return bt_buf_append(b, s, strlen(s)); }
bool bt_buf_printf(bt_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* bt_buf_reserve with the common case (room already there) inline. */
static inline char *bt_buf_room(bt_buf_t *b, size_t n) {
    if (b->len + n < b->cap) return b->p + b->len;
    return bt_buf_reserve(b, n);
}
/* Commit n bytes written into the space returned by bt_buf_reserve or bt_buf_room. */
static inline void bt_buf_commit(bt_buf_t *b, size_t n) {
    b->len += n;
    b->p[b->len] = 0;
}

#endif
