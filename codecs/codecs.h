/* codecs.h: one interface over zstd, LZ4, snappy and zlib/gzip for bintail.
 *
 * Three users, three shapes:
 *   - the file sink streams JSON lines through a bt_compressor_t whose output goes to a callback
 *     and is always a standard *file* format (zstd frame, LZ4 frame, snappy framing, gzip), so
 *     `zstd -d`, `lz4 -d`, `python3 -m snappy -d` and `gzip -d` read the files;
 *   - the binlog reader inflates MySQL 8 TRANSACTION_PAYLOAD events (a zstd frame) chunk by chunk
 *     into a caller buffer with a bt_decompressor_t, so a huge transaction never has to be held
 *     decompressed in memory;
 *   - MariaDB compressed events are zlib streams of a size the event header states, inflated in one
 *     call with bt_codec_inflate_zlib().
 *
 * Memory is bounded everywhere: the compressor keeps at most one codec block (<= 128 KiB plus the
 * codec's own state), and the decompressor refuses zstd frames whose window exceeds
 * 2^BT_DECOMPRESSOR_WINDOW_LOG_MAX bytes, so a hostile frame cannot make it allocate gigabytes.
 *
 * Thread safety: a compressor or decompressor belongs to one thread at a time; distinct objects
 * can be used concurrently. The free functions are reentrant. */
#ifndef BT_CODECS_H
#define BT_CODECS_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    BT_CODEC_NONE,   /* identity: bytes pass through unchanged */
    BT_CODEC_ZSTD,   /* zstd frame format (RFC 8878), content checksum on */
    BT_CODEC_LZ4,    /* LZ4 frame format (not raw LZ4 blocks), content checksum on */
    BT_CODEC_SNAPPY, /* snappy framing format (framing_format.txt), not raw snappy */
    BT_CODEC_GZIP    /* gzip (RFC 1952) members */
} bt_codec_t;

/* Accepted codec names, for error and help messages. */
#define BT_CODEC_NAMES "none, zstd, lz4, snappy, gzip"

/* Looks up a codec by name ("none", "zstd", "lz4", "snappy", "gzip"; ASCII case ignored).
 * Returns 0 and sets *out, or -1 if the name is NULL or unknown (*out untouched). */
int bt_codec_from_name(const char *name, bt_codec_t *out);

/* The canonical name of a codec ("zstd", ...), or "unknown" for a value outside the enum. */
const char *bt_codec_name(bt_codec_t codec);

/* Chooses a codec from a file name's suffix: ".zst" zstd, ".lz4" LZ4, ".snappy" snappy, ".gz" gzip,
 * anything else (or NULL) BT_CODEC_NONE. Case-sensitive, like the tools that write these files. */
bt_codec_t bt_codec_from_path(const char *path);

/* The file suffix bt_codec_from_path() maps to a codec (".zst", ...), "" for BT_CODEC_NONE. */
const char *bt_codec_suffix(bt_codec_t codec);

/* CRC-32C (Castagnoli), as used by the snappy framing format. Pass crc = 0 to start; feed the
 * previous result back in to continue over several buffers. crc32c("123456789") == 0xe3069283. */
uint32_t bt_codec_crc32c(uint32_t crc, const void *data, size_t len);

/* ---- streaming compressor ------------------------------------------------------------------ */

/* Receives compressed output. Returns 0 on success; any other value fails the compressor (the
 * calling bt_compressor_* function returns -1 and every later call does too). The buffer is only
 * valid during the call. Called with len > 0 only. */
typedef int (*bt_codec_write_fn)(void *ctx, const void *buf, size_t len);

typedef struct bt_compressor bt_compressor_t;

/* Creates a compressor that writes `codec`'s streaming file format to `write_fn(ctx, ...)`.
 * `level`: 0 is the codec's default; otherwise zstd accepts ZSTD_minCLevel()..ZSTD_maxCLevel()
 * (negative = faster), LZ4 1..12 (3 and up use LZ4 HC), gzip 1..9; snappy and none ignore it.
 * Returns NULL and writes a message to err on a bad codec or level or when out of memory.
 * Nothing is written to the callback before the first write, flush or finish. */
bt_compressor_t *bt_compressor_new(bt_codec_t codec, int level, bt_codec_write_fn write_fn,
                                   void *ctx, char *err, size_t errlen);

/* Compresses len bytes (data may be NULL when len is 0). Output reaches the callback whenever a
 * codec block fills, so memory stays bounded whatever the total size. Returns 0 or -1 (see
 * bt_compressor_error()). */
