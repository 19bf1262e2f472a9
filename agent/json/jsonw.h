/* jsonw.h: the one JSON writer. Appends into a caller's bt_buf_t, no allocation per field.
 *
 * Commas are placed by the writer from a per-depth "first element" bit, so callers only say
 * what comes next. Strings are escaped per RFC 8259; invalid UTF-8 bytes become U+FFFD so the
 * output is always valid JSON. Numbers: integers exact, doubles in the shortest form that
 * reads back to the same double, NaN/Inf (which JSON cannot express) as null. */
#ifndef BT_JSONW_H
#define BT_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/util/buf.h"

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
