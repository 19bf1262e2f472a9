"""Reads messages from a Kafka topic with kafka-python, an independent client, for assertions.

Prints one JSON object per message: partition, offset, key, value (text, or null for a
tombstone), headers. Stops after --count messages or --timeout seconds of silence."""
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
    ap.add_argument("--timeout", type=float, default=30)
    args = ap.parse_args()

    consumer = KafkaConsumer(bootstrap_servers=args.brokers.split(","), enable_auto_commit=False,
                             consumer_timeout_ms=1000, api_version_auto_timeout_ms=10000)
    deadline = time.time() + args.timeout
    parts = None
    while parts is None and time.time() < deadline:
        parts = consumer.partitions_for_topic(args.topic)
        if parts is None:
            time.sleep(0.2)
    if parts is None:
        print(f"topic {args.topic} not found", file=sys.stderr)
        return 1
    tps = [TopicPartition(args.topic, p) for p in sorted(parts)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    got = 0
    while got < args.count and time.time() < deadline:
        batch = consumer.poll(timeout_ms=500, max_records=10000)
        for tp, records in batch.items():
            for r in records:
                print(json.dumps({
                    "partition": r.partition, "offset": r.offset,
                    "key": r.key.decode("utf-8", "replace") if r.key is not None else None,
                    "value": r.value.decode("utf-8", "replace") if r.value is not None else None,
                    "headers": {k: v.decode("utf-8", "replace") for k, v in (r.headers or [])},
                }))
                got += 1
    consumer.close()
    return 0 if got >= args.count else 3


if __name__ == "__main__":
    sys.exit(main())
