/* log.c: leveled logging (see log.h). */
#include "agent/util/log.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static int log_level = BT_LOG_INFO;
static char log_path[4096];
static volatile sig_atomic_t reopen_requested;
static const char *const level_names[] = {"error", "warn", "info", "debug"};

void bt_log_set_level(int level) { log_level = level; }
int bt_log_enabled(int level) { return level <= log_level; }

int bt_log_level_from_name(const char *name) {
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, level_names[i])) return i;
    return BT_LOG_INFO;
}

void bt_log(int level, const char *fmt, ...) {
    if (level > log_level) return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ bintail %s: %s\n", tm.tm_year + 1900, tm.tm_mon + 1,
            tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000), level_names[level], msg);
}

int bt_log_open(const char *path) {
    snprintf(log_path, sizeof log_path, "%s", path);
    return freopen(log_path, "a", stderr) ? 0 : -1;
}

void bt_log_request_reopen(void) { reopen_requested = 1; }

void bt_log_reopen_if_requested(void) {
    if (!reopen_requested) return;
    reopen_requested = 0;
    if (log_path[0] && freopen(log_path, "a", stderr)) bt_info("log file reopened");
}
