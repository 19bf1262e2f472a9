/* repl_gtid.h: --start gtid:SET (a MySQL GTID set) as a file and offset of the server m is
 * connected to, found with SHOW BINARY LOGS and SHOW BINLOG EVENTS (see repl_gtid.c). */
#ifndef BT_REPL_GTID_H
#define BT_REPL_GTID_H

#include <mysql.h>
#include <stddef.h>
#include <stdint.h>

/* 0 with file:pos (the GTID event of the first transaction the set lacks, or the end of the
 * newest file); -1 with err (a set that does not parse, a MariaDB position, no GTIDs, a failed
 * statement); BT_START_PURGED (startpos.h) when the set lacks GTIDs that were purged. */
int bt_repl_resolve_mysql_gtid(MYSQL *m, const char *text, char *file, size_t filelen, uint64_t *pos, char *err,
                               size_t errlen);

#endif
