/* ev_control.c: events that steer the stream rather than carry data: FORMAT_DESCRIPTION,
 * ROTATE, STOP, XID, XA_PREPARE, heartbeats, INCIDENT, START_ENCRYPTION, and the informational
 * ones (INTVAR, RAND, USER_VAR, LOAD DATA blocks, BINLOG_CHECKPOINT, group replication). */
#include "agent/binlog/decoder_internal.h"

#include <stdio.h>

/* FORMAT_DESCRIPTION_EVENT body:
 *   binlog_version u16 | server_version char[50] (NUL-padded) | create_timestamp u32 |
 *   header_length u8 | post_header_length u8[one per event type, from type 1 on] |
 *   [checksum_alg u8  -- only from MySQL 5.6.1 / MariaDB 5.3; 0 none, 1 CRC32]
 * (the 4 checksum bytes that follow the algorithm byte were removed when the event was fed). */
int bt_ev_fde(bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, char *err, size_t errlen) {
    bt_rd_t r;
    bt_rd_init(&r, c->body, c->len);
    uint16_t version;
    const uint8_t *sv;
    uint8_t hdr_len;
    if (!bt_rd_u16(&r, &version, "binlog_version") || !bt_rd_bytes(&r, 50, &sv, "server_version") ||
        !bt_rd_skip(&r, 4, "create_timestamp") || !bt_rd_u8(&r, &hdr_len, "header_length"))
        return bt_dec_malformed(dec, c, &r, err, errlen);
    if (version != 4)
        return bt_dec_fail(dec, c, err, errlen, "binlog version %u is not supported (only v4, MySQL 5.0 and later)",
                           (unsigned)version);
    if (hdr_len < BT_EV_HEADER_LEN)
        return bt_dec_fail(dec, c, err, errlen, "impossible common header length %u (at least %d)", (unsigned)hdr_len,
                           BT_EV_HEADER_LEN);
    bool has_alg = bt_fde_has_alg(c->body, c->len);
    size_t npost = bt_rd_left(&r);
    uint8_t alg = 255;
    if (has_alg) {
        if (npost < 1) {
            r.want = "checksum_alg";
            return bt_dec_malformed(dec, c, &r, err, errlen);
        }
        npost--;
        alg = r.p[npost];
        if (alg != 0 && alg != 1)
            return bt_dec_fail(dec, c, err, errlen, "unknown checksum algorithm %u (0 NONE and 1 CRC32 are known)",
                               (unsigned)alg);
    }
    if (npost > sizeof dec->post) npost = sizeof dec->post;

    bt_fde_t *f = &dec->fde;
    memset(f, 0, sizeof *f);
    f->binlog_version = version;
    memcpy(f->server_version, sv, 50);
    f->server_version[50] = 0;
    f->mariadb = strstr(f->server_version, "MariaDB") != NULL;
    f->checksum_alg = alg;
    memset(dec->post, 0, sizeof dec->post);
    memcpy(dec->post, r.p, npost);
    dec->npost = (uint16_t)npost;
    dec->hdr_len = hdr_len;
    dec->alg = alg == 1 ? 1 : 0;
    dec->have_fde = true;
    /* Table ids belong to the server that wrote this FDE's events. */
    bt_tables_clear(dec);

    bt_dec_event_init(dec, c, ev, BT_EV_FORMAT);
    ev->u.fde = *f;
    return 0;
}

/* ROTATE_EVENT: position u64 | next file name (the rest of the body, no NUL). */
static int ev_rotate(bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, char *err, size_t errlen) {
    bt_rd_t r;
    bt_rd_init(&r, c->body, c->len);
    uint64_t pos;
    if (!bt_rd_u64(&r, &pos, "position")) return bt_dec_malformed(dec, c, &r, err, errlen);
    size_t n = bt_rd_left(&r);
    if (n == 0 || n > 1024 || memchr(r.p, 0, n))
        return bt_dec_fail(dec, c, err, errlen, "impossible next file name (%zu bytes)", n);
    bt_dec_event_init(dec, c, ev, BT_EV_ROTATE);
    ev->u.rotate.next_file = bt_dec_keep_text(dec, r.p, n);
    if (!ev->u.rotate.next_file) return bt_dec_fail(dec, c, err, errlen, "out of memory");
    ev->u.rotate.pos = pos;
    return 0;
}

