/* progress.c: what the caller's thread records of the run's progress: the checkpoint claim
 * (the frontier) at each chunk end, one log line per table, and a progress bar on a terminal.
 *
 * DESIGN: each chunk's end becomes a pipeline "transaction" end whose position is the snapshot
 * point plus a frontier: the first table in list order not yet fully read, and the key its last
 * finished chunk ended at. Everything handed to the pipeline before that chunk end covers the
 * frontier claim (tables before it are complete, it is complete up to the key), so the
 * checkpoint the tracker writes once those messages are acknowledged is always a safe place to
 * resume, even when several readers interleave their chunks. Tables after the frontier that
 * were partly read are read again after a restart. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "agent/snapshot/internal.h"
#include "lib/lib.h"

#define PROGRESS_LOG_MS 5000

/* ---------------------------------------------------------------- the frontier */

/* The checkpoint claim after everything handed over so far (see DESIGN above). */
void bt_snap_frontier(bt_snap_run_t *run, bt_position_t *pos) {
    *pos = run->point;
    pos->snapshot_active = true;
    pos->snapshot_table[0] = 0;
    pos->snapshot_last_key[0] = 0;
    for (size_t i = 0; i < run->nentries; i++) {
        bt_snap_entry_t *e = &run->entries[i];
        if (e->done) continue;
        snprintf(pos->snapshot_table, sizeof pos->snapshot_table, "%s", e->label);
        /* A key too long for the checkpoint means this table starts over after a restart. */
        if (e->last_key && strlen(e->last_key) < sizeof pos->snapshot_last_key)
            snprintf(pos->snapshot_last_key, sizeof pos->snapshot_last_key, "%s", e->last_key);
        return;
    }
    /* Every table is read, but the final chunk end (snapshot_active false) is not written yet.
     * There is no name sorting after the last table, so this claims the last table from its
     * start: a crash in between reads that one table again, nothing else. */
    if (run->nentries)
        snprintf(pos->snapshot_table, sizeof pos->snapshot_table, "%s", run->entries[run->nentries - 1].label);
}

/* ---------------------------------------------------------------- the log and the bar */

void bt_snap_bar_clear(bt_snap_run_t *run) {
    if (run->bar_shown) {
        fputs("\r\033[K", stderr);
        run->bar_shown = false;
    }
}

static void fmt_eta(char *o, size_t n, double secs) {
    if (!(secs >= 0) || secs > 360000)
        snprintf(o, n, "?");
    else if (secs >= 3600)
        snprintf(o, n, "%dh%02dm", (int)secs / 3600, (int)secs / 60 % 60);
    else if (secs >= 60)
        snprintf(o, n, "%dm%02ds", (int)secs / 60, (int)secs % 60);
    else
        snprintf(o, n, "%ds", (int)secs);
}

void bt_snap_log_table(bt_snap_run_t *run, bt_snap_entry_t *e, int64_t now) {
    double secs = (double)(now - e->start_ms) / 1000;
    double rate = secs > 0 ? (double)e->rows / secs : 0;
    bt_snap_bar_clear(run);
    if (e->done) {
        bt_info("snapshot: %s done: %" PRIu64 " rows in %.1f s (%.0f rows/s)", e->label, e->rows, secs, rate);
        return;
    }
    char eta[32];
    int64_t est = e->estimate > (int64_t)e->rows ? e->estimate : (int64_t)e->rows;
    fmt_eta(eta, sizeof eta, rate > 0 ? (double)(est - (int64_t)e->rows) / rate : -1);
    bt_info("snapshot: %s %" PRIu64 " of ~%" PRId64 " rows (%.0f%%), %.0f rows/s, about %s left", e->label, e->rows,
            est, est ? 100.0 * (double)e->rows / (double)est : 100.0, rate, eta);
}

void bt_snap_progress(bt_snap_run_t *run, bool force) {
    int64_t now = bt_mono_ms();
    if (force || now - run->last_log_ms >= PROGRESS_LOG_MS) {
        run->last_log_ms = now;
        for (size_t i = 0; i < run->nentries; i++)
            if (run->entries[i].started && !run->entries[i].done) bt_snap_log_table(run, &run->entries[i], now);
    }
    if (!run->tty || now - run->last_bar_ms < 250) return;
    run->last_bar_ms = now;
    int64_t est = 0;
    const char *current = "";
    for (size_t i = 0; i < run->nentries; i++) {
        bt_snap_entry_t *e = &run->entries[i];
        est += e->estimate > (int64_t)e->rows ? e->estimate : (int64_t)e->rows;
        if (e->started && !e->done && !current[0]) current = e->label;
    }
    double frac = est > 0 ? (double)run->rows_total / (double)est : 0;
    if (frac > 1) frac = 1;
    double secs = (double)(now - run->start_ms) / 1000;
    double rate = secs > 0 ? (double)run->rows_total / secs : 0;
    char eta[32], bar[31];
    fmt_eta(eta, sizeof eta, rate > 0 ? (double)(est - (int64_t)run->rows_total) / rate : -1);
    int filled = (int)(frac * 30);
    for (int k = 0; k < 30; k++) bar[k] = k < filled ? '#' : '-';
    bar[30] = 0;
    fprintf(stderr, "\r\033[Ksnapshot [%s] %3.0f%% %.40s %.0f rows/s ETA %s", bar, frac * 100, current, rate, eta);
    fflush(stderr);
    run->bar_shown = true;
}
