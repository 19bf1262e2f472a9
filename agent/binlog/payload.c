/* payload.c: compressed event bodies: MySQL 8's TRANSACTION_PAYLOAD (a zstd frame holding a
 * whole transaction's events, inflated one inner event at a time) and MariaDB's compressed
 * QUERY / rows events (a zlib block inflated in one go).
 *
 * Memory: a payload is never inflated whole. The decompressor writes each inner event straight
 * into a buffer sized to that event (header first, to learn the size, then the rest), so the
 * decoder holds the fed payload event plus one inflated inner event, whatever the transaction's
 * size. Inner events are bounded by max_event_bytes like any other. */
#include "agent/binlog/decoder_internal.h"

#include <inttypes.h>
#include <stdlib.h>

enum { PL_END_MARK = 0, PL_SIZE = 1, PL_COMPRESSION = 2, PL_UNCOMPRESSED_SIZE = 3 };
enum { PL_ZSTD = 0, PL_NONE = 255 };

void bt_payload_reset(bt_decoder_t *dec) {
    dec->pl.active = false;
    dec->pl.in = NULL;
    dec->pl.inlen = 0;
    dec->pl.left = 0;
}

/* TRANSACTION_PAYLOAD_EVENT:
 *   header fields: { type packed | length packed | value packed }*, ended by type 0:
 *     1 payload_size (compressed bytes), 2 compression_type (0 zstd, 255 none),
 *     3 uncompressed_size
 *   payload[payload_size]: the transaction's events back to back (common header, no checksum),
 *     as one zstd frame or stored as is. */
int bt_ev_payload(bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, char *err, size_t errlen) {
    bt_rd_t r;
    bt_rd_init(&r, c->body, c->len);
    uint64_t size = 0, ctype = PL_NONE + 1, usize = 0;
    bool have_size = false, have_usize = false;
    for (;;) {
        uint64_t type, len;
        if (!bt_rd_packed(&r, &type, "header field type")) return bt_dec_malformed(dec, c, &r, err, errlen);
        if (type == PL_END_MARK) break;
        if (!bt_rd_packed(&r, &len, "header field length")) return bt_dec_malformed(dec, c, &r, err, errlen);
        const uint8_t *v;
        if (!bt_rd_bytes(&r, len, &v, "header field value")) return bt_dec_malformed(dec, c, &r, err, errlen);
        bt_rd_t f;
        bt_rd_init(&f, v, len);
        uint64_t val = 0;
        if (type == PL_SIZE || type == PL_COMPRESSION || type == PL_UNCOMPRESSED_SIZE) {
            if (!bt_rd_packed(&f, &val, "header field value")) return bt_dec_malformed(dec, c, &f, err, errlen);
        }
        if (type == PL_SIZE) size = val, have_size = true;
        else if (type == PL_COMPRESSION) ctype = val;
        else if (type == PL_UNCOMPRESSED_SIZE) usize = val, have_usize = true;
        /* other field types: skipped by their length */
    }
    if (ctype != PL_ZSTD && ctype != PL_NONE)
        return bt_dec_fail(dec, c, err, errlen, "unknown compression type %" PRIu64 " (0 zstd and 255 none are known)",
                           ctype);
    if (!have_size || !have_usize)
        return bt_dec_fail(dec, c, err, errlen, "the header lacks the payload size or the uncompressed size");
    if (size != bt_rd_left(&r))
        return bt_dec_fail(dec, c, err, errlen, "impossible length: payload_size %" PRIu64 " but %zu bytes follow", size,
                           bt_rd_left(&r));
    if (ctype == PL_NONE && usize != size)
        return bt_dec_fail(dec, c, err, errlen,
                           "uncompressed payload of %" PRIu64 " bytes declares an uncompressed size of %" PRIu64, size,
                           usize);
    bt_dec_event_init(dec, c, ev, BT_EV_OTHER);
    dec->pl.compressed = ctype == PL_ZSTD;
    if (dec->pl.compressed) {
        char zerr[200];
        if (!dec->pl.z && !(dec->pl.z = bt_decompressor_new(BT_CODEC_ZSTD, zerr, sizeof zerr)))
            return bt_dec_fail(dec, c, err, errlen, "cannot create the zstd decompressor: %s", zerr);
        bt_decompressor_reset(dec->pl.z);
    }
    dec->pl.active = true;
    dec->pl.in = r.p;
    dec->pl.inlen = bt_rd_left(&r);
    dec->pl.total = dec->pl.left = usize;
    dec->pl.pos = c->pos;
    dec->pl.end_pos = c->end_pos;
    dec->pl.nevents = 0;
    dec->pl.frame_done = false;
    return 0;
}

