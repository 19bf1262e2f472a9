/* test_route.c: table selection and topic naming. */
#include <string.h>

#include "agent/stream/route.h"
#include "tests/unit/tap.h"

int main(void) {
    char err[512];
    const char *routes[] = {"shop\\.orders_([0-9]+)=orders-$1", "shop\\.(.*)_archive=archive"};
    bt_router_opts_t o = {.topic_template = "${db}_${table}", .routes = routes, .nroutes = 2,
                          .exclude = "(mysql|sys)\\..*"};
    bt_router_t *r = bt_router_new(&o, err, sizeof err);
    ok(r != NULL, "router with routes");
    is_str(bt_router_topic(r, "shop", "customers", 1), "shop_customers", "default template");
    is_str(bt_router_topic(r, "shop", "orders_17", 1), "orders-17", "route with a capture group");
    is_str(bt_router_topic(r, "shop", "orders_x", 1), "shop_orders_x", "no match: template");
    is_str(bt_router_topic(r, "shop", "log_archive", 1), "archive", "second route");
    ok(bt_router_topic(r, "mysql", "user", 1) == NULL, "excluded schema");
    ok(bt_router_topic(r, "mysqlx", "t", 1) != NULL, "exclusion is anchored: mysqlx is captured");
    const char *t1 = bt_router_topic(r, "shop", "customers", 1);
    ok(t1 == bt_router_topic(r, "shop", "customers", 1), "decisions are cached");
    for (int i = 0; i < 1000; i++) {
        char name[32];
        snprintf(name, sizeof name, "t%d", i);
        bt_router_topic(r, "many", name, 1);
    }
    is_str(bt_router_topic(r, "many", "t999", 1), "many_t999", "the cache grows");
    is_str(bt_router_ddl_topic(r, "shop", "customers", 1), "shop_customers", "DDL goes to the table's topic");
    ok(bt_router_ddl_topic(r, "mysql", "user", 1) == NULL, "DDL of an excluded table is not captured");
    bt_router_free(r);

    bt_router_opts_t o2 = {.topic_template = "cdc.${server_id}.${db}", .include = "app\\.t[0-9]", .ddl_topic = "ddl"};
    r = bt_router_new(&o2, err, sizeof err);
    is_str(bt_router_topic(r, "app", "t1", 7), "cdc.7.app", "${server_id} and include");
    ok(bt_router_topic(r, "app", "t10", 7) == NULL, "include is anchored at the end too");
    is_str(bt_router_ddl_topic(r, "app", "t2", 7), "ddl", "--ddl-topic");
    bt_router_free(r);

    bt_router_opts_t bad = {.include = "("};
    ok(bt_router_new(&bad, err, sizeof err) == NULL && strstr(err, "--include"), "bad regex: %s", err);
    const char *badroute[] = {"noequals"};
    bt_router_opts_t bad2 = {.routes = badroute, .nroutes = 1};
    ok(bt_router_new(&bad2, err, sizeof err) == NULL && strstr(err, "REGEX=TEMPLATE"), "bad route: %s", err);
    return tap_done();
}
