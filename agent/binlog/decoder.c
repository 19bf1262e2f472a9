/* decoder.c: the binlog decoder object: takes whole events, checks their common header and
 * CRC32, and hands each body to the decoder of its event family (see decoder_internal.h).
 *
 * Common header (binlog v4, 19 bytes, little-endian):
 *   timestamp u32 | type u8 | server_id u32 | event_size u32 | log_pos u32 | flags u16
 * event_size counts the whole event, header and checksum included. With binlog_checksum=CRC32
 * the last 4 bytes are zlib's crc32 of everything before them (for a FORMAT_DESCRIPTION, with
 * the LOG_EVENT_BINLOG_IN_USE_F flag bit taken as clear, since the server flips that bit in
 * place when it closes the file). Events inside a TRANSACTION_PAYLOAD carry no checksum. */
#include "agent/binlog/decoder_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <libdeflate.h> /* CRC32 with carry-less multiply: 2-3x zlib's, and every byte is checked */

bt_decoder_t *bt_decoder_new(const bt_decoder_opts_t *opts) {
    bt_decoder_t *dec = calloc(1, sizeof *dec);
    if (!dec) return NULL;
    if (opts) dec->opts = *opts;
    if (!dec->opts.max_event_bytes) dec->opts.max_event_bytes = BT_DEFAULT_MAX_EVENT;
    if (!dec->opts.max_row_bytes) dec->opts.max_row_bytes = (size_t)1 << 30;
    dec->hdr_len = BT_EV_HEADER_LEN;
    dec->fde.checksum_alg = 0;
    bt_arena_init(&dec->arena, dec->opts.max_row_bytes);
    bt_buf_init(&dec->text, dec->opts.max_event_bytes);
    dec->file = strdup("");
    if (!dec->file) {
        free(dec);
        return NULL;
    }
    return dec;
}

void bt_decoder_free(bt_decoder_t *dec) {
    if (!dec) return;
    bt_payload_reset(dec);
    bt_decompressor_free(dec->pl.z);
    free(dec->pl.buf);
    bt_tables_free(dec);
    bt_arena_free(&dec->arena);
    bt_buf_free(&dec->text);
    free(dec->vals);
    free(dec->zbuf);
    free(dec->file);
    free(dec);
    /* One decoder per thread is the rule: its converters and scratch space go with it. */
    bt_value_release_thread();
}

void bt_decoder_set_file(bt_decoder_t *dec, const char *file) {
    char *f = strdup(file ? file : "");
    if (!f) return; /* keep the old name rather than lose coordinates */
    free(dec->file);
    dec->file = f;
}

void bt_decoder_set_checksum(bt_decoder_t *dec, uint8_t alg) {
    dec->alg = alg == 1 ? 1 : 0;
    dec->fde.checksum_alg = dec->alg;
}

const bt_fde_t *bt_decoder_fde(const bt_decoder_t *dec) { return &dec->fde; }

/* ---- names and errors ------------------------------------------------------------------- */

