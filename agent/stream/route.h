/* route.h: which tables are captured and which topic each one goes to.
 *
 * --include/--exclude choose tables by "db.table" (anchored PCRE2); --route REGEX=TEMPLATE
 * (first match wins, $1.. capture groups) or else --topic TEMPLATE names the topic, with
 * ${db}, ${table}, ${server_id}. Decisions are cached per table, so the regexes run once per
 * table, not per row. Tables created later are decided when they first appear. */
#ifndef BT_ROUTE_H
#define BT_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bt_router bt_router_t;

typedef struct bt_router_opts {
    const char *topic_template;   /* default "${db}_${table}" */
    const char *const *routes;    /* "REGEX=TEMPLATE" */
    size_t nroutes;
    const char *include;          /* NULL = all */
    const char *exclude;          /* NULL = none */
    const char *ddl_topic;        /* NULL = the table's topic */
} bt_router_opts_t;

bt_router_t *bt_router_new(const bt_router_opts_t *opts, char *err, size_t errlen);
void bt_router_free(bt_router_t *r);
/* The topic of db.table, or NULL when the table is not captured. The string stays valid
 * for the router's life. */
const char *bt_router_topic(bt_router_t *r, const char *db, const char *table, uint32_t server_id);
/* Topic for a DDL statement on db (table may be NULL); NULL when it is not captured. */
const char *bt_router_ddl_topic(bt_router_t *r, const char *db, const char *table, uint32_t server_id);

#endif
