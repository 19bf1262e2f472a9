/* mysql_url.c: parses --mysql URLs, finds the password, opens connections with errors that
 * say what to do (see mysql_url.h). Used by the replication source, the snapshot and the
 * schema lookups, so every MySQL connection bintail makes fails the same helpful way. */
#include "agent/source/mysql_url.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <errmsg.h>
#include <mysqld_error.h>

#include "lib/lib.h"

/* ---------------------------------------------------------------- URL */

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Copy s[0..n) into out with %XX decoded; -1 on a bad escape, an encoded NUL or overflow. */
static int pct_decode(const char *s, size_t n, char *out, size_t outlen) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n) return -1;
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0) return -1;
            c = h * 16 + l;
            if (c == 0) return -1;
            i += 2;
        }
        if (k + 1 >= outlen) return -1;
        out[k++] = (char)c;
    }
    out[k] = 0;
    return 0;
}

static int parse_port(const char *s, size_t n, unsigned *port) {
    if (n == 0 || n > 5) return -1;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v == 0 || v > 65535) return -1;
    *port = v;
    return 0;
}

/* HOST[:PORT] or [V6][:PORT] from hp[0..n). */
static int parse_hostport(const char *url, const char *hp, size_t n, bt_mysql_url_t *out, char *err,
                          size_t errlen) {
    const char *end = hp + n, *host = hp, *host_end, *colon = NULL;
    if (n && hp[0] == '[') {
        const char *rb = memchr(hp, ']', n);
        if (!rb) {
            snprintf(err, errlen, "--mysql %s: missing ']' after the IPv6 address", url);
            return -1;
        }
        host = hp + 1;
        host_end = rb;
        if (rb + 1 < end) {
            if (rb[1] != ':') {
                snprintf(err, errlen, "--mysql %s: expected ':PORT' after ']'", url);
                return -1;
            }
            colon = rb + 1;
        }
    } else {
        colon = memchr(hp, ':', n);
        if (colon && memchr(colon + 1, ':', (size_t)(end - colon - 1))) {
            snprintf(err, errlen, "--mysql %s: put an IPv6 address in brackets, e.g. mysql://user@[::1]:3306", url);
            return -1;
        }
        host_end = colon ? colon : end;
    }
    if (host_end == host) {
        snprintf(err, errlen, "--mysql %s: no host (expected mysql://USER@HOST:PORT)", url);
        return -1;
    }
    if ((size_t)(host_end - host) >= sizeof out->host) {
        snprintf(err, errlen, "--mysql %s: host name too long", url);
        return -1;
    }
    /* Decoded so that a scoped IPv6 address can be written as [fe80::1%25eth0]. */
    if (pct_decode(host, (size_t)(host_end - host), out->host, sizeof out->host) != 0) {
        snprintf(err, errlen, "--mysql %s: bad host (a broken %%XX escape)", url);
        return -1;
    }
    out->port = BT_MYSQL_DEFAULT_PORT;
    if (colon && parse_port(colon + 1, (size_t)(end - colon - 1), &out->port) != 0) {
        snprintf(err, errlen, "--mysql %s: bad port '%.*s' (expected 1-65535)", url, (int)(end - colon - 1), colon + 1);
        return -1;
    }
    return 0;
}

int bt_mysql_url_parse(const char *url, bt_mysql_url_t *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (!url) {
        snprintf(err, errlen, "--mysql: missing URL (expected mysql://USER@HOST:PORT)");
        return -1;
    }
    const char *p;
    if (!strncasecmp(url, "mysql://", 8)) p = url + 8;
    else if (!strncasecmp(url, "mariadb://", 10)) p = url + 10;
    else {
        snprintf(err, errlen, "--mysql %s: expected mysql://USER@HOST:PORT", url);
        return -1;
    }
    /* The user ends at the last '@' (user names may contain one, host names cannot). Look for a
     * password first, over the whole URL: it may hold '/', '?' or '@', and must never be echoed. */
    const char *at = strrchr(p, '@');
    if (at && memchr(p, ':', (size_t)(at - p))) {
        snprintf(err, errlen, "--mysql: the URL contains a password, which bintail refuses (command lines are "
                              "visible to other users); remove it and put the password in a file named by "
                              "--mysql-password-file, or in the environment variable " BT_MYSQL_PASSWORD_ENV);
        return -1;
    }
    if (!at || at == p) {
        snprintf(err, errlen, "--mysql %s: no user in the URL (expected mysql://USER@HOST:PORT)", url);
        return -1;
    }
    if (strcspn(p, "/?#") < (size_t)(at - p) ||
        pct_decode(p, (size_t)(at - p), out->user, sizeof out->user) != 0) {
        snprintf(err, errlen, "--mysql %s: bad user name (too long, a '/', '?' or '#', or a broken %%XX escape)", url);
        return -1;
    }
    /* The host part ends at the first '/', '?' or '#'; a bare trailing '/' is tolerated. */
    const char *hp = at + 1;
    size_t hlen = strcspn(hp, "/?#");
    if (hp[hlen] && strcmp(hp + hlen, "/") != 0) {
        snprintf(err, errlen, "--mysql %s: unexpected '%s' (bintail takes no database or options in the URL: "
                              "mysql://USER@HOST:PORT)", url, hp + hlen);
        return -1;
    }
    return parse_hostport(url, hp, hlen, out, err, errlen);
}

