/* cmd_run.c: `bintail [run]`: the daemon. Parses flags, resumes from the checkpoint (or
 * --start), and runs the pipeline until SIGTERM/SIGINT, --stop-at-end, or an error.
 *
 * Exit status: 0 clean stop, 1 a failure a restart can cure (server or broker unreachable past
 * the retry window), 2 bad flags or configuration, 3 a failure that needs an operator (an
 * undecodable event, a purged binlog, a checkpoint of another binlog, a statement-based event,
 * an oversized message with --oversize fail): restarting would fail the same way. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/alerting.h"
#include "agent/stream/checkpoint.h"
#include "agent/source/mysql_url.h"
#include "agent/source/repl_gtid.h"
#include "agent/commands.h"
#include "agent/control.h"
#include "agent/options.h"
#include "agent/stream/pipeline.h"
#include "agent/snapshot/snapshot.h"
#include "agent/stream/state_lock.h"
#include "agent/source/startpos.h"
#include "lib/lib.h"

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

static void on_hup_signal(int sig) {
    (void)sig;
    bt_log_request_reopen();
}

static void install_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sa.sa_handler = on_hup_signal;
    sigaction(SIGHUP, &sa, NULL);
}

/* A checkpoint's start position for a fresh start: file identity from the file itself. */
static void start_position(const char *dir, const bt_start_pos_t *start, bt_position_t *out) {
    memset(out, 0, sizeof *out);
    snprintf(out->file, sizeof out->file, "%s", start->file);
    out->pos = start->pos > 4 ? start->pos : 4;
    if (dir) bt_binlog_file_identity(dir, start->file, &out->server_id, &out->file_created);
}

/* The server id of the binlog files in dir (from their first file), or 0 when none can be read. */
static uint32_t binlog_server_id(const bt_config_t *cfg, const char *dir) {
    bt_start_pos_t first;
    char err[512];
    uint32_t sid = 0, created;
    if (bt_start_resolve("earliest", dir, cfg->binlog_index, &first, err, sizeof err) != 0) return 0;
    if (bt_binlog_file_identity(dir, first.file, &sid, &created) != 0) return 0;
    return sid;
}

/* The checkpoint must belong to the binlog we read: same server id and the same file (by its
 * creation time) under that name; a rebuilt replica reuses file names, not creation times, and
 * another replica has other files. Such a checkpoint is followed on this server by its GTID
 * state (the same transactions have other files and offsets here): *start is set and 1
 * returned, with a log line naming both servers. Without GTIDs it is refused (-1, *rc set).
 * 0: the checkpoint is this binlog's (a purged file is reported by the source). */