int bt_compressor_write(bt_compressor_t *c, const void *data, size_t len);

/* Makes everything written so far decodable by the standard tool from the output alone: the
 * current zstd frame, LZ4 frame or gzip member is ended (the next write starts a new one; the
 * tools read concatenated frames/members as one stream), and snappy emits its pending chunk.
 * So if the process dies later, the output truncated at the length it had after the last
 * successful flush decodes cleanly (exit status 0) to exactly the bytes written before it.
 * Costs a frame header and the compression history each time (zstd/LZ4/gzip restart with an
 * empty window), so flush on a time or size basis (e.g. every second or few hundred KiB), not per
 * row. A flush with nothing written since the last one writes nothing. Returns 0 or -1. */
int bt_compressor_flush(bt_compressor_t *c);

/* Flushes and ends the stream. If no output was ever produced, writes one empty frame/member
 * (snappy: the stream identifier) so the result is still a valid file for the tool. Later writes
 * fail. Returns 0 or -1. */
int bt_compressor_finish(bt_compressor_t *c);

/* Why the last call failed ("output callback failed", a codec error, "write after finish"...),
 * or "" if nothing failed. Valid until the compressor is freed. */
const char *bt_compressor_error(const bt_compressor_t *c);

/* Bytes accepted by bt_compressor_write() and bytes handed to the callback so far. Either pointer
 * may be NULL. */
void bt_compressor_stats(const bt_compressor_t *c, uint64_t *bytes_in, uint64_t *bytes_out);

/* Frees the compressor without writing anything more (NULL is fine). Not finishing first leaves
 * the output ending at whatever was last emitted, as a crash would. */
void bt_compressor_free(bt_compressor_t *c);

/* ---- streaming decompressor ---------------------------------------------------------------- */

/* Largest zstd window (log2 bytes) a decompressor accepts: 2^27 = 128 MiB, zstd's own default
 * limit. MySQL writes TRANSACTION_PAYLOAD frames with far smaller windows; a frame asking for
 * more is rejected as hostile or corrupt instead of being allowed to allocate it. */
#define BT_DECOMPRESSOR_WINDOW_LOG_MAX 27

typedef struct bt_decompressor bt_decompressor_t;

/* Creates a streaming decompressor for zstd, LZ4 frame, snappy framing or gzip input.
 * BT_CODEC_NONE is refused (there is nothing to decode). Returns NULL with a message on error. */
bt_decompressor_t *bt_decompressor_new(bt_codec_t codec, char *err, size_t errlen);

/* Decodes from *in (advancing *in and decreasing *inlen by what it consumed) into out[0..outcap),
 * setting *produced to the number of bytes written there. Consumes and produces as much as it can
 * in one call.
 * Returns:
 *    1  a frame ended and all of its output has been delivered (snappy has no frames: 1 means all
 *       input so far ended on a chunk boundary and is delivered). Call again with the remaining
 *       input to decode a following frame; the decoder restarts by itself.
 *    0  not finished: if *produced == outcap, call again with fresh output space; otherwise all
 *       input was consumed and more is needed (input ending here means the data is truncated).
 *   -1  corrupt input, checksum mismatch, oversized window or chunk: a message goes to err and
 *       every further call fails until bt_decompressor_reset().
 * Zero-length out (outcap 0) is allowed and only consumes headers. */
int bt_decompressor_run(bt_decompressor_t *d, const uint8_t **in, size_t *inlen, uint8_t *out,
                        size_t outcap, size_t *produced, char *err, size_t errlen);

/* Drops any partial frame and prepares to decode a new stream (also clears a failure). */
void bt_decompressor_reset(bt_decompressor_t *d);

void bt_decompressor_free(bt_decompressor_t *d);

/* ---- one-shot zlib ------------------------------------------------------------------------- */

/* Inflates one complete zlib-format stream (RFC 1950, what MariaDB writes for compressed binlog
 * events) from src[0..srclen) into dst, which must hold dstlen_expected bytes (dst may be NULL when
 * that is 0). Returns 0 only when the stream ends, its checksum matches, it produced exactly
 * dstlen_expected bytes and no bytes follow it in src; otherwise -1 with a message naming the
 * mismatch (more or less data than expected, truncated, trailing bytes, corrupt). */
int bt_codec_inflate_zlib(const uint8_t *src, size_t srclen, uint8_t *dst, size_t dstlen_expected,
                          char *err, size_t errlen);

#endif