/* Inflates exactly n bytes into dst. */
static int inflate_exact(bt_decoder_t *dec, const bt_evctx_t *pc, uint8_t *dst, size_t n, char *err, size_t errlen) {
    size_t got = 0;
    while (got < n) {
        size_t produced = 0, inlen0 = dec->pl.inlen;
        char zerr[200] = "";
        int rc = bt_decompressor_run(dec->pl.z, &dec->pl.in, &dec->pl.inlen, dst + got, n - got, &produced, zerr,
                                     sizeof zerr);
        if (rc < 0) return bt_dec_fail(dec, pc, err, errlen, "corrupt zstd payload: %s", zerr);
        dec->pl.frame_done = rc == 1;
        got += produced;
        if (got == n) break;
        if (produced == 0 && dec->pl.inlen == inlen0)
            return bt_dec_fail(dec, pc, err, errlen,
                               "the compressed data ends after %" PRIu64 " of the %" PRIu64 " bytes it declares",
                               dec->pl.total - dec->pl.left + got, dec->pl.total);
    }
    return 0;
}

int bt_payload_next(bt_decoder_t *dec, bt_evctx_t *c, char *err, size_t errlen) {
    bt_evctx_t pc = {.type = BT_TRANSACTION_PAYLOAD_EVENT, .pos = dec->pl.pos, .end_pos = dec->pl.end_pos};
    pc.len = dec->pl.inlen;
    if (dec->pl.left == 0) {
        if (dec->pl.compressed && !dec->pl.frame_done) {
            /* The frame's epilogue (its checksum) may still be unread: finish it. */
            for (;;) {
                size_t produced = 0, inlen0 = dec->pl.inlen;
                uint8_t extra;
                char zerr[200] = "";
                int rc = bt_decompressor_run(dec->pl.z, &dec->pl.in, &dec->pl.inlen, &extra, 1, &produced, zerr,
                                             sizeof zerr);
                if (rc < 0) return bt_dec_fail(dec, &pc, err, errlen, "corrupt zstd payload: %s", zerr);
                if (produced)
                    return bt_dec_fail(dec, &pc, err, errlen, "the payload inflates to more than the %" PRIu64
                                                             " bytes it declares", dec->pl.total);
                if (rc == 1) break;
                if (dec->pl.inlen == inlen0)
                    return bt_dec_fail(dec, &pc, err, errlen, "the zstd frame is truncated");
            }
        }
        if (dec->pl.inlen)
            return bt_dec_fail(dec, &pc, err, errlen, "%zu bytes follow the end of the payload", dec->pl.inlen);
        return 0;
    }
    const uint8_t *e;
    if (dec->pl.left < BT_EV_HEADER_LEN)
        return bt_dec_fail(dec, &pc, err, errlen, "%" PRIu64 " bytes left in the payload cannot hold an event",
                           dec->pl.left);
    if (dec->pl.compressed) {
        if (dec->pl.cap < BT_EV_HEADER_LEN) {
            uint8_t *nb = realloc(dec->pl.buf, 4096);
            if (!nb) return bt_dec_fail(dec, &pc, err, errlen, "out of memory");
            dec->pl.buf = nb;
            dec->pl.cap = 4096;
        }
        if (inflate_exact(dec, &pc, dec->pl.buf, BT_EV_HEADER_LEN, err, errlen) < 0) return -1;
        e = dec->pl.buf;
    } else {
        e = dec->pl.in;
    }
    uint32_t size = bt_le32(e + 9);
    pc.type = e[4];
    pc.in_payload = true;
    if (size < BT_EV_HEADER_LEN || size > dec->pl.left)
        return bt_dec_fail(dec, &pc, err, errlen, "impossible length: inner event of %u bytes with %" PRIu64
                                                  " bytes left in the payload", size, dec->pl.left);
    if (size > dec->opts.max_event_bytes)
        return bt_dec_fail(dec, &pc, err, errlen, "inner event of %u bytes exceeds the limit of %zu bytes", size,
                           dec->opts.max_event_bytes);
    if (dec->pl.compressed) {
        if (size > dec->pl.cap) {
            size_t cap = dec->pl.cap;
            while (cap < size) cap *= 2;
            uint8_t *nb = realloc(dec->pl.buf, cap);
            if (!nb) return bt_dec_fail(dec, &pc, err, errlen, "out of memory");
            dec->pl.buf = nb;
            dec->pl.cap = cap;
        } else if (dec->pl.cap > ((size_t)1 << 20) && size <= 4096) {
            /* give back what one big event needed */
            uint8_t *nb = realloc(dec->pl.buf, 4096);
            if (nb) {
                dec->pl.buf = nb;
                dec->pl.cap = 4096;
            }
        }
        if (inflate_exact(dec, &pc, dec->pl.buf + BT_EV_HEADER_LEN, size - BT_EV_HEADER_LEN, err, errlen) < 0) return -1;
        e = dec->pl.buf;
    } else {
        dec->pl.in += size;
        dec->pl.inlen -= size;
    }
    dec->pl.left -= size;
    dec->pl.nevents++;
    bt_buf_reset(&dec->text);
    memset(c, 0, sizeof *c);
    c->type = e[4];
    c->timestamp = bt_le32(e);
    c->server_id = bt_le32(e + 5);
    c->log_pos = bt_le32(e + 13);
    c->flags = bt_le16(e + 17);
    c->pos = dec->pl.pos;
    /* Resuming after an inner event would skip the rest of the payload: only the last one
     * moves the position past it. */
    c->end_pos = dec->pl.left == 0 ? dec->pl.end_pos : dec->pl.pos;
    c->in_payload = true;
    if (size < dec->hdr_len)
        return bt_dec_fail(dec, c, err, errlen, "impossible length: %u bytes, shorter than the %u-byte header", size,
                           (unsigned)dec->hdr_len);
    c->body = e + dec->hdr_len;
    c->len = size - dec->hdr_len;
    return 1;
}

