/* schema.h: column names and primary keys for binlogs written with binlog_row_metadata=MINIMAL.
 *
 * The decoder asks (through its schema callback) when a TABLE_MAP carries no names. With
 * --mysql the answer comes from information_schema, once per table, and is cached until a DDL
 * on that table passes by in the binlog. A table whose column count today differs from its
 * TABLE_MAP (the schema changed since that event was written) keeps "@N" names rather than
 * risk naming the wrong columns. Without --mysql the columns are "@1".."@N" and one warning per
 * table says how to get names. */
#ifndef BT_SCHEMA_H
#define BT_SCHEMA_H

#include <stddef.h>

#include "agent/binlog/binlog.h"

typedef struct bt_schema bt_schema_t;

/* mysql_url NULL: no lookups, only the warnings. */
bt_schema_t *bt_schema_new(const char *mysql_url, const char *password_file);
void bt_schema_free(bt_schema_t *s);
/* The decoder's schema callback (ctx = the bt_schema_t). */
int bt_schema_lookup(void *ctx, bt_table_t *table, char *err, size_t errlen);
/* A DDL on db.table passed by (table NULL or "": anything in db may have changed). */
void bt_schema_invalidate(bt_schema_t *s, const char *db, const char *table);

#endif
