/* replay.c: runs every input of the checked-in fuzz corpus (tests/fuzz/corpus) once through the
 * fuzz target's entry point, without libFuzzer, as the unit test test_fuzz_corpus. Every input
 * that once found a fault, or that reaches a decoder path worth keeping, is replayed by every
 * `make check`, under ASan+UBSan in the sanitizer build, so a regression shows up without a
 * fuzzing run. One TAP line per input; a crash fails the whole program. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/binlog/binlog.h"
#include "lib/lib.h"
#include "tests/unit/tap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The corpus file names, sorted so runs are reproducible; NULL-terminated. */
static char **corpus_names(const char *dir, size_t *n) {
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t cap = 0;
    *n = 0;
    if (!d) return NULL;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        if (*n == cap) names = bt_xrealloc(names, (cap = cap ? cap * 2 : 64) * sizeof *names);
        names[(*n)++] = bt_xstrdup(e->d_name);
    }
    closedir(d);
    if (*n) qsort(names, *n, sizeof *names, by_name);
    return names;
}

static void replay_one(const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        ok(0, "%s: cannot be read", name);
        return;
    }
    bt_buf_t b;
    bt_buf_init(&b, 0);
    char chunk[65536];
    for (size_t r; (r = fread(chunk, 1, sizeof chunk, f)) > 0;) bt_buf_append(&b, chunk, r);
    fclose(f);
    LLVMFuzzerTestOneInput((const uint8_t *)b.p, b.len); /* a fault aborts the program */
    ok(1, "%s: %zu bytes decoded without a fault", name, b.len);
    bt_buf_free(&b);
}

int main(void) {
    const char *dir = BT_TEST_SRCDIR "/tests/fuzz/corpus";
    size_t n = 0;
    char **names = corpus_names(dir, &n);
    ok(n > 0, "the corpus %s has inputs (%zu)", dir, n);
    for (size_t i = 0; i < n; i++) {
        replay_one(dir, names[i]);
        free(names[i]);
    }
    free(names);
    return tap_done();
}
