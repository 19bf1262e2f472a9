/* ev_gtid.c: transaction identifiers: MySQL GTID / ANONYMOUS_GTID / GTID_TAGGED, MariaDB GTID,
 * and the GTID sets of MySQL's PREVIOUS_GTIDS and MariaDB's GTID_LIST, rendered as text. */
#include "agent/binlog/decoder_internal.h"

#include <inttypes.h>
#include <stdio.h>

void bt_uuid_text(const uint8_t u[16], char out[37]) {
    static const char hex[] = "0123456789abcdef";
    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *o++ = '-';
        *o++ = hex[u[i] >> 4];
        *o++ = hex[u[i] & 15];
    }
    *o = 0;
}

/* MySQL serialization library integers (GTID_TAGGED, tagged GTID sets): the count of trailing
 * one bits of the first byte, plus one, is the length in bytes (0xff: 9 bytes, the value in the
 * last 8); the value is the little-endian number shifted right by that length. */
static bool rd_varlen(bt_rd_t *r, uint64_t *v, const char *what) {
    if (!bt_rd_need(r, 1, what)) return false;
    uint8_t b = r->p[0];
    if (b == 0xff) {
        if (!bt_rd_need(r, 9, what)) return false;
        *v = bt_le64(r->p + 1);
        r->p += 9;
        return true;
    }
    unsigned n = 1;
    while (b & 1) {
        n++;
        b >>= 1;
    }
    if (!bt_rd_need(r, n, what)) return false;
    uint64_t x = 0;
    for (unsigned i = 0; i < n; i++) x |= (uint64_t)r->p[i] << (8 * i);
    *v = x >> n;
    r->p += n;
    return true;
}

/* Signed variant: zig-zag (the low bit is the sign). */
static bool rd_varlen_signed(bt_rd_t *r, int64_t *v, const char *what) {
    uint64_t u;
    if (!rd_varlen(r, &u, what)) return false;
    *v = (u & 1) ? -(int64_t)(u >> 1) - 1 : (int64_t)(u >> 1);
    return true;
}

/* A GTID tag: [a-z_][a-z0-9_]{0,31} (MySQL folds to lower case before writing). */
static bool valid_tag(const uint8_t *s, size_t n) {
    if (n == 0 || n > 32) return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = s[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || (i > 0 && ch >= '0' && ch <= '9');
        if (!ok) return false;
    }
    return true;
}

/* GTID_LOG_EVENT / ANONYMOUS_GTID_LOG_EVENT:
 *   flags u8 | sid[16] | gno u64 |
 *   [lc_typecode u8 (2) | last_committed u64 | sequence_number u64 |       -- 5.7.6 on
 *    [immediate_commit_timestamp u56 (bit 55 set: the original follows) |  -- 8.0.1 on
 *     [original_commit_timestamp u56] | [transaction_length packed] |
 *     [immediate_server_version u32 (bit 31 set: the original follows) | [original_server_version u32]]]]
 * Timestamps are microseconds since the epoch. */
static int ev_mysql_gtid(bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, char *err, size_t errlen) {
    bt_rd_t r;
    bt_rd_init(&r, c->body, c->len);
    uint8_t flags;
    const uint8_t *sid;
    uint64_t gno;
    if (!bt_rd_u8(&r, &flags, "flags") || !bt_rd_bytes(&r, 16, &sid, "sid") || !bt_rd_u64(&r, &gno, "gno"))
        return bt_dec_malformed(dec, c, &r, err, errlen);
    int64_t commit_us = 0;
    if (bt_rd_left(&r) > 0 && r.p[0] == 2) {
        r.p++;
        if (!bt_rd_skip(&r, 16, "last_committed and sequence_number")) return bt_dec_malformed(dec, c, &r, err, errlen);
        if (bt_rd_left(&r) >= 7) {
            uint64_t imm = bt_le56(r.p);
            r.p += 7;
            uint64_t orig = imm;
            if (imm & ((uint64_t)1 << 55)) {
                imm &= ~((uint64_t)1 << 55);
                if (!bt_rd_need(&r, 7, "original_commit_timestamp")) return bt_dec_malformed(dec, c, &r, err, errlen);
                orig = bt_le56(r.p);
                r.p += 7;
            } else {
                orig = imm;
            }
            commit_us = (int64_t)orig;
        }
    }
    bt_dec_event_init(dec, c, ev, BT_EV_GTID);
    ev->u.gtid.anonymous = c->type == BT_ANONYMOUS_GTID_LOG_EVENT;
    ev->u.gtid.seq = gno;
    ev->u.gtid.commit_ts_us = commit_us;
    if (!ev->u.gtid.anonymous) {
        if (gno < 1 || gno >= ((uint64_t)1 << 63))
            return bt_dec_fail(dec, c, err, errlen, "impossible GTID number %" PRIu64, gno);
        char u[37];
        bt_uuid_text(sid, u);
        snprintf(ev->u.gtid.text, sizeof ev->u.gtid.text, "%s:%" PRIu64, u, gno);
    }
    return 0;
}

