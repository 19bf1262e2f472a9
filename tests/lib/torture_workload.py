"""The torture suite's workload: writes to the PRIMARY without pause until told to stop, and
records exactly what it committed, so that a checker can tell committed changes from rolled
back ones.

Tables (created here, all INT/BIGINT/VARCHAR so that values compare as the consumer sees them):
  t_small, t_other  (id INT PK, v INT, ver BIGINT, note VARCHAR(40))   small transactions
  t_big             (id INT PK, v INT, ver BIGINT, pad VARCHAR(255))   also 100k-row transactions
  t_ddl             (id INT PK, v INT, ver BIGINT, note VARCHAR(40), x<n>...)  ADD/DROP COLUMN

Every statement that changes rows sets ver to a number never used before (a per-statement
counter), so a row change is identified by (table, op, id, ver): ver of the after image for
inserts and updates, of the before image for deletes. A key-changing update is a delete of the
old key plus an insert of the new one. The journal (--journal, JSON lines, written after each
COMMIT returned) lists those identities for every committed transaction; a rolled-back one
is journaled only as the range of statement numbers it used. Their rows carry the marker note 'ROLLEDBACK' (and their
inserted keys are >= 1500000000), so that any published trace of them can be found.

A second thread keeps the REPLICA busy in other ways: FLUSH BINARY LOGS every few seconds and
PURGE BINARY LOGS TO the file named in bintail's checkpoint (so only files strictly older than
the checkpointed one go). It survives the replica going away: it reconnects and carries on.
A third thread follows the checkpoint file and logs each new content (--checkpoint-log).

Requests: the torture script creates <req-dir>/big to ask for a 100k-row transaction now; it
is answered with <req-dir>/big.done (the kind and statement number) once it committed.
Stops (and flushes the journal) when --stop-file exists, or on SIGTERM."""
import argparse
import json
import os
import random
import signal
import sys
import threading
import time

import pymysql

MARKER = "ROLLEDBACK"
MARKER_BASE = 1500000000  # keys of rolled-back inserts; committed keys stay below
KEYMOVE = 1000000         # a key-changing update adds this to the key
BIG = 100000              # rows of a big transaction
TABLES = ("t_small", "t_other", "t_big", "t_ddl")


def log(msg):
    sys.stderr.write(time.strftime("%H:%M:%S ") + msg + "\n")
    sys.stderr.flush()


class Table:
    """The workload's exact model of a table: its keys, each with the ver of its current row."""

    def __init__(self, name):
        self.name = name
        self.ids = []    # for O(1) random choice
        self.pos = {}
        self.ver = {}

    def __contains__(self, i):
        return i in self.pos

    def add(self, i, ver):
        assert i not in self.pos, (self.name, i)
        self.pos[i] = len(self.ids)
        self.ids.append(i)
        self.ver[i] = ver

    def remove(self, i):
        p = self.pos.pop(i)
        last = self.ids.pop()
        if last != i:
            self.ids[p] = last
            self.pos[last] = p
        return self.ver.pop(i)

    def pick(self, rnd, below=MARKER_BASE, gone=()):
        for _ in range(20):
            if not self.ids:
                return None
            i = self.ids[rnd.randrange(len(self.ids))]
            if i < below and (self.name, i) not in gone:
                return i
        return None


