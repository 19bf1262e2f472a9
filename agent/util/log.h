/* log.h: leveled logging to stderr, one line per message with a UTC timestamp.
 * Thread-safe (one fprintf per line). Control characters in a message are escaped (\n, \r, \t,
 * else \xNN; bytes that are not UTF-8 too), so a message is always exactly one line. */
#ifndef BT_LOG_H
#define BT_LOG_H

enum { BT_LOG_ERROR = 0, BT_LOG_WARN, BT_LOG_INFO, BT_LOG_DEBUG };

void bt_log_set_level(int level);
int bt_log_level_from_name(const char *name);
int bt_log_enabled(int level);
void bt_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The one line "bintail: MSG" a command ends with on failure, escaped like every log line. */
void bt_log_fatal_line(const char *msg);
/* Send logs (all of stderr) to path, appending; 0 or -1 with errno. */
int bt_log_open(const char *path);
/* From a SIGHUP handler: ask for the log file to be reopened (after logrotate moved it). */
void bt_log_request_reopen(void);
/* Reopen if asked; called regularly from the side thread. */
void bt_log_reopen_if_requested(void);

#define bt_error(...) bt_log(BT_LOG_ERROR, __VA_ARGS__)
#define bt_warn(...) bt_log(BT_LOG_WARN, __VA_ARGS__)
#define bt_info(...) bt_log(BT_LOG_INFO, __VA_ARGS__)
#define bt_debug(...) do { if (bt_log_enabled(BT_LOG_DEBUG)) bt_log(BT_LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
