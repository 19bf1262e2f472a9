/* options.c: the flags parser (see options.h); the rows it reads are in options_table.c. */
#include "agent/options.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <config.h>

const bt_command_t *bt_command_find(const char *name) {
    for (size_t i = 0; i < bt_ncommands; i++)
        if (!strcmp(bt_commands[i].name, name)) return &bt_commands[i];
    return NULL;
}

const bt_command_t *bt_command_by_id(bt_cmd_id_t id) {
    for (size_t i = 0; i < bt_ncommands; i++)
        if (bt_commands[i].id == id) return &bt_commands[i];
    return &bt_commands[0];
}

/* The row called name that one of the commands in mask takes; else any row of that name (the
 * caller says it belongs to another command); else NULL. */
static const bt_opt_t *find_long(const char *name, size_t len, unsigned mask) {
    const bt_opt_t *other = NULL;
    for (size_t i = 0; i < bt_noptions; i++) {
        const bt_opt_t *o = &bt_options[i];
        if (strlen(o->name) != len || strncmp(o->name, name, len)) continue;
        if (o->cmds & mask) return o;
        if (!other) other = o;
    }
    return other;
}

static const bt_opt_t *find_short(char c, unsigned mask) {
    for (size_t i = 0; i < bt_noptions; i++)
        if (bt_options[i].short_name == c && (bt_options[i].cmds & mask)) return &bt_options[i];
    return NULL;
}

int bt_parse_duration_ms(const char *s, int64_t *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0 || !isfinite(v)) return -1;
    double mult;
    if (*end == 0 || !strcmp(end, "s")) mult = 1000;
    else if (!strcmp(end, "ms")) mult = 1;
    else if (!strcmp(end, "m")) mult = 60 * 1000;
    else if (!strcmp(end, "h")) mult = 3600 * 1000;
    else if (!strcmp(end, "d")) mult = 86400 * 1000;
    else return -1;
    *out = (int64_t)llround(v * mult);
    return 0;
}

int bt_parse_size(const char *s, int64_t *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0 || !isfinite(v)) return -1;
    static const struct { const char *suffix; double mult; } units[] = {
        {"", 1}, {"B", 1}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"KiB", 1024.0},
        {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"K", 1024.0}, {"M", 1048576.0}, {"G", 1073741824.0},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (!strcasecmp(end, units[i].suffix)) {
            *out = (int64_t)llround(v * units[i].mult);
            return 0;
        }
    }
    return -1;
}

void bt_opt_choices_text(const bt_opt_choices_t *c, char *buf, size_t len) {
    size_t n = 0;
    buf[0] = 0;
    for (const char *p = c->list; *p && n + 3 < len; p++) {
        if (*p == '|')
            n += (size_t)snprintf(buf + n, len - n, ", ");
        else
            buf[n++] = *p, buf[n] = 0;
    }
}

void bt_opt_describe(const bt_opt_t *o, char *buf, size_t len) {
    char list[256];
    switch (o->kind) {
    case BT_OPT_INT:
    case BT_OPT_DOUBLE:
        if (o->max >= BT_OPT_UNBOUNDED)
            snprintf(buf, len, "a number >= %g", o->min);
        else
            snprintf(buf, len, "a number from %g to %g", o->min, o->max);
        break;
    case BT_OPT_LIMIT: snprintf(buf, len, "a number >= 0 (0 = unlimited)"); break;
    case BT_OPT_DURATION:
        snprintf(buf, len, "a duration like 500ms, 30s, 10m, 2h (from %gms to %gms)", o->min, o->max);
        break;
    case BT_OPT_SIZE: snprintf(buf, len, "a size like 512KB, 10MB, 1GiB (from %g to %g bytes)", o->min, o->max); break;
    case BT_OPT_CHOICE:
        bt_opt_choices_text(o->choices, list, sizeof list);
        snprintf(buf, len, "one of: %s", list);
        break;
    case BT_OPT_ONOFF: snprintf(buf, len, "one of: on, off"); break;
    default: snprintf(buf, len, "a value"); break;
    }
}

/* The entry of the choices that v is, as the list spells it (for a "prefix:WORD" entry, the
 * prefix): *len is its length and *prefix tells which kind it is. NULL if none. */
