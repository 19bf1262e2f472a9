"""Measures the rate at which messages reached a Kafka topic, from the consumer's side.

Reads every message of --topic with kafka-python and uses the records' CreateTime timestamps
(set when bintail produced them). Prints JSON: count, and for the window of messages
[--skip, --skip + --window) the rate in messages/s and in payload bytes/s (key + value).
With --after-ms T, the window starts at the first message created at or after T."""
import argparse
import json
import sys
import time

from kafka import KafkaConsumer, TopicPartition


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--skip", type=int, default=0)
    ap.add_argument("--window", type=int, default=0)
    ap.add_argument("--after-ms", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=120)
    a = ap.parse_args()
    c = KafkaConsumer(bootstrap_servers=a.brokers.split(","), enable_auto_commit=False, consumer_timeout_ms=1000)
    deadline = time.time() + a.timeout
    parts = None
    while parts is None and time.time() < deadline:
        parts = c.partitions_for_topic(a.topic)
        time.sleep(0.1)
    tps = [TopicPartition(a.topic, p) for p in sorted(parts or [])]
    c.assign(tps)
    c.seek_to_beginning(*tps)
    recs = []
    while len(recs) < a.count and time.time() < deadline:
        for _, rs in c.poll(timeout_ms=500, max_records=50000).items():
            recs.extend((r.timestamp, len(r.key or b"") + len(r.value or b"")) for r in rs)
    c.close()
    recs.sort()
    out = {"count": len(recs)}
    if a.after_ms:
        start = next((i for i, r in enumerate(recs) if r[0] >= a.after_ms), len(recs))
    else:
        start = a.skip
    end = min(len(recs), start + a.window) if a.window else len(recs)
    if end - start >= 2:
        span = (recs[end - 1][0] - recs[start][0]) / 1000.0
        n = end - 1 - start
        nbytes = sum(r[1] for r in recs[start + 1:end])
        out.update(window=n, seconds=span, rate=n / span if span else 0, bytes_rate=nbytes / span if span else 0)
    print(json.dumps(out))
    return 0 if len(recs) >= a.count else 1


if __name__ == "__main__":
    sys.exit(main())
