/* sink.c: choosing and making the sink the flags ask for (see sink.h). */
#include <string.h>

#include "agent/options.h"
#include "agent/sink/sink.h"

bt_sink_t *bt_sink_from_config(const bt_config_t *cfg, char *err, size_t errlen) {
    const char *sink = cfg->sink ? cfg->sink : cfg->kafka ? "kafka" : "stdout";
    if (!strcmp(sink, "stdout")) return bt_sink_stdout_new(err, errlen);
    if (!strncmp(sink, "file:", 5)) return bt_sink_file_new(sink + 5, err, errlen);
    bt_kafka_opts_t ko = {
        .brokers = cfg->kafka,
        .acks = cfg->acks,
        .compression = cfg->compression,
        .queue_max_bytes = cfg->queue_max_bytes,
        .max_record_bytes = cfg->max_record_bytes,
        .props = (const char *const *)cfg->kafka_props.v,
        .nprops = cfg->kafka_props.n,
        .create_topics = cfg->create_topics,
        .topic_partitions = (int)cfg->topic_partitions,
        .topic_replicas = (int)cfg->topic_replicas,
        .compact = cfg->format && !strcmp(cfg->format, "upsert"),
    };
    return bt_sink_kafka_new(&ko, err, errlen);
}
