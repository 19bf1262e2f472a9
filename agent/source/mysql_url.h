/* mysql_url.h: the --mysql URL, the password, and one place that opens MySQL connections.
 *
 * The URL is mysql://USER@HOST[:PORT] (mariadb:// is accepted too; IPv6 hosts in brackets,
 * e.g. mysql://bintail@[::1]:3306). A password is never part of the URL, because command
 * lines are visible to every local user in ps and /proc: it comes from a file
 * (--mysql-password-file) or the environment (BINTAIL_MYSQL_PASSWORD).
 *
 * Connections always use TCP to HOST:PORT, even for "localhost", where the client library
 * would otherwise silently switch to its default Unix socket and ignore the port. */
#ifndef BT_MYSQL_URL_H
#define BT_MYSQL_URL_H

#include <stddef.h>
#include <stdint.h>

#include <mysql.h>

#define BT_MYSQL_DEFAULT_PORT 3306
#define BT_MYSQL_PASSWORD_ENV "BINTAIL_MYSQL_PASSWORD"

typedef struct bt_mysql_url {
    char user[129]; /* percent-decoded */
    char host[256]; /* without brackets for IPv6 */
    unsigned port;
} bt_mysql_url_t;

/* Parse url into *out. Returns 0, or -1 with err (which never repeats a password). */
int bt_mysql_url_parse(const char *url, bt_mysql_url_t *out, char *err, size_t errlen);

/* The password: the first line of password_file when given (an unreadable file is an error),
 * else $BINTAIL_MYSQL_PASSWORD, else "". *out is malloc'd; the caller frees it. */
int bt_mysql_password(const char *password_file, char **out, char *err, size_t errlen);

/* Connect (TCP, utf8mb4, no automatic reconnect) within timeout_s seconds. Returns the handle,
 * or NULL with err saying what failed and how to fix it: a refused password names the
 * password sources; an unreachable server names HOST:PORT and the system error. On failure
 * errno is EACCES when the server refused us (user, password, host: retrying cannot help),
 * another value when it may be worth retrying (unreachable, timed out, shutting down). */
MYSQL *bt_mysql_connect(const bt_mysql_url_t *url, const char *password, int timeout_s, char *err, size_t errlen);
/* The same, and every later read or write on the connection fails after io_timeout_s seconds
 * without progress (0 = wait forever): for connections that must notice a hung server. */
MYSQL *bt_mysql_connect_io(const bt_mysql_url_t *url, const char *password, int timeout_s, int io_timeout_s,
                           char *err, size_t errlen);

/* The end of the server's binlog (SHOW MASTER STATUS, or SHOW BINARY LOG STATUS on MySQL 8.4+):
 * for --start latest and for knowing when a reader has caught up. 0, or -1 with err; *code
 * gets the server's error number (e.g. ER_SPECIFIC_ACCESS_DENIED_ERROR without the
 * REPLICATION CLIENT / BINLOG MONITOR privilege) when code is not NULL. */
int bt_mysql_binlog_end(MYSQL *m, char *file, size_t filelen, uint64_t *pos, unsigned *code, char *err,
                        size_t errlen);

#endif
