/* test_log.c: log lines carry no raw control characters. Logs go to a temporary file through
 * bt_log_open (as --log-file does); each check logs one message and compares what follows the
 * "bintail LEVEL: " prefix of the line written, byte for byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/lib.h"
#include "tap.h"

static char path[] = "/tmp/bintail-test-log.XXXXXX";
static long read_from; /* where the next message starts in the file */

/* The message part of what was written since the last call (without the newline), or NULL when
 * it was not exactly one line. */
static const char *logged(char *out, size_t outlen) {
    fflush(stderr);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, read_from, SEEK_SET);
    size_t n = fread(out, 1, outlen - 1, f);
    read_from = ftell(f);
    fclose(f);
    out[n] = 0;
    char *nl = memchr(out, '\n', n);
    if (!nl || nl != out + n - 1) return NULL; /* not one line */
    *nl = 0;
    char *colon = strstr(out, ": ");
    return colon ? colon + 2 : NULL;
}

#define check_log(want, name, ...)                                                                \
    do {                                                                                          \
        char buf_[16384];                                                                         \
        bt_info(__VA_ARGS__);                                                                     \
        is_str(logged(buf_, sizeof buf_), want, name);                                            \
    } while (0)

int main(void) {
    int fd = mkstemp(path);
    if (fd < 0 || bt_log_open(path) != 0) {
        printf("Bail out! cannot log to a temporary file %s\n", path);
        return 1;
    }
    close(fd);

    check_log("plain text stays as it is", "plain text", "plain text stays as it is");
    check_log("query INSERT INTO t\\n  VALUES (1)\\r\\n\\tend", "newline, CR and tab by name", "query %s",
              "INSERT INTO t\n  VALUES (1)\r\n\tend");
    check_log("esc \\x1b[31mred\\x1b[0m bell \\x07 del \\x7f", "escape, bell and DEL as \\xNN", "esc %s",
              "\x1b[31mred\x1b[0m bell \x07 del \x7f");
    check_log("nul [\\x00] \\x01\\x1f", "NUL (from a %%c) and the other low bytes", "nul [%c] %s", 0, "\x01\x1f");
    check_log("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "valid UTF-8 kept", "%s",
              "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    check_log("hash \\xff\\xfe*\\xc3 \\xe2\\x82!", "bytes that are not UTF-8 as \\xNN", "hash %s",
              "\xff\xfe*\xc3 \xe2\x82!");
    check_log("csi \\xc2\\x9b2J nbsp \xc2\xa0.", "C1 controls escaped, U+00A0 kept", "csi %s",
              "\xc2\x9b" "2J nbsp \xc2\xa0.");
    check_log("back\\slash 100% kept", "a backslash and percent kept", "back\\slash %d%% kept", 100);

    /* a message at the 2047-byte limit made only of newlines becomes 4094 bytes, still one line */
    char nl[3000];
    memset(nl, '\n', sizeof nl - 1);
    nl[sizeof nl - 1] = 0;
    char want[5000];
    for (int i = 0; i < 2047; i++) memcpy(want + 2 * i, "\\n", 2);
    want[2 * 2047] = 0;
    check_log(want, "a truncated message of newlines stays one line", "%s", nl);

    unlink(path);
    return tap_done();
}