/* GTID_TAGGED_LOG_EVENT (MySQL 8.4+), MySQL serialization library format:
 *   version u8 (2) | payload_size varlen (bytes of the whole body) | last_non_ignorable_field_id varlen |
 *   { field_id varlen | value }*
 *   fields: 0 flags | 1 sid (16 varlen bytes) | 2 gno (signed) | 3 tag (varlen length + bytes) |
 *   4 last_committed (signed) | 5 sequence_number (signed) | 6 immediate_commit_timestamp |
 *   7 original_commit_timestamp | 8 transaction_length | 9 immediate_server_version |
 *   10 original_server_version | 11 commit_group_ticket (all unsigned unless noted). */
static int ev_tagged_gtid(bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, char *err, size_t errlen) {
    bt_rd_t r;
    bt_rd_init(&r, c->body, c->len);
    uint8_t version;
    uint64_t size, lnif;
    if (!bt_rd_u8(&r, &version, "serialization version")) return bt_dec_malformed(dec, c, &r, err, errlen);
    if (version != 2)
        return bt_dec_fail(dec, c, err, errlen, "unsupported serialization format version %u", (unsigned)version);
    if (!rd_varlen(&r, &size, "payload size") || !rd_varlen(&r, &lnif, "last non-ignorable field id"))
        return bt_dec_malformed(dec, c, &r, err, errlen);
    size_t used = (size_t)(r.p - c->body);
    if (size < used || size > c->len)
        return bt_dec_fail(dec, c, err, errlen, "impossible payload size %" PRIu64 " in a %zu-byte body", size, c->len);
    r.end = c->body + size;
    uint8_t sid[16] = {0};
    const uint8_t *tag = NULL;
    uint64_t taglen = 0, imm = 0, orig = 0, u;
    int64_t gno = 0, s;
    bool have_sid = false, have_gno = false, have_orig = false;
    while (bt_rd_left(&r) > 0) {
        uint64_t fid;
        if (!rd_varlen(&r, &fid, "field id")) return bt_dec_malformed(dec, c, &r, err, errlen);
        switch (fid) {
        case 0: case 8: case 9: case 10: case 11:
            if (!rd_varlen(&r, &u, "field value")) return bt_dec_malformed(dec, c, &r, err, errlen);
            break;
        case 1:
            for (int i = 0; i < 16; i++) {
                if (!rd_varlen(&r, &u, "sid")) return bt_dec_malformed(dec, c, &r, err, errlen);
                if (u > 255) return bt_dec_fail(dec, c, err, errlen, "impossible sid byte %" PRIu64, u);
                sid[i] = (uint8_t)u;
            }
            have_sid = true;
            break;
        case 2:
            if (!rd_varlen_signed(&r, &gno, "gno")) return bt_dec_malformed(dec, c, &r, err, errlen);
            have_gno = true;
            break;
        case 3:
            if (!rd_varlen(&r, &taglen, "tag length") || !bt_rd_bytes(&r, taglen, &tag, "tag"))
                return bt_dec_malformed(dec, c, &r, err, errlen);
            break;
        case 4: case 5:
            if (!rd_varlen_signed(&r, &s, "logical clock")) return bt_dec_malformed(dec, c, &r, err, errlen);
            break;
        case 6:
            if (!rd_varlen(&r, &imm, "immediate_commit_timestamp")) return bt_dec_malformed(dec, c, &r, err, errlen);
            break;
        case 7:
            if (!rd_varlen(&r, &orig, "original_commit_timestamp")) return bt_dec_malformed(dec, c, &r, err, errlen);
            have_orig = true;
            break;
        default:
            /* A field we do not know cannot be skipped (its size is not on the wire); that is
             * fine only when the writer marked it ignorable. */
            if (fid <= lnif)
                return bt_dec_fail(dec, c, err, errlen, "unknown non-ignorable field %" PRIu64, fid);
            r.p = r.end;
            break;
        }
    }
    if (!have_sid || !have_gno || !tag)
        return bt_dec_fail(dec, c, err, errlen, "incomplete tagged GTID (sid, gno and tag are required)");
    if (gno < 1) return bt_dec_fail(dec, c, err, errlen, "impossible GTID number %" PRId64, gno);
    if (!valid_tag(tag, taglen)) return bt_dec_fail(dec, c, err, errlen, "invalid GTID tag");
    bt_dec_event_init(dec, c, ev, BT_EV_GTID);
    char ut[37];
    bt_uuid_text(sid, ut);
    snprintf(ev->u.gtid.text, sizeof ev->u.gtid.text, "%s:%.*s:%" PRId64, ut, (int)taglen, (const char *)tag, gno);
    ev->u.gtid.seq = (uint64_t)gno;
    ev->u.gtid.commit_ts_us = (int64_t)(have_orig ? orig : imm);
    return 0;
}

