/* compress.c: the streaming compressor behind bt_compressor_t. Every codec writes its standard
 * streaming file format to the caller's callback through one bounded output buffer.
 *
 * DESIGN: a flush ends the current zstd frame / LZ4 frame / gzip member instead of only ending a
 * block. A block flush would make the data decodable by a streaming reader, but the command-line
 * tools treat a file that stops inside a frame as truncated (non-zero exit, and zstd/gzip delete
 * the partial output file); a sequence of complete frames is a valid file that every tool decodes.
 * The price is a frame header and a cold compression window per flush, which is why callers
 * flush per batch or per second rather than per row. Snappy's framing format has no frames, only
 * independent chunks of at most 64 KiB, so a flush there just emits the pending chunk. */
#include "codecs/codecs.h"
#include "lib/lib.h"

#include <limits.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

/* Snappy framing format (framing_format.txt): a chunk is a type byte, a 24-bit little-endian
 * length, then the body; data chunks carry a masked CRC-32C of the uncompressed bytes first and at
 * most 64 KiB of uncompressed data. */
#define BT_SNAPPY_CHUNK_MAX 65536
#define BT_SNAPPY_CHUNK_COMPRESSED 0x00
#define BT_SNAPPY_CHUNK_UNCOMPRESSED 0x01
#define BT_SNAPPY_HEADER_LEN 8 /* type + length + CRC */
static const uint8_t bt_snappy_stream_id[10] = {0xff, 0x06, 0x00, 0x00, 's',
                                                'N',  'a',  'P',  'p',  'Y'};

/* LZ4 frames use 64 KiB blocks; feeding input in slices of that size bounds the output buffer to
 * LZ4F_compressBound() of one slice. */
#define BT_LZ4_SLICE (64 * 1024)
#define BT_LZ4_LEVEL_MAX 12
#define BT_GZIP_OUT_CAP (64 * 1024)

struct bt_compressor {
    bt_codec_t codec;
    bt_codec_write_fn write_fn;
    void *ctx;
    int failed;
    int finished;
    int open;        /* data went into the current frame/member/chunk since the last flush */
    int emitted_any; /* something reached the callback: finish need not add an empty frame */
    uint64_t bytes_in, bytes_out;
    uint8_t *obuf; /* compressed output staging, one block's worth */
    size_t ocap;

    ZSTD_CCtx *zstd;

    LZ4F_cctx *lz4;
    LZ4F_preferences_t lz4_prefs;

    z_stream zs;
    int zs_ready;

    uint8_t *sbuf; /* snappy: uncompressed bytes of the chunk being filled */
    size_t slen;
    int snappy_id_done;

    char errbuf[256];
};

