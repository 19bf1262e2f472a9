#!/usr/bin/env bash
# Every format and every compression codec through Kafka, read back by independent clients:
# kafka-python rebuilds the rows from each format and compares them with SELECT; kcat reads
# the compressed batches. Deletes give tombstones where the format says so.
. "$BT_SRCDIR/tests/lib/common.sh"

mariadb_start primary 1
broker_start 1
db=${TOPIC_PREFIX}
sql primary "CREATE DATABASE $db; USE $db;
  CREATE TABLE $db.t (id INT PRIMARY KEY, name VARCHAR(50), amount DECIMAL(10,2), n INT NULL);
  INSERT INTO $db.t SELECT seq, CONCAT('name ', seq, ' ✓'), seq * 1.25, IF(seq % 3 = 0, NULL, seq) FROM seq_1_to_300;
  UPDATE $db.t SET amount = amount + 1, name = 'upd \"quoted\" \\\\ back' WHERE id % 10 = 0;
  UPDATE $db.t SET id = id + 1000 WHERE id = 7;
  DELETE FROM $db.t WHERE id % 25 = 0;"

for fmt in debezium canal maxwell dataworks upsert json; do
  topic="$db.$fmt"
  "$BINTAIL" --binlog-dir "$primary_DIR/data" --kafka "$BROKERS" --format "$fmt" --topic "$topic" \
    --include "$db\\.t" --stop-at-end >"$BT_TMP/$fmt.log" 2>&1
  ok $? "--format $fmt runs" || tail -5 "$BT_TMP/$fmt.log"
  out=$($PY "$BT_SRCDIR/tests/lib/format_check.py" --format "$fmt" --brokers "$BROKERS" --topic "$topic" \
    --port "$primary_PORT" --table "$db.t" --key id)
  ok $? "$fmt: the rows parsed back from Kafka equal SELECT ($out)"
done

# tombstones: debezium (a delete and its tombstone, also for the old key of a key change) and upsert
nulls() { kcat -b "$BROKERS" -C -t "$1" -o beginning -e -q -Z -f '%S\n' 2>/dev/null | grep -c '^-1$'; }
is "$(nulls "$db.debezium")" 13 "debezium: a tombstone after each of the 12 deletes and the key change"
is "$(nulls "$db.upsert")" 13 "upsert: a tombstone for each delete and for the old key"
"$BINTAIL" --binlog-dir "$primary_DIR/data" --kafka "$BROKERS" --format debezium --tombstones off \
  --topic "$db.notomb" --include "$db\\.t" --stop-at-end >/dev/null 2>&1
is "$(nulls "$db.notomb")" 0 "--tombstones off: none"

for codec in lz4 zstd snappy gzip none; do
  topic="$db.codec_$codec"
  "$BINTAIL" --binlog-dir "$primary_DIR/data" --kafka "$BROKERS" --compression "$codec" --topic "$topic" \
    --include "$db\\.t" --stop-at-end >"$BT_TMP/$codec.log" 2>&1
  ok $? "--compression $codec runs"
  n=$(kcat -b "$BROKERS" -C -t "$topic" -o beginning -e -q -f '%s\n' 2>/dev/null | grep -c '"op"')
  ok $([ "$n" -ge 300 ]; echo $?) "$codec: kcat decompresses and reads $n messages"
  out=$($PY "$BT_SRCDIR/tests/lib/format_check.py" --format debezium --brokers "$BROKERS" --topic "$topic" \
    --port "$primary_PORT" --table "$db.t" --key id)
  ok $? "$codec: kafka-python decompresses the same rows ($out)"
done

# --create-topics: the local broker has no CreateTopics API (librdkafka's mock), so there
# bintail must say so and fall back to auto-creation; a real broker creates the topic as asked.
"$BINTAIL" --binlog-dir "$primary_DIR/data" --kafka "$BROKERS" --format upsert --create-topics --topic-partitions 3 \
  --topic "$db.created" --include "$db\\.t" --stop-at-end >"$BT_TMP/create.log" 2>&1
ok $? "--create-topics runs" || tail -5 "$BT_TMP/create.log"
if [ -n "${BROKER_PID:-}" ]; then
  grep -q "relying on the brokers' auto-creation" "$BT_TMP/create.log"
  ok $? "without CreateTopics on the broker it says so and falls back: $(grep -m1 create-topics "$BT_TMP/create.log")"
else
  is "$(kcat -b "$BROKERS" -L -t "$db.created" 2>/dev/null | grep -c 'partition ')" 3 "the topic was created with 3 partitions"
fi

# --partition-by column:NAME: rows with equal values share a partition (names match case-insensitively,
# as MySQL's do); a column a captured table lacks stops the run (exit 3) naming the table and its columns.
"$BINTAIL" --binlog-dir "$primary_DIR/data" --kafka "$BROKERS" --format upsert --partition-by column:N --create-topics --topic-partitions 3 \
  --topic "$db.bycol" --include "$db\\.t" --stop-at-end >"$BT_TMP/bycol.log" 2>&1
ok $? "--partition-by column:N runs" || tail -5 "$BT_TMP/bycol.log"
parts=$(kcat -b "$BROKERS" -C -t "$db.bycol" -o beginning -e -q -f '%p %s\n' 2>/dev/null)
is "$(echo "$parts" | grep '"n":null' | cut -d' ' -f1 | sort -u | wc -l)" 1 "every row with n NULL is in one partition"
ok $([ "$(echo "$parts" | grep '"n":[0-9]' | cut -d' ' -f1 | sort -u | wc -l)" -gt 1 ]; echo $?) \
  "rows with other values of n spread over more than one partition"
"$BINTAIL" --binlog-dir "$primary_DIR/data" --sink stdout --partition-by column:nosuch --include "$db\\.t" \
  --stop-at-end >/dev/null 2>"$BT_TMP/nocol.log"
is "$?" 3 "--partition-by column:nosuch on a table without it exits 3"
grep -q "column:nosuch: table $db.t has no column 'nosuch' (its columns: id, name, amount, n)" "$BT_TMP/nocol.log"
ok $? "and says which table lacks it and what columns it has: $(tail -1 "$BT_TMP/nocol.log")"

# headers carry the coordinates
h=$(kcat -b "$BROKERS" -C -t "$db.json" -o beginning -e -q -f '%h\n' 2>/dev/null | grep -m1 "bintail.op=insert")
echo "$h" | grep -q "bintail.op=insert" && echo "$h" | grep -q "bintail.file=mysql-bin.000001" &&
  echo "$h" | grep -q "bintail.pos=" && echo "$h" | grep -q "bintail.gtid=0-1-"
ok $? "headers carry op, file, pos and GTID ($h)"
"$BINTAIL" --binlog-dir "$primary_DIR/data" --kafka "$BROKERS" --kafka-headers off --topic "$db.nohdr" \
  --include "$db\\.t" --stop-at-end >"$BT_TMP/nohdr.log" 2>&1
ok $? "--kafka-headers off runs" || tail -5 "$BT_TMP/nohdr.log"
hdrs=$(kcat -b "$BROKERS" -C -t "$db.nohdr" -o beginning -e -q -f '%h|%s\n' 2>/dev/null)
is "$(echo "$hdrs" | grep -c '"op"')" "$(kcat -b "$BROKERS" -C -t "$db.debezium" -o beginning -e -q -f '%s\n' 2>/dev/null | grep -c '"op"')" \
  "--kafka-headers off: the same messages as with headers"
is "$(echo "$hdrs" | grep -c 'bintail\.')" 0 "--kafka-headers off: no message has a bintail.* header"

done_testing
