/* decompress.c: the streaming decompressor behind bt_decompressor_t. Decodes zstd, LZ4 frame,
 * snappy framing and gzip input piecewise into caller-sized output buffers, so a large compressed
 * object (a MySQL TRANSACTION_PAYLOAD event, a sink file) never has to be inflated whole.
 *
 * Memory is bounded per codec: zstd's window is capped at 2^BT_DECOMPRESSOR_WINDOW_LOG_MAX, LZ4
 * frame blocks are at most 4 MiB by format, gzip's window is 32 KiB, and the snappy decoder holds
 * one chunk (at most ~75 KiB compressed, 64 KiB decoded) and skips padding chunks without storing
 * them. Errors are sticky until bt_decompressor_reset() because the codecs' states are undefined
 * after corrupt input. */
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
#include <zstd_errors.h>

/* Snappy framing format chunk types (framing_format.txt section 4). */
#define BT_SNAPPY_CHUNK_MAX 65536
#define BT_SNAPPY_CHUNK_COMPRESSED 0x00
#define BT_SNAPPY_CHUNK_UNCOMPRESSED 0x01
#define BT_SNAPPY_CHUNK_STREAM_ID 0xff
#define BT_SNAPPY_UNSKIPPABLE_LAST 0x7f
static const uint8_t bt_snappy_magic[6] = {'s', 'N', 'a', 'P', 'p', 'Y'};

struct bt_decompressor {
    bt_codec_t codec;
    int failed;
    uint64_t consumed; /* input bytes consumed since new/reset, for error positions */
    char errbuf[256];

    ZSTD_DCtx *zstd;

    LZ4F_dctx *lz4;

    z_stream zs;
    int zs_ready;
    int zs_member_done; /* a gzip member ended: reset before decoding the next one */

    /* snappy framing: a chunk goes header -> body (buffered) -> decoded output (buffered). */
    uint8_t shdr[4];
    size_t shdr_len;
    int schunk_type; /* -1 when between chunks */
    size_t sbody_len, sbody_have, sbody_cap;
    uint8_t *sbody;
    size_t sskip; /* bytes of a skippable chunk still to discard */
    uint8_t *sdec;
    size_t sdec_len, sdec_pos;
    int sseen_id;
    uint64_t schunk_off; /* input offset of the current chunk's header */
};

