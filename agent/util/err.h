/* err.h: the one helper that writes an error message for the `char *err, size_t errlen`
 * convention of synchronous calls. */
#ifndef BT_ERR_H
#define BT_ERR_H

#include <stddef.h>

/* Format the message into err (when err is not NULL) and return -1, so a failing path is
 * `return bt_errf(err, errlen, "what went wrong: %s", why);`. */
int bt_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
