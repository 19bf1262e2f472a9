/* txn_gate.c: transaction completeness ahead of the reader (see txn_gate.h).
 *
 * How a group looks in the binlog, and where it ends:
 *   GTID | BEGIN | (TABLE_MAP | ROWS | ANNOTATE | INTVAR ...)* | XID or QUERY COMMIT/ROLLBACK
 *   GTID | QUERY <DDL>                         (MySQL DDL; MariaDB GTID flagged FL_STANDALONE)
 *   GTID | QUERY CREATE ... SELECT | rows | XID  (MariaDB without FL_STANDALONE; MySQL 8.0.21+,
 *                                               whose statement ends in START TRANSACTION)
 *   GTID | XA START | ... | XA END | XA_PREPARE (the prepared half of an XA transaction;
 *                                               MariaDB has no XA START: FL_PREPARED_XA)
 *   GTID | QUERY XA COMMIT / XA ROLLBACK       (its second half)
 *   GTID | TRANSACTION_PAYLOAD                 (MySQL 8 compression: the whole group inside)
 * Anything else outside a group (FORMAT_DESCRIPTION, PREVIOUS_GTIDS, GTID_LIST, checkpoints)
 * is complete by itself.
 *
 * DESIGN: the server writes a group whole, at its commit, and a server that died while
 * writing one starts a new file when it restarts. So a group followed by anything in the same
 * file (a new group, above all) was complete, even if the gate did not recognise its end: the
 * gate closes it there and never holds it back or drops it. Only a group still open where a
 * finished file ends is incomplete (bt_gate_finish); that is the one case it reports. */
#include "agent/source/txn_gate.h"

#include <string.h>

#include "agent/binlog/binlog.h"

#define HDR 19
#define QUERY_POST_HEADER 13 /* thread_id, exec_time, db_len, error_code, status_vars_len */
#define EXEC_LOAD_POST_HEADER 26
#define STATEMENT_MAX 65536  /* of a statement the gate reads: comments before the verb included */
#define MARIA_FL_STANDALONE 1
#define MARIA_FL_PREPARED_XA 64

void bt_gate_reset(bt_gate_t *g, uint64_t pos) {
    uint8_t crc = g->checksum_len;
    memset(g, 0, sizeof *g);
    g->horizon = g->scan = pos;
    g->checksum_len = crc; /* the file's format stays the same across a jump inside it */
}

/* until_end: the group ends only at XID, COMMIT, ROLLBACK or XA_PREPARE, not at a statement. */
static void open_group(bt_gate_t *g, bool body_begun, bool until_end) {
    g->in_group = true;
    g->body_begun = body_begun;
    g->until_end = until_end || body_begun;
    g->group_start = g->scan;
}

static void close_group(bt_gate_t *g, uint64_t end) {
    g->in_group = false;
    g->horizon = end;
}

/* The statement of a QUERY event: BT_GATE_NEED when more bytes are needed. */
static int query_kind(const bt_gate_t *g, const uint8_t *ev, size_t have, uint32_t size, size_t *need,
                      bt_ev_kind_t *kind, bool *starts_txn) {
    unsigned post = ev[4] == BT_EXECUTE_LOAD_QUERY_EVENT ? EXEC_LOAD_POST_HEADER : QUERY_POST_HEADER;
    size_t body_end = size - g->checksum_len;
    *starts_txn = false;
    if (HDR + post > body_end) {
        *kind = BT_EV_DDL; /* malformed: the decoder will say so; hold nothing back for it */
        return BT_GATE_OK;
    }
    if (have < HDR + post) {
        *need = HDR + post;
        return BT_GATE_NEED;
    }
    size_t db_len = ev[HDR + 8];
    size_t sv_len = (size_t)ev[HDR + 11] | (size_t)ev[HDR + 12] << 8;
    size_t text = HDR + post + sv_len + db_len + 1;
    if (text > body_end) {
        *kind = BT_EV_DDL;
        return BT_GATE_OK;
    }
    size_t want = body_end - text > STATEMENT_MAX ? text + STATEMENT_MAX : body_end;
    if (have < want) {
        *need = want;
        return BT_GATE_NEED;
    }
    *kind = bt_query_classify((const char *)ev + text, want - text);
    *starts_txn = want == body_end && bt_query_starts_transaction((const char *)ev + text, want - text);
    return BT_GATE_OK;
}

