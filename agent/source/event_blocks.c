/* event_blocks.c: whole binlog events from large gzread blocks (event_blocks.h explains why). */
#include "agent/source/event_blocks.h"

#include <stdlib.h>
#include <string.h>

#include "agent/source/binlog_walk.h"

/* Reads are at least this large, so gzread fills our buffer directly (its own is smaller). */
#define BLOCK ((size_t)1 << 20)

void bt_event_blocks_init(bt_event_blocks_t *eb, gzFile gz) {
    memset(eb, 0, sizeof *eb);
    eb->gz = gz;
}

void bt_event_blocks_free(bt_event_blocks_t *eb) {
    free(eb->buf);
    memset(eb, 0, sizeof *eb);
}

void bt_event_blocks_reset(bt_event_blocks_t *eb) {
    eb->start = eb->end = 0;
    eb->eof = 0;
}

/* Makes n bytes available from start, reading more as needed; returns how many are (<= n only
 * at the end of the file), BT_EVENT_BLOCKS_READ_ERROR or BT_EVENT_BLOCKS_NO_MEMORY. */
static long fill(bt_event_blocks_t *eb, size_t n) {
    while (eb->end - eb->start < n && !eb->eof) {
        if (eb->start > 0 && eb->cap - eb->start < n + BLOCK) { /* move the unread tail to the front */
            memmove(eb->buf, eb->buf + eb->start, eb->end - eb->start);
            eb->end -= eb->start;
            eb->start = 0;
        }
        if (eb->cap - eb->end < BLOCK || eb->cap < n) {
            size_t ncap = eb->cap ? eb->cap : 4 * BLOCK;
            while (ncap < eb->end + BLOCK || ncap < n) ncap *= 2;
            uint8_t *nb = realloc(eb->buf, ncap);
            if (!nb) return BT_EVENT_BLOCKS_NO_MEMORY;
            eb->buf = nb;
            eb->cap = ncap;
        }
        /* One block per call: gzread drops what a call decompressed when that call then meets
         * damaged data, so smaller calls keep the events before the damage readable. */
        size_t want = BLOCK;
        int r = gzread(eb->gz, eb->buf + eb->end, (unsigned)want);
        if (r < 0) return BT_EVENT_BLOCKS_READ_ERROR;
        if (r == 0) eb->eof = 1;
        eb->end += (size_t)r;
    }
    size_t have = eb->end - eb->start;
    return (long)(have < n ? have : n);
}

long bt_event_blocks_peek(bt_event_blocks_t *eb, size_t n, const uint8_t **p) {
    long got = fill(eb, n);
    *p = eb->buf ? eb->buf + eb->start : NULL;
    return got;
}

long bt_event_blocks_take(bt_event_blocks_t *eb, size_t n, const uint8_t **p) {
    long got = bt_event_blocks_peek(eb, n, p);
    if (got == (long)n) eb->start += n;
    return got;
}

long bt_event_blocks_event(bt_event_blocks_t *eb, const char *file, uint64_t pos, const uint8_t **ev, uint32_t *size,
                           char *err, size_t errlen) {
    const uint8_t *h;
    long n = bt_event_blocks_peek(eb, BT_EVENT_HEADER_LEN, &h);
    if (n <= 0) return n; /* a clean end, or a read error */
    if (n < BT_EVENT_HEADER_LEN) {
        bt_event_torn_error(err, errlen, file, pos, (uint64_t)n, 0);
        return BT_EVENT_BLOCKS_TORN;
    }
    uint32_t sz = bt_event_size(h);
    if (!bt_event_size_ok(sz)) {
        bt_event_size_error(err, errlen, file, pos, sz);
        return BT_EVENT_BLOCKS_BAD;
    }
    n = bt_event_blocks_take(eb, sz, ev);
    if (n < 0) return n;
    if ((size_t)n < sz) {
        bt_event_torn_error(err, errlen, file, pos, (uint64_t)n, sz);
        return BT_EVENT_BLOCKS_TORN;
    }
    *size = sz;
    return 1;
}