class Workload:
    def __init__(self, args):
        self.args = args
        self.rnd = random.Random(args.seed)
        self.conn = pymysql.connect(host="127.0.0.1", port=args.port, user="root", password="",
                                    database=args.db, charset="utf8mb4", autocommit=True)
        self.cur = self.conn.cursor()
        self.t = {n: Table(n) for n in TABLES}
        self.seq = 0             # statement counter: the ver of every change
        self.txn = 0             # committed transactions
        self.rows = 0            # committed row changes
        self.rolled_back = 0     # rolled-back transactions (plain and XA)
        self.xa_n = 0
        self.marker_n = 0
        self.next_id = {"t_small": 100000, "t_other": 100000, "t_ddl": 100000}
        self.big_base = 10000000  # 100k-row ranges of t_big start here, one after the other
        self.big_ranges = []      # live ranges [lo, hi] of t_big, oldest first
        self.big_step = 0         # next big kind: 0 insert, 1 update, 2 delete
        self.extra_cols = []      # t_ddl's added columns, oldest first
        self.col_n = 0
        self.pending = []         # changes of the open transaction: [table, op, id, ver]
        self.pending_rows = 0
        self.gone = set()         # rows a transaction that will roll back deleted or moved
        self.journal = open(args.journal, "a", buffering=1 << 16)
        self.stop = False

    # -------------------------------------------------------------- journal
    def record(self, kind, xid=None):
        self.txn += 1
        self.rows += self.pending_rows
        j = {"txn": self.txn, "kind": kind, "rows": self.pending_rows, "changes": self.pending}
        if xid:
            j["xid"] = xid
        self.journal.write(json.dumps(j, separators=(",", ":")) + "\n")
        self.journal.flush()
        self.pending, self.pending_rows = [], 0

    def record_run(self, kind, table, op, lo, hi, ver):
        """A whole key range changed by one statement, journaled as a run (not 100k entries)."""
        self.txn += 1
        self.rows += hi - lo + 1
        self.journal.write(json.dumps({"txn": self.txn, "kind": kind, "rows": hi - lo + 1,
                                       "runs": [[table, op, lo, hi, ver]]}) + "\n")
        self.journal.flush()

    def next_ver(self):
        self.seq += 1
        return self.seq

    def exec(self, sql, params=(), want=None):
        n = self.cur.execute(sql, params)
        if want is not None and n != want:
            raise RuntimeError(f"{sql % tuple(params) if params else sql}: {n} rows changed, the model says {want}")
        return n

    # -------------------------------------------------------------- setup
    def setup(self):
        db = self.args.db
        self.exec(f"CREATE TABLE IF NOT EXISTS `{db}`.t_small (id INT PRIMARY KEY, v INT, ver BIGINT, note VARCHAR(40))")
        self.exec(f"CREATE TABLE IF NOT EXISTS `{db}`.t_other (id INT PRIMARY KEY, v INT, ver BIGINT, note VARCHAR(40))")
        self.exec(f"CREATE TABLE IF NOT EXISTS `{db}`.t_big (id INT PRIMARY KEY, v INT, ver BIGINT, pad VARCHAR(255))")
        self.exec(f"CREATE TABLE IF NOT EXISTS `{db}`.t_ddl (id INT PRIMARY KEY, v INT, ver BIGINT, note VARCHAR(40))")
        for name, n in (("t_small", 3000), ("t_other", 1000), ("t_ddl", 1000)):
            ver = self.next_ver()
            self.exec(f"INSERT INTO {name} (id, v, ver, note) SELECT seq, 0, %s, CONCAT('init', seq) "
                      f"FROM seq_1_to_{n}", (ver,), want=n)
            for i in range(1, n + 1):
                self.t[name].add(i, ver)
            self.record_run("init", name, "c", 1, n, ver)
        log(f"setup done: {self.rows} rows")

    # -------------------------------------------------------------- statements
    def note(self):
        return f"n{self.seq}-{self.rnd.randrange(1000)}"

    def s_update(self, name, mark=False):
        i = self.t[name].pick(self.rnd, gone=self.gone)
        if i is None:
            return
        ver = self.next_ver()
        col, val = ("pad", f"p{ver}") if name == "t_big" else ("note", MARKER if mark else self.note())
        sets = f"v = v + 1, ver = %s, {col} = %s"
        params = [ver, val]
        if name == "t_ddl" and self.extra_cols and not mark:
            c = self.rnd.choice(self.extra_cols)
            sets += f", `{c}` = %s"
            params.append(f"u{ver}")
        self.exec(f"UPDATE {name} SET {sets} WHERE id = %s", params + [i], want=1)
        if not mark:
            self.t[name].ver[i] = ver
            self.pending.append([name, "u", i, ver])
            self.pending_rows += 1

    def s_insert(self, name, mark=False):
        k = self.rnd.randint(1, 4)
        ver = self.next_ver()
        ids = []
        for _ in range(k):
            if mark:
                self.marker_n += 1
                ids.append(MARKER_BASE + self.marker_n)
            else:
                self.next_id[name] += 1
                ids.append(self.next_id[name])
        col = "pad" if name == "t_big" else "note"
        val = MARKER if mark else self.note()
        self.exec(f"INSERT INTO {name} (id, v, ver, {col}) VALUES " + ",".join(["(%s, 0, %s, %s)"] * k),
                  [x for i in ids for x in (i, ver, val)], want=k)
        if not mark:
            for i in ids:
                self.t[name].add(i, ver)
                self.pending.append([name, "c", i, ver])
            self.pending_rows += k

    def s_delete(self, name, mark=False):
        i = self.t[name].pick(self.rnd, gone=self.gone)
        if i is None:
            return
        self.next_ver()
        self.exec(f"DELETE FROM {name} WHERE id = %s", (i,), want=1)
        if mark:
            self.gone.add((name, i))
        else:
            old = self.t[name].remove(i)
            self.pending.append([name, "d", i, old])
            self.pending_rows += 1

    def s_keymove(self, name, mark=False):
        """UPDATE t SET id = id + 1000000: the row's key changes."""
        i = self.t[name].pick(self.rnd, below=MARKER_BASE - 2 * KEYMOVE, gone=self.gone)
        if i is None or (i + KEYMOVE) in self.t[name]:
            return
        ver = self.next_ver()
        if mark:
            self.marker_n += 1
            self.exec(f"UPDATE {name} SET id = %s, ver = %s, note = %s WHERE id = %s",
                      (MARKER_BASE + self.marker_n, ver, MARKER, i), want=1)
            self.gone.add((name, i))
            return
        self.exec(f"UPDATE {name} SET id = id + {KEYMOVE}, ver = %s WHERE id = %s", (ver, i), want=1)
        old = self.t[name].remove(i)
        self.t[name].add(i + KEYMOVE, ver)
        self.pending += [[name, "d", i, old], [name, "c", i + KEYMOVE, ver]]
        self.pending_rows += 1

    def some_statements(self, n, mark=False):
        self.gone = set()
        for _ in range(n):
            name = self.rnd.choice(("t_small", "t_small", "t_other", "t_ddl", "t_big"))
            if name == "t_big" and not self.t["t_big"].ids:
                name = "t_small"
            r = self.rnd.random()
            if name == "t_big":
                (self.s_update if r < 0.7 else self.s_delete)(name, mark)
            elif r < 0.45:
                self.s_update(name, mark)
            elif r < 0.70:
                self.s_insert(name, mark)
            elif r < 0.88:
                self.s_delete(name, mark)
            else:
                self.s_keymove(name, mark)

    # -------------------------------------------------------------- transactions
    def t_autocommit(self):
        self.some_statements(1)
        if self.pending_rows:
            self.record("autocommit")
        self.pending = []

    def t_multi(self):
        self.exec("BEGIN")
        self.some_statements(self.rnd.randint(2, 6))
        self.exec("COMMIT")
        self.record("multi")

    def record_rollback(self, kind, first, xid=None):
        """A rolled-back transaction, journaled only so that a published trace of it can be
        told apart: the statement numbers (vers) it used."""
        self.rolled_back += 1
        self.journal.write(json.dumps({"rolledback": kind, "xid": xid, "vers": [first, self.seq]}) + "\n")
        self.journal.flush()
        self.pending, self.pending_rows = [], 0

    def t_rollback(self):
        # rows that are written, then rolled back: inserts, updates, key moves and deletes
        first = self.seq + 1
        self.exec("BEGIN")
        self.some_statements(self.rnd.randint(1, 5), mark=True)
        self.s_insert("t_small", mark=True)
        self.exec("ROLLBACK")
        self.record_rollback("plain", first)

    def t_xa(self, commit):
        self.xa_n += 1
        xid = f"'tx{self.xa_n}'"
        first = self.seq + 1
        self.exec(f"XA START {xid}")
        if commit:
            self.some_statements(self.rnd.randint(1, 5))
        else:
            self.some_statements(self.rnd.randint(1, 5), mark=True)
            self.s_insert(self.rnd.choice(("t_small", "t_other")), mark=True)
        self.exec(f"XA END {xid}")
        self.exec(f"XA PREPARE {xid}")
        if self.rnd.random() < 0.2:
            # a gap between the prepared half and its outcome, so that a binlog rotation or a
            # bintail restart can fall between them
            time.sleep(self.rnd.uniform(0.05, 0.5))
        if commit:
            self.exec(f"XA COMMIT {xid}")
            self.record("xa", f"tx{self.xa_n}")
        else:
            self.exec(f"XA ROLLBACK {xid}")
            self.record_rollback("xa", first, f"tx{self.xa_n}")

    def t_ddl(self):
        db = self.args.db
        if len(self.extra_cols) < 2:
            self.col_n += 1
            c = f"x{self.col_n}"   # never reused, so a column's values all date from after its ADD
            ver = self.next_ver()
            self.exec(f"ALTER TABLE `{db}`.t_ddl ADD COLUMN `{c}` VARCHAR(20) DEFAULT 'd{self.col_n}'")
            self.extra_cols.append(c)
            self.journal.write(json.dumps({"ddl": "add", "table": "t_ddl", "col": c, "seq": ver}) + "\n")
        else:
            c = self.extra_cols.pop(0)
            ver = self.next_ver()
            self.exec(f"ALTER TABLE `{db}`.t_ddl DROP COLUMN `{c}`")
            self.journal.write(json.dumps({"ddl": "drop", "table": "t_ddl", "col": c, "seq": ver}) + "\n")
        self.journal.flush()
        log(f"ddl on t_ddl: columns now {self.extra_cols}")

    def t_big(self):
        """One transaction of 100k rows: insert a new range, update a live one, or delete it."""
        kind = ("insert", "update", "delete")[self.big_step % 3]
        if kind != "insert" and not self.big_ranges:
            kind = "insert"
        ver = self.next_ver()
        t = self.t["t_big"]
        if kind == "insert":
            lo = self.big_base + 1
            hi = lo + BIG - 1
            self.big_base += BIG
            self.exec(f"INSERT INTO t_big (id, v, ver, pad) SELECT seq + {lo - 1}, MOD(seq, 1000), %s, "
                      f"CONCAT('b', seq, REPEAT('.', 200)) FROM seq_1_to_{BIG}", (ver,), want=BIG)
            for i in range(lo, hi + 1):
                t.add(i, ver)
            self.big_ranges.append([lo, hi])
            self.record_run("big-insert", "t_big", "c", lo, hi, ver)
        else:
            lo, hi = self.big_ranges[0]
            live = [i for i in range(lo, hi + 1) if i in t]
            if kind == "update":
                self.exec("UPDATE t_big SET v = v + 1, ver = %s WHERE id BETWEEN %s AND %s",
                          (ver, lo, hi), want=len(live))
                for i in live:
                    t.ver[i] = ver
                self.pending = [["t_big", "u", i, ver] for i in live]
            else:
                self.exec("DELETE FROM t_big WHERE id BETWEEN %s AND %s", (lo, hi), want=len(live))
                self.pending = [["t_big", "d", i, t.remove(i)] for i in live]
                self.big_ranges.pop(0)
            self.pending_rows = len(live)
            self.record("big-" + kind)
        self.big_step += 1
        log(f"big {kind} committed: statement {ver}, txn {self.txn}")
        return kind, ver

    # -------------------------------------------------------------- main loop
    def requested(self, name):
        p = os.path.join(self.args.req_dir, name) if self.args.req_dir else None
        if p and os.path.exists(p):
            os.unlink(p)
            return True
        return False

    def run(self):
        a = self.args
        self.setup()
        start = time.time()
        next_ddl = start + a.ddl_every
        next_big = start + a.big_every if a.big_every > 0 else float("inf")
        period = 1.0 / a.rate if a.rate > 0 else 0
        t_next = time.time()
        while not self.stop and not (a.stop_file and os.path.exists(a.stop_file)):
            now = time.time()
            if self.requested("big") or now >= next_big:
                kind, ver = self.t_big()
                if a.req_dir:
                    with open(os.path.join(a.req_dir, "big.done.tmp"), "w") as f:
                        f.write(f"{kind} {ver}\n")
                    os.rename(os.path.join(a.req_dir, "big.done.tmp"), os.path.join(a.req_dir, "big.done"))
                if a.big_every > 0:
                    next_big = time.time() + a.big_every
                t_next = time.time()
                continue
            if now >= next_ddl:
                self.t_ddl()
                next_ddl = now + a.ddl_every * self.rnd.uniform(0.7, 1.3)
            r = self.rnd.random()
            if r < 0.55:
                self.t_autocommit()
            elif r < 0.80:
                self.t_multi()
            elif r < 0.88:
                self.t_rollback()
            elif r < 0.95:
                self.t_xa(commit=True)
            else:
                self.t_xa(commit=False)
            if period:
                t_next += period
                d = t_next - time.time()
                if d > 0:
                    time.sleep(d)
                else:
                    t_next = time.time()
        self.journal.close()
        log(f"stopped: txns={self.txn} rows={self.rows} rolled_back={self.rolled_back} statements={self.seq} "
            f"seconds={time.time() - start:.0f}")
        print(f"txns={self.txn} rows={self.rows} rolled_back={self.rolled_back}")


