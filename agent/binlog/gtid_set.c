/* gtid_set.c: MySQL GTID sets ("uuid:1-5:7,uuid2:1-3:tag:1-2") and MariaDB GTID positions
 * ("0-1-100,5-2-7"), parsed, grown one transaction at a time and printed in one canonical form.
 *
 * The checkpoint records where the stream is as a GTID state: for MySQL the executed set (the
 * PREVIOUS_GTIDS of the file plus every GTID read since), for MariaDB the last GTID of every
 * domain. Either survives a restart and a move to another server of the same replication
 * topology, which file:pos does not. Sets are small (a few uuids, mostly one interval each), so
 * sorted arrays with linear search are simpler and as fast as anything cleverer. */
#include "agent/binlog/gtid_set.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lib.h"

typedef struct {
    uint64_t lo, hi; /* inclusive */
} interval_t;

typedef struct {
    char uuid[37]; /* lower case, with dashes */
    char tag[33];  /* "" untagged */
    interval_t *iv;
    size_t niv, cap;
} sid_t;

typedef struct {
    uint32_t domain, server;
    uint64_t seq;
} domain_t;

struct bt_gtid_set {
    bt_gtid_flavor_t flavor;
    sid_t *sids;
    size_t nsids, cap;
    domain_t *domains;
    size_t ndomains, dcap;
};

bt_gtid_set_t *bt_gtid_set_new(void) { return bt_xcalloc(1, sizeof(bt_gtid_set_t)); }

void bt_gtid_set_clear(bt_gtid_set_t *s) {
    for (size_t i = 0; i < s->nsids; i++) free(s->sids[i].iv);
    free(s->sids);
    free(s->domains);
    memset(s, 0, sizeof *s);
}

void bt_gtid_set_free(bt_gtid_set_t *s) {
    if (!s) return;
    bt_gtid_set_clear(s);
    free(s);
}

bt_gtid_flavor_t bt_gtid_set_flavor(const bt_gtid_set_t *s) { return s->flavor; }

bool bt_gtid_set_empty(const bt_gtid_set_t *s) { return s->nsids == 0 && s->ndomains == 0; }

/* ---------------------------------------------------------------- MySQL */

static int sid_cmp(const char *uuid_a, const char *tag_a, const char *uuid_b, const char *tag_b) {
    int c = strcmp(uuid_a, uuid_b);
    return c ? c : strcmp(tag_a, tag_b);
}

/* The entry for uuid+tag, inserted in order when missing. */
static sid_t *sid_get(bt_gtid_set_t *s, const char *uuid, const char *tag) {
    size_t i = 0;
    while (i < s->nsids && sid_cmp(s->sids[i].uuid, s->sids[i].tag, uuid, tag) < 0) i++;
    if (i < s->nsids && sid_cmp(s->sids[i].uuid, s->sids[i].tag, uuid, tag) == 0) return &s->sids[i];
    if (s->nsids == s->cap) s->sids = bt_xrealloc(s->sids, (s->cap = s->cap ? s->cap * 2 : 4) * sizeof *s->sids);
    memmove(&s->sids[i + 1], &s->sids[i], (s->nsids - i) * sizeof *s->sids);
    s->nsids++;
    sid_t *e = &s->sids[i];
    memset(e, 0, sizeof *e);
    snprintf(e->uuid, sizeof e->uuid, "%s", uuid);
    snprintf(e->tag, sizeof e->tag, "%s", tag);
    return e;
}

static const sid_t *sid_find(const bt_gtid_set_t *s, const char *uuid, const char *tag) {
    for (size_t i = 0; i < s->nsids; i++)
        if (!sid_cmp(s->sids[i].uuid, s->sids[i].tag, uuid, tag)) return &s->sids[i];
    return NULL;
}

