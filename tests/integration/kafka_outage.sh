#!/usr/bin/env bash
# Delivery under failure: a broker outage in the middle of a load loses no row and raises
# sink_down (then resolved); kill -9 of bintail during a 200k-row load followed by a restart
# loses no row (duplicates are allowed and counted).
. "$BT_SRCDIR/tests/lib/common.sh"

mariadb_start primary 1
broker_start 1
db=${TOPIC_PREFIX}
webhook_start hook
sql primary "CREATE DATABASE $db; CREATE TABLE $db.o (id INT PRIMARY KEY, v INT);
  CREATE TABLE $db.k (id INT PRIMARY KEY, pad CHAR(50));"

count_ids() {  # distinct ids and total messages with an "after" image in a topic
  $PY - "$BROKERS" "$1" "$2" <<'PY'
import json, sys, time
from kafka import KafkaConsumer, TopicPartition
brokers, topic, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = KafkaConsumer(bootstrap_servers=brokers.split(","), enable_auto_commit=False, consumer_timeout_ms=1000)
parts = None
for _ in range(100):
    parts = c.partitions_for_topic(topic)
    if parts: break
    time.sleep(0.1)
tps = [TopicPartition(topic, p) for p in sorted(parts or [])]
c.assign(tps); c.seek_to_beginning(*tps)
ids, total, deadline = set(), 0, time.time() + 90
while time.time() < deadline:
    got = c.poll(timeout_ms=500, max_records=50000)
    for _, rs in got.items():
        for r in rs:
            if r.value:
                v = json.loads(r.value)
                if v.get("after"): ids.add(v["after"]["id"]); total += 1
    if len(ids) >= want and not got: break
print(len(ids), total - len(ids))
PY
}

if [ -z "${BROKER_PID:-}" ]; then
  diag "KAFKA_BROKERS is set: the broker outage part needs the local broker; skipped"
else
  bintail_bg "$BT_TMP/outage.log" --binlog-dir "$primary_DIR/data" --kafka "$BROKERS" --topic "$db.o" \
    --include "$db\\.o" --state-dir "$BT_TMP/s1" --webhook "$hook_URL" --sink-down-after 2s \
    -X message.send.max.retries=1000000 -X retry.backoff.ms=200
  agent=$BT_PID
  sql primary "USE $db; INSERT INTO $db.o SELECT seq, 0 FROM seq_1_to_5000;"
  sleep 1
  kill -USR1 "$BROKER_PID"; diag "broker down"
  for b in 1 2 3 4 5; do sql primary "USE $db; INSERT INTO $db.o SELECT seq, $b FROM seq_$((b * 5000 + 1))_to_$((b * 5000 + 5000));"; done
  wait_for 30 has_alert "$hook_OUT" "^sink_down .* firing"; ok $? "sink_down fired while the broker was down"
  kill -USR2 "$BROKER_PID"; diag "broker up"
  wait_for 60 has_alert "$hook_OUT" "^sink_down .* resolved"
  ok $? "sink_down resolved after the broker came back"
  set -- $(count_ids "$db.o" 30000)
  is "$1" 30000 "no row lost across the outage ($2 duplicates)"
  kill -TERM "$agent"; wait "$agent"; is "$?" 0 "clean stop afterwards"; bt_untrack "$agent"
fi

# kill -9 during a 200k-row load, then restart with the same state directory.
bintail_bg "$BT_TMP/k1.log" --binlog-dir "$primary_DIR/data" --kafka "$BROKERS" --topic "$db.k" \
  --include "$db\\.k" --state-dir "$BT_TMP/s2" --checkpoint-interval 100ms
for b in $(seq 0 19); do
  sql primary "USE $db; INSERT INTO $db.k SELECT seq, 'x' FROM seq_$((b * 10000 + 1))_to_$((b * 10000 + 10000));"
  [ "$b" = 10 ] && kill -KILL "$BT_PID"
done
wait "$BT_PID" 2>/dev/null; bt_untrack "$BT_PID"
"$BINTAIL" --binlog-dir "$primary_DIR/data" --kafka "$BROKERS" --topic "$db.k" --include "$db\\.k" \
  --state-dir "$BT_TMP/s2" --stop-at-end >"$BT_TMP/k2.log" 2>&1
ok $? "restart after kill -9 runs to the end" || tail -5 "$BT_TMP/k2.log"
set -- $(count_ids "$db.k" 200000)
is "$1" 200000 "all 200000 rows delivered after kill -9 and restart ($2 duplicates)"

done_testing
