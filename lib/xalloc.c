/* xalloc.c: allocations that never return NULL (lib.h explains the policy). */
#include "lib/lib.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* One line straight to stderr: the logger may itself need memory. Exit status 1 tells a
 * supervisor that a restart can cure it. */
static _Noreturn void out_of_memory(size_t n) {
    char line[128];
    int len = snprintf(line, sizeof line,
                       "bintail: out of memory (asking for %zu bytes); free memory on this host or "
                       "lower --queue-max-bytes, then restart\n",
                       n);
    if (len > 0 && write(STDERR_FILENO, line, (size_t)len) < 0) {
        /* nothing more can be done */
    }
    _exit(1);
}

void *bt_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) out_of_memory(n);
    return p;
}

void *bt_xcalloc(size_t count, size_t size) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) out_of_memory(count * size);
    return p;
}

void *bt_xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) out_of_memory(n);
    return q;
}

char *bt_xstrndup(const char *s, size_t n) {
    size_t len = strnlen(s, n);
    char *p = bt_xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *bt_xstrdup(const char *s) { return bt_xstrndup(s, strlen(s)); }