/* MARIADB GTID_EVENT: seq_no u64 | domain_id u32 | flags2 u8 |
 *   [flags2 & FL_GROUP_COMMIT_ID (2): commit_id u64] |
 *   [flags2 & (FL_PREPARED_XA 64 | FL_COMPLETED_XA 128): formatID u32 | gtrid_len u8 | bqual_len u8 | data] |
 *   [flags_extra u8 ...]. FL_STANDALONE (1): one statement with no BEGIN/COMMIT around it.
 * The GTID's server id is the header's. */
static int ev_maria_gtid(bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, char *err, size_t errlen) {
    bt_rd_t r;
    bt_rd_init(&r, c->body, c->len);
    uint64_t seq;
    uint32_t domain;
    uint8_t flags2;
    if (!bt_rd_u64(&r, &seq, "seq_no") || !bt_rd_u32(&r, &domain, "domain_id") || !bt_rd_u8(&r, &flags2, "flags2"))
        return bt_dec_malformed(dec, c, &r, err, errlen);
    if ((flags2 & 2) && !bt_rd_skip(&r, 8, "commit_id")) return bt_dec_malformed(dec, c, &r, err, errlen);
    bt_dec_event_init(dec, c, ev, BT_EV_GTID);
    ev->u.gtid.standalone = flags2 & 1;
    ev->u.gtid.xa_prepared = (flags2 & 64) != 0;
    ev->u.gtid.domain = domain;
    ev->u.gtid.seq = seq;
    snprintf(ev->u.gtid.text, sizeof ev->u.gtid.text, "%" PRIu32 "-%" PRIu32 "-%" PRIu64, domain, c->server_id, seq);
    return 0;
}

int bt_ev_gtid(bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, char *err, size_t errlen) {
    if (c->type == BT_MARIA_GTID_EVENT) return ev_maria_gtid(dec, c, ev, err, errlen);
    if (c->type == BT_GTID_TAGGED_LOG_EVENT) return ev_tagged_gtid(dec, c, ev, err, errlen);
    return ev_mysql_gtid(dec, c, ev, err, errlen);
}

/* PREVIOUS_GTIDS_LOG_EVENT:
 *   untagged: n_sids u64 (top byte 0) | { sid[16] | n_intervals u64 | { start u64 | end u64 (exclusive) }* }*
 *   tagged (MySQL 8.4+): u64 whose low and high bytes are the format (1), n_sids in bits 8-55;
 *     each sid is followed by its tag (varlen length + bytes, empty for untagged).
 * Text: "uuid:1-5:7,uuid2:1-3"; tags of the same uuid follow it: "uuid:1-13:tag:1-2". */