/* Adds [lo, hi] and merges it with the intervals it touches, keeping them sorted. */
static void sid_add(sid_t *e, uint64_t lo, uint64_t hi) {
    size_t i = 0;
    while (i < e->niv && e->iv[i].hi + 1 < lo) i++;
    size_t j = i;
    while (j < e->niv && e->iv[j].lo <= hi + 1) {
        if (e->iv[j].lo < lo) lo = e->iv[j].lo;
        if (e->iv[j].hi > hi) hi = e->iv[j].hi;
        j++;
    }
    if (i == j) { /* touches nothing: insert */
        if (e->niv == e->cap) e->iv = bt_xrealloc(e->iv, (e->cap = e->cap ? e->cap * 2 : 2) * sizeof *e->iv);
        memmove(&e->iv[i + 1], &e->iv[i], (e->niv - i) * sizeof *e->iv);
        e->niv++;
    } else { /* replaces iv[i..j) */
        memmove(&e->iv[i + 1], &e->iv[j], (e->niv - j) * sizeof *e->iv);
        e->niv -= j - i - 1;
    }
    e->iv[i].lo = lo;
    e->iv[i].hi = hi;
}

static bool sid_has(const sid_t *e, uint64_t lo, uint64_t hi) {
    for (size_t i = 0; e && i < e->niv; i++)
        if (e->iv[i].lo <= lo && hi <= e->iv[i].hi) return true;
    return false;
}

static bool is_hex(int c) { return isxdigit(c) != 0; }

/* 32 hex digits, dashes anywhere MySQL prints them (8-4-4-4-12) or none; copied in lower case
 * with the dashes. Returns the characters consumed, 0 when it is no uuid. */
static size_t parse_uuid(const char *p, char out[37]) {
    static const int dash_after[] = {8, 12, 16, 20};
    size_t n = 0, digits = 0, o = 0, d = 0;
    while (digits < 32) {
        if (p[n] == '-' && d < 4 && digits == (size_t)dash_after[d]) {
            n++;
            continue;
        }
        if (!is_hex((unsigned char)p[n])) return 0;
        if (d < 4 && digits == (size_t)dash_after[d]) out[o++] = '-', d++;
        out[o++] = (char)tolower((unsigned char)p[n++]);
        digits++;
    }
    out[o] = 0;
    return n;
}

/* A tag as MySQL allows it: a letter or '_', then up to 31 letters, digits or '_'. */
static size_t parse_tag(const char *p, char out[33]) {
    size_t n = 0;
    if (!(isalpha((unsigned char)p[0]) || p[0] == '_')) return 0;
    while (n < 32 && (isalnum((unsigned char)p[n]) || p[n] == '_')) {
        out[n] = (char)tolower((unsigned char)p[n]);
        n++;
    }
    if (isalnum((unsigned char)p[n]) || p[n] == '_') return 0; /* too long */
    out[n] = 0;
    return n;
}

static size_t parse_u64(const char *p, uint64_t *v) {
    size_t n = 0;
    *v = 0;
    while (isdigit((unsigned char)p[n])) {
        unsigned dgt = (unsigned)(p[n] - '0');
        if (*v > (UINT64_MAX - dgt) / 10) return 0;
        *v = *v * 10 + dgt;
        n++;
    }
    return n;
}

static int syntax(const char *text, const char *at, const char *what, char *err, size_t errlen) {
    return bt_errf(err, errlen, "GTID set '%s': %s at character %zu", text, what, (size_t)(at - text) + 1);
}

static const char *skip_space(const char *p) {
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
    return p;
}

/* "uuid(:interval|:tag)*" at p; returns the end, NULL with err. */
static const char *parse_mysql_sid(bt_gtid_set_t *s, const char *text, const char *p, char *err, size_t errlen) {
    char uuid[37], tag[33] = "";
    size_t n = parse_uuid(p, uuid);
    if (!n) return syntax(text, p, "expected a server uuid", err, errlen), NULL;
    p += n;
    sid_t *e = NULL;
    while (*p == ':') {
        p++;
        uint64_t lo, hi;
        if (isdigit((unsigned char)*p)) {
            if (!(n = parse_u64(p, &lo)) || lo == 0)
                return syntax(text, p, "expected a number from 1", err, errlen), NULL;
            p += n;
            hi = lo;
            if (*p == '-') {
                p++;
                if (!(n = parse_u64(p, &hi)) || hi < lo)
                    return syntax(text, p, "expected the end of the interval (not below its start)", err, errlen), NULL;
                p += n;
            }
            e = sid_get(s, uuid, tag);
            sid_add(e, lo, hi);
        } else {
            if (!(n = parse_tag(p, tag)))
                return syntax(text, p, "expected an interval or a tag ([a-z_][a-z0-9_]{0,31})", err, errlen), NULL;
            p += n;
        }
    }
    if (!e) sid_get(s, uuid, tag); /* "uuid" alone: known, nothing executed */
    return p;
}

