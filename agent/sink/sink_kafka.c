/* sink_kafka.c: the Kafka sink, on librdkafka.
 *
 * Delivery guarantees come from the producer configuration: acks=all with idempotence (the
 * broker de-duplicates retries and keeps per-partition order), message.timeout.ms=0 so a
 * broker outage is retried without limit instead of turning into lost messages, and a
 * bounded local queue (queue.buffering.max.kbytes): when it is full, produce() says so and
 * the reader pauses. With acks=1 or 0 there is no idempotence, so at most one request is in
 * flight per connection to keep order across retries.
 *
 * The partition is chosen by bintail (partitioner/), so the sink needs each topic's
 * partition count; it asks the cluster's metadata once per topic and caches the answer. */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/sink/sink.h"
#include "lib/lib.h"

typedef struct topic_entry {
    char *name;
    rd_kafka_topic_t *rkt;
    int partitions;
    bool create_tried;
    int64_t missing_since_ms; /* the cluster answered without this topic since then; 0 = not yet */
} topic_entry_t;

typedef struct kafka_sink {
    bt_sink_t base;
    rd_kafka_t *rk;
    bool create_topics, compact, admin_unsupported;
    int topic_partitions, topic_replicas;
    topic_entry_t *topics;
    size_t ntopics, captopics;
    int64_t failing_since_ms;   /* first failure after the last success; 0 = healthy */
    bool waiting_metadata;      /* a topic's partitions are asked for and the cluster does not answer */
    char last_error[512];
} kafka_sink_t;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    kafka_sink_t *ks = opaque;
    (void)rk;
    if (!m->err) {
        ks->failing_since_ms = 0;
        ks->base.ack(ks->base.ack_ctx, m->_private, true, NULL, false);
        return;
    }
    char msg[600];
    snprintf(msg, sizeof msg, "delivery to %s [%d] failed: %s", rd_kafka_topic_name(m->rkt), (int)m->partition,
             rd_kafka_err2str(m->err));
    if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[512];
        rd_kafka_fatal_error(ks->rk, why, sizeof why);
        snprintf(msg, sizeof msg, "the Kafka producer hit a fatal error: %s", why);
    }
    /* With message.timeout.ms=0 librdkafka retries transient errors forever, so any error that
     * reaches a delivery report is permanent (too large, not authorized, fatal): stop. */
    ks->base.ack(ks->base.ack_ctx, m->_private, false, msg, true);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    kafka_sink_t *ks = opaque;
    (void)rk;
    if (!ks->failing_since_ms) ks->failing_since_ms = bt_mono_ms();
    snprintf(ks->last_error, sizeof ks->last_error, "%s", reason);
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        bt_warn("all Kafka brokers are down (%s): retrying; reading pauses when the queue is full", reason);
    else
        bt_debug("kafka: %s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    (void)rk;
    if (level <= 3) bt_warn("kafka %s: %s", fac, buf);
    else bt_debug("kafka %s: %s", fac, buf);
}

static topic_entry_t *topic_get(kafka_sink_t *ks, const char *name, char *err, size_t errlen) {
    for (size_t i = 0; i < ks->ntopics; i++)
        if (!strcmp(ks->topics[i].name, name)) return &ks->topics[i];
    if (ks->ntopics == ks->captopics) {
        size_t ncap = ks->captopics ? ks->captopics * 2 : 16;
        ks->topics = bt_xrealloc(ks->topics, ncap * sizeof *ks->topics);
        ks->captopics = ncap;
    }
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(ks->rk, name, NULL);
    if (!rkt) {
        snprintf(err, errlen, "invalid topic name '%s': %s", name, rd_kafka_err2str(rd_kafka_last_error()));
        return NULL;
    }
    topic_entry_t *t = &ks->topics[ks->ntopics++];
    t->name = bt_xstrdup(name);
    t->rkt = rkt;
    t->partitions = 0;
    t->create_tried = false;
    t->missing_since_ms = 0;
    return t;
}