static int bt_compressor_fail(bt_compressor_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int bt_compressor_fail(bt_compressor_t *c, const char *fmt, ...) {
    va_list ap;
    int n = snprintf(c->errbuf, sizeof c->errbuf, "%s compressor: ", bt_codec_name(c->codec));
    if (n < 0 || (size_t)n >= sizeof c->errbuf)
        n = 0;
    va_start(ap, fmt);
    vsnprintf(c->errbuf + n, sizeof c->errbuf - (size_t)n, fmt, ap);
    va_end(ap);
    c->failed = 1;
    return -1;
}

static int bt_compressor_emit(bt_compressor_t *c, const void *buf, size_t len) {
    if (len == 0)
        return 0;
    int rc = c->write_fn(c->ctx, buf, len);
    if (rc != 0)
        return bt_compressor_fail(c, "output callback failed (returned %d) writing %zu bytes", rc,
                                  len);
    c->bytes_out += len;
    c->emitted_any = 1;
    return 0;
}

/* ---- zstd ---- */

static int bt_zstd_write(bt_compressor_t *c, const void *data, size_t len) {
    ZSTD_inBuffer in = {data, len, 0};
    while (in.pos < in.size) {
        ZSTD_outBuffer out = {c->obuf, c->ocap, 0};
        size_t r = ZSTD_compressStream2(c->zstd, &out, &in, ZSTD_e_continue);
        if (ZSTD_isError(r))
            return bt_compressor_fail(c, "%s", ZSTD_getErrorName(r));
        if (bt_compressor_emit(c, c->obuf, out.pos) != 0)
            return -1;
    }
    return 0;
}

static int bt_zstd_end_frame(bt_compressor_t *c) {
    ZSTD_inBuffer in = {NULL, 0, 0};
    size_t remaining;
    do {
        ZSTD_outBuffer out = {c->obuf, c->ocap, 0};
        remaining = ZSTD_compressStream2(c->zstd, &out, &in, ZSTD_e_end);
        if (ZSTD_isError(remaining))
            return bt_compressor_fail(c, "ending frame: %s", ZSTD_getErrorName(remaining));
        if (bt_compressor_emit(c, c->obuf, out.pos) != 0)
            return -1;
    } while (remaining != 0);
    return 0;
}

/* ---- LZ4 frame ---- */

static int bt_lz4_begin_frame(bt_compressor_t *c) {
    size_t n = LZ4F_compressBegin(c->lz4, c->obuf, c->ocap, &c->lz4_prefs);
    if (LZ4F_isError(n))
        return bt_compressor_fail(c, "starting frame: %s", LZ4F_getErrorName(n));
    c->open = 1;
    return bt_compressor_emit(c, c->obuf, n);
}

static int bt_lz4_write(bt_compressor_t *c, const uint8_t *p, size_t len) {
    if (!c->open && bt_lz4_begin_frame(c) != 0)
        return -1;
    while (len > 0) {
        size_t slice = len > BT_LZ4_SLICE ? BT_LZ4_SLICE : len;
        size_t n = LZ4F_compressUpdate(c->lz4, c->obuf, c->ocap, p, slice, NULL);
        if (LZ4F_isError(n))
            return bt_compressor_fail(c, "%s", LZ4F_getErrorName(n));
        if (bt_compressor_emit(c, c->obuf, n) != 0)
            return -1;
        p += slice;
        len -= slice;
    }
    return 0;
}

static int bt_lz4_end_frame(bt_compressor_t *c) {
    if (!c->open && bt_lz4_begin_frame(c) != 0)
        return -1;
    size_t n = LZ4F_compressEnd(c->lz4, c->obuf, c->ocap, NULL);
    if (LZ4F_isError(n))
        return bt_compressor_fail(c, "ending frame: %s", LZ4F_getErrorName(n));
    c->open = 0;
    return bt_compressor_emit(c, c->obuf, n);
}

/* ---- gzip ---- */

static int bt_gzip_deflate(bt_compressor_t *c, const uint8_t *p, size_t len, int flush) {
    int zrc;
    do {
        /* zlib counts in uInt: hand over at most UINT_MAX bytes per round. */
        uInt now = len > UINT_MAX ? UINT_MAX : (uInt)len;
        int mode = (flush == Z_FINISH && now != len) ? Z_NO_FLUSH : flush;
        c->zs.next_in = (Bytef *)(uintptr_t)p;
        c->zs.avail_in = now;
        do {
            c->zs.next_out = c->obuf;
            c->zs.avail_out = (uInt)c->ocap;
            zrc = deflate(&c->zs, mode);
            if (zrc == Z_STREAM_ERROR)
                return bt_compressor_fail(c, "deflate failed: %s",
                                          c->zs.msg ? c->zs.msg : "stream error");
            if (bt_compressor_emit(c, c->obuf, c->ocap - c->zs.avail_out) != 0)
                return -1;
        } while (c->zs.avail_out == 0 || (mode == Z_FINISH && zrc != Z_STREAM_END));
        p += now;
        len -= now;
    } while (len > 0);
    return 0;
}

static int bt_gzip_end_member(bt_compressor_t *c) {
    if (bt_gzip_deflate(c, NULL, 0, Z_FINISH) != 0)
        return -1;
    /* The next write starts a fresh member (new header) on the same allocation. */
    if (deflateReset(&c->zs) != Z_OK)
        return bt_compressor_fail(c, "deflateReset failed");
    return 0;
}

/* ---- snappy framing ---- */

static int bt_snappy_stream_start(bt_compressor_t *c) {
    if (c->snappy_id_done)
        return 0;
    c->snappy_id_done = 1;
    return bt_compressor_emit(c, bt_snappy_stream_id, sizeof bt_snappy_stream_id);
}

/* Emits sbuf[0..slen) as one chunk: compressed if that saves at least 1/8 (the threshold the
 * reference implementations use, so incompressible data is stored rather than expanded). */
static int bt_snappy_emit_chunk(bt_compressor_t *c) {
    if (c->slen == 0)
        return 0;
    if (bt_snappy_stream_start(c) != 0)
        return -1;
    uint32_t crc = bt_codec_crc32c(0, c->sbuf, c->slen);
    uint32_t masked = ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
    size_t clen = c->ocap - BT_SNAPPY_HEADER_LEN;
    snappy_status st = snappy_compress((const char *)c->sbuf, c->slen,
                                       (char *)c->obuf + BT_SNAPPY_HEADER_LEN, &clen);
    int compressed = st == SNAPPY_OK && clen < c->slen - c->slen / 8;
    size_t body = compressed ? clen : c->slen;
    c->obuf[0] = compressed ? BT_SNAPPY_CHUNK_COMPRESSED : BT_SNAPPY_CHUNK_UNCOMPRESSED;
    bt_put_le24(c->obuf + 1, (uint32_t)(body + 4));
    bt_put_le32(c->obuf + 4, masked);
    int rc = compressed ? bt_compressor_emit(c, c->obuf, BT_SNAPPY_HEADER_LEN + clen)
                        : (bt_compressor_emit(c, c->obuf, BT_SNAPPY_HEADER_LEN) ||
                           bt_compressor_emit(c, c->sbuf, c->slen));
    c->slen = 0;
    return rc ? -1 : 0;
}

static int bt_snappy_write(bt_compressor_t *c, const uint8_t *p, size_t len) {
    while (len > 0) {
        size_t room = BT_SNAPPY_CHUNK_MAX - c->slen;
        size_t n = len < room ? len : room;
        memcpy(c->sbuf + c->slen, p, n);
        c->slen += n;
        p += n;
        len -= n;
        if (c->slen == BT_SNAPPY_CHUNK_MAX && bt_snappy_emit_chunk(c) != 0)
            return -1;
    }
    return 0;
}

/* ---- public API ---- */

bt_compressor_t *bt_compressor_new(bt_codec_t codec, int level, bt_codec_write_fn write_fn,
                                   void *ctx, char *err, size_t errlen) {
    if (!write_fn) {
        snprintf(err, errlen, "compressor: no output callback given");
        return NULL;
    }
    switch (codec) {
    case BT_CODEC_NONE:
    case BT_CODEC_SNAPPY:
        break;
    case BT_CODEC_ZSTD:
        if (level != 0 && (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())) {
            snprintf(err, errlen, "zstd compression level %d out of range %d..%d (0 = default)",
                     level, ZSTD_minCLevel(), ZSTD_maxCLevel());
            return NULL;
        }
        break;
    case BT_CODEC_LZ4:
        if (level < 0 || level > BT_LZ4_LEVEL_MAX) {
            snprintf(err, errlen, "lz4 compression level %d out of range 1..%d (0 = default)",
                     level, BT_LZ4_LEVEL_MAX);
            return NULL;
        }
        break;
    case BT_CODEC_GZIP:
        if (level < 0 || level > 9) {
            snprintf(err, errlen, "gzip compression level %d out of range 1..9 (0 = default)",
                     level);
            return NULL;
        }
        break;
    default:
        snprintf(err, errlen, "compressor: unknown codec id %d (known: " BT_CODEC_NAMES ")",
                 (int)codec);
        return NULL;
    }

    bt_compressor_t *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "%s compressor: out of memory", bt_codec_name(codec));
        return NULL;
    }
    c->codec = codec;
    c->write_fn = write_fn;
    c->ctx = ctx;

    switch (codec) {
    case BT_CODEC_NONE:
        break;
    case BT_CODEC_ZSTD: {
        c->zstd = ZSTD_createCCtx();
        c->ocap = ZSTD_CStreamOutSize();
        if (!c->zstd)
            goto oom;
        size_t r = ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_compressionLevel,
                                          level ? level : ZSTD_CLEVEL_DEFAULT);
        if (!ZSTD_isError(r))
            r = ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_checksumFlag, 1);
        if (ZSTD_isError(r)) {
            snprintf(err, errlen, "zstd compressor: setting parameters: %s", ZSTD_getErrorName(r));
            goto fail;
        }
        break;
    }
    case BT_CODEC_LZ4: {
        LZ4F_errorCode_t e = LZ4F_createCompressionContext(&c->lz4, LZ4F_VERSION);
        if (LZ4F_isError(e)) {
            snprintf(err, errlen, "lz4 compressor: %s", LZ4F_getErrorName(e));
            goto fail;
        }
        c->lz4_prefs.frameInfo.blockSizeID = LZ4F_max64KB;
        c->lz4_prefs.frameInfo.blockMode = LZ4F_blockLinked;
        c->lz4_prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
        c->lz4_prefs.compressionLevel = level;
        c->ocap = LZ4F_compressBound(BT_LZ4_SLICE, &c->lz4_prefs);
        if (c->ocap < LZ4F_HEADER_SIZE_MAX)
            c->ocap = LZ4F_HEADER_SIZE_MAX;
        break;
    }
    case BT_CODEC_GZIP: {
        /* windowBits 15 + 16 selects the gzip wrapper rather than zlib's. */
        int zrc = deflateInit2(&c->zs, level ? level : Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16,
                               8, Z_DEFAULT_STRATEGY);
        if (zrc != Z_OK) {
            snprintf(err, errlen, "gzip compressor: deflateInit2 failed: %s", zError(zrc));
            goto fail;
        }
        c->zs_ready = 1;
        c->ocap = BT_GZIP_OUT_CAP;
        break;
    }
    case BT_CODEC_SNAPPY:
        c->sbuf = malloc(BT_SNAPPY_CHUNK_MAX);
        c->ocap = BT_SNAPPY_HEADER_LEN + snappy_max_compressed_length(BT_SNAPPY_CHUNK_MAX);
        if (!c->sbuf)
            goto oom;
        break;
    }
    if (c->ocap > 0 && !(c->obuf = malloc(c->ocap)))
        goto oom;
    return c;