/* ---------------------------------------------------------------- password */

int bt_mysql_password(const char *password_file, char **out, char *err, size_t errlen) {
    *out = NULL;
    if (password_file && *password_file) {
        FILE *f = fopen(password_file, "r");
        if (!f) {
            snprintf(err, errlen, "--mysql-password-file %s: %s", password_file, strerror(errno));
            return -1;
        }
        char *line = NULL;
        size_t cap = 0;
        ssize_t n = getline(&line, &cap, f);
        int rerr = ferror(f);
        fclose(f);
        if (rerr) {
            snprintf(err, errlen, "--mysql-password-file %s: read error", password_file);
            free(line);
            return -1;
        }
        if (n < 0) {
            free(line);
            line = bt_xstrdup(""); /* an empty file: an empty password */
        } else {
            line[strcspn(line, "\r\n")] = 0;
        }
        *out = line;
    } else {
        const char *env = getenv(BT_MYSQL_PASSWORD_ENV);
        *out = bt_xstrdup(env ? env : "");
    }
    return 0;
}

/* ---------------------------------------------------------------- connecting */

static pthread_once_t library_once = PTHREAD_ONCE_INIT;
/* mysql_init() initialises the library lazily, which is not thread-safe: do it once first. */
static void library_init(void) { mysql_library_init(0, NULL, NULL); }

/* Connector/C ends connection errors with "(errno)"; return that errno, or 0. */
static int trailing_errno(const char *msg) {
    size_t n = strlen(msg);
    if (n < 3 || msg[n - 1] != ')') return 0;
    size_t i = n - 1;
    while (i > 0 && isdigit((unsigned char)msg[i - 1])) i--;
    if (i == n - 1 || i == 0 || msg[i - 1] != '(') return 0;
    return atoi(msg + i);
}

/* Connector/C's connection errors carry a stale errno (EINPROGRESS from its non-blocking
 * connect), so when it cannot connect, try a plain TCP connect to learn the real reason.
 * Returns that errno, or 0 if the port answers (then the connector's message stands). */
static int tcp_probe(const char *host, unsigned port, int timeout_ms) {
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    char service[16];
    snprintf(service, sizeof service, "%u", port);
    if (getaddrinfo(host, service, &hints, &ai) != 0 || !ai) return 0;
    int result = 0;
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
        result = errno;
    } else if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        result = errno;
        if (result == EINPROGRESS) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            int n = poll(&pfd, 1, timeout_ms);
            socklen_t len = sizeof result;
            if (n == 0) result = ETIMEDOUT;
            else if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &result, &len) != 0) result = errno;
        }
    }
    if (fd >= 0) close(fd);
    freeaddrinfo(ai);
    return result;
}

static void connect_error(const bt_mysql_url_t *url, bool with_password, unsigned code, const char *msg, char *err,
                          size_t errlen) {
    int sys = 0;
    if (code == CR_CONNECTION_ERROR || code == CR_CONN_HOST_ERROR) {
        sys = tcp_probe(url->host, url->port, 2000);
        if (!sys) sys = trailing_errno(msg);
        if (sys == EINPROGRESS) sys = 0;
    }
    switch (code) {
    case ER_ACCESS_DENIED_ERROR:
    case ER_ACCESS_DENIED_NO_PASSWORD_ERROR:
        snprintf(err, errlen, "MySQL at %s:%u refused user '%s' %s (%s): check the password in the file given "
                 "with --mysql-password-file or in " BT_MYSQL_PASSWORD_ENV ", and that the user may connect from "
                 "this host", url->host, url->port, url->user, with_password ? "with the password given" :
                 "without a password (none was given)", msg);
        break;
    case ER_HOST_NOT_PRIVILEGED:
    case ER_HOST_IS_BLOCKED:
        snprintf(err, errlen, "MySQL at %s:%u does not accept connections from this host: %s", url->host, url->port,
                 msg);
        break;
    case CR_UNKNOWN_HOST:
        snprintf(err, errlen, "cannot resolve MySQL host '%s': %s", url->host, msg);
        break;
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
        if (sys)
            snprintf(err, errlen, "cannot connect to MySQL at %s:%u: %s%s", url->host, url->port, strerror(sys),
                     sys == ECONNREFUSED ? " (is the server running and listening on that address and port?)" : "");
        else
            snprintf(err, errlen, "cannot connect to MySQL at %s:%u: %s", url->host, url->port, msg);
        break;
    default:
        snprintf(err, errlen, "cannot connect to MySQL at %s:%u as '%s': error %u: %s", url->host, url->port,
                 url->user, code, msg);
    }
}