/* --create-topics: ask the cluster to create the topic. Returns 0 when it exists now (created,
 * or already there), 1 when the cluster cannot do it (then auto-creation is the fallback),
 * -1 with err for a refusal that retrying cannot fix (e.g. not authorized). */
static int create_topic(kafka_sink_t *ks, const char *topic, bool keyed, char *err, size_t errlen) {
    if (ks->admin_unsupported) return 1;
    char e[512];
    int parts = keyed ? ks->topic_partitions : 1;
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, parts, ks->topic_replicas, e, sizeof e);
    if (!nt) {
        snprintf(err, errlen, "--create-topics %s: %s", topic, e);
        return -1;
    }
    if (ks->compact) rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
    rd_kafka_queue_t *q = rd_kafka_queue_new(ks->rk);
    rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(ks->rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(ao, 10000, e, sizeof e);
    rd_kafka_AdminOptions_set_request_timeout(ao, 10000, e, sizeof e);
    rd_kafka_CreateTopics(ks->rk, &nt, 1, ao, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 15000);
    int rc = 1;
    rd_kafka_resp_err_t code = RD_KAFKA_RESP_ERR__TIMED_OUT;
    const char *why = "no answer within 15 s";
    if (ev) {
        code = rd_kafka_event_error(ev);
        why = rd_kafka_event_error_string(ev);
        const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
        size_t n = 0;
        const rd_kafka_topic_result_t **tr = res ? rd_kafka_CreateTopics_result_topics(res, &n) : NULL;
        if (!code && n == 1) {
            code = rd_kafka_topic_result_error(tr[0]);
            why = rd_kafka_topic_result_error_string(tr[0]);
        }
    }
    if (!code) {
        bt_info("created topic %s with %d partition(s)%s", topic, parts, ks->compact ? ", compacted" : "");
        rc = 0;
    } else if (code == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        rc = 0;
    } else if (code == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
               code == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED || code == RD_KAFKA_RESP_ERR_POLICY_VIOLATION ||
               code == RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR || code == RD_KAFKA_RESP_ERR_INVALID_CONFIG) {
        snprintf(err, errlen, "--create-topics: the cluster refused to create %s: %s", topic,
                 why ? why : rd_kafka_err2str(code));
        rc = -1;
    } else {
        bt_warn("--create-topics: cannot create %s (%s); relying on the brokers' auto-creation instead", topic,
                why ? why : rd_kafka_err2str(code));
        /* A cluster that cannot or does not answer is not asked again for every topic. */
        ks->admin_unsupported = true;
    }
    if (ev) rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    return rc;
}

/* Asks the cluster once (for at most half a second) and returns at once: the caller waits,
 * serving deliveries and watching for a stop, and asks again. So an unreachable cluster at
 * start-up is an outage like any other (sink_down fires, reading pauses, nothing exits). */