oom:
    snprintf(err, errlen, "%s compressor: out of memory", bt_codec_name(codec));
fail:
    bt_compressor_free(c);
    return NULL;
}

int bt_compressor_write(bt_compressor_t *c, const void *data, size_t len) {
    if (c->failed)
        return -1;
    if (c->finished)
        return bt_compressor_fail(c, "write after finish");
    if (len == 0)
        return 0;
    int rc = 0;
    switch (c->codec) {
    case BT_CODEC_NONE:
        rc = bt_compressor_emit(c, data, len);
        break;
    case BT_CODEC_ZSTD:
        rc = bt_zstd_write(c, data, len);
        break;
    case BT_CODEC_LZ4:
        rc = bt_lz4_write(c, data, len);
        break;
    case BT_CODEC_GZIP:
        rc = bt_gzip_deflate(c, data, len, Z_NO_FLUSH);
        break;
    case BT_CODEC_SNAPPY:
        rc = bt_snappy_write(c, data, len);
        break;
    }
    if (rc != 0)
        return -1;
    c->open = 1;
    c->bytes_in += len;
    return 0;
}

/* Closes what the codec has open: a zstd or LZ4 frame, a gzip member, a snappy chunk. For a
 * stream with nothing written at all, snappy's valid empty stream is its identifier alone. */
