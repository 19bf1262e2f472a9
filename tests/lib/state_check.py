"""Rebuilds the keyed state a consumer sees in a Kafka topic and compares it with SELECT.

Reads every message of --topic with kafka-python (an independent client), applies them per
key in partition order (debezium: c/r/u set the row, d deletes; tombstones are skipped), and
compares the final rows with `SELECT * FROM --table` on the MariaDB server at --port. Also
checks that, per key, the --order-col value never decreases (commit order per key) and that
every message sits in the partition Java's murmur2 partitioner picks for its key.

Prints a summary line; exit 0 when the states match, 1 otherwise."""
import argparse
import json
import sys
import time

import pymysql
from kafka import KafkaConsumer, TopicPartition
from kafka.partitioner.default import murmur2


def read_all(brokers, topic, min_count, timeout):
    consumer = KafkaConsumer(bootstrap_servers=brokers.split(","), enable_auto_commit=False,
                             consumer_timeout_ms=1000)
    deadline = time.time() + timeout
    parts = None
    while parts is None and time.time() < deadline:
        parts = consumer.partitions_for_topic(topic)
        if parts is None:
            time.sleep(0.2)
    if parts is None:
        return [], 0
    tps = [TopicPartition(topic, p) for p in sorted(parts)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    ends = consumer.end_offsets(tps)
    msgs = []
    while time.time() < deadline:
        for tp, records in consumer.poll(timeout_ms=300, max_records=50000).items():
            msgs.extend(records)
        done = all(consumer.position(tp) >= ends[tp] for tp in tps)
        if done and len(msgs) >= min_count:
            break
        if done:
            ends = consumer.end_offsets(tps)
    consumer.close()
    return msgs, len(parts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--table", required=True)
    ap.add_argument("--key", required=True, help="comma-separated key columns")
    ap.add_argument("--order-col", default=None)
    ap.add_argument("--min-messages", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    keycols = args.key.split(",")

    msgs, nparts = read_all(args.brokers, args.topic, args.min_messages, args.timeout)
    state, last_order, problems = {}, {}, []
    seen_versions = {}
    for m in sorted(msgs, key=lambda r: (r.partition, r.offset)):
        if m.key is not None and nparts:
            want = (murmur2(m.key) & 0x7FFFFFFF) % nparts
            if want != m.partition:
                problems.append(f"key {m.key!r} in partition {m.partition}, murmur2 says {want}")
        if m.value is None:
            continue
        v = json.loads(m.value)
        if "op" not in v:  # a schema change event (DDL) in the table's topic
            continue
        row = v["after"] if v["op"] in ("c", "r", "u") else v["before"]
        k = tuple(str(row[c]) for c in keycols)
        if args.order_col and v["op"] != "d":
            o = row[args.order_col]
            if k in last_order and o < last_order[k]:
                problems.append(f"key {k}: {args.order_col} went from {last_order[k]} back to {o}")
            last_order[k] = o
        ver = json.dumps(v["after"] if v["op"] != "d" else None, sort_keys=True)
        seen_versions[(k, ver, v["op"])] = seen_versions.get((k, ver, v["op"]), 0) + 1
        if v["op"] == "d":
            state.pop(k, None)
        else:
            state[k] = row

    conn = pymysql.connect(host="127.0.0.1", port=args.port, user="root", password="")
    cur = conn.cursor(pymysql.cursors.DictCursor)
    cur.execute(f"SELECT * FROM {args.table}")
    want = {}
    for r in cur.fetchall():
        want[tuple(str(r[c]) for c in keycols)] = r
    conn.close()

    def norm(r):
        return {c: (str(x) if x is not None else None) for c, x in r.items()}

    missing = [k for k in want if k not in state]
    extra = [k for k in state if k not in want]
    differ = [k for k in want if k in state and norm(want[k]) != norm(state[k])]
    dups = sum(n - 1 for n in seen_versions.values() if n > 1)
    print(f"messages={len(msgs)} partitions={nparts} rows_expected={len(want)} rows_seen={len(state)} "
          f"missing={len(missing)} extra={len(extra)} differ={len(differ)} duplicates={dups} "
          f"problems={len(problems)}")
    for k in missing[:5]:
        print(f"  missing {k}")
    for k in extra[:5]:
        print(f"  extra {k}")
    for k in differ[:5]:
        print(f"  differ {k}: want {norm(want[k])} got {norm(state[k])}")
    for p in problems[:5]:
        print(f"  {p}")
    return 0 if not (missing or extra or differ or problems) else 1


if __name__ == "__main__":
    sys.exit(main())
