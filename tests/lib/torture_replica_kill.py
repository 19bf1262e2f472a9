"""Helpers for the torture suite's replica crash.

watch: kill -9 a mariadbd while it writes a large transaction into its binlog. Polls the size
  of the newest file in the binlog index without sleeping and sends SIGKILL as soon as the file
  has grown by --min-growth bytes within --window-ms, so that the file is likely to end inside
  that transaction (a transaction is written to the binlog at commit, in many writes). Kills
  anyway after --timeout seconds. Prints "file=NAME size=BYTES grown=BYTES ... waited_ms=N".

tail: walks the events of one binlog file and says how it ends: the last complete event's
  type, whether a transaction was open there (a GTID event not yet followed by its XID,
  XA PREPARE or COMMIT query), and how many bytes of an incomplete event follow it.
  Prints "events=N last=TYPE open_txn=yes|no partial_bytes=N open_since=POS"."""
import argparse
import collections
import os
import signal
import struct
import sys
import time

NAMES = {2: "QUERY", 4: "ROTATE", 15: "FORMAT_DESCRIPTION", 16: "XID", 19: "TABLE_MAP",
         23: "WRITE_ROWS_V1", 24: "UPDATE_ROWS_V1", 25: "DELETE_ROWS_V1", 30: "WRITE_ROWS",
         31: "UPDATE_ROWS", 32: "DELETE_ROWS", 38: "XA_PREPARE", 160: "ANNOTATE_ROWS",
         161: "BINLOG_CHECKPOINT", 162: "GTID", 163: "GTID_LIST", 3: "STOP"}
GTID, XID, QUERY, XA_PREPARE = 162, 16, 2, 38
FL_STANDALONE = 1


def newest_binlog(datadir):
    idx = [f for f in os.listdir(datadir) if f.endswith(".index") and not f.startswith("relay")]
    with open(os.path.join(datadir, idx[0])) as f:
        names = [ln.strip() for ln in f if ln.strip()]
    last = names[-1]
    return last if os.path.isabs(last) else os.path.join(datadir, os.path.basename(last))


def watch(args):
    path = newest_binlog(args.datadir)
    t0 = time.time()
    deadline = t0 + args.timeout
    window = args.window_ms / 1000.0
    samples = collections.deque()   # (time, size) of the last window
    n = 0
    grown = 0
    while True:
        n += 1
        if n % 2000 == 0:   # follow a rotation
            p = newest_binlog(args.datadir)
            if p != path:
                path = p
                samples.clear()
        try:
            size = os.stat(path).st_size
        except FileNotFoundError:
            size = 0
        now = time.time()
        samples.append((now, size))
        while samples[0][0] < now - window:
            samples.popleft()
        grown = size - samples[0][1]
        if grown >= args.min_growth or now > deadline:
            os.kill(args.pid, signal.SIGKILL)
            break
    print(f"file={os.path.basename(path)} size={size} grown={grown} in_ms={args.window_ms} "
          f"waited_ms={int((time.time() - t0) * 1000)}{' timeout' if grown < args.min_growth else ''}")
    return 0


def tail(args):
    with open(args.file, "rb") as f:
        data = f.read()
    if data[:4] != b"\xfebin":
        print("not a binlog file")
        return 1
    pos, n, last, open_since, checksum = 4, 0, None, None, 0
    while pos + 19 <= len(data):
        _ts, typ, _sid, size, _next, _flags = struct.unpack_from("<IBIIIH", data, pos)
        if size < 19 or pos + size > len(data):
            break
        body = data[pos + 19:pos + size]
        if typ == 15 and len(body) >= 57:
            # FORMAT_DESCRIPTION: the checksum algorithm is the byte before the 4-byte checksum
            checksum = 4 if body[-5] == 1 else 0
        if typ == GTID:
            flags2 = body[12] if len(body) > 12 else 0
            open_since = None if flags2 & FL_STANDALONE else pos
        elif typ in (XID, XA_PREPARE):
            open_since = None
        elif typ == QUERY and open_since is not None:
            # QUERY: thread u32, exec_time u32, db_len u8, error u16, status_len u16, status, db, 0, sql
            db_len = body[8]
            st_len = struct.unpack_from("<H", body, 11)[0]
            sql = body[13 + st_len + db_len + 1:len(body) - checksum].decode("utf-8", "replace").strip().upper()
            if sql in ("COMMIT", "ROLLBACK") or sql.startswith("XA COMMIT") or sql.startswith("XA ROLLBACK"):
                open_since = None
        n += 1
        last = typ
        pos += size
    print(f"events={n} last={NAMES.get(last, last)} open_txn={'yes' if open_since is not None else 'no'} "
          f"partial_bytes={len(data) - pos} open_since={open_since if open_since is not None else '-'} "
          f"size={len(data)}")
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("watch")
    w.add_argument("--datadir", required=True)
    w.add_argument("--pid", type=int, required=True)
    w.add_argument("--min-growth", type=int, default=256 * 1024)
    w.add_argument("--window-ms", type=float, default=50)
    w.add_argument("--timeout", type=float, default=60)
    t = sub.add_parser("tail")
    t.add_argument("--file", required=True)
    args = ap.parse_args()
    return watch(args) if args.cmd == "watch" else tail(args)


if __name__ == "__main__":
    sys.exit(main())
