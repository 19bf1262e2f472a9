/* test_mysql_url.c: --mysql URL parsing, password sources, and the connection errors that
 * need no server (a refused port names HOST:PORT and the system error). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include "agent/source/mysql_url.h"
#include "tests/unit/tap.h"

static void parses(const char *url, const char *user, const char *host, unsigned port) {
    bt_mysql_url_t u;
    char err[512] = "";
    int rc = bt_mysql_url_parse(url, &u, err, sizeof err);
    ok(rc == 0, "%s parses", url);
    if (rc != 0) {
        printf("#   %s\n", err);
        return;
    }
    is_str(u.user, user, "%s: user", url);
    is_str(u.host, host, "%s: host", url);
    is_uint(u.port, port, "%s: port", url);
}

/* The URL is refused and the message contains want (and never the secret, if given). */
static void refused(const char *url, const char *want, const char *secret) {
    bt_mysql_url_t u;
    char err[512] = "";
    int rc = bt_mysql_url_parse(url, &u, err, sizeof err);
    ok(rc == -1, "%s is refused", url ? url : "(null)");
    if (!ok(strstr(err, want) != NULL, "%s: message says '%s'", url ? url : "(null)", want)) printf("#   %s\n", err);
    if (secret) ok(strstr(err, secret) == NULL, "%s: message does not repeat the password", url);
}

static void test_urls(void) {
    parses("mysql://repl@127.0.0.1:3307", "repl", "127.0.0.1", 3307);
    parses("mysql://repl@db.example.com", "repl", "db.example.com", 3306);
    parses("mysql://repl@db.example.com/", "repl", "db.example.com", 3306);
    parses("MySQL://root@localhost:1", "root", "localhost", 1);
    parses("mariadb://root@h:65535", "root", "h", 65535);
    parses("mysql://bintail@[::1]:3306", "bintail", "::1", 3306);
    parses("mysql://bintail@[fe80::1%25eth0]", "bintail", "fe80::1%eth0", 3306);
    parses("mysql://user%40corp@h:3306", "user@corp", "h", 3306);
    parses("mysql://a%3Ab@h", "a:b", "h", 3306);
    parses("mysql://odd@name@h:3306", "odd@name", "h", 3306);

    refused("mysql://repl:s3cret@127.0.0.1:3306", "--mysql-password-file", "s3cret");
    refused("mysql://repl:s3cret@127.0.0.1:3306", "BINTAIL_MYSQL_PASSWORD", "s3cret");
    refused("mysql://repl:@h", "password", NULL);
    refused("mysql://repl:pa/ss?w#rd@h:3306", "contains a password", "pa/ss");
    refused("mysql://repl:p@ss@h:3306", "contains a password", "ss@h");
    refused("mysql://re/pl@h:3306", "bad user", NULL);
    refused("http://repl@h:3306", "expected mysql://", NULL);
    refused("repl@h:3306", "expected mysql://", NULL);
    refused(NULL, "missing URL", NULL);
    refused("mysql://h:3306", "no user", NULL);
    refused("mysql://@h:3306", "no user", NULL);
    refused("mysql://repl@:3306", "no host", NULL);
    refused("mysql://repl@", "no host", NULL);
    refused("mysql://repl@h:", "bad port", NULL);
    refused("mysql://repl@h:0", "bad port", NULL);
    refused("mysql://repl@h:65536", "bad port", NULL);
    refused("mysql://repl@h:33o6", "bad port", NULL);
    refused("mysql://repl@h:3306/shop", "no database", NULL);
    refused("mysql://repl@h:3306?ssl=1", "no database", NULL);
    refused("mysql://repl@::1:3306", "brackets", NULL);
    refused("mysql://repl@[::1", "missing ']'", NULL);
    refused("mysql://repl@[::1]3306", "expected ':PORT'", NULL);
    refused("mysql://us%4ger@h", "bad user", NULL);
    refused("mysql://us%00er@h", "bad user", NULL);
    refused("mysql://us%4@h", "bad user", NULL);
}

static void test_password(void) {
    char err[512], *pw = NULL;
    char path[] = "/tmp/bt-test-pw.XXXXXX";
    int fd = mkstemp(path);
    ok(fd >= 0, "temporary password file");
    if (fd < 0) return;
    const char content[] = "first line pw\r\nsecond line\n";
    ok(write(fd, content, sizeof content - 1) == (ssize_t)(sizeof content - 1), "password file written");
    close(fd);

    setenv(BT_MYSQL_PASSWORD_ENV, "from-env", 1);
    ok(bt_mysql_password(path, &pw, err, sizeof err) == 0, "password from file");
    is_str(pw, "first line pw", "the file's first line, without CR/LF, wins over the environment");
    free(pw);

    ok(bt_mysql_password(NULL, &pw, err, sizeof err) == 0, "password from environment");
    is_str(pw, "from-env", "no file: " BT_MYSQL_PASSWORD_ENV);
    free(pw);

    unsetenv(BT_MYSQL_PASSWORD_ENV);
    ok(bt_mysql_password("", &pw, err, sizeof err) == 0, "no password anywhere");
    is_str(pw, "", "no file, no environment: empty password");
    free(pw);

    fd = open(path, O_WRONLY | O_TRUNC);
    close(fd);
    ok(bt_mysql_password(path, &pw, err, sizeof err) == 0, "empty password file");
    is_str(pw, "", "an empty file is an empty password");
    free(pw);

    /* A long password is read whole, not cut at some buffer size. */
    static char longpw[3001];
    memset(longpw, 'p', sizeof longpw - 1);
    FILE *f = fopen(path, "w");
    ok(f && fprintf(f, "%s\n", longpw) > 0 && fclose(f) == 0, "long password written");
    ok(bt_mysql_password(path, &pw, err, sizeof err) == 0 && pw && strlen(pw) == 3000, "a 3000-byte password");
    free(pw);

    unlink(path);
    pw = (char *)"untouched";
    ok(bt_mysql_password(path, &pw, err, sizeof err) == -1, "a missing password file is an error");
    ok(strstr(err, path) && strstr(err, "No such file"), "the error names the file and the reason: %s", err);
    ok(pw == NULL, "no password is returned on error");
}

/* A loopback port nobody listens on: bind one, note it, close it. */
static unsigned dead_port(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(s, (struct sockaddr *)&a, &l) != 0) {
        if (s >= 0) close(s);
        return 0;
    }
    close(s);
    return ntohs(a.sin_port);
}

static void test_connect_refused(void) {
    bt_mysql_url_t u;
    char err[512], url[64], want[64];
    unsigned port = dead_port();
    ok(port != 0, "found a free loopback port");
    snprintf(url, sizeof url, "mysql://nobody@127.0.0.1:%u", port);
    ok(bt_mysql_url_parse(url, &u, err, sizeof err) == 0, "parse %s", url);
    errno = 0;
    MYSQL *m = bt_mysql_connect(&u, "", 2, err, sizeof err);
    int e = errno;
    ok(m == NULL, "connecting to a closed port fails");
    if (m) mysql_close(m);
    snprintf(want, sizeof want, "127.0.0.1:%u", port);
    ok(strstr(err, want) != NULL, "the error names host:port: %s", err);
    ok(strstr(err, "Connection refused") != NULL, "the error gives the system error text");
    ok(e != EACCES, "a refused connection may be retried (errno is not EACCES)");
}

int main(void) {
    test_urls();
    test_password();
    test_connect_refused();
    return tap_done();
}