const char *bt_event_type_name(uint8_t type) {
    switch (type) {
    case BT_UNKNOWN_EVENT: return "UNKNOWN_EVENT";
    case BT_START_EVENT_V3: return "START_EVENT_V3";
    case BT_QUERY_EVENT: return "QUERY_EVENT";
    case BT_STOP_EVENT: return "STOP_EVENT";
    case BT_ROTATE_EVENT: return "ROTATE_EVENT";
    case BT_INTVAR_EVENT: return "INTVAR_EVENT";
    case BT_LOAD_EVENT: return "LOAD_EVENT";
    case BT_SLAVE_EVENT: return "SLAVE_EVENT";
    case BT_CREATE_FILE_EVENT: return "CREATE_FILE_EVENT";
    case BT_APPEND_BLOCK_EVENT: return "APPEND_BLOCK_EVENT";
    case BT_EXEC_LOAD_EVENT: return "EXEC_LOAD_EVENT";
    case BT_DELETE_FILE_EVENT: return "DELETE_FILE_EVENT";
    case BT_NEW_LOAD_EVENT: return "NEW_LOAD_EVENT";
    case BT_RAND_EVENT: return "RAND_EVENT";
    case BT_USER_VAR_EVENT: return "USER_VAR_EVENT";
    case BT_FORMAT_DESCRIPTION_EVENT: return "FORMAT_DESCRIPTION_EVENT";
    case BT_XID_EVENT: return "XID_EVENT";
    case BT_BEGIN_LOAD_QUERY_EVENT: return "BEGIN_LOAD_QUERY_EVENT";
    case BT_EXECUTE_LOAD_QUERY_EVENT: return "EXECUTE_LOAD_QUERY_EVENT";
    case BT_TABLE_MAP_EVENT: return "TABLE_MAP_EVENT";
    case BT_PRE_GA_WRITE_ROWS_EVENT: return "PRE_GA_WRITE_ROWS_EVENT";
    case BT_PRE_GA_UPDATE_ROWS_EVENT: return "PRE_GA_UPDATE_ROWS_EVENT";
    case BT_PRE_GA_DELETE_ROWS_EVENT: return "PRE_GA_DELETE_ROWS_EVENT";
    case BT_WRITE_ROWS_EVENT_V1: return "WRITE_ROWS_EVENT_V1";
    case BT_UPDATE_ROWS_EVENT_V1: return "UPDATE_ROWS_EVENT_V1";
    case BT_DELETE_ROWS_EVENT_V1: return "DELETE_ROWS_EVENT_V1";
    case BT_INCIDENT_EVENT: return "INCIDENT_EVENT";
    case BT_HEARTBEAT_LOG_EVENT: return "HEARTBEAT_LOG_EVENT";
    case BT_IGNORABLE_LOG_EVENT: return "IGNORABLE_LOG_EVENT";
    case BT_ROWS_QUERY_LOG_EVENT: return "ROWS_QUERY_LOG_EVENT";
    case BT_WRITE_ROWS_EVENT: return "WRITE_ROWS_EVENT";
    case BT_UPDATE_ROWS_EVENT: return "UPDATE_ROWS_EVENT";
    case BT_DELETE_ROWS_EVENT: return "DELETE_ROWS_EVENT";
    case BT_GTID_LOG_EVENT: return "GTID_LOG_EVENT";
    case BT_ANONYMOUS_GTID_LOG_EVENT: return "ANONYMOUS_GTID_LOG_EVENT";
    case BT_PREVIOUS_GTIDS_LOG_EVENT: return "PREVIOUS_GTIDS_LOG_EVENT";
    case BT_TRANSACTION_CONTEXT_EVENT: return "TRANSACTION_CONTEXT_EVENT";
    case BT_VIEW_CHANGE_EVENT: return "VIEW_CHANGE_EVENT";
    case BT_XA_PREPARE_LOG_EVENT: return "XA_PREPARE_LOG_EVENT";
    case BT_PARTIAL_UPDATE_ROWS_EVENT: return "PARTIAL_UPDATE_ROWS_EVENT";
    case BT_TRANSACTION_PAYLOAD_EVENT: return "TRANSACTION_PAYLOAD_EVENT";
    case BT_HEARTBEAT_LOG_EVENT_V2: return "HEARTBEAT_LOG_EVENT_V2";
    case BT_GTID_TAGGED_LOG_EVENT: return "GTID_TAGGED_LOG_EVENT";
    case BT_MARIA_ANNOTATE_ROWS_EVENT: return "ANNOTATE_ROWS_EVENT";
    case BT_MARIA_BINLOG_CHECKPOINT_EVENT: return "BINLOG_CHECKPOINT_EVENT";
    case BT_MARIA_GTID_EVENT: return "MARIADB_GTID_EVENT";
    case BT_MARIA_GTID_LIST_EVENT: return "MARIADB_GTID_LIST_EVENT";
    case BT_MARIA_START_ENCRYPTION_EVENT: return "START_ENCRYPTION_EVENT";
    case BT_MARIA_QUERY_COMPRESSED_EVENT: return "QUERY_COMPRESSED_EVENT";
    case BT_MARIA_WRITE_ROWS_COMPRESSED_EVENT_V1: return "WRITE_ROWS_COMPRESSED_EVENT_V1";
    case BT_MARIA_UPDATE_ROWS_COMPRESSED_EVENT_V1: return "UPDATE_ROWS_COMPRESSED_EVENT_V1";
    case BT_MARIA_DELETE_ROWS_COMPRESSED_EVENT_V1: return "DELETE_ROWS_COMPRESSED_EVENT_V1";
    case BT_MARIA_WRITE_ROWS_COMPRESSED_EVENT: return "WRITE_ROWS_COMPRESSED_EVENT";
    case BT_MARIA_UPDATE_ROWS_COMPRESSED_EVENT: return "UPDATE_ROWS_COMPRESSED_EVENT";
    case BT_MARIA_DELETE_ROWS_COMPRESSED_EVENT: return "DELETE_ROWS_COMPRESSED_EVENT";
    }
    static _Thread_local char buf[16];
    snprintf(buf, sizeof buf, "UNKNOWN(%u)", (unsigned)type);
    return buf;
}

