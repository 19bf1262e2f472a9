/* control.c: the side thread and its Unix-socket control endpoint (see control.h). */
#include "agent/control.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent/alerting.h"
#include "agent/options.h"
#include "lib/lib.h"

struct bt_control {
    bt_control_init_t in;
    int listen_fd;
    char path[108];
    pthread_t thread;
    atomic_bool stop;
    bool started;
};

/* Once a second: the alert rules read the pipeline's counters. */
static void control_tick(bt_control_t *c, int64_t now_ms) {
    if (c->in.alerts) bt_alerting_tick(c->in.alerts, c->in.pipeline, c->in.throttle, now_ms);
}

static int socket_path(const char *state_dir, char *out, size_t outlen, char *err, size_t errlen) {
    int n = snprintf(out, outlen, "%s/control.sock", state_dir);
    if (n < 0 || (size_t)n >= outlen) {
        snprintf(err, errlen, "--state-dir %s: path too long for a Unix socket (at most %zu bytes)", state_dir,
                 outlen - 14);
        return -1;
    }
    return 0;
}

/* The error answer: {"ok":false,"error":msg}. */
static void answer_error(bt_buf_t *out, const char *msg) {
    bt_jw_t w;
    bt_jw_init(&w, out);
    bt_jw_obj_begin(&w);
    bt_jw_key(&w, "ok"), bt_jw_bool(&w, false);
    bt_jw_key(&w, "error"), bt_jw_str(&w, msg);
    bt_jw_obj_end(&w);
}

/* Apply "throttle NAME=N ..." (the names and units of bt_limits, as the flags take them) and
 * describe the limits in force. */
