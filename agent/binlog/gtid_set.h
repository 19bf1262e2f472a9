/* gtid_set.h: a GTID state, MySQL's or MariaDB's: parsed from text, grown one transaction at a
 * time, compared, printed in one canonical form.
 *   MySQL:   the executed set, "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7,uuid2:1-3:tag:1-2"
 *            (whitespace after commas allowed, uuids and tags in any case; printed sorted,
 *            lower case, intervals merged).
 *   MariaDB: the last GTID of every domain, "0-1-100,5-2-7" (printed by domain). */
#ifndef BT_GTID_SET_H
#define BT_GTID_SET_H

#include <stdbool.h>

#include "lib/lib.h"

typedef enum { BT_GTID_NONE = 0, BT_GTID_MYSQL, BT_GTID_MARIADB } bt_gtid_flavor_t;

typedef struct bt_gtid_set bt_gtid_set_t;

bt_gtid_set_t *bt_gtid_set_new(void);
void bt_gtid_set_free(bt_gtid_set_t *s);
/* Back to empty, flavour unknown. */
void bt_gtid_set_clear(bt_gtid_set_t *s);
/* The flavour of what was added so far (BT_GTID_NONE while empty). */
bt_gtid_flavor_t bt_gtid_set_flavor(const bt_gtid_set_t *s);
bool bt_gtid_set_empty(const bt_gtid_set_t *s);

/* Adds every GTID of text (a union; MariaDB: per domain the higher sequence number wins).
 * 0, or -1 with err naming the character where the text stops making sense, or the mix of a
 * MySQL and a MariaDB form. An empty text adds nothing. */
int bt_gtid_set_parse(bt_gtid_set_t *s, const char *text, char *err, size_t errlen);
/* Adds one transaction's GTID as the decoder prints it ("uuid:gno", "uuid:tag:gno", MariaDB
 * "domain-server-seq", which becomes its domain's GTID even when the seq is lower). */
int bt_gtid_set_add_text(bt_gtid_set_t *s, const char *gtid, char *err, size_t errlen);
/* Whether every GTID of small is in big (MariaDB: every domain of small is in big at the same or
 * a later sequence number). */
bool bt_gtid_set_contains_set(const bt_gtid_set_t *big, const bt_gtid_set_t *small);
/* Whether the one GTID (as bt_gtid_set_add_text takes it) is in s. */
bool bt_gtid_set_has(const bt_gtid_set_t *s, const char *gtid);
/* MySQL sets: what of a is not in b, as canonical text into out (empty when a is in b). */
void bt_gtid_set_missing(const bt_gtid_set_t *a, const bt_gtid_set_t *b, bt_buf_t *out);
/* The canonical text into out (reset first). */
void bt_gtid_set_text(const bt_gtid_set_t *s, bt_buf_t *out);

#endif