/* ---------------------------------------------------------------- MariaDB */

static void domain_set(bt_gtid_set_t *s, uint32_t domain, uint32_t server, uint64_t seq, bool only_if_newer) {
    size_t i = 0;
    while (i < s->ndomains && s->domains[i].domain < domain) i++;
    if (i < s->ndomains && s->domains[i].domain == domain) {
        if (!only_if_newer || seq > s->domains[i].seq) s->domains[i] = (domain_t){domain, server, seq};
        return;
    }
    if (s->ndomains == s->dcap)
        s->domains = bt_xrealloc(s->domains, (s->dcap = s->dcap ? s->dcap * 2 : 4) * sizeof *s->domains);
    memmove(&s->domains[i + 1], &s->domains[i], (s->ndomains - i) * sizeof *s->domains);
    s->ndomains++;
    s->domains[i] = (domain_t){domain, server, seq};
}

/* "d-s-n" at p; returns the end, NULL with err. */
static const char *parse_maria_gtid(bt_gtid_set_t *s, const char *text, const char *p, char *err, size_t errlen) {
    uint64_t d, sv, seq;
    size_t n;
    if (!(n = parse_u64(p, &d)) || d > UINT32_MAX) return syntax(text, p, "expected a domain id", err, errlen), NULL;
    p += n;
    if (*p++ != '-') return syntax(text, p - 1, "expected '-' after the domain id", err, errlen), NULL;
    if (!(n = parse_u64(p, &sv)) || sv > UINT32_MAX) return syntax(text, p, "expected a server id", err, errlen), NULL;
    p += n;
    if (*p++ != '-') return syntax(text, p - 1, "expected '-' after the server id", err, errlen), NULL;
    if (!(n = parse_u64(p, &seq))) return syntax(text, p, "expected a sequence number", err, errlen), NULL;
    p += n;
    domain_set(s, (uint32_t)d, (uint32_t)sv, seq, true);
    return p;
}

/* ---------------------------------------------------------------- both */

/* Which flavour a text is: a MariaDB GTID is digits-digits-digits, a MySQL one starts with 32
 * hex digits of a uuid. Decided on the first element. */
static bt_gtid_flavor_t flavor_of(const char *p) {
    char uuid[37];
    if (parse_uuid(p, uuid)) return BT_GTID_MYSQL;
    size_t i = 0;
    while (isdigit((unsigned char)p[i])) i++;
    return i > 0 && p[i] == '-' ? BT_GTID_MARIADB : BT_GTID_NONE;
}

int bt_gtid_set_parse(bt_gtid_set_t *s, const char *text, char *err, size_t errlen) {
    const char *p = skip_space(text);
    if (!*p) return 0;
    bt_gtid_flavor_t f = flavor_of(p);
    if (f == BT_GTID_NONE)
        return syntax(text, p, "expected a MySQL GTID (uuid:N) or a MariaDB GTID (domain-server-seq)", err, errlen);
    if (s->flavor != BT_GTID_NONE && s->flavor != f)
        return bt_errf(err, errlen, "GTID set '%s' is %s, but this state is %s", text,
                       f == BT_GTID_MYSQL ? "MySQL's form" : "MariaDB's form",
                       s->flavor == BT_GTID_MYSQL ? "MySQL's" : "MariaDB's");
    s->flavor = f;
    for (;;) {
        p = f == BT_GTID_MYSQL ? parse_mysql_sid(s, text, p, err, errlen) : parse_maria_gtid(s, text, p, err, errlen);
        if (!p) return -1;
        p = skip_space(p);
        if (!*p) return 0;
        if (*p != ',') return syntax(text, p, "expected ',' or the end", err, errlen);
        p = skip_space(p + 1);
    }
}