static int resume_elsewhere(const bt_config_t *cfg, const char *dir, const bt_position_t *ck, bt_start_pos_t *start,
                            int *rc, char *err, size_t errlen) {
    uint32_t sid, created;
    bool here = bt_binlog_file_identity(dir, ck->file, &sid, &created) == 0;
    if (here && (!ck->file_created || (created == ck->file_created && sid == ck->server_id))) return 0;
    if (!here && (!ck->server_id || (sid = binlog_server_id(cfg, dir)) == 0 || sid == ck->server_id)) return 0;
    *rc = BT_RUN_OPERATOR;
    if (!ck->gtid[0]) {
        if (here)
            return bt_errf(err, errlen,
                           "the checkpoint is for another binlog: %s was written by server %u at %u, but "
                           "the file there now by server %u at %u (the replica was rebuilt or this is another "
                           "server), and it has no GTID state to find its place here (gtid_mode=ON on MySQL). "
                           "Start over with --reset-checkpoint (and a new snapshot)",
                           ck->file, ck->server_id, ck->file_created, sid, created);
        return bt_errf(err, errlen,
                       "the checkpoint is for another binlog: it was written reading server %u (%s), "
                       "but the binlogs here are server %u's (the replica was rebuilt or this is another server), "
                       "and it has no GTID state to find its place here (gtid_mode=ON on MySQL). Start over with "
                       "--reset-checkpoint (and a new snapshot)",
                       ck->server_id, ck->file, sid);
    }
    char missing[160] = "";
    if (!strchr(ck->gtid, ':') &&
        bt_start_maria_gtids_known(dir, cfg->binlog_index, ck->gtid, missing, sizeof missing) == 0)
        return bt_errf(err, errlen,
                       "the checkpoint is for another binlog: it was written reading server %u (%s), and "
                       "its GTID %s is not in the binlogs here (server %u's), so this server does not share its "
                       "history. Point bintail at a replica of the same primary, or start over with "
                       "--reset-checkpoint (and a new snapshot)",
                       ck->server_id, ck->file, missing, sid);
    char spec[BT_GTID_TEXT_MAX + 8];
    snprintf(spec, sizeof spec, "gtid:%s", ck->gtid);
    char gerr[BT_GTID_TEXT_MAX + 512];
    if (bt_start_resolve(spec, dir, cfg->binlog_index, start, gerr, sizeof gerr) != 0)
        return bt_errf(err, errlen,
                       "the checkpoint was written reading server %u (%s:%llu); following its GTID state "
                       "on server %u failed: %s",
                       ck->server_id, ck->file, (unsigned long long)ck->pos, sid, gerr);
    bt_info("the checkpoint was written reading server %u (%s:%llu); this binlog is server %u's: resuming by the "
            "checkpoint's GTID state at %s:%llu (gtid %s)",
            ck->server_id, ck->file, (unsigned long long)ck->pos, sid, start->file, (unsigned long long)start->pos,
            ck->gtid);
    return 1;
}

/* A connection to the server --mysql names, for the replication source's start; NULL with err. */
static MYSQL *repl_connect(const bt_config_t *cfg, char *err, size_t errlen) {
    bt_mysql_url_t url;
    char *password = NULL;
    if (bt_mysql_url_parse(cfg->mysql_url, &url, err, errlen) != 0 ||
        bt_mysql_password(cfg->mysql_password_file, &password, err, errlen) != 0)
        return NULL;
    MYSQL *m = bt_mysql_connect(&url, password, 10, err, errlen);
    free(password);
    return m;
}

/* The id of the server m is connected to and whether it is MariaDB: 0, or -1 with err. */
static int repl_server_identity(MYSQL *m, uint32_t *sid, bool *mariadb, char *err, size_t errlen) {
    int rc = -1;
    MYSQL_RES *res = mysql_query(m, "SELECT @@server_id, VERSION()") == 0 ? mysql_store_result(m) : NULL;
    MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
    if (row && row[0] && row[1]) {
        *sid = (uint32_t)strtoul(row[0], NULL, 10);
        *mariadb = strstr(row[1], "MariaDB") != NULL;
        rc = 0;
    } else {
        bt_errf(err, errlen, "--mysql: SELECT @@server_id failed: %s", mysql_error(m));
    }
    if (res) mysql_free_result(res);
    return rc;
}

/* --start gtid:TEXT, or a checkpoint's GTID state, on the server m: MariaDB takes the position
 * itself (*gtid); a MySQL set becomes a file and offset there (*start). 0, -1 with err, or
 * BT_START_PURGED. */
static int repl_gtid_start(MYSQL *m, bool mariadb, const char *text, bt_start_pos_t *start, char *gtid, size_t gtidlen,
                           char *err, size_t errlen) {
    if (!mariadb) return bt_repl_resolve_mysql_gtid(m, text, start->file, sizeof start->file, &start->pos, err, errlen);
    if (strchr(text, ':'))
        return bt_errf(err, errlen,
                       "--start gtid:%s is a MySQL GTID set, but --mysql is a MariaDB server: give a "
                       "MariaDB GTID position like gtid:0-1-100 (SELECT @@gtid_binlog_pos), or FILE:POS",
                       text);
    snprintf(gtid, gtidlen, "%s", text);
    return 0;
}

/* The checkpoint is of server ck->server_id, --mysql is server sid (m): follow its GTID state
 * there (1), or refuse (-1, *rc set). */
