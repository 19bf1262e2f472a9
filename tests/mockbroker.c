/* bt-mockbroker: a local Kafka-protocol broker for tests and the demo.
 *
 * Apache Kafka cannot be installed on the build machines, so this wraps librdkafka's mock
 * cluster, which speaks the real Kafka wire protocol on loopback ports. It creates the topics
 * it is told to, writes the bootstrap list to a file (written last, so its presence means
 * "ready"), and runs until SIGTERM or SIGINT.
 *
 * Outage simulation: SIGUSR1 takes every broker down, SIGUSR2 brings them back. The mock
 * cluster can only be steered from inside its own process, hence the signals.
 *
 * DESIGN: signals are blocked before librdkafka starts its threads (they inherit the mask), and
 * the main thread collects them with sigwait(), so no handler ever runs on a librdkafka thread. */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: bt-mockbroker [--brokers N] [--bootstrap-file FILE] [--topic NAME:PARTITIONS]...\n"
            "  Runs a local Kafka-protocol mock cluster until SIGTERM/SIGINT.\n"
            "  SIGUSR1 takes all brokers down, SIGUSR2 brings them up again.\n");
}

static int write_file_atomically(const char *path, const char *text) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    fprintf(f, "%s\n", text);
    if (fclose(f) != 0) return -1;
    return rename(tmp, path);
}

static void set_all_brokers(rd_kafka_mock_cluster_t *mcluster, int nbrokers, int up) {
    for (int id = 1; id <= nbrokers; id++) {
        if (up)
            rd_kafka_mock_broker_set_up(mcluster, id);
        else
            rd_kafka_mock_broker_set_down(mcluster, id);
    }
    fprintf(stderr, "bt-mockbroker: all brokers %s\n", up ? "up" : "down");
}

int main(int argc, char **argv) {
    int nbrokers = 1;
    const char *bootstrap_file = NULL;
    const char *topics[256];
    int ntopics = 0;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--brokers") && i + 1 < argc) {
            nbrokers = atoi(argv[++i]);
            if (nbrokers < 1 || nbrokers > 16) {
                fprintf(stderr, "bt-mockbroker: --brokers takes 1 to 16\n");
                return 2;
            }
        } else if (!strcmp(argv[i], "--bootstrap-file") && i + 1 < argc) {
            bootstrap_file = argv[++i];
        } else if (!strcmp(argv[i], "--topic") && i + 1 < argc) {
            if (ntopics == 256) {
                fprintf(stderr, "bt-mockbroker: at most 256 --topic\n");
                return 2;
            }
            topics[ntopics++] = argv[++i];
        } else if (!strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "bt-mockbroker: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGUSR1);
    sigaddset(&sigs, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "bt-mockbroker: %s\n", errstr);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "bt-mockbroker: cannot create a client handle: %s\n", errstr);
        return 1;
    }
    rd_kafka_mock_cluster_t *mcluster = rd_kafka_mock_cluster_new(rk, nbrokers);
    if (!mcluster) {
        fprintf(stderr, "bt-mockbroker: cannot create the mock cluster\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    for (int i = 0; i < ntopics; i++) {
        char name[512];
        snprintf(name, sizeof name, "%s", topics[i]);
        char *colon = strrchr(name, ':');
        int parts = 1;
        if (colon) {
            *colon = '\0';
            parts = atoi(colon + 1);
        }
        if (parts < 1) {
            fprintf(stderr, "bt-mockbroker: bad --topic '%s' (want NAME:PARTITIONS)\n", topics[i]);
            return 2;
        }
        rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mcluster, name, parts, 1);
        if (err) {
            fprintf(stderr, "bt-mockbroker: cannot create topic %s: %s\n", name, rd_kafka_err2str(err));
            return 1;
        }
    }

    const char *bootstraps = rd_kafka_mock_cluster_bootstraps(mcluster);
    fprintf(stderr, "bt-mockbroker: %d broker(s) at %s\n", nbrokers, bootstraps);
    if (bootstrap_file && write_file_atomically(bootstrap_file, bootstraps) != 0) {
        fprintf(stderr, "bt-mockbroker: cannot write %s: %s\n", bootstrap_file, strerror(errno));
        return 1;
    }
    if (!bootstrap_file) printf("%s\n", bootstraps), fflush(stdout);

    for (;;) {
        int sig = 0;
        if (sigwait(&sigs, &sig) != 0) continue;
        if (sig == SIGUSR1)
            set_all_brokers(mcluster, nbrokers, 0);
        else if (sig == SIGUSR2)
            set_all_brokers(mcluster, nbrokers, 1);
        else
            break;
    }
    rd_kafka_mock_cluster_destroy(mcluster);
    rd_kafka_destroy(rk);
    return 0;
}
