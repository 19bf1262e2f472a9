/* value_internal.h: what the value files share (private to agent/binlog/value*, decimal.c,
 * temporal.c, json_binary.c, json_diff.c, charset.c). Not for use outside the decoder. */
#ifndef BT_VALUE_INTERNAL_H
#define BT_VALUE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/binlog/binlog.h"
#include "lib/lib.h"

/* MariaDB's compressed columns (COMPRESSED attribute): TABLE_MAP type codes not in binlog.h. */
#define BT_TYPE_MARIA_BLOB_COMPRESSED 140
#define BT_TYPE_MARIA_VARCHAR_COMPRESSED 141

/* decimal.c: MySQL's packed binary DECIMAL. -------------------------------------------------- */
#define BT_DECIMAL_MAX_TEXT 72 /* 65 digits, sign, point, leading zero, NUL, margin */
/* Bytes of a packed DECIMAL(precision, scale); 0 when precision/scale are impossible
 * (precision 1..65, scale 0..30 and <= precision). */
size_t bt_decimal_bin_size(unsigned precision, unsigned scale);
/* The text of the packed decimal at p (bt_decimal_bin_size bytes) into out (at least
 * BT_DECIMAL_MAX_TEXT bytes, NUL-terminated): sign, integer digits without leading zeros
 * ("0" when none), and exactly `scale` fraction digits. Returns the length, or -1 when a digit
 * group is out of range. */
int bt_decimal_to_text(const uint8_t *p, unsigned precision, unsigned scale, char *out);

/* temporal.c: dates and times. ---------------------------------------------------------------- */
/* Decodes DATE/NEWDATE, TIME, TIME2, DATETIME, DATETIME2, TIMESTAMP, TIMESTAMP2 (and MariaDB's
 * hi-res TIME/DATETIME/TIMESTAMP when col->meta holds their decimals). */
int bt_temporal_decode(const bt_column_t *col, const uint8_t *p, size_t avail, bt_value_t *out, size_t *used,
                       char *err, size_t errlen);
/* Text forms; each returns the length written (no NUL). Buffers of 40 bytes are enough. */
size_t bt_fmt_date(char *o, unsigned year, unsigned month, unsigned day);             /* YYYY-MM-DD */
size_t bt_fmt_hms(char *o, bool neg, uint32_t hour, unsigned minute, unsigned second, /* [-]HH:MM:SS[.f] */
                  uint32_t usec, unsigned fsp);
/* UTC civil time of a Unix time (seconds may be any int64 the proleptic calendar holds). */
void bt_civil_from_unix(int64_t secs, bt_time_t *t);
/* The MySQL "packed" int64 forms used inside binary JSON (TIME_to_longlong_*_packed). */
void bt_time_from_packed_datetime(int64_t packed, bt_time_t *t, bool *neg);
void bt_time_from_packed_time(int64_t packed, bt_time_t *t, bool *neg);

/* charset.c: collation ids, conversion to UTF-8. ---------------------------------------------- */
typedef struct bt_charset {
    const char *name;   /* MySQL's name: "latin1", "utf8mb4", ... */
    const char *iconv;  /* glibc iconv name, NULL when converted without iconv (or unsupported) */
    uint8_t mbmaxlen;   /* bytes per character at most */
    uint8_t kind;       /* BT_CS_* */
    uint8_t index;      /* position in the charset table (iconv handle cache slot) */
} bt_charset_t;

enum {
    BT_CS_UTF8 = 1,     /* utf8mb3, utf8mb4: validate, zero-copy */
    BT_CS_SINGLE,       /* single-byte charsets (latin1 = cp1252 as MySQL has it, ascii, swe7...): tables */
    BT_CS_BINARY,       /* binary collation 63: bytes */
    BT_CS_ICONV_ASCII,  /* converted by iconv; ASCII-only strings are taken as they are */
    BT_CS_ICONV,        /* converted by iconv always (UCS-2, UTF-16, UTF-32) */
};

/* Charset of a MySQL/MariaDB collation id; NULL for 0 and ids this table does not know. */
const bt_charset_t *bt_charset_of(uint16_t collation);
/* Converts n bytes of text in cs to UTF-8 (cs NULL, charset unknown: valid UTF-8 as it is, other
 * bytes read as latin1). Zero-copy (*out = p) when the
 * bytes are already valid UTF-8 in an ASCII-compatible charset; otherwise the result is
 * allocated in arena. Bytes the charset does not map become '?' (as the server's conversion
 * makes them), invalid UTF-8 U+FFFD. Returns 0, or -1 with err (out of arena memory, or no iconv
 * converter for the charset). Also usable for ENUM/SET labels and statement text. */
int bt_charset_to_utf8(const bt_charset_t *cs, const uint8_t *p, size_t n, bt_arena_t *arena, const char **out,
                       uint32_t *outlen, char *err, size_t errlen);

/* Closes this thread's iconv converters (they reopen on next use); returns how many were open. */
int bt_charset_close_converters(void);

/* json_binary.c: MySQL binary JSON to JSON text. ------------------------------------------------ */
#define BT_JSON_MAX_DEPTH 150 /* as MariaDB's reader of MySQL JSON; MySQL itself writes <= 100 */
/* Appends the compact JSON text of the binary document doc[0..len) to out. An empty document
 * is JSON null (MySQL's reading). Every offset is bounds-checked; output is capped (hostile
 * documents whose values share offsets could otherwise expand exponentially). 0 or -1 + err. */
int bt_json_binary_to_text(const uint8_t *doc, size_t len, bt_buf_t *out, char *err, size_t errlen);

/* value_decode.c: a per-thread scratch buffer for texts built before they move to the arena. */
bt_buf_t *bt_value_scratch(void);
/* Gives back memory of an unusually large scratch buffer (call after using it). */
void bt_value_scratch_trim(bt_buf_t *b);

#endif
