"""Rebuilds the keyed state a consumer sees in a Debezium topic written by a snapshot plus the
stream after it, and compares it with SELECT on the server, value by value as text.

Like state_check.py (op "r" and "c"/"u" set the row, "d" deletes, tombstones are skipped,
messages applied per key in partition order), but the comparison is on the server's own text
of each value (the text protocol, no client-side conversion), so DECIMAL, DATETIME(6), ENUM
and 4-byte UTF-8 compare exactly with bintail's value rendering (numbers as JSON numbers,
DECIMAL and temporal values as their SQL text, SET as a list of labels).

Prints a summary line with the message counts per op; exit 0 when the states match."""
import argparse
import json
import os
import sys

import pymysql

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from state_check import read_all  # noqa: E402  (the same reader, one place)


def as_text(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, list):  # SET
        return ",".join(v)
    return str(v)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--table", required=True, help="db.table")
    ap.add_argument("--key", required=True, help="comma-separated key columns")
    ap.add_argument("--min-messages", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    keycols = args.key.split(",")

    msgs, _ = read_all(args.brokers, args.topic, args.min_messages, args.timeout)
    state, ops = {}, {}
    for m in sorted(msgs, key=lambda r: (r.partition, r.offset)):
        if m.value is None:
            continue
        v = json.loads(m.value)
        ops[v["op"]] = ops.get(v["op"], 0) + 1
        row = v["after"] if v["op"] in ("c", "r", "u") else v["before"]
        k = tuple(as_text(row[c]) for c in keycols)
        if v["op"] == "d":
            state.pop(k, None)
        else:
            state[k] = {c: as_text(x) for c, x in row.items()}

    conn = pymysql.connect(host="127.0.0.1", port=args.port, user="root", password="", charset="utf8mb4",
                           conv={})  # no conversions: the server's text of every value
    cur = conn.cursor(pymysql.cursors.DictCursor)
    db, table = args.table.split(".", 1)
    cur.execute(f"SELECT * FROM `{db}`.`{table}`")
    want = {}
    for r in cur.fetchall():
        want[tuple(r[c] for c in keycols)] = dict(r)
    conn.close()

    missing = [k for k in want if k not in state]
    extra = [k for k in state if k not in want]
    differ = [k for k in want if k in state and want[k] != state[k]]
    opstext = " ".join(f"{o}={n}" for o, n in sorted(ops.items()))
    print(f"messages={len(msgs)} {opstext} rows_expected={len(want)} rows_seen={len(state)} "
          f"missing={len(missing)} extra={len(extra)} differ={len(differ)}")
    for k in missing[:5]:
        print(f"  missing {k}")
    for k in extra[:5]:
        print(f"  extra {k}")
    for k in differ[:5]:
        print(f"  differ {k}: want {want[k]} got {state[k]}")
    return 0 if not (missing or extra or differ) and len(msgs) >= args.min_messages else 1


if __name__ == "__main__":
    sys.exit(main())