/* The server answered and said no: retrying with the same settings cannot help. */
static bool refusal(unsigned code) {
    return code == ER_ACCESS_DENIED_ERROR || code == ER_ACCESS_DENIED_NO_PASSWORD_ERROR ||
           code == ER_HOST_NOT_PRIVILEGED || code == ER_HOST_IS_BLOCKED || code == ER_DBACCESS_DENIED_ERROR ||
           code == CR_AUTH_PLUGIN_CANNOT_LOAD;
}

MYSQL *bt_mysql_connect(const bt_mysql_url_t *url, const char *password, int timeout_s, char *err, size_t errlen) {
    return bt_mysql_connect_io(url, password, timeout_s, 0, err, errlen);
}

MYSQL *bt_mysql_connect_io(const bt_mysql_url_t *url, const char *password, int timeout_s, int io_timeout_s,
                           char *err, size_t errlen) {
    pthread_once(&library_once, library_init);
    MYSQL *m = mysql_init(NULL);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    unsigned timeout = timeout_s > 0 ? (unsigned)timeout_s : 10;
    unsigned proto = MYSQL_PROTOCOL_TCP;
    my_bool no = 0;
    mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_optionsv(m, MYSQL_OPT_PROTOCOL, &proto);
    mysql_optionsv(m, MYSQL_OPT_RECONNECT, &no);
    mysql_optionsv(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (io_timeout_s > 0) {
        /* Only honoured when set before connecting. */
        unsigned io = (unsigned)io_timeout_s;
        mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &io);
        mysql_optionsv(m, MYSQL_OPT_WRITE_TIMEOUT, &io);
    }
    /* Binlog events can reach 1 GiB; the default cap would turn a big one into a lost connection. */
    size_t max_packet = (size_t)1 << 30;
    mysql_optionsv(m, MYSQL_OPT_MAX_ALLOWED_PACKET, &max_packet);
    if (!mysql_real_connect(m, url->host, url->user, password, NULL, url->port, NULL, 0)) {
        unsigned code = mysql_errno(m);
        connect_error(url, password && *password, code, mysql_error(m), err, errlen);
        mysql_close(m);
        errno = refusal(code) ? EACCES : ECONNABORTED;
        return NULL;
    }
    return m;
}

/* ---------------------------------------------------------------- binlog position */

static int binlog_status(MYSQL *m, const char *sql, char *file, size_t filelen, uint64_t *pos) {
    if (mysql_query(m, sql) != 0) return -1;
    MYSQL_RES *res = mysql_store_result(m);
    MYSQL_ROW row = res && mysql_num_fields(res) >= 2 ? mysql_fetch_row(res) : NULL;
    int rc = row && row[0] && row[1] ? 0 : 1;
    if (rc == 0) {
        snprintf(file, filelen, "%s", row[0]);
        *pos = strtoull(row[1], NULL, 10);
    }
    if (res) mysql_free_result(res);
    return rc;
}

int bt_mysql_binlog_end(MYSQL *m, char *file, size_t filelen, uint64_t *pos, unsigned *code, char *err,
                        size_t errlen) {
    if (code) *code = 0;
    int rc = binlog_status(m, "SHOW MASTER STATUS", file, filelen, pos);
    /* MySQL 8.4 removed SHOW MASTER STATUS (a syntax error there). */
    if (rc < 0 && mysql_errno(m) == ER_PARSE_ERROR) rc = binlog_status(m, "SHOW BINARY LOG STATUS", file, filelen, pos);
    if (rc == 0) return 0;
    if (rc > 0) {
        snprintf(err, errlen, "SHOW MASTER STATUS returned nothing: binary logging is off on this server");
        return -1;
    }
    if (code) *code = mysql_errno(m);
    snprintf(err, errlen, "SHOW MASTER STATUS: error %u: %s%s", mysql_errno(m), mysql_error(m),
             mysql_errno(m) == ER_SPECIFIC_ACCESS_DENIED_ERROR || mysql_errno(m) == ER_ACCESS_DENIED_ERROR
                 ? " (grant REPLICATION CLIENT, on MariaDB BINLOG MONITOR)" : "");
    return -1;
}