static const char *choice_find(const bt_opt_choices_t *c, const char *v, size_t *len, bool *prefix) {
    size_t vl = strlen(v);
    for (const char *p = c->list; *p;) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        const char *colon = memchr(p, ':', l);
        *prefix = colon != NULL;
        *len = colon ? (size_t)(colon - p) + 1 : l;
        bool same = c->any_case ? !strncasecmp(p, v, *len) : !strncmp(p, v, *len);
        if (same && (*prefix ? vl >= *len : vl == *len)) return p;
        if (!bar) break;
        p = bar + 1;
    }
    return NULL;
}

static int set_choice(char **field, const bt_opt_t *o, const char *v, char *err, size_t errlen) {
    size_t len;
    bool prefix;
    const char *entry = choice_find(o->choices, v, &len, &prefix);
    if (!entry) {
        char list[256];
        bt_opt_choices_text(o->choices, list, sizeof list);
        snprintf(err, errlen, "--%s: unknown value '%s' (expected one of: %s)", o->name, v, list);
        return -1;
    }
    if (prefix && !v[len]) {
        const char *bar = strchr(entry, '|');
        int el = bar ? (int)(bar - entry) : (int)strlen(entry);
        snprintf(err, errlen, "--%s: '%s' needs %.*s after the colon (%.*s)", o->name, v, el - (int)len, entry + len,
                 el, entry);
        return -1;
    }
    if (o->choices->check && o->choices->check(v, err, errlen) != 0) return -1;
    free(*field);
    *field = prefix ? bt_xstrdup(v) : bt_xstrndup(entry, len); /* as the list spells it */
    return 0;
}

/* Store text value v into the field of o. */
static int set_value(bt_config_t *cfg, const bt_opt_t *o, const char *v, char *err, size_t errlen) {
    char *field = (char *)cfg + o->offset;
    switch (o->kind) {
    case BT_OPT_STR:
        free(*(char **)field);
        *(char **)field = bt_xstrdup(v);
        return 0;
    case BT_OPT_CHOICE: return set_choice((char **)field, o, v, err, errlen);
    case BT_OPT_LIST: {
        bt_strlist_t *l = (bt_strlist_t *)field;
        l->v = bt_xrealloc(l->v, (l->n + 1) * sizeof *l->v);
        l->v[l->n++] = bt_xstrdup(v);
        return 0;
    }
    case BT_OPT_LIMIT: {
        const bt_limit_t *lim = bt_limit_find(o->name, strlen(o->name));
        return bt_limit_parse((bt_throttle_limits_t *)field, lim, v, err, errlen);
    }
    case BT_OPT_INT: {
        char *end;
        errno = 0;
        long long x = strtoll(v, &end, 10);
        if (end == v || *end || errno || x < o->min || x > o->max) goto bad;
        *(int64_t *)field = x;
        return 0;
    }
    case BT_OPT_DOUBLE: {
        char *end;
        errno = 0;
        double x = strtod(v, &end);
        if (end == v || *end || errno || !isfinite(x) || x < o->min || x > o->max) goto bad;
        *(double *)field = x;
        return 0;
    }
    case BT_OPT_DURATION:
    case BT_OPT_SIZE: {
        int64_t x;
        int rc = o->kind == BT_OPT_DURATION ? bt_parse_duration_ms(v, &x) : bt_parse_size(v, &x);
        if (rc || x < o->min || x > o->max) goto bad;
        *(int64_t *)field = x;
        return 0;
    }
    case BT_OPT_ONOFF:
        if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "1")) *(bool *)field = true;
        else if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "0")) *(bool *)field = false;
        else {
            snprintf(err, errlen, "--%s: unknown value '%s' (expected one of: on, off)", o->name, v);
            return -1;
        }
        return 0;
    case BT_OPT_FLAG:
        *(bool *)field = true;
        return 0;
    }
bad:;
    char range[160];
    bt_opt_describe(o, range, sizeof range);
    snprintf(err, errlen, "--%s: invalid value '%s': expected %s", o->name, v, range);
    return -1;
}

void bt_config_defaults(bt_config_t *cfg) {
    memset(cfg, 0, sizeof *cfg);
    char err[256];
    for (size_t i = 0; i < bt_noptions; i++) {
        const bt_opt_t *o = &bt_options[i];
        /* a row the parser could not use is a bug in the table: stop before any flag is read */
        bool limit = o->kind == BT_OPT_LIMIT;
        bool broken = limit ? !bt_limit_find(o->name, strlen(o->name)) : o->kind == BT_OPT_CHOICE && !o->choices;
        if (broken) snprintf(err, sizeof err, "the row has no %s", limit ? "bt_limits entry" : "choices");
        if (broken || (o->defval && set_value(cfg, o, o->defval, err, sizeof err) != 0)) {
            fprintf(stderr, "bintail: internal error in the flags table at --%s: %s\n", o->name, err);
            abort();
        }
    }
}

