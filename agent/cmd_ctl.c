/* cmd_ctl.c: `bintail throttle` and `bintail status`: talk to a running agent through the
 * control socket in its state directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/commands.h"
#include "agent/control.h"

static void ctl_usage(FILE *out) {
    fprintf(out, "usage: bintail throttle --state-dir DIR [--max-rps N] [--max-mbps N] [--snapshot-max-qps N]\n"
                 "                        [--snapshot-max-rps N] [--snapshot-max-mbps N]\n"
                 "       bintail status --state-dir DIR\n"
                 "  Changes the limits of the agent running with that state directory (0 = unlimited); they\n"
                 "  apply within a second. Without limits, prints the limits in force.\n");
}

static int ctl_main(int argc, char **argv, bool throttle) {
    const char *state_dir = NULL;
    char line[1024];
    size_t n = (size_t)snprintf(line, sizeof line, "%s", throttle ? "throttle" : "status");
    static const char *const limits[] = {"max-rps", "max-mbps", "snapshot-max-qps", "snapshot-max-rps",
                                         "snapshot-max-mbps"};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            ctl_usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--state-dir") && i + 1 < argc) {
            state_dir = argv[++i];
            continue;
        }
        bool known = false;
        for (size_t k = 0; throttle && k < sizeof limits / sizeof limits[0]; k++) {
            if (argv[i][0] == '-' && argv[i][1] == '-' && !strcmp(argv[i] + 2, limits[k])) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "bintail throttle: %s needs a value: a number >= 0 (0 = unlimited)\n", argv[i]);
                    return 2;
                }
                char *end;
                double v = strtod(argv[i + 1], &end);
                if (end == argv[i + 1] || *end || v < 0) {
                    fprintf(stderr, "bintail throttle: %s: invalid value '%s': expected a number >= 0\n", argv[i],
                            argv[i + 1]);
                    return 2;
                }
                n += (size_t)snprintf(line + n, sizeof line - n, " %s=%s", limits[k], argv[i + 1]);
                i++;
                known = true;
                break;
            }
        }
        if (!known) {
            fprintf(stderr, "bintail %s: unknown argument '%s'\n", throttle ? "throttle" : "status", argv[i]);
            ctl_usage(stderr);
            return 2;
        }
    }
    if (!state_dir) {
        fprintf(stderr, "bintail %s: --state-dir DIR is required (the agent's state directory)\n",
                throttle ? "throttle" : "status");
        return 2;
    }
    char answer[8192], err[1024];
    if (bt_control_request(state_dir, line, answer, sizeof answer, err, sizeof err) != 0) {
        fprintf(stderr, "bintail %s: %s\n", throttle ? "throttle" : "status", err);
        return 1;
    }
    fputs(answer, stdout);
    return strstr(answer, "\"ok\":true") ? 0 : 1;
}

int bt_cmd_throttle(int argc, char **argv) { return ctl_main(argc, argv, true); }
int bt_cmd_status(int argc, char **argv) { return ctl_main(argc, argv, false); }
