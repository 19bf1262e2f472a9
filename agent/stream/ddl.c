/* ddl.c: the table a DDL statement names (for its topic and the schema cache). */
#include "agent/stream/internal.h"

/* The table a DDL statement names, when it is a simple CREATE/ALTER/DROP/TRUNCATE/RENAME TABLE. */
void bt_pl_ddl_table(const char *sql, size_t len, char *db, size_t dblen, char *table, size_t tlen) {
    char buf[512];
    size_t n = len < sizeof buf - 1 ? len : sizeof buf - 1;
    memcpy(buf, sql, n);
    buf[n] = 0;
    table[0] = 0;
    static const char *const kws[] = {"table if not exists ", "table if exists ", "table ", NULL};
    for (char *c = buf; *c; c++) *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
    char *hit = NULL;
    for (int i = 0; kws[i] && !hit; i++) {
        hit = strstr(buf, kws[i]);
        if (hit) hit += strlen(kws[i]);
    }
    if (!hit) return;
    /* take the identifier from the original text (case preserved) */
    const char *s = sql + (hit - buf);
    char ident[256];
    size_t k = 0;
    while (s < sql + len && (*s == ' ')) s++;
    while (s < sql + len && k + 1 < sizeof ident && *s != ' ' && *s != '(' && *s != ';' && *s != '\n' && *s != ',') {
        if (*s != '`') ident[k++] = *s;
        s++;
    }
    ident[k] = 0;
    char *dot = strchr(ident, '.');
    if (dot) {
        *dot = 0;
        snprintf(db, dblen, "%s", ident);
        snprintf(table, tlen, "%s", dot + 1);
    } else {
        snprintf(table, tlen, "%s", ident);
    }
}