static int kafka_partitions(bt_sink_t *base, const char *topic, bool keyed, char *err, size_t errlen) {
    kafka_sink_t *ks = (kafka_sink_t *)base;
    topic_entry_t *t = topic_get(ks, topic, err, errlen);
    if (!t) return -1;
    if (t->partitions > 0) return t->partitions;
    const struct rd_kafka_metadata *md = NULL;
    /* With --create-topics the topic is created before its metadata is asked for (asking may
     * make the brokers auto-create it with their defaults); the first question, about the
     * brokers only, tells whether the cluster answers at all. */
    bool create = ks->create_topics && !t->create_tried;
    rd_kafka_resp_err_t e = rd_kafka_metadata(ks->rk, 0, create ? NULL : t->rkt, &md, 500);
    if (e) { /* no answer: the cluster is unreachable */
        if (md) rd_kafka_metadata_destroy(md);
        ks->waiting_metadata = true;
        if (!ks->failing_since_ms) ks->failing_since_ms = bt_mono_ms();
        snprintf(ks->last_error, sizeof ks->last_error, "metadata for %s: %s", topic, rd_kafka_err2str(e));
        return 0;
    }
    ks->waiting_metadata = false;
    if (rd_kafka_outq_len(ks->rk) == 0) ks->failing_since_ms = 0;
    if (create) {
        rd_kafka_metadata_destroy(md);
        t->create_tried = true;
        return create_topic(ks, topic, keyed, err, errlen) < 0 ? -1 : 0;
    }
    rd_kafka_resp_err_t terr = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    int n = md->topic_cnt == 1 ? md->topics[0].partition_cnt : 0;
    rd_kafka_metadata_destroy(md);
    if (!terr && n > 0) {
        t->partitions = n;
        return n;
    }
    /* A new topic may be auto-created by the metadata request: ask again, for up to 30 s. */
    int64_t now = bt_mono_ms();
    if (!t->missing_since_ms) t->missing_since_ms = now;
    if (now - t->missing_since_ms < 30000) return 0;
    snprintf(err, errlen, "cannot get the partitions of topic %s: %s (create the topic, or enable "
                          "auto.create.topics.enable on the brokers, or give --create-topics)", topic,
             rd_kafka_err2str(terr));
    return -1;
}

static int kafka_produce(bt_sink_t *base, const bt_msg_t *m, char *err, size_t errlen) {
    kafka_sink_t *ks = (kafka_sink_t *)base;
    topic_entry_t *t = topic_get(ks, m->topic, err, errlen);
    if (!t) return -1;
    rd_kafka_headers_t *hdrs = NULL;
    if (m->nheaders) {
        hdrs = rd_kafka_headers_new(m->nheaders);
        for (unsigned i = 0; i < m->nheaders; i++)
            rd_kafka_header_add(hdrs, m->hname[i], -1, m->hval[i], -1);
    }
    rd_kafka_resp_err_t e = rd_kafka_producev(
        ks->rk, RD_KAFKA_V_RKT(t->rkt), RD_KAFKA_V_PARTITION(m->partition >= 0 ? m->partition : RD_KAFKA_PARTITION_UA),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(m->klen ? m->key : NULL, m->klen),
        RD_KAFKA_V_VALUE(m->tombstone ? NULL : (void *)m->val, m->tombstone ? 0 : m->vlen),
        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(m->opaque), RD_KAFKA_V_END);
    if (!e) return 0;
    if (hdrs) rd_kafka_headers_destroy(hdrs); /* not taken over on failure */
    if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) return 1;
    snprintf(err, errlen, "cannot produce to %s [%d] (key %zu bytes, value %zu bytes): %s", m->topic,
             (int)m->partition, m->klen, m->vlen, rd_kafka_err2str(e));
    return -1;
}

static void kafka_poll(bt_sink_t *base, int timeout_ms) { rd_kafka_poll(((kafka_sink_t *)base)->rk, timeout_ms); }

static int kafka_sync(bt_sink_t *base, char *err, size_t errlen) {
    (void)base, (void)err, (void)errlen;
    return 0; /* acknowledged means stored by the brokers */
}

static uint64_t kafka_in_flight(bt_sink_t *base) {
    return (uint64_t)rd_kafka_outq_len(((kafka_sink_t *)base)->rk);
}

static int64_t kafka_failing_ms(bt_sink_t *base) {
    kafka_sink_t *ks = (kafka_sink_t *)base;
    if (!ks->failing_since_ms) return 0;
    /* An error with nothing waiting (an idle connection closed) is not an outage; waiting for
     * a topic's metadata is. */
    if (rd_kafka_outq_len(ks->rk) == 0 && !ks->waiting_metadata) return 0;
    return bt_mono_ms() - ks->failing_since_ms;
}