static int repl_follow(MYSQL *m, bool mariadb, uint32_t sid, const bt_position_t *ck, bt_start_pos_t *start, char *gtid,
                       size_t gtidlen, int *rc, char *err, size_t errlen) {
    if (!ck->gtid[0]) {
        *rc = BT_RUN_OPERATOR;
        return bt_errf(err, errlen,
                       "the checkpoint is for another binlog: it was written reading server %u (%s:%llu), "
                       "but --mysql is server %u, and it has no GTID state to find its place there. Start over "
                       "with --reset-checkpoint (and a new snapshot)",
                       ck->server_id, ck->file, (unsigned long long)ck->pos, sid);
    }
    char gerr[1024];
    memset(start, 0, sizeof *start);
    if (repl_gtid_start(m, mariadb, ck->gtid, start, gtid, gtidlen, gerr, sizeof gerr) != 0) {
        *rc = BT_RUN_OPERATOR;
        return bt_errf(err, errlen,
                       "the checkpoint was written reading server %u (%s:%llu); following its GTID state on "
                       "server %u failed: %s",
                       ck->server_id, ck->file, (unsigned long long)ck->pos, sid, gerr);
    }
    if (start->file[0])
        bt_info("the checkpoint was written reading server %u (%s:%llu); --mysql is server %u: resuming by the "
                "checkpoint's GTID state at %s:%llu",
                ck->server_id, ck->file, (unsigned long long)ck->pos, sid, start->file, (unsigned long long)start->pos);
    else
        bt_info("the checkpoint was written reading server %u (%s:%llu); --mysql is server %u: resuming by the "
                "checkpoint's GTID position %s",
                ck->server_id, ck->file, (unsigned long long)ck->pos, sid, ck->gtid);
    return 1;
}

/* The replication source's check of a checkpoint: it must be of the server --mysql reads (the
 * file:pos of another server's binlog names other transactions). A MariaDB checkpoint with a
 * GTID position is followed on the new server by it (*gtid set, 1 returned); otherwise -1 (*rc
 * set) with the reason; 0 when the checkpoint is this server's. */
static int repl_resume_elsewhere(const bt_config_t *cfg, const bt_position_t *ck, bt_start_pos_t *start, char *gtid,
                                 size_t gtidlen, int *rc, char *err, size_t errlen) {
    uint32_t sid = 0;
    bool mariadb = false;
    if (!ck->server_id) return 0;
    MYSQL *m = repl_connect(cfg, err, errlen);
    if (!m) return -1; /* exit 1: try again */
    int r = repl_server_identity(m, &sid, &mariadb, err, errlen);
    if (r == 0 && sid != ck->server_id) r = repl_follow(m, mariadb, sid, ck, start, gtid, gtidlen, rc, err, errlen);
    mysql_close(m);
    return r;
}

/* The replication source: URL and password from the flags; where to start from the
 * checkpoint or --start (FILE:POS, gtid:, earliest, latest). */
static bt_source_t *open_repl_source(const bt_config_t *cfg, const bt_start_pos_t *start, const char *gtid,
                                     char *err, size_t errlen) {
    bt_mysql_url_t url;
    char *password = NULL;
    if (bt_mysql_url_parse(cfg->mysql_url, &url, err, errlen) != 0) return NULL;
    if (bt_mysql_password(cfg->mysql_password_file, &password, err, errlen) != 0) return NULL;
    bt_repl_opts_t ro = {
        .host = url.host,
        .port = url.port,
        .user = url.user,
        .password = password,
        .server_id = (uint32_t)cfg->server_id,
        .gtid = gtid && *gtid ? gtid : NULL,
        .retry_connect_ms = cfg->retry_connect_ms,
        .heartbeat_ms = 1000,
    };
    bt_source_t *src = bt_source_repl_new(&ro, start, err, errlen);
    if (password) memset(password, 0, strlen(password));
    free(password);
    return src;
}

/* --start for the replication source: no local files to scan, so the server answers. 0; -1 a
 * wrong --start (exit 2); BT_START_PURGED (exit 3); REPL_START_RETRY when the server could not
 * be asked (exit 1: a restart may reach it). */
