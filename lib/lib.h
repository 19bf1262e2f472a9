/* lib.h: what every part of bintail may use and that depends on nothing else of ours: a capped
 * byte buffer, an arena, the error-message helper, logging, UTF-8 validation, byte-order
 * readers, the two clocks, the out-of-memory policy and the JSON writer. The leaf libraries
 * (codecs, partitioner, throttle, alerts) and the daemon include this header and no other of
 * lib/; nothing here includes anything outside lib/. */
#ifndef BT_LIB_H
#define BT_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* buf.h: a growable byte buffer with a hard cap, reused across messages.
 *
 * Every output path (JSON writer, formats, decoder scratch space) appends into one of these
 * and resets it per message, so the steady state allocates nothing. The cap turns a runaway
 * input (a corrupt length, a 4 GB row) into an error instead of unbounded memory growth. */

typedef struct bt_buf {
    char *p;     /* data; always NUL-terminated after each append (p[len] == 0) */
    size_t len;  /* bytes used */
    size_t cap;  /* bytes allocated (excluding the NUL) */
    size_t max;  /* hard cap on len; 0 = BT_BUF_DEFAULT_MAX */
    bool failed; /* set when an append hit the cap or malloc failed; sticky until reset */
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

/* arena.h: a chunked bump allocator whose pointers stay valid until reset.
 *
 * Decoded values (converted text, decimal digits, JSON rendered from MySQL's binary form)
 * live for one row; the decoder resets the arena per row, so a row of any width costs one
 * reset instead of many frees. Chunks are kept across resets; `max` caps the total. */

typedef struct bt_arena_chunk {
    struct bt_arena_chunk *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
} bt_arena_chunk_t;

typedef struct bt_arena {
    bt_arena_chunk_t *head;  /* chunk being filled */
    bt_arena_chunk_t *spare; /* chunks kept from before the last reset */
    size_t total;            /* bytes handed out since reset */
    size_t max;              /* cap on total; 0 = 1 GiB */
} bt_arena_t;

void bt_arena_init(bt_arena_t *a, size_t max);
/* n bytes, 8-aligned, or NULL when the cap is reached or memory is short. */
void *bt_arena_alloc(bt_arena_t *a, size_t n);
/* Copy of n bytes plus a NUL terminator. */
char *bt_arena_dup(bt_arena_t *a, const void *p, size_t n);
void bt_arena_reset(bt_arena_t *a);
void bt_arena_free(bt_arena_t *a);

/* err.h: the one helper that writes an error message for the `char *err, size_t errlen`
 * convention of synchronous calls. */

/* Format the message into err (when err is not NULL) and return -1, so a failing path is
 * `return bt_errf(err, errlen, "what went wrong: %s", why);`. */
int bt_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* log.h: leveled logging to stderr, one line per message with a UTC timestamp.
 * Thread-safe (one fprintf per line). Control characters in a message are escaped (\n, \r, \t,
 * else \xNN; bytes that are not UTF-8 too), so a message is always exactly one line. */

enum { BT_LOG_ERROR = 0, BT_LOG_WARN, BT_LOG_INFO, BT_LOG_DEBUG };

void bt_log_set_level(int level);
int bt_log_level_from_name(const char *name);
int bt_log_enabled(int level);
void bt_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The one line "bintail: MSG" a command ends with on failure, escaped like every log line. */
void bt_log_fatal_line(const char *msg);
/* Send logs (all of stderr) to path, appending; 0 or -1 with errno. */
int bt_log_open(const char *path);
/* From a SIGHUP handler: ask for the log file to be reopened (after logrotate moved it). */
void bt_log_request_reopen(void);
/* Reopen if asked; called regularly from the side thread. */
void bt_log_reopen_if_requested(void);

#define bt_error(...) bt_log(BT_LOG_ERROR, __VA_ARGS__)
#define bt_warn(...)  bt_log(BT_LOG_WARN, __VA_ARGS__)
#define bt_info(...)  bt_log(BT_LOG_INFO, __VA_ARGS__)
#define bt_debug(...)                                                                                                  \
    do {                                                                                                               \
        if (bt_log_enabled(BT_LOG_DEBUG)) bt_log(BT_LOG_DEBUG, __VA_ARGS__);                                           \
    } while (0)

/* utf8.h: UTF-8 validation shared by the JSON writer and the charset conversion. */

/* Length of the valid UTF-8 sequence at s (1-4; n > 0 bytes available), or 0 when it is not
 * valid UTF-8: overlong forms, surrogates and code points above U+10FFFF are rejected. */
static inline size_t bt_utf8_seq_len(const uint8_t *s, size_t n) {
    uint8_t c = s[0];
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && s[1] < 0xA0) return 0;
        if (c == 0xED && s[1] >= 0xA0) return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
        if (c == 0xF0 && s[1] < 0x90) return 0;
        if (c == 0xF4 && s[1] >= 0x90) return 0;
        return 4;
    }
    return 0;
}

/* bytes: little- and big-endian readers and writers for wire and file formats (binlog events,
 * snappy framing). Callers check bounds first; these only assemble bytes. */
