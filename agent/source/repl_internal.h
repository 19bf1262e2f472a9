/* repl_internal.h: what the files of the replication source share: its state (repl_source_t,
 * owned by source_repl.c, which also holds the design notes) and the calls between the reader
 * thread (repl_reader.c) and the connection code (repl_conn.c). Private to agent/source/. */
#ifndef BT_REPL_INTERNAL_H
#define BT_REPL_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>
/* after mysql.h, whose types it uses */
#include <mariadb_rpl.h>

#include "agent/source/mysql_url.h"
#include "agent/source/source.h"

/* One received event, in one allocation: the event bytes, then the file name. */
typedef struct qitem {
    struct qitem *next;
    size_t len;
    uint64_t pos;
    bool skip;
    uint8_t data[]; /* len event bytes, then the NUL-terminated file name */
} qitem_t;

typedef struct repl_source {
    bt_source_t base;
    /* settings (read-only once the thread runs) */
    bt_mysql_url_t url;
    char *password;
    char *gtid; /* MariaDB GTID start position, NULL for file:pos */
    uint32_t server_id;
    int64_t retry_ms;
    int heartbeat_ms;
    int io_timeout_s;     /* read timeout of the replication connection: 2 heartbeats + 10 s */
    uint8_t checksum_alg; /* @@global.binlog_checksum at the first connection: 0 none, 1 CRC32 */
    bool mariadb;

    /* shared between the reader and the caller, under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv_data;  /* queue not empty, or failed */
    pthread_cond_t cv_space; /* queue below cap, or stopping */
    qitem_t *head, *tail;
    size_t qbytes;
    bool failed;
    bool fail_operator; /* the failure is one a restart cannot cure (set with failed) */
    char fail_msg[2048];
    atomic_bool stopping; /* written under mu (waits check it there), read anywhere */
    int dump_fd;          /* socket of the current connection, -1 between connections */
    char s_file[256];     /* stream position: everything before it was received */
    uint64_t s_pos;
    bool hb_idle; /* a heartbeat came after the last queued event: the server was caught up */

    /* reader thread only (and new() before the thread starts) */
    pthread_t thread;
    bool thread_started;
    MYSQL *conn;
    MARIADB_RPL *rpl;
    char file[256];    /* current file; "" until the server names it */
    uint64_t pos;      /* offset where the next event starts */
    bool gtid_pending; /* the GTID start point has not been reached: reconnect by GTID */
    bool resumed;      /* this connection resumes an earlier one: drop what was queued before */
    char q_file[256];  /* end of the last queued event */
    uint64_t q_end;
    uint8_t *fde; /* the last FORMAT_DESCRIPTION queued, for the identity check */
    size_t fde_len;
    char fde_file[256];
    bool healthy; /* the connection delivered something: the retry budget starts over */
    int64_t lost_ms;
    int backoff_ms;

    /* caller only */
    qitem_t *local; /* taken from the shared queue in one go, yielded one by one */
    qitem_t *cur;   /* yielded last; freed on the next call */
    bool idle;      /* the last next() found nothing */
    MYSQL *status;  /* second connection for SHOW MASTER STATUS */
    int64_t status_ms;
    bool status_known, status_denied;
    char m_file[256];
    uint64_t m_pos;
} repl_source_t;

/* repl_reader.c: the queue and the reader thread. */
void bt_repl_free_items(qitem_t *it);
void bt_repl_publish_pos(repl_source_t *rs, bool hb_idle);
void bt_repl_fail(repl_source_t *rs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The reader thread: reads packets until stopped or failed, reconnecting on the way. */
void *bt_repl_reader_main(void *arg);

/* repl_conn.c: connecting, the dump request, reconnecting. */
bool bt_repl_transient(unsigned code);
/* Connect and send COM_BINLOG_DUMP at rs->file:rs->pos, or by GTID (repl_conn.c says more). */
int bt_repl_dump_open(repl_source_t *rs, uint8_t *alg, bool *retry, char *err, size_t errlen);
/* Close the replication connection (safe when none is open). */
void bt_repl_dump_close(repl_source_t *rs);
/* The connection is gone: reconnect with backoff. 1 = connected again, 0 = give up (after
 * bt_repl_fail(), or stopping). */
int bt_repl_reconnect(repl_source_t *rs, const char *why);

#endif