/* HEARTBEAT_LOG_EVENT: the current file name (the rest of the body); log_pos in the header.
 * HEARTBEAT_LOG_EVENT_V2: fields as <type packed> <length packed> <value>, ended by type 0;
 *   1 = file name (bytes), 2 = position (a packed integer inside the field). */
static int ev_heartbeat(bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, char *err, size_t errlen) {
    bt_dec_event_init(dec, c, ev, BT_EV_HEARTBEAT);
    if (c->type == BT_HEARTBEAT_LOG_EVENT) {
        size_t n = c->len;
        if (n > 1024) return bt_dec_fail(dec, c, err, errlen, "impossible file name length %zu", n);
        ev->u.rotate.next_file = bt_dec_keep_text(dec, c->body, n);
        ev->u.rotate.pos = c->log_pos;
    } else {
        bt_rd_t r;
        bt_rd_init(&r, c->body, c->len);
        const char *name = NULL;
        uint64_t pos = 0;
        while (bt_rd_left(&r) > 0) {
            uint64_t type, len;
            const uint8_t *v;
            if (!bt_rd_packed(&r, &type, "field type")) return bt_dec_malformed(dec, c, &r, err, errlen);
            if (type == 0) break;
            if (!bt_rd_packed(&r, &len, "field length") || !bt_rd_bytes(&r, len, &v, "field value"))
                return bt_dec_malformed(dec, c, &r, err, errlen);
            if (type == 1) {
                if (len > 1024) return bt_dec_fail(dec, c, err, errlen, "impossible file name length %llu",
                                                   (unsigned long long)len);
                name = bt_dec_keep_text(dec, v, len);
            } else if (type == 2) {
                bt_rd_t f;
                bt_rd_init(&f, v, len);
                if (!bt_rd_packed(&f, &pos, "log position")) return bt_dec_malformed(dec, c, &f, err, errlen);
            }
        }
        ev->u.rotate.next_file = name ? name : bt_dec_keep_text(dec, (const uint8_t *)"", 0);
        ev->u.rotate.pos = pos;
    }
    if (!ev->u.rotate.next_file) return bt_dec_fail(dec, c, err, errlen, "out of memory");
    return 0;
}

/* INCIDENT_EVENT: incident u16 (1 = LOST_EVENTS) | message length u8 | message. Always an
 * error: the server says events are missing from here on. */
static int ev_incident(bt_decoder_t *dec, const bt_evctx_t *c, char *err, size_t errlen) {
    bt_rd_t r;
    bt_rd_init(&r, c->body, c->len);
    uint16_t kind = 0;
    uint8_t mlen = 0;
    const uint8_t *msg = (const uint8_t *)"";
    if (!bt_rd_u16(&r, &kind, "incident number")) return bt_dec_malformed(dec, c, &r, err, errlen);
    if (bt_rd_left(&r) > 0 && (!bt_rd_u8(&r, &mlen, "message length") || !bt_rd_bytes(&r, mlen, &msg, "message")))
        return bt_dec_malformed(dec, c, &r, err, errlen);
    return bt_dec_fail(dec, c, err, errlen, "the server logged incident %u (%s): \"%.*s\"; events may be missing",
                       (unsigned)kind, kind == 1 ? "LOST_EVENTS" : "unknown incident", (int)mlen, (const char *)msg);
}

/* START_ENCRYPTION_EVENT (MariaDB): scheme u8 | key_version u32 | nonce[12]. What follows is
 * encrypted, so this is where decoding must stop. */
static int ev_start_encryption(bt_decoder_t *dec, const bt_evctx_t *c, char *err, size_t errlen) {
    bt_rd_t r;
    bt_rd_init(&r, c->body, c->len);
    uint8_t scheme = 0;
    uint32_t key_version = 0;
    if (!bt_rd_u8(&r, &scheme, "scheme") || !bt_rd_u32(&r, &key_version, "key_version"))
        return bt_dec_malformed(dec, c, &r, err, errlen);
    return bt_dec_fail(dec, c, err, errlen,
                       "encrypted binlog not supported: MariaDB encrypt_binlog=ON (scheme %u, key version %u); "
                       "read the events from the server over replication instead",
                       (unsigned)scheme, key_version);
}

/* XA_PREPARE_LOG_EVENT: one_phase u8 | formatID u32 | gtrid_length u32 | bqual_length u32 |
 * data[gtrid_length + bqual_length] (each at most 64). Ends the prepared part of an XA
 * transaction like a commit does. */
