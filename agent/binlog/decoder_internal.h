/* decoder_internal.h: what the binlog decoder's files share (private to agent/binlog/).
 *
 * DESIGN. decoder.c owns the decoder object, checks each fed event's header and checksum, and
 * dispatches its body to one decoder per event family (ev_control.c, ev_query.c, ev_gtid.c,
 * table_map.c, rows.c, payload.c). Every body decoder reads through a bt_rd_t, a cursor that
 * checks bounds before each read; a short read makes the reader "bad" and the decoder reports
 * one "malformed" error naming the field it wanted. Nothing here allocates per row: row images
 * decode into value arrays the decoder keeps (grown per table width, not per row) and into a
 * per-row arena that is reset before each row. */
#ifndef BT_DECODER_INTERNAL_H
#define BT_DECODER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "agent/binlog/binlog.h"
#include "agent/binlog/value.h"
#include "lib/lib.h"
#include "codecs/codecs.h"

#define BT_EV_HEADER_LEN 19      /* v4 common header: ts(4) type(1) server_id(4) size(4) log_pos(4) flags(2) */
#define BT_CRC_LEN 4
#define BT_LOG_EVENT_BINLOG_IN_USE_F 0x1
#define BT_LOG_EVENT_IGNORABLE_F 0x80
#define BT_DEFAULT_MAX_EVENT ((size_t)1 << 30)

/* Old event types that have no name in binlog.h but occur in real files. */
enum {
    BT_LOAD_EVENT = 6,
    BT_SLAVE_EVENT = 7,
    BT_CREATE_FILE_EVENT = 8,
    BT_APPEND_BLOCK_EVENT = 9,
    BT_EXEC_LOAD_EVENT = 10,
    BT_DELETE_FILE_EVENT = 11,
    BT_NEW_LOAD_EVENT = 12,
    BT_PRE_GA_WRITE_ROWS_EVENT = 20,
    BT_PRE_GA_UPDATE_ROWS_EVENT = 21,
    BT_PRE_GA_DELETE_ROWS_EVENT = 22,
};

/* ---- bounds-checked little-endian reader ------------------------------------------------ */

typedef struct bt_rd {
    const uint8_t *p, *end;
    const char *want; /* the field a failed read wanted (for the error message) */
} bt_rd_t;

static inline void bt_rd_init(bt_rd_t *r, const uint8_t *p, size_t n) {
    r->p = p;
    r->end = p + n;
    r->want = NULL;
}
static inline size_t bt_rd_left(const bt_rd_t *r) { return (size_t)(r->end - r->p); }
/* True when n more bytes are there; otherwise records what was wanted and returns false. */
static inline bool bt_rd_need(bt_rd_t *r, size_t n, const char *what) {
    if ((size_t)(r->end - r->p) >= n) return true;
    if (!r->want) r->want = what;
    return false;
}

/* Fixed-width reads: false (and r->want set) on a short read; *v untouched then. */
static inline bool bt_rd_u8(bt_rd_t *r, uint8_t *v, const char *what) {
    if (!bt_rd_need(r, 1, what)) return false;
    *v = *r->p++;
    return true;
}
static inline bool bt_rd_u16(bt_rd_t *r, uint16_t *v, const char *what) {
    if (!bt_rd_need(r, 2, what)) return false;
    *v = bt_le16(r->p);
    r->p += 2;
    return true;
}
static inline bool bt_rd_u32(bt_rd_t *r, uint32_t *v, const char *what) {
    if (!bt_rd_need(r, 4, what)) return false;
    *v = bt_le32(r->p);
    r->p += 4;
    return true;
}
static inline bool bt_rd_u64(bt_rd_t *r, uint64_t *v, const char *what) {
    if (!bt_rd_need(r, 8, what)) return false;
    *v = bt_le64(r->p);
    r->p += 8;
    return true;
}
static inline bool bt_rd_bytes(bt_rd_t *r, size_t n, const uint8_t **out, const char *what) {
    if (!bt_rd_need(r, n, what)) return false;
    *out = r->p;
    r->p += n;
    return true;
}
static inline bool bt_rd_skip(bt_rd_t *r, size_t n, const char *what) {
    if (!bt_rd_need(r, n, what)) return false;
    r->p += n;
    return true;
}
/* MySQL's packed integer (net_field_length): < 251 one byte; 252 + 2 bytes; 253 + 3; 254 + 8.
 * 251 (the NULL marker) and 255 are not valid lengths here. */
