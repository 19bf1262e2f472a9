/* tap.h: a tiny TAP producer for bintail's unit tests.
 * Each check prints "ok N - name" or "not ok N - name" plus a diagnostic; tests/run counts
 * these lines. A test program ends with `return tap_done();`, which fails when any check did. */
#ifndef BT_TAP_H
#define BT_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count, tap_failures;

static int tap_ok(int cond, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5), unused));
static int tap_ok(int cond, const char *file, int line, const char *fmt, ...) {
    va_list ap;
    tap_count++;
    printf("%sok %d - ", cond ? "" : "not ", tap_count);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (!cond) {
        tap_failures++;
        printf("#   failed at %s:%d\n", file, line);
    }
    fflush(stdout);
    return cond;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...)                                                                    \
    do {                                                                                          \
        long long got_ = (long long)(got), want_ = (long long)(want);                             \
        if (!tap_ok(got_ == want_, __FILE__, __LINE__, __VA_ARGS__))                              \
            printf("#   got %lld, want %lld\n", got_, want_);                                     \
    } while (0)

#define is_uint(got, want, ...)                                                                   \
    do {                                                                                          \
        unsigned long long got_ = (unsigned long long)(got), want_ = (unsigned long long)(want);   \
        if (!tap_ok(got_ == want_, __FILE__, __LINE__, __VA_ARGS__))                              \
            printf("#   got %llu, want %llu\n", got_, want_);                                     \
    } while (0)

#define is_str(got, want, ...)                                                                    \
    do {                                                                                          \
        const char *got_ = (got), *want_ = (want);                                                \
        int same_ = got_ && want_ ? strcmp(got_, want_) == 0 : got_ == want_;                     \
        if (!tap_ok(same_, __FILE__, __LINE__, __VA_ARGS__))                                      \
            printf("#   got  '%s'\n#   want '%s'\n", got_ ? got_ : "(null)", want_ ? want_ : "(null)"); \
    } while (0)

#define is_mem(got, gotlen, want, wantlen, ...)                                                   \
    do {                                                                                          \
        size_t gl_ = (gotlen), wl_ = (wantlen);                                                   \
        int same_ = gl_ == wl_ && memcmp((got), (want), gl_) == 0;                                \
        if (!tap_ok(same_, __FILE__, __LINE__, __VA_ARGS__))                                      \
            printf("#   got %zu bytes '%.*s', want %zu bytes '%.*s'\n", gl_, (int)gl_,           \
                   (const char *)(got), wl_, (int)wl_, (const char *)(want));                     \
    } while (0)

static int tap_done(void) __attribute__((unused));
static int tap_done(void) {
    printf("1..%d\n", tap_count);
    return tap_failures ? 1 : 0;
}

#endif