/* The commands of mask, as "bintail run or bintail alert-test". */
static void command_names(unsigned mask, char *buf, size_t len) {
    size_t n = 0;
    buf[0] = 0;
    for (size_t i = 0; i < bt_ncommands && n < len; i++)
        if (mask & bt_commands[i].id)
            n += (size_t)snprintf(buf + n, len - n, "%sbintail %s", n ? " or " : "", bt_commands[i].name);
}

/* The row argument a names (a long flag, -X or -Xvalue), and its inline value if any. */
static const bt_opt_t *lookup(const bt_command_t *c, const char *a, const char **val, char *err, size_t errlen) {
    const char *see = c->id == BT_CMD_RUN ? "" : c->name;
    const char *sep = c->id == BT_CMD_RUN ? "" : " ";
    const bt_opt_t *o;
    *val = NULL;
    if (a[1] == '-') {
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t nl = eq ? (size_t)(eq - name) : strlen(name);
        o = find_long(name, nl, c->accepts);
        if (o && !(o->cmds & c->accepts)) {
            char owners[128];
            command_names(o->cmds, owners, sizeof owners);
            snprintf(err, errlen, "--%s is a flag of %s, not of bintail %s (see bintail %s%s--help)", o->name, owners,
                     c->name, see, sep);
            return NULL;
        }
        if (eq) *val = eq + 1;
        if (o) return o;
        snprintf(err, errlen, "unknown flag '%.*s' (see bintail %s%s--help)", (int)(nl + 2), a, see, sep);
        return NULL;
    }
    if ((o = find_short(a[1], c->accepts))) {
        if (a[2]) *val = a + 2; /* -Xkey=value */
        return o;
    }
    snprintf(err, errlen, "unknown flag '%s' (see bintail %s%s--help)", a, see, sep);
    return NULL;
}

/* --help, --version, --help-markdown: 1 if a was one of them (and it was printed). */
static int info_flag(const bt_command_t *c, const char *a) {
    if (!strcmp(a, "--help") || !strcmp(a, "-h"))
        bt_config_print_help(c->id);
    else if (!strcmp(a, "--version") || !strcmp(a, "-V"))
        printf("bintail %s\n", PACKAGE_VERSION);
    else if (!strcmp(a, "--help-markdown"))
        bt_config_print_markdown();
    else
        return 0;
    return 1;
}

int bt_config_parse(bt_config_t *cfg, bt_cmd_id_t cmd, int argc, char **argv, int first, int *rest, char *err,
                    size_t errlen) {
    const bt_command_t *c = bt_command_by_id(cmd);
    if (rest) *rest = argc;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (info_flag(c, a)) return 1;
        if (rest && !strcmp(a, "--")) {
            *rest = i + 1;
            return 0;
        }
        if (a[0] != '-' || !a[1] || (a[1] == '-' && !a[2])) {
            if (rest) {
                *rest = i;
                return 0;
            }
            snprintf(err, errlen, "unexpected argument '%s' (flags start with --; see bintail%s%s --help)", a,
                     cmd == BT_CMD_RUN ? "" : " ", cmd == BT_CMD_RUN ? "" : c->name);
            return -1;
        }
        const char *val;
        const bt_opt_t *o = lookup(c, a, &val, err, errlen);
        if (!o) return -1;
        if (o->kind == BT_OPT_FLAG) {
            if (val) {
                snprintf(err, errlen, "--%s takes no value", o->name);
                return -1;
            }
            *(bool *)((char *)cfg + o->offset) = true;
            continue;
        }
        if (!val) {
            if (i + 1 >= argc) {
                char range[300];
                bt_opt_describe(o, range, sizeof range);
                snprintf(err, errlen, "--%s needs a value: %s", o->name, range);
                return -1;
            }
            val = argv[++i];
        }
        if (set_value(cfg, o, val, err, errlen) != 0) return -1;
    }
    return 0;
}

