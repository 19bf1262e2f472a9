/* partitioner.c: Kafka-compatible murmur2 partitioning and the --partition-by strategies. */
#include "partitioner/partitioner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Kafka's Utils.murmur2 (clients/.../common/utils/Utils.java). Java does the arithmetic on signed
 * 32-bit ints with wrap-around and uses >>> (logical shift); uint32_t gives the same bits without
 * C's signed-overflow undefined behaviour. Java reads each byte as (b & 0xff), so the unsigned
 * bytes here match it for values >= 0x80 as well. */
uint32_t bt_murmur2(const void *key, size_t len) {
    const uint8_t *data = key;
    const uint32_t m = 0x5bd1e995;
    const int r = 24;
    /* Java's length is an int: keys are far below 2 GiB, and truncating like Java would is the
     * compatible choice for anything larger. */
    uint32_t h = 0x9747b28cu ^ (uint32_t)len;
    size_t len4 = len / 4;
    for (size_t i = 0; i < len4; i++) {
        const uint8_t *p = data + i * 4;
        uint32_t k = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24;
        k *= m;
        k ^= k >> r;
        k *= m;
        h *= m;
        h ^= k;
    }
    const uint8_t *tail = data + (len & ~(size_t)3);
    switch (len % 4) {
    case 3:
        h ^= (uint32_t)tail[2] << 16;
        /* fall through */
    case 2:
        h ^= (uint32_t)tail[1] << 8;
        /* fall through */
    case 1:
        h ^= tail[0];
        h *= m;
        break;
    default:
        break;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return h;
}

int32_t bt_partition_for_key(const void *key, size_t len, int32_t partition_count) {
    if (partition_count < 1)
        return -1;
    /* Utils.toPositive(n) is n & 0x7fffffff, not Math.abs (which breaks on INT_MIN). */
    return (int32_t)((bt_murmur2(key, len) & 0x7fffffffu) % (uint32_t)partition_count);
}

static const struct {
    const char *name;
    bt_partition_strategy_t strategy;
} bt_partition_names[] = {
    {"pk", BT_PARTITION_PK},
    {"table", BT_PARTITION_TABLE},
    {"database", BT_PARTITION_DATABASE},
    {"column", BT_PARTITION_COLUMN},
    {"transaction", BT_PARTITION_TRANSACTION},
    {"partition0", BT_PARTITION_PARTITION0},
    {"random", BT_PARTITION_RANDOM},
};

const char *bt_partition_strategy_name(bt_partition_strategy_t strategy) {
    for (size_t i = 0; i < sizeof bt_partition_names / sizeof bt_partition_names[0]; i++)
        if (bt_partition_names[i].strategy == strategy)
            return bt_partition_names[i].name;
    return "unknown";
}

void bt_partition_spec_free(bt_partition_spec_t *spec) {
    if (!spec)
        return;
    for (size_t i = 0; i < spec->ncolumns; i++)
        free(spec->columns[i]);
    free(spec->columns);
    spec->columns = NULL;
    spec->ncolumns = 0;
    spec->strategy = BT_PARTITION_PK;
}

/* Error messages quote the user's value, but at most this much of it: the message must still fit
 * and end with what is wrong. */
#define BT_PARTITION_QUOTE_MAX 80

static int bt_quote_len(const char *s) {
    size_t n = strlen(s);
    return (int)(n > BT_PARTITION_QUOTE_MAX ? BT_PARTITION_QUOTE_MAX : n);
}

static const char *bt_quote_more(const char *s) {
    return strlen(s) > BT_PARTITION_QUOTE_MAX ? "..." : "";
}

#define BT_QUOTE(s) bt_quote_len(s), (s), bt_quote_more(s)

/* Splits "a,b,c" into spec->columns. */
static int bt_partition_parse_columns(const char *text, const char *list, bt_partition_spec_t *out,
                                      char *err, size_t errlen) {
    size_t n = 1;
    for (const char *p = list; *p; p++)
        n += *p == ',';
    out->columns = calloc(n, sizeof *out->columns);
    if (!out->columns) {
        snprintf(err, errlen, "--partition-by '%.*s%s': out of memory", BT_QUOTE(text));
        return -1;
    }
    const char *p = list;
    for (size_t i = 0; i < n; i++) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0) {
            snprintf(err, errlen,
                     "--partition-by '%.*s%s': empty column name (column %zu); expected "
                     "column:NAME[,NAME...]",
                     BT_QUOTE(text), i + 1);
            return -1;
        }
        if (len > BT_PARTITION_COLUMN_NAME_MAX) {
            snprintf(err, errlen,
                     "--partition-by '%.*s%s': column %zu is %zu bytes long, more than the %d "
                     "allowed",
                     BT_QUOTE(text), i + 1, len, BT_PARTITION_COLUMN_NAME_MAX);
            return -1;
        }
        /* MySQL names cannot end in a space and "a, b" is far more likely a typo for "a,b" than
         * a column called " b": refuse rather than silently never match. */
        if (p[0] == ' ' || p[len - 1] == ' ' || p[0] == '\t' || p[len - 1] == '\t') {
            snprintf(err, errlen,
                     "--partition-by '%.*s%s': column name '%.*s' has leading or trailing "
                     "whitespace",
                     BT_QUOTE(text), (int)len, p);
            return -1;
        }
        for (size_t j = 0; j < i; j++) {
            /* MySQL column names are case-insensitive: "id,ID" names one column twice */
            if (strlen(out->columns[j]) == len && strncasecmp(out->columns[j], p, len) == 0) {
                snprintf(err, errlen, "--partition-by '%.*s%s': column '%.*s' is listed twice",
                         BT_QUOTE(text), (int)len, p);
                return -1;
            }
        }
        out->columns[i] = strndup(p, len);
        if (!out->columns[i]) {
            snprintf(err, errlen, "--partition-by '%.*s%s': out of memory", BT_QUOTE(text));
            return -1;
        }
        out->ncolumns = i + 1;
        p = end ? end + 1 : p + len;
    }
    return 0;
}