static int ev_previous_gtids(bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, char *err, size_t errlen) {
    bt_rd_t r;
    bt_rd_init(&r, c->body, c->len);
    uint64_t hdr;
    if (!bt_rd_u64(&r, &hdr, "n_sids")) return bt_dec_malformed(dec, c, &r, err, errlen);
    uint8_t format = (uint8_t)(hdr >> 56);
    if (format > 1) return bt_dec_fail(dec, c, err, errlen, "unknown GTID set format %u", (unsigned)format);
    bool tagged = format == 1;
    uint64_t nsids = tagged ? (hdr >> 8) & (((uint64_t)1 << 48) - 1) : hdr & (((uint64_t)1 << 56) - 1);
    bt_buf_t *b = &dec->text;
    size_t start = b->len;
    const uint8_t *prev = NULL;
    for (uint64_t i = 0; i < nsids; i++) {
        const uint8_t *sid, *tag = NULL;
        uint64_t taglen = 0, nint;
        if (!bt_rd_bytes(&r, 16, &sid, "sid")) return bt_dec_malformed(dec, c, &r, err, errlen);
        if (tagged && (!rd_varlen(&r, &taglen, "tag length") || !bt_rd_bytes(&r, taglen, &tag, "tag")))
            return bt_dec_malformed(dec, c, &r, err, errlen);
        if (taglen && !valid_tag(tag, taglen)) return bt_dec_fail(dec, c, err, errlen, "invalid GTID tag");
        if (!bt_rd_u64(&r, &nint, "n_intervals")) return bt_dec_malformed(dec, c, &r, err, errlen);
        if (!(prev && memcmp(prev, sid, 16) == 0)) {
            char u[37];
            bt_uuid_text(sid, u);
            if (i > 0) bt_buf_putc(b, ',');
            bt_buf_puts(b, u);
        }
        prev = sid;
        if (taglen) {
            bt_buf_putc(b, ':');
            bt_buf_append(b, tag, taglen);
        }
        for (uint64_t k = 0; k < nint; k++) {
            uint64_t s, e;
            if (!bt_rd_u64(&r, &s, "interval start") || !bt_rd_u64(&r, &e, "interval end"))
                return bt_dec_malformed(dec, c, &r, err, errlen);
            if (s < 1 || e <= s)
                return bt_dec_fail(dec, c, err, errlen, "impossible interval [%" PRIu64 ", %" PRIu64 ")", s, e);
            if (e - 1 == s) bt_buf_printf(b, ":%" PRIu64, s);
            else bt_buf_printf(b, ":%" PRIu64 "-%" PRIu64, s, e - 1);
        }
        if (b->failed) return bt_dec_fail(dec, c, err, errlen, "GTID set text exceeds its buffer");
    }
    if (!bt_buf_putc(b, 0)) return bt_dec_fail(dec, c, err, errlen, "out of memory");
    bt_dec_event_init(dec, c, ev, BT_EV_GTID_LIST);
    ev->u.gtid_list.text = b->p + start;
    return 0;
}

/* MARIADB GTID_LIST_EVENT: count u32 (low 28 bits; the top 4 are flags) |
 *   { domain_id u32 | server_id u32 | seq_no u64 }*. Text: "0-1-100,1-2-5". */
static int ev_maria_gtid_list(bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, char *err, size_t errlen) {
    bt_rd_t r;
    bt_rd_init(&r, c->body, c->len);
    uint32_t count;
    if (!bt_rd_u32(&r, &count, "count")) return bt_dec_malformed(dec, c, &r, err, errlen);
    count &= 0x0fffffff;
    bt_buf_t *b = &dec->text;
    size_t start = b->len;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t d, s;
        uint64_t n;
        if (!bt_rd_u32(&r, &d, "domain_id") || !bt_rd_u32(&r, &s, "server_id") || !bt_rd_u64(&r, &n, "seq_no"))
            return bt_dec_malformed(dec, c, &r, err, errlen);
        bt_buf_printf(b, "%s%" PRIu32 "-%" PRIu32 "-%" PRIu64, i ? "," : "", d, s, n);
        if (b->failed) return bt_dec_fail(dec, c, err, errlen, "GTID list text exceeds its buffer");
    }
    if (!bt_buf_putc(b, 0)) return bt_dec_fail(dec, c, err, errlen, "out of memory");
    bt_dec_event_init(dec, c, ev, BT_EV_GTID_LIST);
    ev->u.gtid_list.text = b->p + start;
    return 0;
}

int bt_ev_gtid_set(bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, char *err, size_t errlen) {
    if (c->type == BT_MARIA_GTID_LIST_EVENT) return ev_maria_gtid_list(dec, c, ev, err, errlen);
    return ev_previous_gtids(dec, c, ev, err, errlen);
}
