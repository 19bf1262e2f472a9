/* state_lock.c: the state directory's lock file (see state_lock.h). flock locks belong to the
 * open file and the kernel drops them when the holder exits, however it exits, so a lock file
 * left by a killed agent never blocks the next one; the pid in it only names the holder. */
#include "agent/stream/state_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

/* The holder's pid from the file, or 0 when it has not been written yet or is not a number. */
static long read_holder(int fd) {
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return 0;
    buf[n] = 0;
    char *end;
    long pid = strtol(buf, &end, 10);
    return end != buf && pid > 0 ? pid : 0;
}

/* The holder writes its pid right after taking the lock: give it a moment to do so. */
static long wait_holder(int fd) {
    long pid = 0;
    for (int i = 0; i < 20 && !(pid = read_holder(fd)); i++) nanosleep(&(struct timespec){0, 5000000}, NULL);
    return pid;
}

static int write_pid(int fd) {
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0) return -1;
    if (pwrite(fd, buf, (size_t)n, 0) != n) return -1;
    return 0;
}

int bt_state_lock(const char *state_dir, int *fd_out, char *err, size_t errlen) {
    char path[4096];
    *fd_out = -1;
    if (snprintf(path, sizeof path, "%s/lock", state_dir) >= (int)sizeof path) {
        snprintf(err, errlen, "--state-dir %s: path too long", state_dir);
        return -1;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "--state-dir %s: cannot open the lock file %s: %s", state_dir, path, strerror(errno));
        return -1;
    }
    int rc;
    while ((rc = flock(fd, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR) {}
    if (rc != 0) {
        if (errno == EWOULDBLOCK) {
            long pid = wait_holder(fd);
            char who[32] = "";
            if (pid) snprintf(who, sizeof who, " (pid %ld)", pid);
            snprintf(err, errlen,
                     "--state-dir %s is in use by another bintail%s: stop it, or give this one its own "
                     "--state-dir",
                     state_dir, who);
        } else {
            snprintf(err, errlen, "--state-dir %s: cannot lock %s: %s", state_dir, path, strerror(errno));
        }
        close(fd);
        return -1;
    }
    if (write_pid(fd) != 0) {
        snprintf(err, errlen, "--state-dir %s: cannot write the lock file %s: %s", state_dir, path, strerror(errno));
        close(fd);
        return -1;
    }
    *fd_out = fd;
    return 0;
}

void bt_state_unlock(int fd) {
    if (fd >= 0) close(fd);
}