int bt_partition_spec_parse(const char *text, bt_partition_spec_t *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    out->strategy = BT_PARTITION_PK;
    if (!text)
        return 0;
    static const char column_prefix[] = "column:";
    if (strncmp(text, column_prefix, sizeof column_prefix - 1) == 0) {
        out->strategy = BT_PARTITION_COLUMN;
        if (bt_partition_parse_columns(text, text + sizeof column_prefix - 1, out, err, errlen) !=
            0) {
            bt_partition_spec_free(out);
            return -1;
        }
        return 0;
    }
    for (size_t i = 0; i < sizeof bt_partition_names / sizeof bt_partition_names[0]; i++) {
        if (bt_partition_names[i].strategy != BT_PARTITION_COLUMN &&
            strcmp(text, bt_partition_names[i].name) == 0) {
            out->strategy = bt_partition_names[i].strategy;
            return 0;
        }
    }
    if (strcmp(text, "column") == 0)
        snprintf(err, errlen, "--partition-by 'column' needs column names: column:NAME[,NAME...]");
    else
        snprintf(err, errlen, "--partition-by: unknown value '%.*s%s' (accepted: %s)",
                 BT_QUOTE(text), BT_PARTITION_SPEC_NAMES);
    return -1;
}

/* xorshift64 (Marsaglia 2003): fast, stateless apart from the caller's word, good enough to
 * spread records; not for anything that needs unpredictability. */
static uint64_t bt_partition_xorshift64(uint64_t *state) {
    uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return x;
}

int32_t bt_partition_choose(const bt_partition_spec_t *spec, const void *hash_input, size_t len,
                            uint64_t txn_seq, int32_t partition_count, uint64_t *rand_state) {
    if (partition_count < 1)
        return -1;
    switch (spec->strategy) {
    case BT_PARTITION_PK:
    case BT_PARTITION_TABLE:
    case BT_PARTITION_DATABASE:
    case BT_PARTITION_COLUMN:
        return bt_partition_for_key(hash_input, len, partition_count);
    case BT_PARTITION_TRANSACTION: {
        uint8_t le[8];
        for (int i = 0; i < 8; i++)
            le[i] = (uint8_t)(txn_seq >> (8 * i));
        return bt_partition_for_key(le, sizeof le, partition_count);
    }
    case BT_PARTITION_PARTITION0:
        return 0;
    case BT_PARTITION_RANDOM:
        if (!rand_state)
            return -1;
        /* Top 32 bits scaled into [0, count) by multiply-shift: no division, and the uneven share
         * is below count / 2^32. */
        uint64_t hi = bt_partition_xorshift64(rand_state) >> 32;
        return (int32_t)((hi * (uint64_t)partition_count) >> 32);
    }
    return -1;
}
