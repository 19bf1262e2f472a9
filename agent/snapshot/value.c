/* value.c: text-protocol cells -> the binlog decoder's typed values, and the resume
 * key (the primary-key values of the last row of a chunk) as JSON and as SQL literals.
 *
 * DESIGN: a cell becomes exactly the bt_value_t the decoder makes for the same stored value
 * (agent/binlog/binlog.h, value.h), so that every format renders a snapshot row like a binlog
 * row. Where SELECT's text differs from what the decoder reconstructs, it is normalised here:
 * DECIMAL ZEROFILL loses its leading zeros, MySQL's JSON text its whitespace, TIMESTAMP text
 * (read in UTC) becomes epoch seconds. The session has utf8mb4 results, so text is UTF-8. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lib.h"
#include "agent/snapshot/internal.h"

/* ---------------------------------------------------------------- parsing helpers */

/* n decimal digits at *p (exactly n when exact, else 1..n); advances *p. -1 when none. */
static long digits(const char **p, int n, bool exact) {
    long v = 0;
    int k = 0;
    while (k < n && **p >= '0' && **p <= '9') {
        v = v * 10 + (**p - '0');
        (*p)++;
        k++;
    }
    if (k == 0 || (exact && k != n)) return -1;
    return v;
}

/* ".ffffff" -> microseconds (missing digits are zeros); advances *p. */
static uint32_t fraction(const char **p) {
    uint32_t us = 0;
    int k = 0;
    if (**p != '.') return 0;
    (*p)++;
    while (**p >= '0' && **p <= '9') {
        if (k < 6) us = us * 10 + (uint32_t)(**p - '0');
        (*p)++;
        k++;
    }
    for (; k < 6; k++) us *= 10;
    return us;
}

/* YYYY-MM-DD */
static int parse_date(const char **p, bt_time_t *t) {
    long y = digits(p, 4, true);
    if (y < 0 || **p != '-') return -1;
    (*p)++;
    long m = digits(p, 2, true);
    if (m < 0 || **p != '-') return -1;
    (*p)++;
    long d = digits(p, 2, true);
    if (d < 0) return -1;
    t->year = (uint16_t)y;
    t->month = (uint8_t)m;
    t->day = (uint8_t)d;
    return 0;
}