static int ev_xa_prepare(bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, char *err, size_t errlen) {
    bt_rd_t r;
    bt_rd_init(&r, c->body, c->len);
    uint8_t one_phase;
    uint32_t fmt, glen, blen;
    if (!bt_rd_u8(&r, &one_phase, "one_phase") || !bt_rd_u32(&r, &fmt, "formatID") ||
        !bt_rd_u32(&r, &glen, "gtrid_length") || !bt_rd_u32(&r, &blen, "bqual_length"))
        return bt_dec_malformed(dec, c, &r, err, errlen);
    if (glen > 64 || blen > 64)
        return bt_dec_fail(dec, c, err, errlen, "impossible XID lengths gtrid %u, bqual %u (at most 64 each)", glen,
                           blen);
    const uint8_t *data;
    if (!bt_rd_bytes(&r, (size_t)glen + blen, &data, "XID data")) return bt_dec_malformed(dec, c, &r, err, errlen);
    bt_dec_event_init(dec, c, ev, BT_EV_COMMIT);
    ev->u.xa.one_phase = one_phase != 0;
    /* the form XA COMMIT and XA ROLLBACK statements carry in the binlog */
    static const char hex[] = "0123456789abcdef";
    char *o = ev->u.xa.xid;
    *o++ = 'X', *o++ = '\'';
    for (uint32_t i = 0; i < glen; i++) *o++ = hex[data[i] >> 4], *o++ = hex[data[i] & 15];
    *o++ = '\'', *o++ = ',', *o++ = 'X', *o++ = '\'';
    for (uint32_t i = glen; i < glen + blen; i++) *o++ = hex[data[i] >> 4], *o++ = hex[data[i] & 15];
    snprintf(o, sizeof ev->u.xa.xid - (size_t)(o - ev->u.xa.xid), "',%u", fmt);
    return 0;
}

int bt_ev_control(bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, char *err, size_t errlen) {
    bt_rd_t r;
    bt_rd_init(&r, c->body, c->len);
    switch (c->type) {
    case BT_ROTATE_EVENT:
        return ev_rotate(dec, c, ev, err, errlen);
    case BT_STOP_EVENT:
        bt_dec_event_init(dec, c, ev, BT_EV_STOP);
        return 0;
    case BT_XID_EVENT: { /* XID_EVENT: xid u64 */
        uint64_t xid;
        if (!bt_rd_u64(&r, &xid, "xid")) return bt_dec_malformed(dec, c, &r, err, errlen);
        bt_dec_event_init(dec, c, ev, BT_EV_COMMIT);
        ev->u.xid.xid = xid;
        return 0;
    }
    case BT_XA_PREPARE_LOG_EVENT:
        return ev_xa_prepare(dec, c, ev, err, errlen);
    case BT_HEARTBEAT_LOG_EVENT:
    case BT_HEARTBEAT_LOG_EVENT_V2:
        return ev_heartbeat(dec, c, ev, err, errlen);
    case BT_INCIDENT_EVENT:
        return ev_incident(dec, c, err, errlen);
    case BT_MARIA_START_ENCRYPTION_EVENT:
        return ev_start_encryption(dec, c, err, errlen);
    case BT_INTVAR_EVENT: /* type u8 | value u64 */
        if (!bt_rd_skip(&r, 9, "INTVAR value")) return bt_dec_malformed(dec, c, &r, err, errlen);
        break;
    case BT_RAND_EVENT: /* seed1 u64 | seed2 u64 */
        if (!bt_rd_skip(&r, 16, "RAND seeds")) return bt_dec_malformed(dec, c, &r, err, errlen);
        break;
    case BT_MARIA_BINLOG_CHECKPOINT_EVENT: { /* name length u32 | name */
        uint32_t n;
        if (!bt_rd_u32(&r, &n, "file name length") || !bt_rd_skip(&r, n, "file name"))
            return bt_dec_malformed(dec, c, &r, err, errlen);
        break;
    }
    default: /* USER_VAR, BEGIN_LOAD_QUERY, APPEND_BLOCK, DELETE_FILE, IGNORABLE, group replication */
        break;
    }
    bt_dec_event_init(dec, c, ev, BT_EV_OTHER);
    return 0;
}
