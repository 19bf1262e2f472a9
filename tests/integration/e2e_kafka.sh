#!/usr/bin/env bash
# End to end: MariaDB primary -> replica (log_slave_updates) -> bintail reading the replica's
# binlog files -> Kafka (local broker, or KAFKA_BROKERS). An independent client (kafka-python)
# rebuilds each table's keyed state from the messages and compares it with SELECT.
. "$BT_SRCDIR/tests/lib/common.sh"

mariadb_start primary 1
mariadb_start replica 2
replica_of replica primary
broker_start 1
db=${TOPIC_PREFIX}
state=$BT_TMP/state

sql primary "CREATE DATABASE $db; USE $db;
  CREATE TABLE $db.t1 (id INT PRIMARY KEY, k INT NOT NULL, s VARCHAR(64));
  CREATE TABLE $db.t2 (a INT, b VARCHAR(20), v BIGINT UNSIGNED, PRIMARY KEY (a, b));
  INSERT INTO $db.t1 SELECT seq, 0, CONCAT('row ', seq) FROM seq_1_to_3000;
  INSERT INTO $db.t2 SELECT seq % 50, CONCAT('b', seq), seq * 1000000007 FROM seq_1_to_500;"
for i in 1 2 3; do sql primary "UPDATE $db.t1 SET k = k + 1 WHERE id % $i = 0;"; done
sql primary "DELETE FROM $db.t1 WHERE id > 2900; UPDATE $db.t2 SET v = 18446744073709551615 WHERE a = 7;
  BEGIN; INSERT INTO $db.t1 VALUES (5000, 9, 'txn'); UPDATE $db.t1 SET k = 10 WHERE id = 5000; COMMIT;"
wait_replica replica primary

"$BINTAIL" --binlog-dir "$replica_DIR/data" --kafka "$BROKERS" --state-dir "$state" --stop-at-end \
  --topic "\${db}.\${table}" >"$BT_TMP/run1.log" 2>&1
ok $? "bintail streams the replica's binlog to Kafka and exits at the end" || tail -20 "$BT_TMP/run1.log"
test -s "$state/checkpoint.json"
ok $? "a checkpoint was written"

out=$($PY "$BT_SRCDIR/tests/lib/state_check.py" --brokers "$BROKERS" --topic "$db.t1" --port "$replica_PORT" \
  --table "$db.t1" --key id --order-col k --min-messages 3000)
ok $? "t1: the keyed state rebuilt from Kafka equals SELECT, in commit order per key ($out)"
out=$($PY "$BT_SRCDIR/tests/lib/state_check.py" --brokers "$BROKERS" --topic "$db.t2" --port "$replica_PORT" \
  --table "$db.t2" --key a,b --min-messages 500)
ok $? "t2 (composite key, BIGINT UNSIGNED max): state equals SELECT ($out)"

# The same changes over the replication protocol (bintail registered as a replica of the replica).
"$BINTAIL" --source replication --mysql "mysql://root@127.0.0.1:$replica_PORT" --server-id 77 --snapshot never --kafka "$BROKERS" \
  --stop-at-end --topic "repl.\${db}.\${table}" --include "$db\\..*" >"$BT_TMP/repl.log" 2>&1
ok $? "--source replication streams to the end" || tail -20 "$BT_TMP/repl.log"
out=$($PY "$BT_SRCDIR/tests/lib/state_check.py" --brokers "$BROKERS" --topic "repl.$db.t1" --port "$replica_PORT" \
  --table "$db.t1" --key id --order-col k --min-messages 3000)
ok $? "replication source: t1 state equals SELECT, in commit order per key ($out)"

# A clean restart continues from the checkpoint: new rows only, no duplicates.
before=$(kcat -b "$BROKERS" -C -t "$db.t1" -o beginning -e -q 2>/dev/null | grep -c .)
sql primary "INSERT INTO $db.t1 VALUES (6000, 1, 'after restart');"
sql primary "FLUSH BINARY LOGS;"
wait_replica replica primary
sql replica "FLUSH BINARY LOGS;"
sql primary "INSERT INTO $db.t1 VALUES (6001, 1, 'after rotation');"
wait_replica replica primary
"$BINTAIL" --binlog-dir "$replica_DIR/data" --kafka "$BROKERS" --state-dir "$state" --stop-at-end \
  --topic "\${db}.\${table}" >"$BT_TMP/run2.log" 2>&1
ok $? "restart from the checkpoint, across a binlog rotation" || tail -20 "$BT_TMP/run2.log"
after=$(kcat -b "$BROKERS" -C -t "$db.t1" -o beginning -e -q 2>/dev/null | grep -c .)
is "$((after - before))" 2 "the restart emitted exactly the 2 new rows (no duplicates after a clean stop)"
grep -q "resuming from the checkpoint" "$BT_TMP/run2.log"
ok $? "the second run resumed from the checkpoint"

# Bad input: one clear line, the right exit status.
"$BINTAIL" --binlog-dir "$BT_TMP/nowhere" >"$BT_TMP/bad1.log" 2>&1
is "$?" 2 "a missing binlog directory exits 2 (configuration: --binlog-dir names nothing)"
grep -q "binlog-dir .*nowhere" "$BT_TMP/bad1.log"; ok $? "and names the directory: $(head -1 "$BT_TMP/bad1.log")"
"$BINTAIL" --binlog-dir "$replica_DIR/data" --acks maybe >"$BT_TMP/bad2.log" 2>&1
is "$?" 2 "a bad flag value exits 2"
grep -q -- "--acks: unknown value 'maybe' (expected one of: all, 1, 0)" "$BT_TMP/bad2.log"
ok $? "and names the flag and what it accepts"

done_testing