static void kafka_free(bt_sink_t *base) {
    kafka_sink_t *ks = (kafka_sink_t *)base;
    if (!ks) return;
    for (size_t i = 0; i < ks->ntopics; i++) {
        rd_kafka_topic_destroy(ks->topics[i].rkt);
        free(ks->topics[i].name);
    }
    free(ks->topics);
    if (ks->rk) rd_kafka_destroy(ks->rk);
    free(ks);
}

static const bt_sink_ops_t kafka_ops = {"kafka",     kafka_produce,   kafka_poll,       kafka_partitions,
                                        kafka_sync,  kafka_in_flight, kafka_failing_ms, kafka_free};

static int set(rd_kafka_conf_t *conf, const char *k, const char *v, char *err, size_t errlen) {
    char e[512];
    if (rd_kafka_conf_set(conf, k, v, e, sizeof e) != RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "Kafka property %s=%s: %s", k, v, e);
        return -1;
    }
    return 0;
}

bt_sink_t *bt_sink_kafka_new(const bt_kafka_opts_t *o, char *err, size_t errlen) {
    kafka_sink_t *ks = bt_xcalloc(1, sizeof *ks);
    ks->base.ops = &kafka_ops;
    ks->create_topics = o->create_topics;
    ks->compact = o->compact;
    ks->topic_partitions = o->topic_partitions > 0 ? o->topic_partitions : 6;
    ks->topic_replicas = o->topic_replicas ? o->topic_replicas : -1;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char num[64];
    bool acks_all = !strcmp(o->acks, "all");
    if (set(conf, "bootstrap.servers", o->brokers, err, errlen) ||
        set(conf, "acks", acks_all ? "all" : o->acks, err, errlen) ||
        set(conf, "enable.idempotence", acks_all ? "true" : "false", err, errlen) ||
        set(conf, "compression.type", o->compression, err, errlen) ||
        set(conf, "message.timeout.ms", "0", err, errlen) ||
        set(conf, "linger.ms", "5", err, errlen) ||
        set(conf, "batch.num.messages", "10000", err, errlen) ||
        set(conf, "client.id", "bintail", err, errlen))
        goto fail;
    if (!acks_all && set(conf, "max.in.flight.requests.per.connection", "1", err, errlen)) goto fail;
    snprintf(num, sizeof num, "%lld", (long long)(o->queue_max_bytes / 1024 > 0 ? o->queue_max_bytes / 1024 : 1));
    if (set(conf, "queue.buffering.max.kbytes", num, err, errlen)) goto fail;
    /* librdkafka counts only keys and values against max.kbytes, yet each queued message also
     * costs its bookkeeping and headers (about 0.5 KB with bintail's four): one message per 512
     * bytes of the budget keeps small messages' overhead within the same bound. */
    snprintf(num, sizeof num, "%lld", (long long)(o->queue_max_bytes / 512 > 1000 ? o->queue_max_bytes / 512 : 1000));
    if (set(conf, "queue.buffering.max.messages", num, err, errlen)) goto fail;
    snprintf(num, sizeof num, "%lld", (long long)(o->max_record_bytes + 4096));
    if (set(conf, "message.max.bytes", num, err, errlen)) goto fail;
    for (size_t i = 0; i < o->nprops; i++) {
        char kv[1024];
        snprintf(kv, sizeof kv, "%s", o->props[i]);
        char *eq = strchr(kv, '=');
        if (!eq) {
            snprintf(err, errlen, "-X %s: expected KEY=VALUE", o->props[i]);
            goto fail;
        }
        *eq = 0;
        if (set(conf, kv, eq + 1, err, errlen)) goto fail;
    }
    rd_kafka_conf_set_opaque(conf, ks);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, on_log);
    char e[512];
    ks->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
    if (!ks->rk) {
        snprintf(err, errlen, "cannot create the Kafka producer: %s", e);
        rd_kafka_conf_destroy(conf);
        free(ks);
        return NULL;
    }
    return &ks->base;
fail:
    rd_kafka_conf_destroy(conf);
    free(ks);
    return NULL;
}
