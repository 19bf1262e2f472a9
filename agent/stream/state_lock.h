/* state_lock.h: one agent per --state-dir. Two agents on one directory would take over each
 * other's control socket and write the same checkpoint temp file, so the second is refused. */
#ifndef BT_STATE_LOCK_H
#define BT_STATE_LOCK_H

#include <stddef.h>

/* Take an exclusive flock on <state_dir>/lock (created when missing) and write this process's
 * pid into it. On success *fd_out holds the lock for the life of the process (close-on-exec);
 * closing it, or exiting, releases it. -1 with err when another process holds it (naming that
 * process's pid) or the file cannot be used. */
int bt_state_lock(const char *state_dir, int *fd_out, char *err, size_t errlen);

/* Release a lock taken by bt_state_lock (fd < 0: nothing to do). The file stays: removing it
 * would let a process that opened it just before lock a file nobody else sees. */
void bt_state_unlock(int fd);

#endif
