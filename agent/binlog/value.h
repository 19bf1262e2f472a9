/* value.h: column values of row images: decoding one cell, MySQL partial JSON updates, and the
 * TABLE_MAP metadata sizes the row decoder needs. Rendering (bt_value_json, bt_value_text,
 * bt_column_type_name) is declared in binlog.h.
 *
 * The events decoder walks a row image and calls bt_value_decode() for every non-NULL cell of
 * the columns present; everything here is pure (bytes in, values out) and never reads past the
 * bytes it is given.
 *
 * col->meta, as the events decoder must fill it from TABLE_MAP (MySQL's table_def convention,
 * the same one mysqlbinlog prints):
 *   1-byte types (FLOAT, DOUBLE, BLOB*, JSON, GEOMETRY, VECTOR, TIMESTAMP2, DATETIME2, TIME2):
 *                 the byte itself (FLOAT 4, DOUBLE 8, blob length bytes 1..4, fsp 0..6);
 *   VARCHAR, VAR_STRING: the maximum length in bytes (2 bytes little-endian);
 *   NEWDECIMAL:   precision << 8 | scale      (bytes [precision, scale]);
 *   BIT:          bytes << 8 | bits           (bytes [bits, bytes]: BIT(M) = bytes*8 + bits);
 *   STRING, ENUM, SET: byte0 << 8 | byte1    (bytes [real_type, length]); the length of a
 *                 CHAR over 255 bytes borrows bits 4-5 of byte0, as MySQL does (bug #37426);
 *                 for ENUM/SET byte1 is the pack length (ENUM 1-2, SET 1-8 bytes);
 *   MariaDB COMPRESSED columns, types 140 (BLOB) and 141 (VARCHAR): as BLOB and VARCHAR (the
 *                 VARCHAR length includes the one-byte compression header); zlib is undone here;
 *   TIMESTAMP(7), DATETIME(12), TIME(11): TABLE_MAP carries nothing (meta 0: the classic
 *                 formats). MariaDB's own hi-res formats (columns with fractional seconds written
 *                 with mysql56_temporal_format=OFF, or created before MariaDB 10.1) are NOT
 *                 described by the binlog at all: their row size depends on the column's
 *                 decimals, which only the schema knows. A caller that knows them (schema cache)
 *                 sets meta = decimals (1..6) and the hi-res format is decoded; with meta 0 the
 *                 classic format is assumed.
 * col->collation decides text vs bytes and the character set (63 = binary). Unknown (0, no
 * binlog_row_metadata): CHAR/VARCHAR are text, taken as UTF-8 when they are valid UTF-8 and read
 * as latin1 otherwise (no byte is lost); BLOB/TEXT are bytes (BT_VAL_BINARY), since a BLOB read
 * as text could lose data. */
#ifndef BT_VALUE_H
#define BT_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "agent/binlog/binlog.h"
#include "lib/lib.h"

/* Decode one non-NULL cell of column col at p (avail bytes remain in the row image).
 * col->type is already resolved: a STRING column whose real type is ENUM/SET arrives as
 * BT_TYPE_ENUM/SET (a STRING with an ENUM/SET real type in meta is resolved here too).
 * On success *out is filled (kind per binlog.h's bt_value_t, present = true, fsp for temporal
 * types) and *used is the number of bytes consumed.
 *   - Integers, floats, dates and times, YEAR, BIT, ENUM, SET never touch the arena.
 *   - Text in utf8mb3/utf8mb4 (and ASCII-only text in any ASCII-based charset) points into the
 *     row bytes; other text is converted to UTF-8 in the arena exactly as the server converts it
 *     for SELECT (latin1 is cp1252, unmapped bytes become '?'); invalid UTF-8 becomes U+FFFD.
 *   - BINARY(N) comes back padded with 0x00 to N bytes (the binlog strips the trailing zeros,
 *     SELECT shows them); CHAR(N) stays without trailing spaces, as SELECT shows it.
 *   - DECIMAL text and JSON text (MySQL binary JSON converted) live in the arena.
 *   - ENUM: u = 1-based index, s = its label ("" for index 0) when col->labels is set, NULL
 *     otherwise; SET: u = bit mask (bits past col->nlabels are an error when labels are set).
 * Pointers into the arena stay valid until the arena is reset.
 * Returns 0, or -1 with err naming the column type and what is wrong (no coordinates: the
 * caller prefixes them). Never reads past p + avail. */
int bt_value_decode(const bt_column_t *col, const uint8_t *p, size_t avail, bt_value_t *out, size_t *used,
                    bt_arena_t *arena, char *err, size_t errlen);

/* Frees what value decoding keeps per thread for speed (iconv converters, a scratch buffer);
 * both come back on next use. bt_decoder_free calls it; a thread decoding values without a
 * decoder calls it before it ends. Returns how many converters were open (for tests). */
int bt_value_release_thread(void);

/* MySQL PARTIAL_UPDATE_ROWS_EVENT (binlog_row_value_options=PARTIAL_JSON): p is one JSON
 * column's diff vector in the after image, as Json_diff_vector::write_binary() stores it:
 *     uint32 LE  length of what follows (the diffs)
 *     per diff:  uint8 operation (0 REPLACE, 1 INSERT, 2 REMOVE)
 *                lenenc path length, path text ("$.a[3]", "$.\"k y\"")
 *                REPLACE/INSERT only: lenenc value length, value in MySQL binary JSON
 * Applies the diffs in order to before_json (the before image's value of the same column, kind
 * BT_VAL_JSON, as bt_value_decode made it) with MySQL's semantics: REPLACE needs the path to
 * exist, INSERT adds a member (not an existing one) or inserts into an array (past the end =
 * append), REMOVE deletes; object members keep MySQL's key order (by length, then bytes).
 * *out becomes the full document (kind BT_VAL_JSON, compact text in the arena); *used the
 * bytes consumed (4 + length). Returns 0, or -1 with err: a missing or non-JSON before value
 * (binlog_row_image=MINIMAL leaves the JSON column out of the before image: the document cannot
 * be rebuilt; *used is still set then, so a caller may choose to skip the column), a malformed
 * vector, or a diff MySQL would reject. Never reads past p + avail. */
int bt_json_apply_diff(const bt_value_t *before_json, const uint8_t *p, size_t avail, bt_value_t *out,
                       size_t *used, bt_arena_t *arena, char *err, size_t errlen);

/* Bytes of TABLE_MAP metadata for a column type: 0, 1 or 2 (see col->meta above), as MySQL's
 * and MariaDB's table_def read them (VAR_STRING and old DECIMAL: 0). Types that never appear in
 * TABLE_MAP get 0. */
size_t bt_column_meta_len(uint8_t type);

#endif