static inline bool bt_rd_packed(bt_rd_t *r, uint64_t *v, const char *what) {
    if (!bt_rd_need(r, 1, what)) return false;
    uint8_t b = r->p[0];
    if (b < 251) {
        *v = b;
        r->p++;
        return true;
    }
    size_t n = b == 252 ? 2 : b == 253 ? 3 : b == 254 ? 8 : 0;
    if (n == 0 || !bt_rd_need(r, 1 + n, what)) {
        if (!r->want) r->want = what;
        return false;
    }
    *v = n == 2 ? bt_le16(r->p + 1) : n == 3 ? bt_le24(r->p + 1) : bt_le64(r->p + 1);
    r->p += 1 + n;
    return true;
}

/* Bit i (LSB first within each byte), as MySQL's bitmaps in rows events and TABLE_MAP. */
static inline bool bt_bit(const uint8_t *map, uint32_t i) { return (map[i >> 3] >> (i & 7)) & 1; }
/* Bit i, MSB first within each byte, as the TABLE_MAP optional metadata bitmaps. */
static inline bool bt_bit_msb(const uint8_t *map, uint32_t i) { return (map[i >> 3] >> (7 - (i & 7))) & 1; }

/* ---- the event being decoded ------------------------------------------------------------ */

typedef struct bt_evctx {
    uint8_t type;
    uint16_t flags;
    uint32_t timestamp, server_id;
    uint32_t log_pos;    /* header's next-event position (heartbeats: the server's position) */
    uint64_t pos, end_pos;
    bool in_payload;
    const uint8_t *body; /* after the common header; the checksum is not part of it */
    size_t len;
} bt_evctx_t;

/* ---- tables ----------------------------------------------------------------------------- */

typedef struct bt_pool_chunk bt_pool_chunk_t;
/* A table with the memory that holds its columns, names and labels (freed in one go). */
typedef struct bt_table_entry {
    bt_table_t t;
    struct bt_table_entry *next; /* hash chain */
    bt_pool_chunk_t *pool;
    uint32_t njson;              /* JSON columns (PARTIAL_UPDATE_ROWS partial bits) */
} bt_table_entry_t;

/* ---- the decoder ------------------------------------------------------------------------ */

struct bt_decoder {
    bt_decoder_opts_t opts;
    char *file;

    /* format */
    bt_fde_t fde;
    bool have_fde;
    uint8_t hdr_len;        /* common header length from the FDE (19 for v4) */
    uint8_t post[256];      /* post-header length per event type (0 = unknown) */
    uint16_t npost;
    uint8_t alg;            /* checksum algorithm in force: 0 none, 1 CRC32 */

    /* the event fed last */
    const uint8_t *ev;
    size_t ev_len;
    uint64_t ev_pos;
    bool pending;           /* fed, not yet returned by next() */

    /* TRANSACTION_PAYLOAD in progress */
    struct {
        bool active;
        bool compressed;
        bt_decompressor_t *z;
        const uint8_t *in;  /* compressed bytes not yet consumed (inside the fed event) */
        size_t inlen;
        uint64_t left;      /* uncompressed bytes still to come */
        uint64_t total;     /* declared uncompressed size */
        uint8_t *buf;       /* the current inner event */
        size_t cap;
        uint64_t pos, end_pos;
        uint32_t nevents;
        bool frame_done;    /* the zstd frame has ended (decompressor returned 1) */
    } pl;

    /* tables: table id -> entry */
    bt_table_entry_t **buckets;
    uint32_t nbuckets, ntables;
    bt_table_entry_t *last; /* one-entry lookup cache */

