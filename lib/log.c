/* log.c: leveled logging (see log.h). Messages are escaped before they are written: they
 * quote SQL statements, server errors and values read from the binlog, and a raw newline or
 * escape byte in one would forge a log line or drive the operator's terminal. */
#include "lib/lib.h"

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
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

/* Append \xNN for byte b at out + n; returns the new length. */
static size_t put_hex(char *out, size_t n, uint8_t b) {
    static const char hex[] = "0123456789abcdef";
    out[n++] = '\\';
    out[n++] = 'x';
    out[n++] = hex[b >> 4];
    out[n++] = hex[b & 15];
    return n;
}

/* Copy msg (len bytes) to out (room for 4 * len + 1) with control characters escaped: \n, \r
 * and \t by name, other bytes below 0x20, 0x7f and bytes that are not valid UTF-8 as \xNN.
 * Valid multibyte UTF-8 is kept, except the C1 controls U+0080..U+009F, which some terminals
 * obey like escape sequences (their two bytes become \xc2\xNN). */
static size_t escape_message(char *out, const char *msg, size_t len) {
    const uint8_t *s = (const uint8_t *)msg;
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        uint8_t b = s[i];
        size_t seq = b >= 0x80 ? bt_utf8_seq_len(s + i, len - i) : 1;
        bool c1 = seq == 2 && b == 0xc2 && s[i + 1] < 0xa0;
        if (b >= 0x20 && b != 0x7f && seq && !c1) {
            memcpy(out + n, s + i, seq);
            n += seq;
        } else if (b == '\n' || b == '\r' || b == '\t') {
            out[n++] = '\\';
            out[n++] = b == '\n' ? 'n' : b == '\r' ? 'r' : 't';
        } else {
            if (!seq) seq = 1; /* not UTF-8: this byte alone */
            for (size_t k = 0; k < seq; k++) n = put_hex(out, n, s[i + k]);
        }
        i += seq;
    }
    out[n] = 0;
    return n;
}

void bt_log(int level, const char *fmt, ...) {
    if (level > log_level) return;
    char msg[2048], text[4 * sizeof msg];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (len < 0) len = 0;
    if ((size_t)len >= sizeof msg) len = (int)sizeof msg - 1; /* truncated */
    escape_message(text, msg, (size_t)len);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ bintail %s: %s\n", tm.tm_year + 1900, tm.tm_mon + 1,
            tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000), level_names[level], text);
}

void bt_log_fatal_line(const char *msg) {
    char text[4 * 2048 + 1];
    size_t len = strlen(msg);
    if (len > 2048) len = 2048;
    escape_message(text, msg, len);
    fprintf(stderr, "bintail: %s\n", text);
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
