/* route.c: table selection and topic naming (see route.h). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "agent/stream/route.h"

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lib.h"

typedef struct route_rule {
    pcre2_code *re;
    char *template;
} route_rule_t;

typedef struct cache_entry {
    char *key;        /* "db\x01table\x01server_id" */
    char *topic;      /* NULL = not captured */
} cache_entry_t;

struct bt_router {
    char *topic_template;
    char *ddl_topic;
    pcre2_code *include, *exclude;
    route_rule_t *rules;
    size_t nrules;
    pcre2_match_data *md;
    cache_entry_t *cache;   /* open addressing, power-of-two size */
    size_t cache_cap, cache_n;
};

static pcre2_code *compile(const char *pattern, const char *flag, char *err, size_t errlen) {
    int ecode;
    PCRE2_SIZE eoff;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_ANCHORED | PCRE2_ENDANCHORED,
                                   &ecode, &eoff, NULL);
    if (!re) {
        char msg[256];
        pcre2_get_error_message(ecode, (PCRE2_UCHAR *)msg, sizeof msg);
        snprintf(err, errlen, "%s '%s': bad regular expression at offset %zu: %s", flag, pattern, (size_t)eoff, msg);
    }
    return re;
}

bt_router_t *bt_router_new(const bt_router_opts_t *o, char *err, size_t errlen) {
    bt_router_t *r = bt_xcalloc(1, sizeof *r);
    r->topic_template = bt_xstrdup(o->topic_template ? o->topic_template : "${db}_${table}");
    r->ddl_topic = o->ddl_topic ? bt_xstrdup(o->ddl_topic) : NULL;
    if (o->include && !(r->include = compile(o->include, "--include", err, errlen))) goto fail;
    if (o->exclude && *o->exclude && !(r->exclude = compile(o->exclude, "--exclude", err, errlen))) goto fail;
    r->rules = bt_xcalloc(o->nroutes ? o->nroutes : 1, sizeof *r->rules);
    for (size_t i = 0; i < o->nroutes; i++) {
        char *spec = bt_xstrdup(o->routes[i]);
        char *eq = strrchr(spec, '=');
        if (!eq || eq == spec || !eq[1]) {
            snprintf(err, errlen, "--route '%s': expected REGEX=TEMPLATE, e.g. 'shop\\.orders_[0-9]+=orders'",
                     o->routes[i]);
            free(spec);
            goto fail;
        }
        *eq = 0;
        r->rules[i].re = compile(spec, "--route", err, errlen);
        r->rules[i].template = bt_xstrdup(eq + 1);
        free(spec);
        r->nrules++;
        if (!r->rules[i].re) goto fail;
    }
    if (!(r->md = pcre2_match_data_create(10, NULL))) {
        snprintf(err, errlen, "out of memory for the --include/--exclude/--route matcher");
        goto fail;
    }
    r->cache_cap = 256;
    r->cache = bt_xcalloc(r->cache_cap, sizeof *r->cache);
    return r;
fail:
    bt_router_free(r);
    return NULL;
}

void bt_router_free(bt_router_t *r) {
    if (!r) return;
    free(r->topic_template);
    free(r->ddl_topic);
    if (r->include) pcre2_code_free(r->include);
    if (r->exclude) pcre2_code_free(r->exclude);
    for (size_t i = 0; i < r->nrules; i++) {
        if (r->rules[i].re) pcre2_code_free(r->rules[i].re);
        free(r->rules[i].template);
    }
    free(r->rules);
    if (r->md) pcre2_match_data_free(r->md);
    for (size_t i = 0; i < r->cache_cap; i++) {
        free(r->cache[i].key);
        free(r->cache[i].topic);
    }
    free(r->cache);
    free(r);
}

static bool matches(bt_router_t *r, pcre2_code *re, const char *s, size_t len) {
    return pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, r->md, NULL) >= 0;
}

/* Expand ${db} ${table} ${server_id} and, after a route match, $1..$9. */
static char *expand(bt_router_t *r, const char *tpl, const char *db, const char *table, uint32_t server_id,
                    const char *subject, bool have_groups) {
    bt_buf_t b;
    bt_buf_init(&b, 4096);
    PCRE2_SIZE *ov = have_groups ? pcre2_get_ovector_pointer(r->md) : NULL;
    uint32_t ngroups = have_groups ? pcre2_get_ovector_count(r->md) : 0;
    for (const char *p = tpl; *p;) {
        if (!strncmp(p, "${db}", 5)) bt_buf_puts(&b, db), p += 5;
        else if (!strncmp(p, "${table}", 8)) bt_buf_puts(&b, table), p += 8;
        else if (!strncmp(p, "${server_id}", 12)) bt_buf_printf(&b, "%u", server_id), p += 12;
        else if (have_groups && p[0] == '$' && p[1] >= '1' && p[1] <= '9') {
            uint32_t g = (uint32_t)(p[1] - '0');
            if (g < ngroups && ov[2 * g] != PCRE2_UNSET)
                bt_buf_append(&b, subject + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
            p += 2;
        } else bt_buf_putc(&b, *p++);
    }
    char *out = bt_xstrdup(b.p ? b.p : "");
    bt_buf_free(&b);
    return out;
}

static char *decide(bt_router_t *r, const char *db, const char *table, uint32_t server_id) {
    char subject[1024];
    int n = snprintf(subject, sizeof subject, "%s.%s", db, table);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof subject ? (size_t)n : sizeof subject - 1;
    if (r->include && !matches(r, r->include, subject, len)) return NULL;
    if (r->exclude && matches(r, r->exclude, subject, len)) return NULL;
    for (size_t i = 0; i < r->nrules; i++)
        if (matches(r, r->rules[i].re, subject, len))
            return expand(r, r->rules[i].template, db, table, server_id, subject, true);
    return expand(r, r->topic_template, db, table, server_id, subject, false);
}

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void cache_grow(bt_router_t *r) {
    size_t ncap = r->cache_cap * 2;
    cache_entry_t *nc = bt_xcalloc(ncap, sizeof *nc);
    for (size_t i = 0; i < r->cache_cap; i++) {
        if (!r->cache[i].key) continue;
        size_t j = hash_str(r->cache[i].key) & (ncap - 1);
        while (nc[j].key) j = (j + 1) & (ncap - 1);
        nc[j] = r->cache[i];
    }
    free(r->cache);
    r->cache = nc;
    r->cache_cap = ncap;
}

const char *bt_router_topic(bt_router_t *r, const char *db, const char *table, uint32_t server_id) {
    char key[1100];
    snprintf(key, sizeof key, "%s\x01%s\x01%u", db, table, server_id);
    size_t mask = r->cache_cap - 1, i = hash_str(key) & mask;
    while (r->cache[i].key) {
        if (!strcmp(r->cache[i].key, key)) return r->cache[i].topic;
        i = (i + 1) & mask;
    }
    char *topic = decide(r, db, table, server_id);
    r->cache[i].key = bt_xstrdup(key);
    r->cache[i].topic = topic;
    if (++r->cache_n * 2 > r->cache_cap) cache_grow(r);
    return topic;
}

const char *bt_router_ddl_topic(bt_router_t *r, const char *db, const char *table, uint32_t server_id) {
    const char *t = bt_router_topic(r, db ? db : "", table ? table : "", server_id);
    if (!t) return NULL; /* a database or table we do not capture */
    if (r->ddl_topic) return r->ddl_topic;
    return t;
}
