/* txn_gate.c: transaction completeness ahead of the reader (see txn_gate.h).
 *
 * How a group looks in the binlog, and where it ends:
 *   GTID | BEGIN | (TABLE_MAP | ROWS | ANNOTATE | INTVAR ...)* | XID or QUERY COMMIT/ROLLBACK
 *   GTID | QUERY <DDL>                         (MySQL DDL; MariaDB standalone GTID)
 *   GTID | XA START | ... | XA END | XA_PREPARE (the prepared half of an XA transaction)
 *   GTID | QUERY XA COMMIT / XA ROLLBACK       (its second half)
 *   GTID | TRANSACTION_PAYLOAD                 (MySQL 8 compression: the whole group inside)
 * Anything else outside a group (FORMAT_DESCRIPTION, PREVIOUS_GTIDS, GTID_LIST, checkpoints)
 * is complete by itself. The rule errs on the side of yielding: an event the gate does not
 * understand never makes it hold back or skip anything except inside an open GTID/BEGIN group,
 * and only a new group start, a FORMAT_DESCRIPTION, a ROTATE or a STOP tears a group. */
#include "agent/source/txn_gate.h"

#include <string.h>

#include "agent/binlog/binlog.h"

#define HDR 19
#define QUERY_POST_HEADER 13 /* thread_id, exec_time, db_len, error_code, status_vars_len */
#define EXEC_LOAD_POST_HEADER 26
#define STATEMENT_PREFIX 64  /* enough of a statement to classify it, comments included */

void bt_gate_reset(bt_gate_t *g, uint64_t pos) {
    uint8_t crc = g->checksum_len;
    memset(g, 0, sizeof *g);
    g->horizon = g->scan = pos;
    g->checksum_len = crc; /* the file's format stays the same across a jump inside it */
}

static void open_group(bt_gate_t *g, bool body_begun) {
    g->in_group = true;
    g->body_begun = body_begun;
    g->group_start = g->scan;
}

/* The statement of a QUERY event: BT_GATE_NEED when more bytes are needed to see its start. */
static int query_kind(const bt_gate_t *g, const uint8_t *ev, size_t have, uint32_t size, size_t *need,
                      bt_ev_kind_t *kind) {
    unsigned post = ev[4] == BT_EXECUTE_LOAD_QUERY_EVENT ? EXEC_LOAD_POST_HEADER : QUERY_POST_HEADER;
    size_t body_end = size - g->checksum_len;
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
    size_t want = body_end - text < STATEMENT_PREFIX ? body_end : text + STATEMENT_PREFIX;
    if (have < want) {
        *need = want;
        return BT_GATE_NEED;
    }
    *kind = bt_query_classify((const char *)ev + text, want - text);
    return BT_GATE_OK;
}

/* A QUERY inside or outside a group. */
static void on_query(bt_gate_t *g, bt_ev_kind_t kind, bool compressed, uint64_t end) {
    if (compressed) kind = BT_EV_DDL; /* only long statements are compressed: never BEGIN/COMMIT */
    if (!g->in_group) {
        if (kind == BT_EV_BEGIN) {
            open_group(g, true);
            return;
        }
        g->horizon = end;
        return;
    }
    switch (kind) {
    case BT_EV_BEGIN:
        g->body_begun = true;
        return;
    case BT_EV_COMMIT:
    case BT_EV_ROLLBACK:
        break; /* the group ends here */
    case BT_EV_OTHER:
        return; /* XA END, SAVEPOINT: inside the body */
    default:
        if (g->body_begun) return; /* a statement-logged change inside BEGIN ... COMMIT */
        break;                     /* GTID + DDL (or XA COMMIT): the statement is the group */
    }
    g->in_group = false;
    g->horizon = end;
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
        if (g->in_group) return BT_GATE_TORN;
        if (type == BT_FORMAT_DESCRIPTION_EVENT) {
            if (have < size) {
                *need = size;
                return BT_GATE_NEED;
            }
            bool alg = size > HDR + 5 && bt_fde_has_alg(ev + HDR, size - HDR);
            g->checksum_len = alg && ev[size - 5] == 1 ? 4 : 0;
        }
        g->horizon = end;
        break;
    case BT_GTID_LOG_EVENT:
    case BT_ANONYMOUS_GTID_LOG_EVENT:
    case BT_GTID_TAGGED_LOG_EVENT:
    case BT_MARIA_GTID_EVENT:
        if (g->in_group) return BT_GATE_TORN;
        open_group(g, false);
        break;
    case BT_QUERY_EVENT:
    case BT_EXECUTE_LOAD_QUERY_EVENT:
    case BT_MARIA_QUERY_COMPRESSED_EVENT: {
        bt_ev_kind_t kind = BT_EV_DDL;
        if (type != BT_MARIA_QUERY_COMPRESSED_EVENT) {
            int rc = query_kind(g, ev, have, size, need, &kind);
            if (rc != BT_GATE_OK) return rc;
        }
        on_query(g, kind, type == BT_MARIA_QUERY_COMPRESSED_EVENT, end);
        break;
    }
    case BT_XID_EVENT:
    case BT_XA_PREPARE_LOG_EVENT:
    case BT_TRANSACTION_PAYLOAD_EVENT:
        g->in_group = false;
        g->horizon = end;
        break;
    case BT_MARIA_START_ENCRYPTION_EVENT:
        if (g->in_group) return BT_GATE_TORN;
        g->off = true; /* what follows is encrypted; the decoder refuses it with its coordinates */
        g->horizon = end;
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