/* A QUERY inside or outside a group. */
static void on_query(bt_gate_t *g, bt_ev_kind_t kind, bool starts_txn, uint64_t end) {
    if (!g->in_group) {
        if (kind == BT_EV_BEGIN) open_group(g, true, true);
        else g->horizon = end;
        return;
    }
    switch (kind) {
    case BT_EV_BEGIN:
        if (g->body_begun) { /* a second BEGIN: the group before it was complete (DESIGN) */
            close_group(g, g->scan);
            open_group(g, true, true);
            return;
        }
        g->body_begun = g->until_end = true;
        return;
    case BT_EV_COMMIT:
    case BT_EV_ROLLBACK:
        close_group(g, end);
        return;
    case BT_EV_OTHER: /* XA END, SAVEPOINT: inside a body; else the statement is the group */
    default:
        if (g->until_end) return; /* inside BEGIN ... COMMIT (or a CREATE ... SELECT's group) */
        if (starts_txn) {         /* MySQL's CREATE TABLE ... SELECT: rows and XID follow */
            g->until_end = true;
            return;
        }
        close_group(g, end); /* GTID + DDL (or XA COMMIT): the statement is the group */
        return;
    }
}

/* A MariaDB GTID: the group is one statement (FL_STANDALONE), else it ends at XID/COMMIT
 * (BEGIN, a CREATE ... SELECT, or an XA prepare, which has no XA START). */
static int maria_gtid(bt_gate_t *g, const uint8_t *ev, size_t have, uint32_t size, size_t *need) {
    if (size < HDR + 13) {
        open_group(g, false, false);
        return BT_GATE_OK;
    }
    if (have < HDR + 13) {
        *need = HDR + 13;
        return BT_GATE_NEED;
    }
    uint8_t flags2 = ev[HDR + 12];
    open_group(g, false, !(flags2 & MARIA_FL_STANDALONE) || (flags2 & MARIA_FL_PREPARED_XA));
    return BT_GATE_OK;
}

int bt_gate_step(bt_gate_t *g, const uint8_t *ev, size_t have, uint32_t size, size_t *need) {
    uint64_t end = g->scan + size;
    if (g->off) {
        g->scan = g->horizon = end;
        return BT_GATE_OK;
    }
    uint8_t type = ev[4];
    switch (type) {
    case BT_FORMAT_DESCRIPTION_EVENT:
    case BT_ROTATE_EVENT:
    case BT_STOP_EVENT:
        if (type == BT_FORMAT_DESCRIPTION_EVENT) {
            if (have < size) {
                *need = size;
                return BT_GATE_NEED;
            }
            bool alg = size > HDR + 5 && bt_fde_has_alg(ev + HDR, size - HDR);
            g->checksum_len = alg && ev[size - 5] == 1 ? 4 : 0;
        }
        close_group(g, end); /* (an open group ended before it: see DESIGN) */
        break;
    case BT_GTID_LOG_EVENT:
    case BT_ANONYMOUS_GTID_LOG_EVENT:
    case BT_GTID_TAGGED_LOG_EVENT:
        if (g->in_group) close_group(g, g->scan);
        open_group(g, false, false);
        break;
    case BT_MARIA_GTID_EVENT: {
        if (g->in_group) close_group(g, g->scan);
        int rc = maria_gtid(g, ev, have, size, need);
        if (rc != BT_GATE_OK) return rc;
        break;
    }
    case BT_QUERY_EVENT:
    case BT_EXECUTE_LOAD_QUERY_EVENT:
    case BT_MARIA_QUERY_COMPRESSED_EVENT: {
        bt_ev_kind_t kind = BT_EV_DDL; /* only long statements are compressed: never BEGIN/COMMIT */
        bool starts_txn = false;
        if (type != BT_MARIA_QUERY_COMPRESSED_EVENT) {
            int rc = query_kind(g, ev, have, size, need, &kind, &starts_txn);
            if (rc != BT_GATE_OK) return rc;
        }
        on_query(g, kind, starts_txn, end);
        break;
    }
    case BT_XID_EVENT:
    case BT_XA_PREPARE_LOG_EVENT:
    case BT_TRANSACTION_PAYLOAD_EVENT:
        close_group(g, end);
        break;
    case BT_MARIA_START_ENCRYPTION_EVENT:
        close_group(g, end);
        g->off = true; /* what follows is encrypted; the decoder refuses it with its coordinates */
        break;
    default:
        if (!g->in_group) g->horizon = end;
        break;
    }
    g->scan = end;
    return BT_GATE_OK;
}

bool bt_gate_finish(const bt_gate_t *g, uint64_t *torn_from) {
    if (!g->in_group || g->off) return false;
    *torn_from = g->group_start;
    return true;
}