#define REPL_START_RETRY (-3)
static int resolve_repl_start(const bt_config_t *cfg, bt_start_pos_t *start, char *gtid, size_t gtidlen, char *err,
                              size_t errlen) {
    memset(start, 0, sizeof *start);
    gtid[0] = 0;
    const char *spec = cfg->start;
    if (!strcmp(spec, "earliest")) return 0; /* the server's first binlog */
    if (!strncmp(spec, "gtid:", 5)) {
        MYSQL *m = repl_connect(cfg, err, errlen);
        if (!m) return REPL_START_RETRY;
        uint32_t sid;
        bool mariadb;
        int rc = repl_server_identity(m, &sid, &mariadb, err, errlen) != 0 ? REPL_START_RETRY : 0;
        if (rc == 0) rc = repl_gtid_start(m, mariadb, spec + 5, start, gtid, gtidlen, err, errlen);
        mysql_close(m);
        return rc;
    }
    if (!strcmp(spec, "latest")) {
        MYSQL *m = repl_connect(cfg, err, errlen);
        if (!m) return REPL_START_RETRY;
        int rc = bt_mysql_binlog_end(m, start->file, sizeof start->file, &start->pos, NULL, err, errlen);
        mysql_close(m);
        return rc != 0 ? REPL_START_RETRY : 0;
    }
    if (!strncmp(spec, "time:", 5)) {
        snprintf(err, errlen, "--start time: needs the local binlog files (--binlog-dir); with --source replication "
                              "use FILE:POS or gtid:");
        return -1;
    }
    const char *colon = strrchr(spec, ':');
    char *end = NULL;
    unsigned long long pos = colon ? strtoull(colon + 1, &end, 10) : 0;
    if (!colon || colon == spec || !end || *end || pos < 4) {
        snprintf(err, errlen, "--start %s: expected earliest, latest, FILE:POS or gtid:SET", spec);
        return -1;
    }
    snprintf(start->file, sizeof start->file, "%.*s", (int)(colon - spec), spec);
    start->pos = pos;
    return 0;
}

/* --snapshot: initial (the default) runs when there is no checkpoint, when-needed also when
 * the checkpoint's file was purged, and a snapshot interrupted earlier always continues. A
 * snapshot needs --mysql; without it bintail streams only (and says so). */
static bool wants_snapshot(const bt_config_t *cfg, const bt_position_t *ck) {
    if (!strcmp(cfg->snapshot, "never")) return false;
    if (ck && ck->snapshot_active) return true;
    if (!cfg->mysql_url) {
        if (!ck && strcmp(cfg->snapshot, "initial") != 0)
            bt_warn("--snapshot %s needs --mysql: streaming only", cfg->snapshot);
        else if (!ck)
            bt_info("no --mysql: no snapshot of the existing rows; streaming from --start %s", cfg->start);
        return false;
    }
    if (!ck) return true;
    if (!strcmp(cfg->snapshot, "only")) return true;
    if (!strcmp(cfg->snapshot, "when-needed")) {
        char dirbuf[PATH_MAX];
        uint32_t sid, created;
        const char *dir = bt_config_binlog_dir(cfg, dirbuf, sizeof dirbuf);
        if (dir && bt_binlog_file_identity(dir, ck->file, &sid, &created) != 0) {
            bt_warn("the checkpoint's binlog file %s was purged: taking a new snapshot (--snapshot when-needed)",
                    ck->file);
            return true;
        }
    }
    return false;
}