static void handle_throttle(bt_control_t *c, char *args, bt_buf_t *out) {
    bt_throttle_limits_t lim;
    bt_throttle_get_limits(c->in.throttle, &lim);
    char err[512];
    char *save = NULL;
    for (char *tok = strtok_r(args, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
        char *eq = strchr(tok, '=');
        const bt_limit_t *l = eq ? bt_limit_find(tok, (size_t)(eq - tok)) : NULL;
        if (!eq)
            snprintf(err, sizeof err, "bad limit '%s': expected NAME=NUMBER (0 = unlimited)", tok);
        else if (!l)
            snprintf(err, sizeof err, "unknown limit '%.*s'", (int)(eq - tok), tok);
        if (!l || bt_limit_parse(&lim, l, eq + 1, err, sizeof err) != 0) {
            answer_error(out, err);
            return;
        }
    }
    if (bt_throttle_set_limits(c->in.throttle, &lim, bt_mono_ns(), err, sizeof err) != 0) {
        answer_error(out, err);
        return;
    }
    bt_buf_t text;
    bt_buf_init(&text, 0);
    bt_limits_describe(&lim, &text);
    bt_info("throttle limits now: %s (0 = unlimited)", text.failed ? "?" : text.p);
    bt_buf_free(&text);
    bt_jw_t w;
    bt_jw_init(&w, out);
    bt_jw_obj_begin(&w);
    bt_jw_key(&w, "ok"), bt_jw_bool(&w, true);
    bt_limits_json(&lim, &w);
    bt_jw_obj_end(&w);
}

static void handle_status(bt_control_t *c, bt_buf_t *out) {
    bt_pipeline_stats_t *s = bt_pipeline_stats(c->in.pipeline);
    char file[256], gtid[2048]; /* BT_GTID_TEXT_MAX */
    uint64_t pos;
    bt_pipeline_position(c->in.pipeline, file, sizeof file, &pos, gtid, sizeof gtid);
    bt_throttle_stats_t ts;
    bt_throttle_get_stats(c->in.throttle, BT_THROTTLE_STREAM, &ts);
    bt_jw_t w;
    bt_jw_init(&w, out);
    bt_jw_obj_begin(&w);
    bt_jw_key(&w, "ok"), bt_jw_bool(&w, true);
    bt_jw_key(&w, "name"), bt_jw_str(&w, c->in.name ? c->in.name : "bintail");
    bt_jw_key(&w, "file"), bt_jw_str(&w, file);
    bt_jw_key(&w, "pos"), bt_jw_uint(&w, pos);
    bt_jw_key(&w, "gtid"), bt_jw_str(&w, gtid);
    bt_jw_key(&w, "lag_ms"), bt_jw_int(&w, atomic_load(&s->lag_ms));
    bt_jw_key(&w, "rows"), bt_jw_uint(&w, atomic_load(&s->rows));
    bt_jw_key(&w, "messages"), bt_jw_uint(&w, atomic_load(&s->messages));
    bt_jw_key(&w, "acked"), bt_jw_uint(&w, atomic_load(&s->acked));
    bt_jw_key(&w, "skipped_oversize"), bt_jw_uint(&w, atomic_load(&s->skipped_oversize)); /* --oversize skip */
    bt_jw_key(&w, "skipped_statements"), bt_jw_uint(&w, atomic_load(&s->skipped_statements)); /* accounts, FLUSH */
    bt_jw_key(&w, "transactions"), bt_jw_uint(&w, atomic_load(&s->transactions));
    bt_jw_key(&w, "caught_up"), bt_jw_bool(&w, atomic_load(&s->caught_up));
    bt_jw_key(&w, "sink_failing_ms"), bt_jw_int(&w, atomic_load(&s->sink_failing_ms));
    bt_jw_key(&w, "throttle_waits"), bt_jw_uint(&w, ts.waits);
    bt_jw_key(&w, "throttle_waited_ms"), bt_jw_uint(&w, ts.waited_ns / 1000000);
    bt_jw_obj_end(&w);
}

static void serve_one(bt_control_t *c, int fd) {
    char req[1024];
    size_t n = 0;
    struct pollfd pfd = {fd, POLLIN, 0};
    while (n < sizeof req - 1 && poll(&pfd, 1, 1000) > 0) { /* a slow client cannot hold the thread */
        ssize_t r = read(fd, req + n, sizeof req - 1 - n);
        if (r <= 0) break;
        n += (size_t)r;
        if (memchr(req, '\n', n)) break;
    }
    req[n] = 0;
    req[strcspn(req, "\r\n")] = 0;
    bt_buf_t out;
    bt_buf_init(&out, 1 << 16);
    if (!strncmp(req, "throttle", 8) && (req[8] == 0 || req[8] == ' ')) handle_throttle(c, req + 8, &out);
    else if (!strcmp(req, "status")) handle_status(c, &out);
    else
        answer_error(&out, "unknown request; expected 'throttle ...' or 'status'");
    bt_buf_putc(&out, '\n');
    ssize_t w = write(fd, out.p, out.len);
    (void)w;
    bt_buf_free(&out);
}

static void *control_main(void *arg) {
    bt_control_t *c = arg;
    int64_t next_tick = bt_mono_ms();
    while (!atomic_load(&c->stop)) {
        if (c->in.alerts) {
            /* wakes for curl's sockets, a raise from another thread, or a control client */
            int w = bt_alerts_wait(c->in.alerts, c->listen_fd, 100);
            if (w < 0) usleep(100 * 1000); /* a libcurl error: do not spin */
            if (w == 1) {
                int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
                if (fd >= 0) {
                    serve_one(c, fd);
                    close(fd);
                }
            }
        } else if (c->listen_fd >= 0) {
            struct pollfd pfd = {c->listen_fd, POLLIN, 0};
            if (poll(&pfd, 1, 100) > 0) {
                int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
                if (fd >= 0) {
                    serve_one(c, fd);
                    close(fd);
                }
            }
        } else {
            usleep(100 * 1000);
        }
        bt_log_reopen_if_requested();
        int64_t now = bt_mono_ms(), wall = bt_wall_ms();
        if (c->in.alerts) bt_alerts_pump(c->in.alerts, wall); /* non-blocking */
        if (now >= next_tick) {
            control_tick(c, wall);
            next_tick = now + 1000;
        }
    }
    return NULL;
}

bt_control_t *bt_control_start(const bt_control_init_t *in, char *err, size_t errlen) {
    bt_control_t *c = bt_xcalloc(1, sizeof *c);
    c->in = *in;
    c->listen_fd = -1;
    if (in->state_dir) {
        if (socket_path(in->state_dir, c->path, sizeof c->path, err, errlen) != 0) goto fail;
        unlink(c->path); /* left by a crashed agent: the state dir's lock (state_lock.c) keeps out a running one */
        c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", c->path);
        mode_t old = umask(0177);
        int rc = c->listen_fd < 0 ? -1 : bind(c->listen_fd, (struct sockaddr *)&sa, sizeof sa);
        umask(old);
        if (rc != 0 || listen(c->listen_fd, 8) != 0) {
            snprintf(err, errlen, "cannot listen on %s: %s", c->path, strerror(errno));
            goto fail;
        }
    }
    if (pthread_create(&c->thread, NULL, control_main, c) != 0) {
        snprintf(err, errlen, "cannot start the control thread: %s", strerror(errno));
        goto fail;
    }
    c->started = true;
    return c;
fail:
    if (c->listen_fd >= 0) close(c->listen_fd);
    free(c);
    return NULL;
}

void bt_control_stop(bt_control_t *c) {
    if (!c) return;
    atomic_store(&c->stop, true);
    if (c->started) pthread_join(c->thread, NULL);
    if (c->listen_fd >= 0) {
        close(c->listen_fd);
        unlink(c->path);
    }
    free(c);
}

int bt_control_request(const char *state_dir, const char *line, char *answer, size_t answerlen, char *err,
                       size_t errlen) {
    char path[108];
    if (socket_path(state_dir, path, sizeof path, err, errlen) != 0) return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        snprintf(err, errlen, "no running agent answers at %s (%s): is bintail running with --state-dir %s?", path,
                 strerror(errno), state_dir);
        if (fd >= 0) close(fd);
        return -1;
    }
    size_t len = strlen(line);
    if (write(fd, line, len) != (ssize_t)len || write(fd, "\n", 1) != 1) {
        snprintf(err, errlen, "cannot send to %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    size_t n = 0;
    struct pollfd pfd = {fd, POLLIN, 0};
    while (n < answerlen - 1 && poll(&pfd, 1, 5000) > 0) {
        ssize_t r = read(fd, answer + n, answerlen - 1 - n);
        if (r <= 0) break;
        n += (size_t)r;
    }
    answer[n] = 0;
    close(fd);
    if (!n) {
        snprintf(err, errlen, "the agent at %s did not answer", path);
        return -1;
    }
    return 0;
}
