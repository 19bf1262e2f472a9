/* sink.h: where messages go (Kafka, stdout, a file), and how deliveries come back.
 *
 * produce() hands over one message with an opaque tag; the sink later reports its fate
 * through the ack callback (from inside poll(), on the reader thread), which is what moves
 * the checkpoint. stdout and file sinks acknowledge at once (their durability point is
 * sync(), called before each checkpoint write); the Kafka sink acknowledges on the broker's
 * delivery report. */
#ifndef BT_SINK_H
#define BT_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef void (*bt_sink_ack_fn)(void *ctx, void *opaque, bool ok, const char *errmsg, bool fatal);

#define BT_MSG_MAX_HEADERS 8

typedef struct bt_msg {
    const char *topic;
    int32_t partition;          /* -1: the sink decides */
    const void *key;
    size_t klen;                /* 0: no key */
    const void *val;
    size_t vlen;
    bool tombstone;             /* null value */
    unsigned nheaders;
    const char *hname[BT_MSG_MAX_HEADERS];
    const char *hval[BT_MSG_MAX_HEADERS];
    void *opaque;
} bt_msg_t;

typedef struct bt_sink bt_sink_t;

typedef struct bt_sink_ops {
    const char *name;
    /* 0 = accepted; 1 = the queue is full (poll, then offer it again); -1 = fatal, err set. */
    int (*produce)(bt_sink_t *s, const bt_msg_t *m, char *err, size_t errlen);
    /* Serve delivery reports for up to timeout_ms. */
    void (*poll)(bt_sink_t *s, int timeout_ms);
    /* Partition count of a topic (1 for sinks without partitions); 0 = not known yet (the
     * cluster does not answer, or the topic is being created: ask again after serving
     * deliveries; never blocks for long); -1 with err. keyed: the topic is for a table with a
     * key (how many partitions a topic created now gets). */
    int (*partitions)(bt_sink_t *s, const char *topic, bool keyed, char *err, size_t errlen);
    /* Make everything acknowledged so far durable (before a checkpoint write). */
    int (*sync)(bt_sink_t *s, char *err, size_t errlen);
    /* Messages handed over and not yet reported. */
    uint64_t (*in_flight)(bt_sink_t *s);
    /* Milliseconds since the sink last failed to deliver while messages waited; 0 when healthy. */
    int64_t (*failing_ms)(bt_sink_t *s);
    void (*free)(bt_sink_t *s);
} bt_sink_ops_t;

struct bt_sink {
    const bt_sink_ops_t *ops;
    bt_sink_ack_fn ack;
    void *ack_ctx;
};

bt_sink_t *bt_sink_stdout_new(char *err, size_t errlen);
/* PATH ending in .zst/.lz4/.snappy/.gz is compressed with that codec (codecs/). */
bt_sink_t *bt_sink_file_new(const char *path, char *err, size_t errlen);

typedef struct bt_kafka_opts {
    const char *brokers;
    const char *acks;           /* "all", "1", "0" */
    const char *compression;    /* lz4, zstd, snappy, gzip, none */
    int64_t queue_max_bytes;
    int64_t max_record_bytes;
    const char *const *props;   /* "key=value" librdkafka properties, applied last */
    size_t nprops;
    bool create_topics;         /* create missing topics with the Admin API */
    int topic_partitions;       /* for keyed tables; keyless ones get 1 */
    int topic_replicas;         /* -1 = broker default */
    bool compact;               /* cleanup.policy=compact for created topics (upsert) */
} bt_kafka_opts_t;
bt_sink_t *bt_sink_kafka_new(const bt_kafka_opts_t *opts, char *err, size_t errlen);

struct bt_config;
/* The sink --sink and --kafka name (stdout when neither is given), with the Kafka settings
 * from the flags. NULL with err. */
bt_sink_t *bt_sink_from_config(const struct bt_config *cfg, char *err, size_t errlen);

#endif