static inline uint16_t bt_le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t bt_le24(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16);
}
static inline uint32_t bt_le32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t bt_le48(const uint8_t *p) { return (uint64_t)bt_le32(p) | ((uint64_t)bt_le16(p + 4) << 32); }
static inline uint64_t bt_le56(const uint8_t *p) { return (uint64_t)bt_le32(p) | ((uint64_t)bt_le24(p + 4) << 32); }
static inline uint64_t bt_le64(const uint8_t *p) { return (uint64_t)bt_le32(p) | ((uint64_t)bt_le32(p + 4) << 32); }
/* n (<= 8) bytes, most significant first. */
static inline uint64_t bt_be(const uint8_t *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}
static inline void bt_put_le16(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void bt_put_le24(uint8_t *p, uint32_t v) {
    bt_put_le16(p, v);
    p[2] = (uint8_t)(v >> 16);
}
static inline void bt_put_le32(uint8_t *p, uint32_t v) {
    bt_put_le24(p, v);
    p[3] = (uint8_t)(v >> 24);
}

/* clock: two clocks, one job each. Deadlines, timeouts and intervals use the monotonic clock,
 * which a wall-clock step (NTP, an operator's `date`) cannot move; timestamps that leave the
 * process (messages, alerts, lag against the server's event time) use the wall clock. */
/* CLOCK_MONOTONIC in milliseconds and in nanoseconds: only differences mean anything. */
int64_t bt_mono_ms(void);
int64_t bt_mono_ns(void);
/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t bt_wall_ms(void);
/* The CLOCK_MONOTONIC time ms from now, for pthread_cond_timedwait on a condition variable made
 * with pthread_condattr_setclock(CLOCK_MONOTONIC). */
void bt_mono_deadline(struct timespec *ts, int64_t ms);

/* xalloc: the out-of-memory policy. Memory the daemon cannot run without (configuration,
 * tables, connections, state) comes from these: they never return NULL, and when the system has
 * no memory left they print one line naming the size asked for and exit with status 1 (a
 * restart can cure it), so no caller can carry on with half a structure. Paths that must
 * survive a runaway input (a row of any width, a corrupt length) keep their caps instead:
 * bt_buf_t and bt_arena_t report failure to their callers. */
void *bt_xmalloc(size_t n);
void *bt_xcalloc(size_t count, size_t size);
void *bt_xrealloc(void *p, size_t n);
char *bt_xstrdup(const char *s);
char *bt_xstrndup(const char *s, size_t n);

/* jsonw.h: the one JSON writer. Appends into a caller's bt_buf_t, no allocation per field.
 *
 * Commas are placed by the writer from a per-depth "first element" bit, so callers only say
 * what comes next. Strings are escaped per RFC 8259; invalid UTF-8 bytes become U+FFFD so the
 * output is always valid JSON. Numbers: integers exact, doubles in the shortest form that
 * reads back to the same double, NaN/Inf (which JSON cannot express) as null. */

#define BT_JW_MAX_DEPTH 64

typedef struct bt_jw {
    bt_buf_t *b;
    int depth;
    bool need_comma[BT_JW_MAX_DEPTH + 1];
    bool after_key;
} bt_jw_t;

void bt_jw_init(bt_jw_t *w, bt_buf_t *b);
void bt_jw_obj_begin(bt_jw_t *w);
void bt_jw_obj_end(bt_jw_t *w);
void bt_jw_arr_begin(bt_jw_t *w);
void bt_jw_arr_end(bt_jw_t *w);
/* Object key; `key` must need no escaping (a literal) for bt_jw_key, any bytes for bt_jw_keyn. */
void bt_jw_key_plain(bt_jw_t *w, const char *key, size_t n);
/* Inline so that the length of a literal key is known at compile time. */
static inline void bt_jw_key(bt_jw_t *w, const char *key) { bt_jw_key_plain(w, key, strlen(key)); }
void bt_jw_keyn(bt_jw_t *w, const char *key, size_t n);
void bt_jw_strn(bt_jw_t *w, const char *s, size_t n);
static inline void bt_jw_str(bt_jw_t *w, const char *s) { bt_jw_strn(w, s, strlen(s)); }
void bt_jw_int(bt_jw_t *w, int64_t v);
void bt_jw_uint(bt_jw_t *w, uint64_t v);
void bt_jw_double(bt_jw_t *w, double v);
void bt_jw_float(bt_jw_t *w, float v);
void bt_jw_bool(bt_jw_t *w, bool v);
void bt_jw_null(bt_jw_t *w);
/* Already-valid JSON text (a pre-rendered value), inserted as one value. */
void bt_jw_raw(bt_jw_t *w, const char *json, size_t n);
/* Bytes as a base64 JSON string (RFC 4648 standard alphabet, padded). */
void bt_jw_base64(bt_jw_t *w, const void *data, size_t n);
/* Number written as a JSON string, e.g. "42" (for formats that stringify everything). */
void bt_jw_uint_str(bt_jw_t *w, uint64_t v);

/* Low-level helpers shared with other writers. */
/* Append the escaped body of a JSON string (no quotes). */
void bt_json_escape(bt_buf_t *b, const char *s, size_t n);
/* Append base64 text of data (no quotes). */
void bt_base64_append(bt_buf_t *b, const void *data, size_t n);
/* Decimal text of v, not NUL-terminated; returns its length. out >= 20 bytes. */
int bt_fmt_u64(char *out, uint64_t v);
/* Shortest text that parses back to v (printf %g style); returns its length. buf >= 32 bytes. */
int bt_fmt_double(char *buf, double v);
int bt_fmt_float(char *buf, float v);

#endif