int bt_gtid_set_add_text(bt_gtid_set_t *s, const char *gtid, char *err, size_t errlen) {
    if (!gtid || !*gtid) return 0;
    if (flavor_of(gtid) == BT_GTID_MARIADB && s->flavor != BT_GTID_MYSQL) {
        /* A new transaction of a domain replaces the domain's last GTID, whatever its seq. */
        uint64_t d, sv, seq;
        const char *p = gtid;
        size_t n1 = parse_u64(p, &d), n2, n3;
        if (n1 && p[n1] == '-' && (n2 = parse_u64(p + n1 + 1, &sv)) && p[n1 + 1 + n2] == '-' &&
            (n3 = parse_u64(p + n1 + n2 + 2, &seq)) && !p[n1 + n2 + n3 + 2] && d <= UINT32_MAX && sv <= UINT32_MAX) {
            s->flavor = BT_GTID_MARIADB;
            domain_set(s, (uint32_t)d, (uint32_t)sv, seq, false);
            return 0;
        }
    }
    return bt_gtid_set_parse(s, gtid, err, errlen);
}

bool bt_gtid_set_contains_set(const bt_gtid_set_t *big, const bt_gtid_set_t *small) {
    for (size_t i = 0; i < small->nsids; i++) {
        const sid_t *e = &small->sids[i], *b = sid_find(big, e->uuid, e->tag);
        for (size_t k = 0; k < e->niv; k++)
            if (!sid_has(b, e->iv[k].lo, e->iv[k].hi)) return false;
    }
    for (size_t i = 0; i < small->ndomains; i++) {
        const domain_t *d = &small->domains[i];
        size_t j = 0;
        while (j < big->ndomains && big->domains[j].domain != d->domain) j++;
        if (j == big->ndomains || big->domains[j].seq < d->seq) return false;
    }
    return true;
}

bool bt_gtid_set_has(const bt_gtid_set_t *s, const char *gtid) {
    bt_gtid_set_t one = {0};
    char err[300];
    bool has = bt_gtid_set_add_text(&one, gtid, err, sizeof err) == 0 && !bt_gtid_set_empty(&one) &&
               bt_gtid_set_contains_set(s, &one);
    bt_gtid_set_clear(&one);
    return has;
}

void bt_gtid_set_missing(const bt_gtid_set_t *a, const bt_gtid_set_t *b, bt_buf_t *out) {
    bt_gtid_set_t diff = {0};
    for (size_t i = 0; i < a->nsids; i++) {
        const sid_t *e = &a->sids[i], *f = sid_find(b, e->uuid, e->tag);
        for (size_t k = 0; k < e->niv; k++) {
            /* e->iv[k] minus f's intervals, piece by piece from the low end */
            uint64_t lo = e->iv[k].lo, hi = e->iv[k].hi;
            bool left = true; /* [lo, hi] is still to be placed */
            for (size_t m = 0; f && m < f->niv && left; m++) {
                if (f->iv[m].hi < lo || f->iv[m].lo > hi) continue;
                if (f->iv[m].lo > lo) sid_add(sid_get(&diff, e->uuid, e->tag), lo, f->iv[m].lo - 1);
                if (f->iv[m].hi >= hi)
                    left = false;
                else
                    lo = f->iv[m].hi + 1;
            }
            if (left) sid_add(sid_get(&diff, e->uuid, e->tag), lo, hi);
        }
    }
    diff.flavor = BT_GTID_MYSQL;
    bt_gtid_set_text(&diff, out);
    bt_gtid_set_clear(&diff);
}

void bt_gtid_set_text(const bt_gtid_set_t *s, bt_buf_t *out) {
    bt_buf_reset(out);
    for (size_t i = 0; i < s->nsids; i++) {
        const sid_t *e = &s->sids[i];
        bool same_uuid = i > 0 && !strcmp(s->sids[i - 1].uuid, e->uuid);
        if (!same_uuid) bt_buf_printf(out, "%s%s", out->len ? "," : "", e->uuid);
        if (e->tag[0]) bt_buf_printf(out, ":%s", e->tag);
        for (size_t k = 0; k < e->niv; k++) {
            if (e->iv[k].lo == e->iv[k].hi)
                bt_buf_printf(out, ":%" PRIu64, e->iv[k].lo);
            else
                bt_buf_printf(out, ":%" PRIu64 "-%" PRIu64, e->iv[k].lo, e->iv[k].hi);
        }
    }
    for (size_t i = 0; i < s->ndomains; i++)
        bt_buf_printf(out, "%s%" PRIu32 "-%" PRIu32 "-%" PRIu64, i ? "," : "", s->domains[i].domain,
                      s->domains[i].server, s->domains[i].seq);
}
