/* sleep.c: the sleep that goes with throttle.c, kept apart so the rate logic stays
 * pure and its tests never sleep. */
#include "throttle/throttle.h"

#include <errno.h>
#include <time.h>

void bt_throttle_sleep_ns(int64_t ns) {
    if (ns <= 0)
        return;
    struct timespec req = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)}, rem;
    /* nanosleep reports the unslept time when a signal interrupts it; keep going with that. */
    while (nanosleep(&req, &rem) != 0 && errno == EINTR)
        req = rem;
}