static int end_frame(bt_compressor_t *c, int empty_stream) {
    switch (c->codec) {
    case BT_CODEC_NONE:
        return 0;
    case BT_CODEC_ZSTD:
        return bt_zstd_end_frame(c);
    case BT_CODEC_LZ4:
        return bt_lz4_end_frame(c);
    case BT_CODEC_GZIP:
        return bt_gzip_end_member(c);
    case BT_CODEC_SNAPPY:
        return empty_stream ? bt_snappy_stream_start(c) : bt_snappy_emit_chunk(c);
    }
    return 0;
}

int bt_compressor_flush(bt_compressor_t *c) {
    if (c->failed)
        return -1;
    if (c->finished || !c->open)
        return 0;
    if (end_frame(c, 0) != 0)
        return -1;
    c->open = 0;
    return 0;
}

int bt_compressor_finish(bt_compressor_t *c) {
    if (c->failed)
        return -1;
    if (c->finished)
        return 0;
    if (bt_compressor_flush(c) != 0)
        return -1;
    /* Empty input still has to be a valid file: one empty frame/member, or the snappy stream
     * identifier alone (an empty file is not valid zstd, LZ4 or gzip input). */
    if (!c->emitted_any && end_frame(c, 1) != 0)
        return -1;
    c->finished = 1;
    return 0;
}

const char *bt_compressor_error(const bt_compressor_t *c) {
    return c->errbuf;
}

void bt_compressor_stats(const bt_compressor_t *c, uint64_t *bytes_in, uint64_t *bytes_out) {
    if (bytes_in)
        *bytes_in = c->bytes_in;
    if (bytes_out)
        *bytes_out = c->bytes_out;
}

void bt_compressor_free(bt_compressor_t *c) {
    if (!c)
        return;
    ZSTD_freeCCtx(c->zstd);
    if (c->lz4)
        LZ4F_freeCompressionContext(c->lz4);
    if (c->zs_ready)
        deflateEnd(&c->zs);
    free(c->sbuf);
    free(c->obuf);
    free(c);
}