static int bt_decompressor_fail(bt_decompressor_t *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int bt_decompressor_fail(bt_decompressor_t *d, const char *fmt, ...) {
    va_list ap;
    int n = snprintf(d->errbuf, sizeof d->errbuf, "%s decompressor: ", bt_codec_name(d->codec));
    if (n < 0 || (size_t)n >= sizeof d->errbuf)
        n = 0;
    va_start(ap, fmt);
    vsnprintf(d->errbuf + n, sizeof d->errbuf - (size_t)n, fmt, ap);
    va_end(ap);
    d->failed = 1;
    return -1;
}

/* ---- zstd ---- */

static int bt_zstd_run(bt_decompressor_t *d, const uint8_t *in, size_t inlen, size_t *used,
                       uint8_t *out, size_t outcap, size_t *produced) {
    ZSTD_inBuffer ib = {in, inlen, 0};
    ZSTD_outBuffer ob = {out, outcap, 0};
    int ret = 0;
    for (;;) {
        size_t in_before = ib.pos, out_before = ob.pos;
        size_t r = ZSTD_decompressStream(d->zstd, &ob, &ib);
        if (ZSTD_isError(r)) {
            if (ZSTD_getErrorCode(r) == ZSTD_error_frameParameter_windowTooLarge)
                ret = bt_decompressor_fail(d,
                                           "frame needs a window larger than 2^%d bytes, refused "
                                           "(at input byte %llu)",
                                           BT_DECOMPRESSOR_WINDOW_LOG_MAX,
                                           (unsigned long long)(d->consumed + ib.pos));
            else
                ret = bt_decompressor_fail(d, "%s (at input byte %llu)", ZSTD_getErrorName(r),
                                           (unsigned long long)(d->consumed + ib.pos));
            break;
        }
        if (r == 0) { /* frame complete and fully flushed */
            ret = 1;
            break;
        }
        if (ob.pos == ob.size || ib.pos == ib.size)
            break;
        if (ib.pos == in_before && ob.pos == out_before)
            break;
    }
    *used = ib.pos;
    *produced = ob.pos;
    return ret;
}

/* ---- LZ4 frame ---- */

static int bt_lz4_run(bt_decompressor_t *d, const uint8_t *in, size_t inlen, size_t *used,
                      uint8_t *out, size_t outcap, size_t *produced) {
    size_t ipos = 0, opos = 0;
    int ret = 0;
    for (;;) {
        size_t src = inlen - ipos, dst = outcap - opos;
        size_t r = LZ4F_decompress(d->lz4, out ? out + opos : NULL, &dst, in ? in + ipos : NULL,
                                   &src, NULL);
        if (LZ4F_isError(r)) {
            ret = bt_decompressor_fail(d, "%s (at input byte %llu)", LZ4F_getErrorName(r),
                                       (unsigned long long)(d->consumed + ipos));
            break;
        }
        ipos += src;
        opos += dst;
        if (r == 0) { /* frame complete and fully flushed */
            ret = 1;
            break;
        }
        if (opos == outcap || ipos == inlen || (src == 0 && dst == 0))
            break;
    }
    *used = ipos;
    *produced = opos;
    return ret;
}

/* ---- gzip ---- */

static int bt_gzip_run(bt_decompressor_t *d, const uint8_t *in, size_t inlen, size_t *used,
                       uint8_t *out, size_t outcap, size_t *produced) {
    size_t ipos = 0, opos = 0;
    int ret = 0;
    uint8_t none; /* zlib refuses a NULL next_out even with avail_out 0 */
    if (d->zs_member_done) {
        inflateReset(&d->zs);
        d->zs_member_done = 0;
    }
    for (;;) {
        /* zlib counts in uInt: offer at most UINT_MAX bytes each way per round. */
        uInt in_now = inlen - ipos > UINT_MAX ? UINT_MAX : (uInt)(inlen - ipos);
        uInt out_now = outcap - opos > UINT_MAX ? UINT_MAX : (uInt)(outcap - opos);
        d->zs.next_in = (Bytef *)(uintptr_t)(in ? in + ipos : NULL);
        d->zs.avail_in = in_now;
        d->zs.next_out = out ? out + opos : &none;
        d->zs.avail_out = out_now;
        int zrc = inflate(&d->zs, Z_NO_FLUSH);
        size_t took = in_now - d->zs.avail_in, gave = out_now - d->zs.avail_out;
        ipos += took;
        opos += gave;
        if (zrc == Z_STREAM_END) {
            d->zs_member_done = 1;
            ret = 1;
            break;
        }
        if (zrc == Z_NEED_DICT || zrc == Z_DATA_ERROR || zrc == Z_MEM_ERROR ||
            zrc == Z_STREAM_ERROR) {
            ret = bt_decompressor_fail(d, "%s (at input byte %llu)",
                                       d->zs.msg ? d->zs.msg
                                                 : (zrc == Z_NEED_DICT ? "needs a dictionary"
                                                                       : zError(zrc)),
                                       (unsigned long long)(d->consumed + ipos));
            break;
        }
        if (opos == outcap || ipos == inlen || (took == 0 && gave == 0))
            break;
    }
    *used = ipos;
    *produced = opos;
    return ret;
}

/* ---- snappy framing ---- */

/* Checks and decodes the chunk now complete in sbody into sdec. */
static int bt_snappy_chunk_done(bt_decompressor_t *d) {
    unsigned long long at = (unsigned long long)d->schunk_off;
    if (d->schunk_type == BT_SNAPPY_CHUNK_STREAM_ID) {
        if (d->sbody_len != sizeof bt_snappy_magic ||
            memcmp(d->sbody, bt_snappy_magic, sizeof bt_snappy_magic) != 0)
            return bt_decompressor_fail(d, "bad stream identifier chunk at input byte %llu", at);
        d->sseen_id = 1;
        return 0;
    }
    uint32_t want = bt_le32(d->sbody);
    const uint8_t *body = d->sbody + 4;
    size_t blen = d->sbody_len - 4, ulen = blen;
    if (d->schunk_type == BT_SNAPPY_CHUNK_COMPRESSED) {
        if (snappy_uncompressed_length((const char *)body, blen, &ulen) != SNAPPY_OK)
            return bt_decompressor_fail(d, "corrupt compressed chunk at input byte %llu", at);
        if (ulen > BT_SNAPPY_CHUNK_MAX)
            return bt_decompressor_fail(
                d, "chunk at input byte %llu decodes to %zu bytes, more than the %d allowed", at,
                ulen, BT_SNAPPY_CHUNK_MAX);
        if (snappy_uncompress((const char *)body, blen, (char *)d->sdec, &ulen) != SNAPPY_OK)
            return bt_decompressor_fail(d, "corrupt compressed chunk at input byte %llu", at);
    } else {
        memcpy(d->sdec, body, blen);
    }
    uint32_t crc = bt_codec_crc32c(0, d->sdec, ulen);
    uint32_t masked = ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
    if (masked != want)
        return bt_decompressor_fail(d,
                                    "CRC-32C mismatch in chunk at input byte %llu (stored 0x%08x, "
                                    "computed 0x%08x)",
                                    at, want, masked);
    d->sdec_len = ulen;
    d->sdec_pos = 0;
    return 0;
}

/* Validates a chunk header gathered in shdr and sets up reading its body. */
static int bt_snappy_chunk_start(bt_decompressor_t *d) {
    int type = d->shdr[0];
    size_t len = (size_t)d->shdr[1] | (size_t)d->shdr[2] << 8 | (size_t)d->shdr[3] << 16;
    unsigned long long at = (unsigned long long)d->schunk_off;
    d->shdr_len = 0;
    if (!d->sseen_id && type != BT_SNAPPY_CHUNK_STREAM_ID)
        return bt_decompressor_fail(d,
                                    "input does not start with the snappy framing stream "
                                    "identifier (chunk type 0x%02x at input byte %llu)",
                                    type, at);
    size_t max;
    switch (type) {
    case BT_SNAPPY_CHUNK_STREAM_ID:
        max = sizeof bt_snappy_magic;
        break;
    case BT_SNAPPY_CHUNK_COMPRESSED:
        max = 4 + snappy_max_compressed_length(BT_SNAPPY_CHUNK_MAX);
        break;
    case BT_SNAPPY_CHUNK_UNCOMPRESSED:
        max = 4 + BT_SNAPPY_CHUNK_MAX;
        break;
    default:
        if (type <= BT_SNAPPY_UNSKIPPABLE_LAST)
            return bt_decompressor_fail(
                d, "unknown unskippable chunk type 0x%02x at input byte %llu", type, at);
        d->sskip = len; /* padding or reserved skippable chunk: discard unread */
        return 0;
    }
    if (len > max || (type != BT_SNAPPY_CHUNK_STREAM_ID && len < 4))
        return bt_decompressor_fail(d, "chunk type 0x%02x at input byte %llu has bad length %zu",
                                    type, at, len);
    d->schunk_type = type;
    d->sbody_len = len;
    d->sbody_have = 0;
    return 0;
}

static int bt_snappy_run(bt_decompressor_t *d, const uint8_t *in, size_t inlen, size_t *used,
                         uint8_t *out, size_t outcap, size_t *produced) {
    size_t ipos = 0, opos = 0;
    int ret = 0;
    for (;;) {
        if (d->sdec_pos < d->sdec_len) {
            size_t n = d->sdec_len - d->sdec_pos;
            if (n > outcap - opos)
                n = outcap - opos;
            if (n)
                memcpy(out + opos, d->sdec + d->sdec_pos, n);
            d->sdec_pos += n;
            opos += n;
            if (d->sdec_pos < d->sdec_len)
                break; /* output full */
        }
        if (d->schunk_type >= 0) { /* reading a chunk body */
            size_t n = d->sbody_len - d->sbody_have;
            if (n > inlen - ipos)
                n = inlen - ipos;
            if (n)
                memcpy(d->sbody + d->sbody_have, in + ipos, n);
            d->sbody_have += n;
            ipos += n;
            if (d->sbody_have < d->sbody_len)
                break; /* need more input */
            if (bt_snappy_chunk_done(d) != 0) {
                ret = -1;
                break;
            }
            d->schunk_type = -1;
            continue; /* deliver what it decoded */
        }
        if (ipos == inlen)
            break;
        if (d->sskip > 0) {
            size_t n = inlen - ipos < d->sskip ? inlen - ipos : d->sskip;
            ipos += n;
            d->sskip -= n;
            continue;
        }
        if (d->shdr_len == 0)
            d->schunk_off = d->consumed + ipos;
        while (d->shdr_len < 4 && ipos < inlen)
            d->shdr[d->shdr_len++] = in[ipos++];
        if (d->shdr_len < 4)
            break;
        if (bt_snappy_chunk_start(d) != 0) {
            ret = -1;
            break;
        }
    }
    *used = ipos;
    *produced = opos;
    if (ret == 0 && ipos == inlen && d->schunk_type < 0 && d->shdr_len == 0 && d->sskip == 0 &&
        d->sdec_pos == d->sdec_len && d->sseen_id)
        ret = 1;
    return ret;
}

/* ---- public API ---- */

bt_decompressor_t *bt_decompressor_new(bt_codec_t codec, char *err, size_t errlen) {
    if (codec != BT_CODEC_ZSTD && codec != BT_CODEC_LZ4 && codec != BT_CODEC_SNAPPY &&
        codec != BT_CODEC_GZIP) {
        snprintf(err, errlen,
                 "decompressor: codec %s (%d) cannot be decoded (decodable: zstd, lz4, snappy, "
                 "gzip)",
                 bt_codec_name(codec), (int)codec);
        return NULL;
    }
    bt_decompressor_t *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "%s decompressor: out of memory", bt_codec_name(codec));
        return NULL;
    }
    d->codec = codec;
    d->schunk_type = -1;
    switch (codec) {
    case BT_CODEC_ZSTD: {
        d->zstd = ZSTD_createDCtx();
        if (!d->zstd)
            goto oom;
        size_t r = ZSTD_DCtx_setParameter(d->zstd, ZSTD_d_windowLogMax,
                                          BT_DECOMPRESSOR_WINDOW_LOG_MAX);
        if (ZSTD_isError(r)) {
            snprintf(err, errlen, "zstd decompressor: setting the window limit: %s",
                     ZSTD_getErrorName(r));
            goto fail;
        }
        break;
    }
    case BT_CODEC_LZ4: {
        LZ4F_errorCode_t e = LZ4F_createDecompressionContext(&d->lz4, LZ4F_VERSION);
        if (LZ4F_isError(e)) {
            snprintf(err, errlen, "lz4 decompressor: %s", LZ4F_getErrorName(e));
            goto fail;
        }
        break;
    }
    case BT_CODEC_GZIP: {
        int zrc = inflateInit2(&d->zs, 15 + 16); /* gzip wrapper only */
        if (zrc != Z_OK) {
            snprintf(err, errlen, "gzip decompressor: inflateInit2 failed: %s", zError(zrc));
            goto fail;
        }
        d->zs_ready = 1;
        break;
    }
    case BT_CODEC_SNAPPY:
        d->sbody_cap = 4 + snappy_max_compressed_length(BT_SNAPPY_CHUNK_MAX);
        d->sbody = malloc(d->sbody_cap);
        d->sdec = malloc(BT_SNAPPY_CHUNK_MAX);
        if (!d->sbody || !d->sdec)
            goto oom;
        break;
    default:
        break;
    }
    return d;

