/* buf.c: growable, capped byte buffer (see buf.h). */
#include "lib/lib.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void bt_buf_init(bt_buf_t *b, size_t max) {
    memset(b, 0, sizeof *b);
    b->max = max ? max : BT_BUF_DEFAULT_MAX;
}

void bt_buf_free(bt_buf_t *b) {
    free(b->p);
    size_t max = b->max;
    memset(b, 0, sizeof *b);
    b->max = max;
}

char *bt_buf_reserve(bt_buf_t *b, size_t n) {
    if (b->max == 0) b->max = BT_BUF_DEFAULT_MAX;
    if (n > b->max || b->len > b->max - n) {
        b->failed = true;
        return NULL;
    }
    if (b->len + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 256;
        while (ncap < b->len + n + 1) ncap *= 2;
        /* Never more than the cap: the inline fast path in buf.h relies on cap <= max + 1. */
        if (ncap > b->max + 1) ncap = b->max + 1;
        char *np = realloc(b->p, ncap + 1);
        if (!np) {
            b->failed = true;
            return NULL;
        }
        b->p = np;
        b->cap = ncap;
    }
    return b->p + b->len;
}

bool bt_buf_append_slow(bt_buf_t *b, const void *data, size_t n) {
    char *dst = bt_buf_reserve(b, n);
    if (!dst) return false;
    if (n) memcpy(dst, data, n);
    bt_buf_commit(b, n);
    return true;
}

bool bt_buf_printf(bt_buf_t *b, const char *fmt, ...) {
    va_list ap;
    char small[256];
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return false;
    if ((size_t)n < sizeof small) return bt_buf_append(b, small, (size_t)n);
    char *dst = bt_buf_reserve(b, (size_t)n + 1);
    if (!dst) return false;
    va_start(ap, fmt);
    vsnprintf(dst, (size_t)n + 1, fmt, ap);
    va_end(ap);
    bt_buf_commit(b, (size_t)n);
    return true;
}