class CheckpointWatch:
    """Reads bintail's checkpoint.json every 50 ms; logs every new content (--checkpoint-log:
    "unix_time file pos gtid") so that its history can be checked, and keeps the latest."""

    def __init__(self, path, logpath):
        self.path, self.file, self.text = path, None, None
        self.log = open(logpath, "a", buffering=1) if logpath else None

    def run(self, stop):
        while not stop.wait(0.05):
            try:
                with open(self.path) as f:
                    text = f.read()
                if text == self.text:
                    continue
                ck = json.loads(text)
            except (OSError, ValueError):
                continue
            self.text, self.file = text, ck.get("file")
            if self.log:
                self.log.write(f"{time.time():.3f} {ck.get('file')} {ck.get('pos')} {ck.get('gtid')}\n")


def replica_chores(args, stop, ckw):
    """FLUSH BINARY LOGS and PURGE of checkpointed files on the replica, until stop is set."""
    rnd = random.Random(args.seed + 1)
    conn = None
    next_flush = time.time() + args.flush_every * rnd.uniform(0.5, 1.5)
    next_purge = time.time() + args.purge_every
    flushes = purges = errors = 0
    while not stop.wait(0.2):
        now = time.time()
        if now < next_flush and now < next_purge:
            continue
        try:
            if conn is None:
                conn = pymysql.connect(host="127.0.0.1", port=args.replica_port, user="root", password="",
                                       connect_timeout=2, read_timeout=20, write_timeout=20, autocommit=True)
            cur = conn.cursor()
            if now >= next_flush:
                next_flush = now + args.flush_every * rnd.uniform(0.5, 1.5)
                cur.execute("FLUSH BINARY LOGS")
                flushes += 1
            if now >= next_purge and ckw:
                next_purge = now + args.purge_every
                ck = ckw.file
                if ck:
                    cur.execute("SHOW BINARY LOGS")
                    names = [r[0] for r in cur.fetchall()]
                    # PURGE ... TO 'f' removes the files before f: strictly older than the
                    # file bintail's checkpoint names, which it may still need.
                    if ck in names and names.index(ck) > 0:
                        cur.execute(f"PURGE BINARY LOGS TO '{ck}'")
                        purges += 1
                        log(f"replica: purged {names.index(ck)} file(s) before {ck} (checkpoint {ckw.text.strip()})")
        except pymysql.err.Error as e:
            errors += 1
            log(f"replica chores: {e} (the replica may be down; retrying)")
            try:
                if conn is not None:
                    conn.close()
            except Exception:
                pass
            conn = None
            next_flush = max(next_flush, time.time() + 1)
            next_purge = max(next_purge, time.time() + 1)
    log(f"replica chores stopped: flushes={flushes} purges={purges} errors={errors}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True, help="the primary")
    ap.add_argument("--replica-port", type=int, required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--journal", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--stop-file", default=None)
    ap.add_argument("--req-dir", default=None)
    ap.add_argument("--checkpoint", default=None, help="bintail's checkpoint.json (for purges)")
    ap.add_argument("--checkpoint-log", default=None, help="append each new checkpoint seen to this file")
    ap.add_argument("--rate", type=float, default=200, help="transactions per second (0 = as fast as possible)")
    ap.add_argument("--ddl-every", type=float, default=10)
    ap.add_argument("--big-every", type=float, default=0, help="seconds between 100k-row transactions (0 = on request)")
    ap.add_argument("--flush-every", type=float, default=4)
    ap.add_argument("--purge-every", type=float, default=6)
    args = ap.parse_args()

    w = Workload(args)

    def on_term(signum, frame):
        w.stop = True
    signal.signal(signal.SIGTERM, on_term)
    stop = threading.Event()
    ckw = CheckpointWatch(args.checkpoint, args.checkpoint_log) if args.checkpoint else None
    threads = [threading.Thread(target=replica_chores, args=(args, stop, ckw), daemon=True)]
    if ckw:
        threads.append(threading.Thread(target=ckw.run, args=(stop,), daemon=True))
    for t in threads:
        t.start()
    try:
        w.run()
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