/* HH:MM:SS[.f] (hours may have 3 digits for TIME) */
static int parse_hms(const char **p, bt_time_t *t) {
    long h = digits(p, 3, false);
    if (h < 0 || **p != ':') return -1;
    (*p)++;
    long mi = digits(p, 2, true);
    if (mi < 0 || **p != ':') return -1;
    (*p)++;
    long s = digits(p, 2, true);
    if (s < 0) return -1;
    t->hour = (uint32_t)h;
    t->minute = (uint8_t)mi;
    t->second = (uint8_t)s;
    t->usec = fraction(p);
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* In place: DECIMAL text without ZEROFILL's leading zeros ("-0012.50" -> "-12.50"). */
static char *decimal_trim(char *s, unsigned long *len) {
    bool neg = s[0] == '-';
    char *d = s + (neg || s[0] == '+');
    char *e = s + *len;
    while (d + 1 < e && d[0] == '0' && d[1] >= '0' && d[1] <= '9') d++;
    if (neg) *--d = '-';
    *len = (unsigned long)(e - d);
    return d;
}

/* In place: JSON text without insignificant whitespace (MySQL prints {"a": 1, "b": 2}; the
 * decoder's conversion of binary JSON is compact). */
static unsigned long json_compact(char *s, unsigned long len) {
    unsigned long w = 0;
    bool in_str = false, esc = false;
    for (unsigned long r = 0; r < len; r++) {
        char ch = s[r];
        if (in_str) {
            if (esc) esc = false;
            else if (ch == '\\') esc = true;
            else if (ch == '"') in_str = false;
        } else if (ch == '"') {
            in_str = true;
        } else if (ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r') {
            continue;
        }
        s[w++] = ch;
    }
    s[w] = 0;
    return w;
}

static int cell_error(const bt_snap_table_t *st, uint32_t i, const char *s, char *err, size_t errlen) {
    snprintf(err, errlen, "snapshot of %s: column %s: cannot read the value '%.60s' the server sent", st->label,
             st->t.cols[i].name, s);
    return -1;
}

/* ---------------------------------------------------------------- cells */

int bt_snap_cell(const bt_snap_table_t *st, uint32_t i, char *s, unsigned long len, bt_value_t *v, char *err,
                 size_t errlen) {
    const bt_column_t *col = &st->t.cols[i];
    memset(v, 0, sizeof *v);
    v->present = true;
    if (!s) {
        v->kind = BT_VAL_NULL;
        return 0;
    }
    const char *p = s;
    char *end;
    switch ((bt_snap_conv_t)st->conv[i]) {
    case BT_SNAP_INT:
        errno = 0;
        v->kind = BT_VAL_INT;
        v->i = strtoll(s, &end, 10);
        if (errno || end == s) return cell_error(st, i, s, err, errlen);
        return 0;
    case BT_SNAP_UINT:
        errno = 0;
        v->kind = BT_VAL_UINT;
        v->u = strtoull(s, &end, 10);
        if (errno || end == s || s[0] == '-') return cell_error(st, i, s, err, errlen);
        return 0;
    case BT_SNAP_FLOAT: /* read as a double (exact), see table.c */
        v->kind = BT_VAL_FLOAT;
        v->f = (float)strtod(s, &end);
        if (end == s) return cell_error(st, i, s, err, errlen);
        return 0;
    case BT_SNAP_DOUBLE:
        v->kind = BT_VAL_DOUBLE;
        v->d = strtod(s, &end);
        if (end == s) return cell_error(st, i, s, err, errlen);
        return 0;
    case BT_SNAP_DECIMAL:
        v->kind = BT_VAL_DECIMAL;
        v->s = decimal_trim(s, &len);
        v->len = (uint32_t)len;
        return 0;
    case BT_SNAP_DATE:
        v->kind = BT_VAL_DATE;
        if (parse_date(&p, &v->t) != 0) return cell_error(st, i, s, err, errlen);
        return 0;
    case BT_SNAP_DATETIME:
        v->kind = BT_VAL_DATETIME;
        v->fsp = st->fsp[i];
        if (parse_date(&p, &v->t) != 0 || *p++ != ' ' || parse_hms(&p, &v->t) != 0)
            return cell_error(st, i, s, err, errlen);
        return 0;
    case BT_SNAP_TIMESTAMP: {
        /* The session's time_zone is +00:00: the text is UTC. "0000-00-00 00:00:00" is the zero
         * timestamp, 0 in the binlog too. */
        bt_time_t t = {0};
        v->kind = BT_VAL_TIMESTAMP;
        v->fsp = st->fsp[i];
        if (parse_date(&p, &t) != 0 || *p++ != ' ' || parse_hms(&p, &t) != 0) return cell_error(st, i, s, err, errlen);
        if (t.year == 0 && t.month == 0 && t.day == 0) v->i = 0;
        else v->i = days_from_civil(t.year, t.month, t.day) * 86400 + t.hour * 3600 + t.minute * 60 + t.second;
        v->t.usec = t.usec;
        return 0;
    }
    case BT_SNAP_TIME:
        v->kind = BT_VAL_TIME;
        v->fsp = st->fsp[i];
        if (*p == '-') {
            v->neg = true;
            p++;
        }
        if (parse_hms(&p, &v->t) != 0) return cell_error(st, i, s, err, errlen);
        return 0;
    case BT_SNAP_YEAR:
        v->kind = BT_VAL_YEAR;
        v->u = strtoul(s, &end, 10);
        if (end == s) return cell_error(st, i, s, err, errlen);
        return 0;
    case BT_SNAP_BIT: /* the text protocol sends BIT(M) as its bytes, big-endian */
        v->kind = BT_VAL_BIT;
        if (len > 8) return cell_error(st, i, "(more than 64 bits)", err, errlen);
        for (unsigned long k = 0; k < len; k++) v->u = v->u << 8 | (uint8_t)s[k];
        return 0;
    case BT_SNAP_ENUM:
        /* SELECT shows the label; the binlog stores its 1-based index (0: the '' error value). */
        v->kind = BT_VAL_ENUM;
        for (uint32_t k = 0; k < col->nlabels; k++) {
            if (col->label_lens[k] == len && !memcmp(col->labels[k], s, len)) {
                v->u = k + 1;
                v->s = col->labels[k];
                v->len = col->label_lens[k];
                return 0;
            }
        }
        if (len != 0) return cell_error(st, i, s, err, errlen);
        v->s = ""; /* index 0: the '' value stored for invalid input, as the decoder gives it */
        return 0;
    case BT_SNAP_SET: {
        v->kind = BT_VAL_SET;
        const char *q = s, *e = s + len;
        while (q < e) {
            const char *comma = memchr(q, ',', (size_t)(e - q));
            size_t n = comma ? (size_t)(comma - q) : (size_t)(e - q);
            uint32_t k;
            for (k = 0; k < col->nlabels; k++)
                if (col->label_lens[k] == n && !memcmp(col->labels[k], q, n)) break;
            if (k == col->nlabels || k >= 64) return cell_error(st, i, s, err, errlen);
            v->u |= (uint64_t)1 << k;
            q += n + (comma ? 1 : 0);
        }
        return 0;
    }
    case BT_SNAP_TEXT:
        v->kind = BT_VAL_STRING;
        break;
    case BT_SNAP_BINARY:
        v->kind = BT_VAL_BINARY;
        break;
    case BT_SNAP_JSON:
        v->kind = BT_VAL_JSON;
        len = json_compact(s, len);
        break;
    case BT_SNAP_GEOMETRY:
        v->kind = BT_VAL_GEOMETRY;
        break;
    }
    v->s = s;
    v->len = (uint32_t)len;
    return 0;
}

/* ---------------------------------------------------------------- the resume key */

static void hex_append(bt_buf_t *b, const char *s, size_t n) {
    static const char hx[] = "0123456789abcdef";
    char *d = bt_buf_reserve(b, 2 * n);
    if (!d) return;
    for (size_t k = 0; k < n; k++) {
        d[2 * k] = hx[(uint8_t)s[k] >> 4];
        d[2 * k + 1] = hx[(uint8_t)s[k] & 15];
    }
    bt_buf_commit(b, 2 * n);
}

/* The SQL text of a temporal value, as the server would read it back. */
static size_t temporal_text(const bt_value_t *v, char *o, size_t olen) {
    switch (v->kind) {
    case BT_VAL_DATE:
        return (size_t)snprintf(o, olen, "%04u-%02u-%02u", v->t.year, v->t.month, v->t.day);
    case BT_VAL_DATETIME:
        return (size_t)snprintf(o, olen, "%04u-%02u-%02u %02u:%02u:%02u.%06u", v->t.year, v->t.month, v->t.day,
                                v->t.hour, v->t.minute, v->t.second, v->t.usec);
    case BT_VAL_TIMESTAMP: {
        if (v->i == 0 && v->t.usec == 0) return (size_t)snprintf(o, olen, "0000-00-00 00:00:00");
        int64_t days = v->i >= 0 ? v->i / 86400 : (v->i - 86399) / 86400;
        int64_t secs = v->i - days * 86400;
        /* civil_from_days (H. Hinnant) */
        int64_t z = days + 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        unsigned doe = (unsigned)(z - era * 146097);
        unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t y = (int64_t)yoe + era * 400;
        unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        unsigned mp = (5 * doy + 2) / 153;
        unsigned d = doy - (153 * mp + 2) / 5 + 1;
        unsigned m = mp < 10 ? mp + 3 : mp - 9;
        y += m <= 2;
        return (size_t)snprintf(o, olen, "%04lld-%02u-%02u %02u:%02u:%02u.%06u", (long long)y, m, d,
                                (unsigned)(secs / 3600), (unsigned)(secs / 60 % 60), (unsigned)(secs % 60), v->t.usec);
    }
    case BT_VAL_TIME:
        return (size_t)snprintf(o, olen, "%s%02u:%02u:%02u.%06u", v->neg ? "-" : "", v->t.hour, v->t.minute,
                                v->t.second, v->t.usec);
    default:
        return 0;
    }
}

bool bt_snap_key_json(const bt_snap_table_t *st, const bt_row_t *row, bt_buf_t *out) {
    bt_jw_t w;
    bt_jw_init(&w, out);
    bt_jw_arr_begin(&w);
    char tmp[64];
    for (uint32_t k = 0; k < st->t.npk; k++) {
        uint32_t i = st->t.pk[k];
        const bt_value_t *v = &row->v[i];
        switch (v->kind) {
        case BT_VAL_INT: bt_jw_int(&w, v->i); break;
        case BT_VAL_UINT:
        case BT_VAL_YEAR:
        case BT_VAL_BIT:
        case BT_VAL_ENUM: /* ENUM and SET sort (and compare with numbers) by their numeric value */
        case BT_VAL_SET: bt_jw_uint(&w, v->u); break;
        case BT_VAL_DECIMAL: bt_jw_raw(&w, v->s, v->len); break;
        case BT_VAL_FLOAT:
        case BT_VAL_DOUBLE: {
            /* 17 digits: the literal compares equal to the stored value, so `>` skips it */
            double d = v->kind == BT_VAL_FLOAT ? (double)v->f : v->d;
            if (!isfinite(d)) return false;
            int n = snprintf(tmp, sizeof tmp, "%.17g", d);
            bt_jw_raw(&w, tmp, (size_t)n);
            break;
        }
        case BT_VAL_DATE:
        case BT_VAL_DATETIME:
        case BT_VAL_TIMESTAMP:
        case BT_VAL_TIME: {
            size_t n = temporal_text(v, tmp, sizeof tmp);
            bt_jw_strn(&w, tmp, n);
            break;
        }
        case BT_VAL_STRING: bt_jw_strn(&w, v->s, v->len); break;
        case BT_VAL_BINARY:
        case BT_VAL_GEOMETRY:
        case BT_VAL_JSON: {
            bt_buf_t hex;
            bt_buf_init(&hex, 0);
            hex_append(&hex, v->s, v->len);
            bool ok = !hex.failed;
            bt_jw_strn(&w, hex.p ? hex.p : "", hex.len);
            bt_buf_free(&hex);
            if (!ok) return false;
            break;
        }
        default: return false; /* NULL cannot be in a primary key */
        }
    }
    bt_jw_arr_end(&w);
    return !out->failed;
}

/* A tiny reader for the arrays bt_snap_key_json writes: numbers (kept as text) and strings. */
typedef struct tok {
    bool is_str;
    bt_buf_t text;
} tok_t;

static int utf8_put(bt_buf_t *b, uint32_t cp) {
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12);
        u[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | cp >> 18);
        u[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        u[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return bt_buf_append(b, u, n) ? 0 : -1;
}

static int hex4(const char *p, uint32_t *out) {
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
        char ch = p[k];
        int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
              : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return 0;
}

/* Reads one token at *p into t; -1 on malformed input. */
static int read_token(const char **p, tok_t *t) {
    const char *s = *p;
    bt_buf_reset(&t->text);
    if (*s == '"') {
        t->is_str = true;
        s++;
        while (*s != '"') {
            if (!*s) return -1;
            if (*s != '\\') {
                bt_buf_putc(&t->text, *s++);
                continue;
            }
            s++;
            char e = *s++;
            switch (e) {
            case '"': case '\\': case '/': bt_buf_putc(&t->text, e); break;
            case 'b': bt_buf_putc(&t->text, '\b'); break;
            case 'f': bt_buf_putc(&t->text, '\f'); break;
            case 'n': bt_buf_putc(&t->text, '\n'); break;
            case 'r': bt_buf_putc(&t->text, '\r'); break;
            case 't': bt_buf_putc(&t->text, '\t'); break;
            case 'u': {
                uint32_t cp, lo;
                if (hex4(s, &cp) != 0) return -1;
                s += 4;
                if (cp >= 0xD800 && cp < 0xDC00 && s[0] == '\\' && s[1] == 'u' && hex4(s + 2, &lo) == 0 &&
                    lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    s += 6;
                }
                if (utf8_put(&t->text, cp) != 0) return -1;
                break;
            }
            default: return -1;
            }
        }
        *p = s + 1;
        return t->text.failed ? -1 : 0;
    }
    t->is_str = false;
    while ((*s >= '0' && *s <= '9') || *s == '-' || *s == '+' || *s == '.' || *s == 'e' || *s == 'E')
        bt_buf_putc(&t->text, *s++);
    if (!t->text.len) return -1;
    *p = s;
    return 0;
}

static bool is_hex(const char *s, size_t n) {
    for (size_t k = 0; k < n; k++)
        if (!((s[k] >= '0' && s[k] <= '9') || (s[k] >= 'a' && s[k] <= 'f') || (s[k] >= 'A' && s[k] <= 'F')))
            return false;
    return n % 2 == 0;
}

void bt_snap_key_free(char **lits, uint32_t n) {
    if (!lits) return;
    for (uint32_t k = 0; k < n; k++) free(lits[k]);
    free(lits);
}

int bt_snap_key_parse(bt_snap_conn_t *c, const bt_snap_table_t *st, const char *json, char ***out, char *err,
                      size_t errlen) {
    *out = NULL;
    char **lits = bt_xcalloc(st->t.npk ? st->t.npk : 1, sizeof *lits);
    tok_t t = {0};
    bt_buf_t lit;
    bt_buf_init(&t.text, 1 << 20);
    bt_buf_init(&lit, 4 << 20);
    const char *p = json;
    uint32_t k = 0;
    while (*p == ' ') p++;
    if (*p++ != '[') goto bad;
    for (k = 0; k < st->t.npk; k++) {
        while (*p == ' ') p++;
        if (k) {
            if (*p++ != ',') goto bad;
            while (*p == ' ') p++;
        }
        if (read_token(&p, &t) != 0) goto bad;
        uint32_t i = st->t.pk[k];
        bt_buf_reset(&lit);
        switch ((bt_snap_conv_t)st->conv[i]) {
        case BT_SNAP_INT: case BT_SNAP_UINT: case BT_SNAP_FLOAT: case BT_SNAP_DOUBLE: case BT_SNAP_DECIMAL:
        case BT_SNAP_YEAR: case BT_SNAP_BIT: case BT_SNAP_ENUM: case BT_SNAP_SET:
            if (t.is_str) goto bad;
            bt_buf_append(&lit, t.text.p, t.text.len); /* digits, sign, point, exponent only */
            break;
        case BT_SNAP_DATE: case BT_SNAP_DATETIME: case BT_SNAP_TIMESTAMP: case BT_SNAP_TIME: case BT_SNAP_TEXT:
            if (!t.is_str) goto bad;
            bt_snap_quote_string(c, &lit, t.text.p, t.text.len);
            break;
        case BT_SNAP_BINARY: case BT_SNAP_JSON: case BT_SNAP_GEOMETRY:
            if (!t.is_str || !is_hex(t.text.p, t.text.len)) goto bad;
            if (t.text.len == 0) bt_buf_puts(&lit, "''");
            else bt_buf_printf(&lit, "X'%s'", t.text.p);
            break;
        }
        if (lit.failed) goto bad;
        lits[k] = bt_xstrdup(lit.p);
    }
    while (*p == ' ') p++;
    if (*p != ']') goto bad;
    bt_buf_free(&t.text);
    bt_buf_free(&lit);
    *out = lits;
    return 0;
bad:
    snprintf(err, errlen, "snapshot of %s: the checkpoint's last key %.200s does not fit the table's primary key "
             "(%u columns) any more", st->label, json, st->t.npk);
    bt_snap_key_free(lits, st->t.npk);
    bt_buf_free(&t.text);
    bt_buf_free(&lit);
    return -1;
}
