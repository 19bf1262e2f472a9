/* cmd_alert_test.c: `bintail alert-test`: one test notification to each --webhook, with the
 * headers, secret and format the agent would use, so a webhook can be checked before it is
 * needed. Exit 0 when every URL answered 2xx, 1 when one did not, 2 for bad flags. */
#include <stdio.h>
#include <stdlib.h>

#include "agent/alerting.h"
#include "agent/commands.h"
#include "agent/options.h"
#include "alerts/alerts.h"

int bt_cmd_alert_test(int argc, char **argv) {
    bt_config_t cfg;
    char err[1024];
    bt_config_defaults(&cfg);
    /* Takes run's flags too (bt_commands), so the agent's command line works as it is; only the
     * --webhook* flags and --name matter here. */
    int rc = bt_config_parse(&cfg, BT_CMD_ALERT_TEST, argc, argv, 1, NULL, err, sizeof err);
    if (rc != 0) {
        if (rc < 0) fprintf(stderr, "bintail alert-test: %s\n", err);
        bt_config_free(&cfg);
        return rc < 0 ? 2 : 0;
    }
    if (cfg.webhooks.n == 0) {
        fprintf(stderr, "bintail alert-test: give --webhook URL (and the --webhook-header, --webhook-secret-file, "
                        "--webhook-format flags the agent uses)\n");
        bt_config_free(&cfg);
        return 2;
    }
    bt_alerts_config_t ac;
    unsigned char *secret;
    if (bt_alerting_config(&cfg, &ac, &secret, err, sizeof err) != 0) {
        fprintf(stderr, "bintail alert-test: %s\n", err);
        bt_config_free(&cfg);
        return 2;
    }
    int status = 0;
    for (size_t i = 0; i < cfg.webhooks.n; i++) {
        long http = 0;
        if (bt_alerts_test_send(&ac, cfg.webhooks.v[i], err, sizeof err, &http) == 0) {
            printf("%s: HTTP %ld, ok\n", cfg.webhooks.v[i], http);
        } else {
            printf("%s: %s%s\n", cfg.webhooks.v[i], http ? "" : "no answer: ", err);
            status = 1;
        }
    }
    free(secret);
    bt_config_free(&cfg);
    return status;
}