static int prepare_state_dir(const char *dir, char *err, size_t errlen) {
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "--state-dir %s: cannot create: %s", dir, strerror(errno));
        return -1;
    }
    if (access(dir, W_OK) != 0) {
        snprintf(err, errlen, "--state-dir %s: not writable: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

int bt_cmd_run(int argc, char **argv) {
    bt_config_t cfg;
    char err[2048];
    bt_config_defaults(&cfg);
    int prc = bt_config_parse(&cfg, BT_CMD_RUN, argc, argv, 1, NULL, err, sizeof err);
    if (prc == 0 && bt_config_check(&cfg, err, sizeof err) != 0) prc = -1;
    if (prc != 0) {
        if (prc < 0) fprintf(stderr, "bintail: %s\n", err);
        bt_config_free(&cfg);
        return prc < 0 ? 2 : 0;
    }
    bt_log_set_level(bt_log_level_from_name(cfg.log_level));
    if (cfg.log_file && bt_log_open(cfg.log_file) != 0) {
        fprintf(stderr, "bintail: --log-file %s: %s\n", cfg.log_file, strerror(errno));
        bt_config_free(&cfg);
        return 2;
    }
    install_signals();

    int rc = 1;
    bt_source_t *src = NULL;
    bt_pipeline_t *pipe = NULL;
    bt_throttle_t *thr = NULL;
    bt_control_t *ctl = NULL;
    bt_alerts_t *alerts = NULL;
    char dirbuf[PATH_MAX];
    const char *dir = NULL;
    bt_position_t ck;
    bool resumed = false;
    bt_start_pos_t start;
    bool src_needs_operator = false, fresh_start = false;
    int lock_fd = -1; /* held until exit: a second agent on this state dir is refused */

    if (cfg.state_dir && (prepare_state_dir(cfg.state_dir, err, sizeof err) != 0 ||
                          bt_state_lock(cfg.state_dir, &lock_fd, err, sizeof err) != 0)) {
        rc = 2;
        goto out;
    }
    if (cfg.state_dir && !cfg.reset_checkpoint) {
        int r = bt_checkpoint_read(cfg.state_dir, &ck, err, sizeof err);
        if (r < 0) { /* damaged: a restart reads the same file */
            rc = BT_RUN_OPERATOR;
            goto out;
        }
        resumed = r == 1;
    }
    bool repl = !strcmp(cfg.source, "replication");
    char gtid[BT_GTID_TEXT_MAX] = "";
    dir = bt_config_binlog_dir(&cfg, dirbuf, sizeof dirbuf);
    /* --max-rps, --max-mbps, --snapshot-max-* and --throttle-burst, already in the throttle's
     * units (bt_limits); the stream waits on it in stream/emit.c, the snapshot in snapshot/conn.c */
    if (!(thr = bt_throttle_new(&cfg.throttle, bt_mono_ns(), err, sizeof err))) {
        rc = 2;
        goto out;
    }
    alerts = bt_alerting_new(&cfg, err, sizeof err);
    if (!alerts && err[0]) {
        rc = 2;
        goto out;
    }
    bt_pipeline_init_t init = {
        .alerts = alerts,
        .cfg = &cfg,
        .source = NULL, /* set below, once the start position is known */
        .resume = resumed ? &ck : NULL,
        .throttle = thr,
        .stop = &stop_requested,
    };
    if (!(pipe = bt_pipeline_new(&init, err, sizeof err))) {
        rc = 2;
        goto out;
    }
    bt_control_init_t ci = {
        .state_dir = cfg.state_dir, .throttle = thr, .pipeline = pipe, .alerts = alerts, .name = cfg.name};
    if (!(ctl = bt_control_start(&ci, err, sizeof err))) { /* e.g. a --state-dir path too long for a socket */
        rc = 2;
        goto out;
    }

    bool snapshot = wants_snapshot(&cfg, resumed ? &ck : NULL);
    if (snapshot) {
        bt_position_t at;
        bt_snapshot_opts_t so = {
            .cfg = &cfg, .throttle = thr, .resume = resumed && ck.snapshot_active ? &ck : NULL, .stop = &stop_requested};
        int src_rc = bt_snapshot_run(&so, pipe, &at, err, sizeof err);
        if (src_rc != 0) {
            rc = src_rc > 0 ? BT_RUN_OK : bt_pipeline_needs_operator(pipe) ? BT_RUN_OPERATOR : BT_RUN_RETRY;
            goto out;
        }
        if (!strcmp(cfg.snapshot, "only")) {
            bt_info("snapshot done; --snapshot only: exiting");
            rc = 0;
            goto out;
        }
        memset(&start, 0, sizeof start);
        snprintf(start.file, sizeof start.file, "%s", at.file);
        start.pos = at.pos;
        bt_info("snapshot done: streaming from %s:%llu", start.file, (unsigned long long)start.pos);
    } else if (resumed) {
        int moved = repl ? repl_resume_elsewhere(&cfg, &ck, &start, gtid, sizeof gtid, &rc, err, sizeof err)
                         : resume_elsewhere(&cfg, dir, &ck, &start, &rc, err, sizeof err);
        if (moved < 0) goto out;
        if (moved) {
            fresh_start = true; /* a checkpoint of this server's files is written at once */
        } else {
            memset(&start, 0, sizeof start);
            snprintf(start.file, sizeof start.file, "%s", ck.file);
            start.pos = ck.pos;
            bt_info("resuming from the checkpoint %s:%llu%s%s", ck.file, (unsigned long long)ck.pos,
                    ck.gtid[0] ? " gtid " : "", ck.gtid);
        }
    } else if (repl) {
        int rr = resolve_repl_start(&cfg, &start, gtid, sizeof gtid, err, sizeof err);
        if (rr != 0) {
            rc = rr == REPL_START_RETRY ? BT_RUN_RETRY : rr == BT_START_PURGED ? BT_RUN_OPERATOR : 2;
            goto out;
        }
        bt_info("starting at %s (--start %s)", gtid[0] ? gtid : start.file[0] ? start.file : "the first binlog",
                cfg.start);
        fresh_start = start.file[0] != 0;
    } else {
        int srv = bt_start_resolve(cfg.start, dir, cfg.binlog_index, &start, err, sizeof err);
        if (srv != 0) {
            /* a start in purged binlogs needs an operator; else --start or --binlog-dir is wrong */
            rc = srv == BT_START_PURGED ? BT_RUN_OPERATOR : 2;
            goto out;
        }
        bt_info("starting at %s:%llu (--start %s)", start.file, (unsigned long long)start.pos, cfg.start);
        fresh_start = true;
    }
    src = repl ? open_repl_source(&cfg, &start, gtid, err, sizeof err)
               : bt_source_file_new(cfg.binlog_dir, cfg.binlog_index, &start, &src_needs_operator, err, sizeof err);
    if (!src) {
        if (src_needs_operator) rc = BT_RUN_OPERATOR;
        goto out;
    }
    bt_pipeline_set_source(pipe, src);
    src = NULL; /* owned by the pipeline */
    if (fresh_start && cfg.state_dir) {
        /* --start latest (or any start) is recorded at once: a stop before the first
         * transaction must not make the next start choose "latest" again and skip what came. */
        bt_position_t sp;
        start_position(dir, &start, &sp);
        /* --start gtid:SET, or a checkpoint followed here by GTID: the GTID state begins as that
         * set (everything before the start is in it) */
        if (resumed)
            snprintf(sp.gtid, sizeof sp.gtid, "%s", ck.gtid);
        else if (!strncmp(cfg.start, "gtid:", 5))
            snprintf(sp.gtid, sizeof sp.gtid, "%s", cfg.start + 5);
        if (bt_pipeline_start_at(pipe, &sp, err, sizeof err) != 0) goto out;
    }

    rc = bt_pipeline_run(pipe, err, sizeof err);
    if (rc == 0) bt_info("stopped cleanly");
out:
    if (rc != 0) bt_log_fatal_line(err); /* escaped: err may quote a key or a statement */
    bt_control_stop(ctl); /* before the alerts: the side thread uses them */
    if (rc == BT_RUN_RETRY || rc == BT_RUN_OPERATOR)
        bt_alerting_stopped(alerts, pipe && bt_pipeline_source_failed(pipe), err);
    if (alerts) bt_alerts_free(alerts);
    bt_pipeline_free(pipe);
    bt_source_free(src);
    bt_throttle_free(thr);
    bt_state_unlock(lock_fd); /* last: everything that writes the state dir is done */
    bt_config_free(&cfg);
    return rc;
}
