/* fuzz_decoder.c: libFuzzer target for the binlog decoder: arbitrary bytes as a stream of
 * events through bt_decoder_feed / bt_decoder_next / bt_rows_next, with every decoded value
 * rendered (bt_value_json, bt_value_text, bt_column_type_name).
 *
 * Input: byte 0 chooses the mode, the rest is events back to back (19-byte header each, framed
 * by its event_size as a file reader would; no "\xfebin" magic).
 *   mode & 0x80: the events start with their own FORMAT_DESCRIPTION (any server);
 *   otherwise a FORMAT_DESCRIPTION built here goes first: mode & 3 picks MySQL 8.0 (CRC32),
 *   MySQL 5.7 (checksum NONE), MariaDB 10.5 (CRC32) or MySQL 5.1 (before checksums); with
 *   mode & 4 the harness rewrites each event's CRC32 so mutations get past verification;
 *   mode & 8 sets a schema callback that names columns.
 * Build and run: scripts/fuzz [SECONDS]. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "agent/binlog/binlog.h"
#include "lib/lib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* A FORMAT_DESCRIPTION event: version, post-header lengths for types 1..n, checksum byte. */
static size_t make_fde(uint8_t *out, int variant) {
    static const uint8_t mysql8[] = {0, 13, 0, 8, 0, 0, 0, 0, 4, 0, 4, 0, 0, 0, 98, 0, 4, 26, 8, 0, 0,
                                     0, 8, 8, 8, 2, 0, 0, 0, 10, 10, 10, 42, 42, 0, 18, 52, 0, 10, 40, 0, 0};
    static const uint8_t mysql5[] = {56, 13, 0, 8, 0, 18, 0, 4, 4, 4, 4, 18, 0, 0, 95, 0, 4, 26, 8,
                                     0, 0, 0, 8, 8, 8, 2, 0, 0, 0, 10, 10, 10, 42, 42, 0, 18, 52, 0};
    uint8_t maria[171];
    memset(maria, 0, sizeof maria);
    memcpy(maria, mysql5, 32);
    static const uint8_t maria_tail[] = {4, 19, 4, 0, 13, 8, 8, 8, 10, 10, 10}; /* types 161..171 */
    memcpy(maria + 160, maria_tail, sizeof maria_tail);
    const char *ver;
    const uint8_t *post;
    size_t npost;
    int alg; /* -1: no checksum byte */
    switch (variant & 3) {
    case 0: ver = "8.0.40"; post = mysql8; npost = sizeof mysql8; alg = 1; break;
    case 1: ver = "5.7.20-log"; post = mysql5; npost = sizeof mysql5; alg = 0; break;
    case 2: ver = "10.5.15-MariaDB-log"; post = maria; npost = sizeof maria; alg = 1; break;
    default: ver = "5.1.23-rc-log"; post = mysql5; npost = 27; alg = -1; break;
    }
    size_t n = 19;
    out[n++] = 4;
    out[n++] = 0;
    memset(out + n, 0, 50);
    memcpy(out + n, ver, strlen(ver));
    n += 50;
    put32(out + n, 0);
    n += 4;
    out[n++] = 19;
    memcpy(out + n, post, npost);
    n += npost;
    if (alg >= 0) {
        out[n++] = (uint8_t)alg;
        n += 4;
    }
    memset(out, 0, 19);
    out[4] = BT_FORMAT_DESCRIPTION_EVENT;
    put32(out + 5, 1);
    put32(out + 9, (uint32_t)n);
    put32(out + 13, (uint32_t)(4 + n));
    if (alg >= 0) put32(out + n - 4, (uint32_t)crc32(0, out, (uInt)(n - 4)));
    return n;
}

static int schema_cb(void *ctx, bt_table_t *t, char *err, size_t errlen) {
    const char *names[4] = {"a", "b", "c", "d"};
    uint32_t pk[1] = {0};
    (void)ctx;
    (void)err;
    (void)errlen;
    return bt_table_set_names(NULL, t, names, t->ncols < 4 ? t->ncols : 4, pk, 1);
}

static void render_row(const bt_table_t *t, const bt_row_t *r, bt_buf_t *b) {
    if (!r) return;
    bt_jw_t w;
    bt_jw_init(&w, b);
    bt_jw_arr_begin(&w);
    for (uint32_t i = 0; i < r->ncols && i < t->ncols; i++) {
        bt_value_json(&w, &t->cols[i], &r->v[i]);
        bt_value_text(b, &t->cols[i], &r->v[i]);
    }
    bt_jw_arr_end(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    bt_decoder_opts_t opts = {.max_event_bytes = (size_t)1 << 20, .max_row_bytes = (size_t)1 << 22};
    if (mode & 8) opts.schema_cb = schema_cb;
    bt_decoder_t *dec = bt_decoder_new(&opts);
    if (!dec) return 0;
    bt_decoder_set_file(dec, "fuzz");
    bt_buf_t out;
    bt_buf_init(&out, (size_t)1 << 24);
    char err[512];
    uint8_t *ev = malloc(size + 256);
    uint64_t pos = 4;
    bool fix_crc = false;
    if (!(mode & 0x80)) {
        size_t n = make_fde(ev, mode);
        fix_crc = (mode & 4) && ((mode & 3) == 0 || (mode & 3) == 2);
        if (bt_decoder_feed(dec, ev, n, pos, err, sizeof err) < 0) goto done;
        bt_event_t e;
        while (bt_decoder_next(dec, &e, err, sizeof err) == 1) {
        }
        pos += n;
    }
    while (size >= 19) {
        uint32_t n = (uint32_t)data[9] | (uint32_t)data[10] << 8 | (uint32_t)data[11] << 16 | (uint32_t)data[12] << 24;
        if (n < 19 || n > size) break;
        memcpy(ev, data, n);
        if (fix_crc && n >= 23) put32(ev + n - 4, (uint32_t)crc32(0, ev, n - 4));
        data += n;
        size -= n;
        if (bt_decoder_feed(dec, ev, n, pos, err, sizeof err) < 0) break;
        pos += n;
        bt_event_t e;
        int r;
        while ((r = bt_decoder_next(dec, &e, err, sizeof err)) == 1) {
            (void)bt_event_type_name(e.type);
            if (e.kind == BT_EV_TABLE_MAP) {
                for (uint32_t i = 0; i < e.u.table->ncols; i++) {
                    bt_buf_reset(&out);
                    bt_column_type_name(&out, &e.u.table->cols[i]);
                }
            } else if (e.kind == BT_EV_ROWS) {
                const bt_row_t *b, *a;
                int k;
                while ((k = bt_rows_next(dec, &e, &b, &a, err, sizeof err)) == 1) {
                    bt_buf_reset(&out);
                    render_row(e.u.rows.table, b, &out);
                    render_row(e.u.rows.table, a, &out);
                }
                if (k < 0) break;
            } else if (e.kind == BT_EV_GTID_LIST) {
                if (strlen(e.u.gtid_list.text) > (size_t)1 << 24) abort();
            } else if (e.kind == BT_EV_ROTATE || e.kind == BT_EV_HEARTBEAT) {
                (void)strlen(e.u.rotate.next_file);
            } else if (e.kind == BT_EV_DDL || e.kind == BT_EV_DML_STATEMENT || e.kind == BT_EV_ROWS_QUERY) {
                bt_buf_reset(&out);
                bt_buf_append(&out, e.u.query.sql, e.u.query.sql_len);
                (void)strlen(e.u.query.db);
            }
        }
        if (r < 0) break;
    }
done:
    free(ev);
    bt_buf_free(&out);
    bt_decoder_free(dec);
    return 0;
}
