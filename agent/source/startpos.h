/* startpos.h: --start resolution for the local binlog files, and file identity. */
#ifndef BT_STARTPOS_H
#define BT_STARTPOS_H

#include <stdint.h>

#include "agent/source/source.h"

/* spec: earliest | latest | FILE:POS | time:YYYY-MM-DDTHH:MM:SSZ | gtid:D-S-N[,..] (MariaDB). */
int bt_start_resolve(const char *spec, const char *dir, const char *index, bt_start_pos_t *out, char *err,
                     size_t errlen);
/* server id and creation time from a file's FORMAT_DESCRIPTION; -1 if unreadable. */
int bt_binlog_file_identity(const char *dir, const char *file, uint32_t *server_id, uint32_t *created);

#endif