static void vfail(const bt_decoder_t *dec, const bt_evctx_t *c, char *err, size_t errlen, const char *fmt,
                  va_list ap) __attribute__((format(printf, 5, 0)));

static void vfail(const bt_decoder_t *dec, const bt_evctx_t *c, char *err, size_t errlen, const char *fmt,
                  va_list ap) {
    if (!err || !errlen) return;
    int n = snprintf(err, errlen, "%s:%llu: %s%s: ", dec->file, (unsigned long long)c->pos,
                     bt_event_type_name(c->type), c->in_payload ? " (in TRANSACTION_PAYLOAD)" : "");
    if (n < 0 || (size_t)n >= errlen) return;
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
}

int bt_dec_fail(const bt_decoder_t *dec, const bt_evctx_t *c, char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(dec, c, err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

int bt_dec_malformed(const bt_decoder_t *dec, const bt_evctx_t *c, const bt_rd_t *r, char *err, size_t errlen) {
    return bt_dec_fail(dec, c, err, errlen, "malformed event: %zu-byte body ends before %s", c->len,
                       r && r->want ? r->want : "its end");
}

void bt_dec_event_init(const bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, bt_ev_kind_t kind) {
    memset(ev, 0, sizeof *ev);
    ev->kind = kind;
    ev->type = c->type;
    ev->flags = c->flags;
    ev->timestamp = c->timestamp;
    ev->server_id = c->server_id;
    ev->file = dec->file;
    ev->pos = c->pos;
    ev->end_pos = c->end_pos;
    ev->in_payload = c->in_payload;
}

const char *bt_dec_keep_text(bt_decoder_t *dec, const void *p, size_t n) {
    size_t at = dec->text.len;
    if (!bt_buf_append(&dec->text, p, n) || !bt_buf_putc(&dec->text, 0)) return NULL;
    return dec->text.p + at;
}

/* ---- feeding ---------------------------------------------------------------------------- */

/* Whether an FDE body carries the checksum-algorithm byte: servers from MySQL 5.6.1 and
 * MariaDB 5.3 on write it (followed by the 4 checksum bytes, whatever the algorithm). */
bool bt_fde_has_alg(const uint8_t *body, size_t len) {
    if (len < 2 + 50) return false;
    char ver[51];
    memcpy(ver, body + 2, 50);
    ver[50] = 0;
    unsigned a = 0, b = 0, c = 0;
    if (sscanf(ver, "%u.%u.%u", &a, &b, &c) < 2) return false;
    unsigned v = a * 10000 + b * 100 + c;
    if (strstr(ver, "MariaDB") || strstr(ver, "-maria-")) return v >= 50300;
    return v >= 50601;
}

int bt_decoder_feed(bt_decoder_t *dec, const uint8_t *ev, size_t len, uint64_t pos, char *err, size_t errlen) {
    bt_payload_reset(dec);
    dec->pending = false;
    bt_evctx_t c = {.pos = pos};
    if (len >= 5) c.type = ev[4];
    if (len < BT_EV_HEADER_LEN)
        return bt_dec_fail(dec, &c, err, errlen, "impossible length: %zu bytes, shorter than the %d-byte header",
                           len, BT_EV_HEADER_LEN);
    uint32_t size = bt_le32(ev + 9);
    if (size != len)
        return bt_dec_fail(dec, &c, err, errlen, "impossible length: the header says %u bytes, %zu were fed", size,
                           len);
    if (len > dec->opts.max_event_bytes)
        return bt_dec_fail(dec, &c, err, errlen, "event of %zu bytes exceeds the limit of %zu bytes", len,
                           dec->opts.max_event_bytes);
    uint8_t alg = dec->alg;
    bool fde = c.type == BT_FORMAT_DESCRIPTION_EVENT, strip;
    if (fde) {
        /* The FDE says itself whether it (and what follows) is checksummed. A checksum-aware
         * server's FDE always ends in the algorithm byte and 4 checksum bytes, even with
         * binlog_checksum=NONE; those 4 bytes are only verified when the algorithm is CRC32. */
        alg = 0;
        strip = bt_fde_has_alg(ev + BT_EV_HEADER_LEN, len - BT_EV_HEADER_LEN);
        if (strip && len < BT_EV_HEADER_LEN + 57 + 5)
            return bt_dec_fail(dec, &c, err, errlen, "impossible length: %zu bytes cannot hold a FORMAT_DESCRIPTION",
                               len);
        if (strip) alg = ev[len - BT_CRC_LEN - 1] == 1 ? 1 : 0;
    } else {
        strip = alg == 1;
    }
    if (alg == 1) {
        if (len < BT_EV_HEADER_LEN + BT_CRC_LEN)
            return bt_dec_fail(dec, &c, err, errlen, "impossible length: %zu bytes leave no room for the checksum",
                               len);
        if (!dec->opts.skip_checksum) {
            uint32_t want = bt_le32(ev + len - BT_CRC_LEN);
            uint32_t crc;
            if (fde && (ev[17] & BT_LOG_EVENT_BINLOG_IN_USE_F)) {
                uint8_t flag = (uint8_t)(ev[17] & ~BT_LOG_EVENT_BINLOG_IN_USE_F);
                crc = libdeflate_crc32(0, ev, 17);
                crc = libdeflate_crc32(crc, &flag, 1);
                crc = libdeflate_crc32(crc, ev + 18, len - BT_CRC_LEN - 18);
            } else {
                crc = libdeflate_crc32(0, ev, len - BT_CRC_LEN);
            }
            if ((uint32_t)crc != want)
                return bt_dec_fail(dec, &c, err, errlen, "checksum mismatch: the event says 0x%08x, computed 0x%08x",
                                   want, crc);
        }
    }
    dec->ev = ev;
    dec->ev_len = len - (strip ? BT_CRC_LEN : 0);
    dec->ev_pos = pos;
    dec->pending = true;
    bt_buf_reset(&dec->text);
    return 0;
}

/* ---- decoding --------------------------------------------------------------------------- */

static bool is_rows_type(uint8_t t) {
    return (t >= BT_WRITE_ROWS_EVENT_V1 && t <= BT_DELETE_ROWS_EVENT_V1) ||
           (t >= BT_WRITE_ROWS_EVENT && t <= BT_DELETE_ROWS_EVENT) || t == BT_PARTIAL_UPDATE_ROWS_EVENT ||
           (t >= BT_MARIA_WRITE_ROWS_COMPRESSED_EVENT_V1 && t <= BT_MARIA_DELETE_ROWS_COMPRESSED_EVENT);
}

int bt_dec_dispatch(bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, char *err, size_t errlen) {
    uint8_t t = c->type;
    if (c->in_payload) {
        switch (t) {
        case BT_FORMAT_DESCRIPTION_EVENT:
        case BT_TRANSACTION_PAYLOAD_EVENT:
        case BT_ROTATE_EVENT:
        case BT_STOP_EVENT:
        case BT_GTID_LOG_EVENT:
        case BT_ANONYMOUS_GTID_LOG_EVENT:
        case BT_GTID_TAGGED_LOG_EVENT:
        case BT_PREVIOUS_GTIDS_LOG_EVENT:
            return bt_dec_fail(dec, c, err, errlen, "event type not allowed inside a TRANSACTION_PAYLOAD");
        default:
            break;
        }
    }
    if (is_rows_type(t)) return bt_ev_rows(dec, c, ev, err, errlen);
    switch (t) {
    case BT_FORMAT_DESCRIPTION_EVENT:
        return bt_ev_fde(dec, c, ev, err, errlen);
    case BT_QUERY_EVENT:
    case BT_MARIA_QUERY_COMPRESSED_EVENT:
    case BT_EXECUTE_LOAD_QUERY_EVENT:
        return bt_ev_query(dec, c, ev, err, errlen);
    case BT_ROWS_QUERY_LOG_EVENT:
    case BT_MARIA_ANNOTATE_ROWS_EVENT:
        return bt_ev_rows_query(dec, c, ev, err, errlen);
    case BT_GTID_LOG_EVENT:
    case BT_ANONYMOUS_GTID_LOG_EVENT:
    case BT_GTID_TAGGED_LOG_EVENT:
    case BT_MARIA_GTID_EVENT:
        return bt_ev_gtid(dec, c, ev, err, errlen);
    case BT_PREVIOUS_GTIDS_LOG_EVENT:
    case BT_MARIA_GTID_LIST_EVENT:
        return bt_ev_gtid_set(dec, c, ev, err, errlen);
    case BT_TABLE_MAP_EVENT:
        return bt_ev_table_map(dec, c, ev, err, errlen);
    case BT_TRANSACTION_PAYLOAD_EVENT:
        return bt_ev_payload(dec, c, ev, err, errlen);
    case BT_ROTATE_EVENT:
    case BT_STOP_EVENT:
    case BT_XID_EVENT:
    case BT_XA_PREPARE_LOG_EVENT:
    case BT_HEARTBEAT_LOG_EVENT:
    case BT_HEARTBEAT_LOG_EVENT_V2:
    case BT_INCIDENT_EVENT:
    case BT_MARIA_START_ENCRYPTION_EVENT:
    case BT_INTVAR_EVENT:
    case BT_RAND_EVENT:
    case BT_USER_VAR_EVENT:
    case BT_BEGIN_LOAD_QUERY_EVENT:
    case BT_APPEND_BLOCK_EVENT:
    case BT_DELETE_FILE_EVENT:
    case BT_IGNORABLE_LOG_EVENT:
    case BT_MARIA_BINLOG_CHECKPOINT_EVENT:
    case BT_TRANSACTION_CONTEXT_EVENT:
    case BT_VIEW_CHANGE_EVENT:
        return bt_ev_control(dec, c, ev, err, errlen);
    case BT_START_EVENT_V3:
        return bt_dec_fail(dec, c, err, errlen, "binlog format v1-v3 (MySQL before 5.0) is not supported");
    case BT_LOAD_EVENT:
    case BT_SLAVE_EVENT:
    case BT_CREATE_FILE_EVENT:
    case BT_EXEC_LOAD_EVENT:
    case BT_NEW_LOAD_EVENT:
        return bt_dec_fail(dec, c, err, errlen, "pre-5.0 LOAD DATA events are not supported");
    case BT_PRE_GA_WRITE_ROWS_EVENT:
    case BT_PRE_GA_UPDATE_ROWS_EVENT:
    case BT_PRE_GA_DELETE_ROWS_EVENT:
        return bt_dec_fail(dec, c, err, errlen, "pre-GA rows events (MySQL 5.1.0-5.1.15) are not supported");
    default:
        break;
    }
    if (c->flags & BT_LOG_EVENT_IGNORABLE_F) {
        bt_dec_event_init(dec, c, ev, BT_EV_OTHER);
        return 0;
    }
    return bt_dec_fail(dec, c, err, errlen, "unknown event type %u without the LOG_EVENT_IGNORABLE flag",
                       (unsigned)t);
}

/* dispatch, then the bookkeeping every event gets */
static int decode(bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, char *err, size_t errlen) {
    if (bt_dec_dispatch(dec, c, ev, err, errlen) < 0) return -1;
    if (ev->kind == BT_EV_GTID || ev->kind == BT_EV_BEGIN) bt_tables_trim(dec);
    return 0;
}

int bt_decoder_next(bt_decoder_t *dec, bt_event_t *ev, char *err, size_t errlen) {
    bt_evctx_t c;
    if (dec->pl.active) {
        int r = bt_payload_next(dec, &c, err, errlen);
        if (r <= 0) {
            bt_payload_reset(dec);
            return r;
        }
        return decode(dec, &c, ev, err, errlen) < 0 ? -1 : 1;
    }
    if (!dec->pending) return 0;
    dec->pending = false;
    const uint8_t *e = dec->ev;
    memset(&c, 0, sizeof c);
    c.type = e[4];
    c.timestamp = bt_le32(e);
    c.server_id = bt_le32(e + 5);
    c.log_pos = bt_le32(e + 13);
    c.flags = bt_le16(e + 17);
    c.pos = dec->ev_pos;
    c.end_pos = dec->ev_pos + bt_le32(e + 9);
    size_t hl = c.type == BT_FORMAT_DESCRIPTION_EVENT ? BT_EV_HEADER_LEN : dec->hdr_len;
    if (dec->ev_len < hl) {
        c.len = 0;
        return bt_dec_fail(dec, &c, err, errlen, "impossible length: %zu bytes, shorter than the %zu-byte header",
                           dec->ev_len, hl);
    }
    c.body = e + hl;
    c.len = dec->ev_len - hl;
    if (decode(dec, &c, ev, err, errlen) < 0) return -1;
    if (c.type == BT_TRANSACTION_PAYLOAD_EVENT && dec->pl.active) {
        /* The payload itself yields nothing: its inner events come one by one. */
        int r = bt_payload_next(dec, &c, err, errlen);
        if (r < 0) {
            bt_payload_reset(dec);
            return -1;
        }
        if (r == 0) { /* an empty payload: report it as informational */
            bt_payload_reset(dec);
            return 1;
        }
        return decode(dec, &c, ev, err, errlen) < 0 ? -1 : 1;
    }
    return 1;
}
