/* partitioner.h: chooses the Kafka partition for each change event (--partition-by).
 *
 * Keyed strategies hash bytes exactly as the Java client's default partitioner does for a record
 * with a key (Utils.toPositive(Utils.murmur2(key)) % partitions), so bintail's placement matches
 * what a Java, kafka-python or librdkafka "murmur2" producer would pick for the same key bytes,
 * and consumers or Kafka Streams joins that assume that placement keep working.
 *
 * Pure functions, no global state: safe from any thread (a spec is read-only after parsing; the
 * random strategy's state is the caller's). */
#ifndef BT_PARTITIONER_H
#define BT_PARTITIONER_H

#include <stddef.h>
#include <stdint.h>

/* Kafka's Utils.murmur2: MurmurHash2 32-bit with seed 0x9747b28c over the bytes as given, tail
 * bytes mixed in the same order as the Java code (each masked with 0xff, so bytes >= 0x80 are not
 * sign-extended). Returns the hash as an unsigned value; Java's int is the same bits.
 * key may be NULL when len is 0. */
uint32_t bt_murmur2(const void *key, size_t len);

/* The partition the Java client's default partitioner picks for a record with this key:
 * (murmur2(key) & 0x7fffffff) % partition_count. Returns -1 if partition_count < 1. */
int32_t bt_partition_for_key(const void *key, size_t len, int32_t partition_count);

typedef enum {
    BT_PARTITION_PK,          /* "pk" (default): hash the row's primary-key bytes, so all changes
                                 to one row stay ordered in one partition */
    BT_PARTITION_TABLE,       /* "table": hash "db.table": per-table order */
    BT_PARTITION_DATABASE,    /* "database": hash "db": per-schema order */
    BT_PARTITION_COLUMN,      /* "column:a,b": hash the listed columns' values as the caller
                                 serialised them: order per value (e.g. per tenant id) */
    BT_PARTITION_TRANSACTION, /* "transaction": hash the transaction sequence number: a whole
                                 transaction lands in one partition */
    BT_PARTITION_PARTITION0,  /* "partition0": everything in partition 0: total order, no scaling */
    BT_PARTITION_RANDOM       /* "random": spread evenly, no ordering guarantee at all */
} bt_partition_strategy_t;

/* Accepted --partition-by values, for error and help messages. */
#define BT_PARTITION_SPEC_NAMES \
    "pk, table, database, column:NAME[,NAME...], transaction, partition0, random"

/* Longest column name accepted: MySQL identifiers are at most 64 characters of up to 4 bytes. */
#define BT_PARTITION_COLUMN_NAME_MAX 256

typedef struct {
    bt_partition_strategy_t strategy;
    char **columns;  /* BT_PARTITION_COLUMN only: the names, in the order given */
    size_t ncolumns;
} bt_partition_spec_t;

/* Parses a --partition-by value into *out (NULL text means the default, "pk"). Strategy names are
 * exact and lower-case; column names are taken verbatim (case preserved) and must be non-empty,
 * at most BT_PARTITION_COLUMN_NAME_MAX bytes and not repeated. Returns 0, or -1 with a message
 * naming the bad value and listing the accepted ones (*out is then empty and need not be freed).
 * Free a parsed spec with bt_partition_spec_free(). */
int bt_partition_spec_parse(const char *text, bt_partition_spec_t *out, char *err, size_t errlen);

/* Releases the column list and resets *spec to "pk". NULL and repeated calls are fine. */
void bt_partition_spec_free(bt_partition_spec_t *spec);

/* The strategy's name as --partition-by spells it ("column" for BT_PARTITION_COLUMN), or
 * "unknown". */
const char *bt_partition_strategy_name(bt_partition_strategy_t strategy);

/* Picks a partition in [0, partition_count) for one event. What the caller passes depends on the
 * strategy; the bytes are hashed verbatim with bt_partition_for_key():
 *   pk           hash_input = the key bytes bintail also sends as the Kafka record key, so the
 *                partition equals what any murmur2 producer would pick for that record
 *   table        hash_input = "db.table"
 *   database     hash_input = "db"
 *   column       hash_input = the values of spec->columns as the caller serialised them
 *   transaction  hash_input ignored; txn_seq's 8 bytes little-endian are hashed
 *   partition0   always 0
 *   random       hash_input ignored; the next xorshift64 value of *rand_state scaled into
 *                range (bias below partition_count / 2^32). A *rand_state of 0 is replaced by
 *                a fixed non-zero seed; seed it per thread, e.g. from the clock, to get
 *                different sequences
 * Returns -1 if partition_count < 1, or rand_state is NULL for "random". */
int32_t bt_partition_choose(const bt_partition_spec_t *spec, const void *hash_input, size_t len,
                            uint64_t txn_seq, int32_t partition_count, uint64_t *rand_state);

#endif