int bt_config_check(const bt_config_t *cfg, char *err, size_t errlen) {
    if (!strcmp(cfg->source, "replication") && !cfg->mysql_url) {
        snprintf(err, errlen, "--source replication needs --mysql mysql://user@host:port");
        return -1;
    }
    if (!strcmp(cfg->source, "file") && !cfg->binlog_dir && !cfg->binlog_index) {
        snprintf(err, errlen, "no source: give --binlog-dir DIR (the replica's binlog directory), "
                              "or --source replication --mysql URL");
        return -1;
    }
    if (cfg->sink && !strcmp(cfg->sink, "kafka") && !cfg->kafka) {
        snprintf(err, errlen, "--sink kafka needs --kafka BROKERS");
        return -1;
    }
    if (cfg->queue_max_bytes < cfg->max_record_bytes) {
        snprintf(err, errlen, "--queue-max-bytes (%lld) is smaller than --max-record-bytes (%lld): a message that "
                 "size could never be queued; raise --queue-max-bytes", (long long)cfg->queue_max_bytes,
                 (long long)cfg->max_record_bytes);
        return -1;
    }
    if (cfg->lag_critical_ms < cfg->lag_warning_ms) {
        snprintf(err, errlen, "--lag-critical must not be below --lag-warning");
        return -1;
    }
    for (size_t i = 0; i < cfg->kafka_props.n; i++) {
        if (!strchr(cfg->kafka_props.v[i], '=')) {
            snprintf(err, errlen, "-X: invalid value '%s': expected KEY=VALUE", cfg->kafka_props.v[i]);
            return -1;
        }
    }
    return 0;
}

void bt_config_free(bt_config_t *cfg) {
    for (size_t i = 0; i < bt_noptions; i++) {
        const bt_opt_t *o = &bt_options[i];
        char *field = (char *)cfg + o->offset;
        if (o->kind == BT_OPT_STR || o->kind == BT_OPT_CHOICE) {
            free(*(char **)field);
            *(char **)field = NULL;
        } else if (o->kind == BT_OPT_LIST) {
            bt_strlist_t *l = (bt_strlist_t *)field;
            for (size_t j = 0; j < l->n; j++) free(l->v[j]);
            free(l->v);
            l->v = NULL;
            l->n = 0;
        }
    }
}

const char *bt_config_binlog_dir(const bt_config_t *cfg, char *buf, size_t len) {
    if (cfg->source && !strcmp(cfg->source, "replication")) return NULL; /* the server is the binlog */
    if (cfg->binlog_dir) return cfg->binlog_dir;
    if (!cfg->binlog_index) return NULL;
    snprintf(buf, len, "%s", cfg->binlog_index);
    char *slash = strrchr(buf, '/');
    if (slash) *slash = 0;
    else snprintf(buf, len, ".");
    return buf;
}

/* ---- throttle limits ---- */

const bt_limit_t *bt_limit_find(const char *name, size_t len) {
    for (size_t i = 0; i < bt_nlimits; i++)
        if (strlen(bt_limits[i].flag) == len && !strncmp(bt_limits[i].flag, name, len)) return &bt_limits[i];
    return NULL;
}

double bt_limit_get(const bt_throttle_limits_t *lim, const bt_limit_t *l) {
    double v;
    memcpy(&v, (const char *)lim + l->field, sizeof v);
    return v / l->scale;
}

void bt_limit_put(bt_throttle_limits_t *lim, const bt_limit_t *l, double value_in_flag_unit) {
    double v = value_in_flag_unit * l->scale;
    memcpy((char *)lim + l->field, &v, sizeof v);
}

int bt_limit_parse(bt_throttle_limits_t *lim, const bt_limit_t *l, const char *text, char *err, size_t errlen) {
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end || errno || !isfinite(v) || v < 0) {
        snprintf(err, errlen, "--%s: invalid value '%s': expected a number >= 0 (0 = unlimited)", l->flag, text);
        return -1;
    }
    bt_limit_put(lim, l, v);
    return 0;
}

void bt_limits_describe(const bt_throttle_limits_t *lim, bt_buf_t *out) {
    for (size_t i = 0; i < bt_nlimits; i++)
        bt_buf_printf(out, "%s%s %g", i ? ", " : "", bt_limits[i].flag, bt_limit_get(lim, &bt_limits[i]));
}

void bt_limits_json(const bt_throttle_limits_t *lim, bt_jw_t *w) {
    for (size_t i = 0; i < bt_nlimits; i++) {
        bt_jw_key(w, bt_limits[i].json);
        bt_jw_double(w, bt_limit_get(lim, &bt_limits[i]));
    }
}