oom:
    snprintf(err, errlen, "%s decompressor: out of memory", bt_codec_name(codec));
fail:
    bt_decompressor_free(d);
    return NULL;
}

int bt_decompressor_run(bt_decompressor_t *d, const uint8_t **in, size_t *inlen, uint8_t *out,
                        size_t outcap, size_t *produced, char *err, size_t errlen) {
    *produced = 0;
    if (d->failed) {
        snprintf(err, errlen, "%s", d->errbuf);
        return -1;
    }
    size_t used = 0;
    int rc = -1;
    switch (d->codec) {
    case BT_CODEC_ZSTD:
        rc = bt_zstd_run(d, *in, *inlen, &used, out, outcap, produced);
        break;
    case BT_CODEC_LZ4:
        rc = bt_lz4_run(d, *in, *inlen, &used, out, outcap, produced);
        break;
    case BT_CODEC_GZIP:
        rc = bt_gzip_run(d, *in, *inlen, &used, out, outcap, produced);
        break;
    case BT_CODEC_SNAPPY:
        rc = bt_snappy_run(d, *in, *inlen, &used, out, outcap, produced);
        break;
    default:
        break;
    }
    if (used) {
        *in += used;
        *inlen -= used;
    }
    d->consumed += used;
    if (rc < 0)
        snprintf(err, errlen, "%s", d->errbuf);
    return rc;
}

void bt_decompressor_reset(bt_decompressor_t *d) {
    d->failed = 0;
    d->errbuf[0] = '\0';
    d->consumed = 0;
    if (d->zstd)
        ZSTD_DCtx_reset(d->zstd, ZSTD_reset_session_only); /* keeps the window limit */
    if (d->lz4)
        LZ4F_resetDecompressionContext(d->lz4);
    if (d->zs_ready)
        inflateReset(&d->zs);
    d->zs_member_done = 0;
    d->shdr_len = 0;
    d->schunk_type = -1;
    d->sbody_len = d->sbody_have = 0;
    d->sskip = 0;
    d->sdec_len = d->sdec_pos = 0;
    d->sseen_id = 0;
}

void bt_decompressor_free(bt_decompressor_t *d) {
    if (!d)
        return;
    ZSTD_freeDCtx(d->zstd);
    if (d->lz4)
        LZ4F_freeDecompressionContext(d->lz4);
    if (d->zs_ready)
        inflateEnd(&d->zs);
    free(d->sbody);
    free(d->sdec);
    free(d);
}