/* MariaDB compressed block (QUERY_COMPRESSED text, *_ROWS_COMPRESSED rows):
 *   header u8: 0x80 | algorithm << 4 (0 = zlib) | n, n = 1..4 length bytes |
 *   uncompressed length (n bytes, big-endian) | zlib stream (RFC 1950) */
int bt_dec_inflate_mariadb(bt_decoder_t *dec, const bt_evctx_t *c, const uint8_t *p, size_t n, const uint8_t **out,
                           size_t *outlen, char *err, size_t errlen) {
    if (n < 1) return bt_dec_fail(dec, c, err, errlen, "malformed event: the compressed block is empty");
    uint8_t h = p[0];
    unsigned lenlen = h & 7, alg = (h >> 4) & 7;
    if (!(h & 0x80) || (h & 0x08))
        return bt_dec_fail(dec, c, err, errlen, "malformed event: 0x%02x is not a compressed block header", h);
    if (alg != 0) return bt_dec_fail(dec, c, err, errlen, "unknown compression algorithm %u (0 zlib is known)", alg);
    if (lenlen < 1 || lenlen > 4)
        return bt_dec_fail(dec, c, err, errlen, "malformed event: %u length bytes in the compressed block header", lenlen);
    if (n < 1 + lenlen) return bt_dec_fail(dec, c, err, errlen, "malformed event: the compressed block is cut short");
    size_t ulen = 0;
    for (unsigned i = 0; i < lenlen; i++) ulen = ulen << 8 | p[1 + i];
    if (ulen > dec->opts.max_event_bytes)
        return bt_dec_fail(dec, c, err, errlen, "the compressed block inflates to %zu bytes, over the limit of %zu", ulen,
                           dec->opts.max_event_bytes);
    if (ulen + 1 > dec->zcap || (dec->zcap > ((size_t)1 << 20) && ulen + 1 <= 65536)) {
        /* grow to this block, or give back what one big block needed */
        size_t cap = ulen + 1 > 65536 ? ulen + 1 : 65536;
        uint8_t *nb = realloc(dec->zbuf, cap);
        if (!nb) return bt_dec_fail(dec, c, err, errlen, "out of memory");
        dec->zbuf = nb;
        dec->zcap = cap;
    }
    char zerr[200] = "";
    if (bt_codec_inflate_zlib(p + 1 + lenlen, n - 1 - lenlen, dec->zbuf, ulen, zerr, sizeof zerr) < 0)
        return bt_dec_fail(dec, c, err, errlen, "corrupt compressed block: %s", zerr);
    *out = dec->zbuf;
    *outlen = ulen;
    return 0;
}
