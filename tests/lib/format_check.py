"""Parses every message of a topic in one of bintail's formats back into rows, rebuilds the
keyed state, and compares it with SELECT on the server (values compared as text).

Usage: format_check.py --format F --brokers B --topic T --port P --table db.t --key id
Prints a summary; exit 0 when the states match."""
import argparse
import json
import sys
import time

import pymysql
from kafka import KafkaConsumer, TopicPartition


def messages(brokers, topic, timeout=60):
    c = KafkaConsumer(bootstrap_servers=brokers.split(","), enable_auto_commit=False, consumer_timeout_ms=1000)
    deadline = time.time() + timeout
    parts = None
    while parts is None and time.time() < deadline:
        parts = c.partitions_for_topic(topic)
        time.sleep(0.1)
    tps = [TopicPartition(topic, p) for p in sorted(parts or [])]
    c.assign(tps)
    c.seek_to_beginning(*tps)
    ends = c.end_offsets(tps)
    out = []
    while time.time() < deadline and any(c.position(tp) < ends[tp] for tp in tps):
        for _, rs in c.poll(timeout_ms=300).items():
            out.extend(rs)
    c.close()
    # Commit order across partitions comes from the coordinates headers: a key change in
    # Maxwell's or Canal's format is one message, in the new key's partition, that must be
    # applied after the old key's earlier changes in another partition.
    def coords(r):
        h = {k: v.decode() for k, v in (r.headers or [])}
        return (h.get("bintail.file", ""), int(h.get("bintail.pos", "0")))
    return sorted(sorted(out, key=lambda r: (r.partition, r.offset)), key=coords)


def text(v):
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def changes(fmt, rec):
    """Yields (op, row) pairs: op 'set' or 'del'. An update that changes the key yields a
    'del' of the old row first (formats that carry the old image in the same message)."""
    if rec.value is None:
        return
    v = json.loads(rec.value)
    if fmt == "debezium":
        if v.get("op") in ("c", "r", "u"):
            yield "set", v["after"]
        elif v.get("op") == "d":
            yield "del", v["before"]
    elif fmt == "json":
        if v.get("op") == "update":
            yield "del", v["before"]
        if v.get("op") in ("insert", "update", "read"):
            yield "set", v["after"]
        elif v.get("op") == "delete":
            yield "del", v["before"]
    elif fmt == "canal":
        for i, row in enumerate(v.get("data") or []):
            if v["type"] == "UPDATE" and v.get("old"):
                yield "del", {**row, **v["old"][i]}
            if v["type"] in ("INSERT", "UPDATE"):
                yield "set", row
            elif v["type"] == "DELETE":
                yield "del", row
    elif fmt == "maxwell":
        if v.get("type") == "update":
            yield "del", {**v["data"], **(v.get("old") or {})}
        if v.get("type") in ("insert", "update", "bootstrap-insert"):
            yield "set", v["data"]
        elif v.get("type") == "delete":
            yield "del", v["data"]
    elif fmt == "dataworks":
        op = v["payload"]["op"]
        if op == "UPDATE_AFTER":
            yield "del", v["payload"]["before"]["dataColumn"]
        if op in ("INSERT", "UPDATE_AFTER"):
            yield "set", v["payload"]["after"]["dataColumn"]
        elif op == "DELETE":
            yield "del", v["payload"]["before"]["dataColumn"]
    elif fmt == "upsert":
        yield "set", v


def main():
    ap = argparse.ArgumentParser()
    for a in ("--format", "--brokers", "--topic", "--table", "--key"):
        ap.add_argument(a, required=True)
    ap.add_argument("--port", type=int, required=True)
    a = ap.parse_args()
    keys = a.key.split(",")
    state, n = {}, 0
    for rec in messages(a.brokers, a.topic):
        n += 1
        if a.format == "upsert" and rec.value is None:
            k = json.loads(rec.key)
            state.pop(tuple(text(k[c]) for c in keys), None)
            continue
        for op, row in changes(a.format, rec):
            k = tuple(text(row[c]) for c in keys)
            if op == "set":
                state[k] = {c: text(x) for c, x in row.items()}
            else:
                state.pop(k, None)
    conn = pymysql.connect(host="127.0.0.1", port=a.port, user="root", password="")
    cur = conn.cursor(pymysql.cursors.DictCursor)
    cur.execute(f"SELECT * FROM {a.table}")
    want = {tuple(text(r[c]) for c in keys): {c: text(x) for c, x in r.items()} for r in cur.fetchall()}
    bad = [k for k in set(want) | set(state) if want.get(k) != state.get(k)]
    print(f"format={a.format} messages={n} rows_expected={len(want)} rows_seen={len(state)} mismatches={len(bad)}")
    for k in bad[:5]:
        print(f"  {k}: want {want.get(k)} got {state.get(k)}")
    return 0 if n and not bad else 1


if __name__ == "__main__":
    sys.exit(main())