    /* rows */
    bt_arena_t arena;       /* per-row values, reset before each row */
    bt_value_t *vals;       /* 2 * vals_cap values: the before and after images */
    uint32_t vals_cap;
    bt_row_t before, after;
    uint8_t *zbuf;          /* MariaDB compressed event, inflated */
    size_t zcap;

    /* texts that events point to (valid until the next feed) */
    bt_buf_t text;
};

/* Error helpers: "FILE:POS: TYPE: message"; always return -1. */
int bt_dec_fail(const bt_decoder_t *dec, const bt_evctx_t *c, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The one malformed path: names the field a short read wanted. */
int bt_dec_malformed(const bt_decoder_t *dec, const bt_evctx_t *c, const bt_rd_t *r, char *err, size_t errlen);

/* Post-header length of a type from the FDE, or dflt when the FDE does not list it. */
static inline unsigned bt_dec_post_len(const bt_decoder_t *dec, uint8_t type, unsigned dflt) {
    if (dec->have_fde && type >= 1 && type <= dec->npost && dec->post[type - 1]) return dec->post[type - 1];
    return dflt;
}

/* Whether an FDE body (after the common header) ends in the checksum-algorithm byte and 4
 * checksum bytes: servers from MySQL 5.6.1 and MariaDB 5.3 on write them. */
bool bt_fde_has_alg(const uint8_t *body, size_t len);

/* A NUL-terminated copy of n bytes in dec->text (valid until the next feed), NULL when out of
 * memory. Pointers from earlier calls for the same event may move: call it once per event. */
const char *bt_dec_keep_text(bt_decoder_t *dec, const void *p, size_t n);

/* Fills ev's common fields from c. */
void bt_dec_event_init(const bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, bt_ev_kind_t kind);

/* Decodes one event body (top level or from a payload) into ev. */
int bt_dec_dispatch(bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, char *err, size_t errlen);

/* Body decoders, one per family. Each fills ev; returns 0 or -1 with err. */
int bt_ev_fde(bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, char *err, size_t errlen);
int bt_ev_control(bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, char *err, size_t errlen);
int bt_ev_query(bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, char *err, size_t errlen);
int bt_ev_rows_query(bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, char *err, size_t errlen);
int bt_ev_gtid(bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, char *err, size_t errlen);
int bt_ev_gtid_set(bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, char *err, size_t errlen);
int bt_ev_table_map(bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, char *err, size_t errlen);
int bt_ev_rows(bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, char *err, size_t errlen);
/* Starts a TRANSACTION_PAYLOAD; its inner events come from bt_payload_next(). */
int bt_ev_payload(bt_decoder_t *dec, const bt_evctx_t *c, bt_event_t *ev, char *err, size_t errlen);
/* 1 = the next inner event is in *c (body valid until the next call), 0 = payload done, -1 error. */
int bt_payload_next(bt_decoder_t *dec, bt_evctx_t *c, char *err, size_t errlen);
void bt_payload_reset(bt_decoder_t *dec);

/* MariaDB compressed body: header byte 0x80|nlen (alg in bits 4-6, 0 = zlib), nlen big-endian
 * length bytes, then a zlib stream. Inflates into dec->zbuf and points out and outlen there. */
int bt_dec_inflate_mariadb(bt_decoder_t *dec, const bt_evctx_t *c, const uint8_t *p, size_t n,
                           const uint8_t **out, size_t *outlen, char *err, size_t errlen);

/* Tables (table_map.c). */
bt_table_entry_t *bt_tables_find(bt_decoder_t *dec, uint64_t id);
void bt_tables_clear(bt_decoder_t *dec);
/* At a transaction start: drops all tables when the store has grown past its soft limit. */
void bt_tables_trim(bt_decoder_t *dec);
void bt_tables_free(bt_decoder_t *dec);

/* GTID of a MySQL UUID as text (36 chars + NUL). */
void bt_uuid_text(const uint8_t uuid[16], char out[37]);

#endif
