/* startpos.h: --start resolution for the local binlog files, and file identity. */
#ifndef BT_STARTPOS_H
#define BT_STARTPOS_H

#include <stdint.h>

#include "agent/source/source.h"

/* What bt_start_resolve returns when the start lies in binlogs that were purged: a restart cannot
 * cure it (an operator must give another start or take a snapshot); -1 is a wrong --start. */
#define BT_START_PURGED (-2)

/* spec: earliest | latest | FILE:POS | time:YYYY-MM-DDTHH:MM:SSZ | gtid:SET (the server's form:
 * a MySQL GTID set uuid:1-5,..., or a MariaDB GTID position D-S-N,...). 0, -1, BT_START_PURGED. */
int bt_start_resolve(const char *spec, const char *dir, const char *index, bt_start_pos_t *out, char *err,
                     size_t errlen);
/* server id and creation time from a file's FORMAT_DESCRIPTION; -1 if unreadable. */
int bt_binlog_file_identity(const char *dir, const char *file, uint32_t *server_id, uint32_t *created);

/* For startpos_gtid.c. Where reading file "from its end" starts: after its last complete
 * transaction. */
uint64_t bt_start_file_end(const char *dir, const char *file);
/* gtid:TEXT over files[0..n) (n > 0): checks the form against the binlogs' server, then finds the
 * first transaction the set or position lacks. */
int bt_start_resolve_gtid(const char *dir, char **files, size_t n, const char *text, bt_start_pos_t *out, char *err,
                          size_t errlen);
/* Whether every GTID of a MariaDB position (d-s-n,...) is in the binlogs of dir, as a
 * transaction or in a file's GTID_LIST: then they share its history, and following the
 * position on them is sound. 1 yes, 0 no (*missing names one), -1 the index cannot be read. */
int bt_start_maria_gtids_known(const char *dir, const char *index, const char *position, char *missing,
                               size_t missinglen);
int bt_start_resolve_maria_gtid(const char *dir, char **files, size_t n, const char *text, bt_start_pos_t *out,
                                char *err, size_t errlen);

#endif
