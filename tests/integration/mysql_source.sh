#!/usr/bin/env bash
# The file source on a real MySQL replica (GTIDs on, log_replica_updates, auto-positioning): rows
# arrive in commit order through rotations that MySQL makes by rewriting its index (FLUSH BINARY
# LOGS, and max_binlog_size under a write burst); the checkpoint holds the executed GTID set and
# a restart reads on from it. Skips, saying why, when no MySQL server can be had here.
. "$BT_SRCDIR/tests/lib/common.sh"

mysql_start primary 1
mysql_start replica 2 --max-binlog-size=4096
mysql_replica_of replica primary
db=${TOPIC_PREFIX:-bt}_$$
out=$BT_TMP/out.jsonl
state=$BT_TMP/state
ids() { inserted_ids "$1" t; }  # the ids of rows inserted into table t, in order
ckgtid() { $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["gtid"])' "$state/checkpoint.json"; }
executed() { sql "$1" "SELECT @@GLOBAL.gtid_executed" | tr -d '\n '; }

sql primary "CREATE DATABASE $db; CREATE TABLE $db.t (id INT PRIMARY KEY, note VARCHAR(200));"
mysql_wait_replica replica primary
bintail_bg "$BT_TMP/follow.log" --binlog-dir "$replica_DIR/data" --sink "file:$out" --state-dir "$state" \
  --checkpoint-interval 100ms --start earliest
follow=$BT_PID
# FLUSH BINARY LOGS on the replica between inserts: MySQL deletes and renames its index each time.
for i in $(seq 1 40); do
  sql primary "INSERT INTO $db.t VALUES ($i, 'flush');"
  sql replica "FLUSH BINARY LOGS;"
done
# A burst past max_binlog_size=4K: the replica rotates by itself, many times.
for i in $(seq 41 640); do echo "INSERT INTO $db.t VALUES ($i, REPEAT('b', 190));"; done |
  mariadb --no-defaults -uroot -h127.0.0.1 -P"$primary_PORT"
mysql_wait_replica replica primary
files=$(grep -c . "$replica_DIR/data/mysql-bin.index")
diag "the replica has $files binlog files"
caught_up() { [ "$(ids "$out" 2>/dev/null | wc -l)" -ge 640 ]; }
wait_for 60 caught_up
kill -0 "$follow" 2>/dev/null
ok $? "bintail kept following through 40 FLUSH BINARY LOGS and $files files" ||
  grep -v '^{' "$BT_TMP/follow.log" | tail -5
is "$(ids "$out" | tr '\n' ' ')" "$(seq 1 640 | tr '\n' ' ')" "every row once, in commit order"
want=$(executed replica)
wait_for 10 sh -c "[ \"\$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))[\"gtid\"])' "$state/checkpoint.json")\" = '$want' ]"
is "$(ckgtid)" "$want" "the checkpoint holds the replica's executed GTID set"
kill -TERM "$follow"; wait "$follow"
is "$?" 0 "a clean stop"
bt_untrack "$follow"

# A restart from the checkpoint reads on: the new rows only, and the set grows.
sql primary "INSERT INTO $db.t VALUES (641, 'after the restart');"
mysql_wait_replica replica primary
rm -f "$out"
"$BINTAIL" --binlog-dir "$replica_DIR/data" --sink "file:$out" --state-dir "$state" --stop-at-end \
  >"$BT_TMP/restart.log" 2>&1
ok $? "the restart reads to the end" || tail -5 "$BT_TMP/restart.log"
is "$(ids "$out" | tr '\n' ' ')" "641 " "only the new row"
is "$(ckgtid)" "$(executed replica)" "and the checkpoint is the replica's executed set again"

# The replication source as a user with a password (caching_sha2_password, MySQL 8.4+'s only
# plugin) and only the grants it documents; a wrong password is one line naming the user.
sql primary "CREATE USER 'repl'@'%' IDENTIFIED BY 'r3pl-pw'; GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'repl'@'%';"
echo 'r3pl-pw' >"$BT_TMP/pw"
is "$(sql primary "SELECT plugin FROM mysql.user WHERE user = 'repl'")" caching_sha2_password "the user authenticates with caching_sha2_password"
"$BINTAIL" --source replication --mysql "mysql://repl@127.0.0.1:$primary_PORT" --mysql-password-file "$BT_TMP/pw" \
  --server-id 4343 --snapshot never --start earliest --include "$db\\.t" --sink "file:$BT_TMP/repl.jsonl" \
  --stop-at-end >"$BT_TMP/repl.log" 2>&1
ok $? "--source replication authenticates and streams to the end" || tail -3 "$BT_TMP/repl.log"
is "$(ids "$BT_TMP/repl.jsonl" | wc -l)" 641 "every row of the primary over the protocol"
echo 'wrong' >"$BT_TMP/badpw"
"$BINTAIL" --source replication --mysql "mysql://repl@127.0.0.1:$primary_PORT" --mysql-password-file "$BT_TMP/badpw" \
  --server-id 4343 --snapshot never --retry-connect 1s --sink stdout --stop-at-end >/dev/null 2>"$BT_TMP/badpw.log"
ok $([ $? -ne 0 ]; echo $?) "a wrong password fails"
grep -q "repl" "$BT_TMP/badpw.log" && grep -qi "denied" "$BT_TMP/badpw.log"
ok $? "naming the user: $(tail -1 "$BT_TMP/badpw.log" | cut -c1-200)"

# --start gtid:SET, MySQL's form: reading starts at the first transaction the set lacks.
uuid=$(sql primary "SELECT @@server_uuid")
gno_of() { echo $(( $1 + 2 )); }  # CREATE DATABASE, CREATE TABLE, then one per row
"$BINTAIL" --binlog-dir "$replica_DIR/data" --sink "file:$BT_TMP/g.jsonl" --start "gtid:$uuid:1-$(gno_of 600)" \
  --stop-at-end >"$BT_TMP/g.log" 2>&1
ok $? "--start gtid:$uuid:1-$(gno_of 600)" || tail -5 "$BT_TMP/g.log"
is "$(ids "$BT_TMP/g.jsonl" | sed -n 1p)" 601 "starts at the first row the set lacks"
is "$(ids "$BT_TMP/g.jsonl" | wc -l)" 41 "and reads on to the end"
"$BINTAIL" --binlog-dir "$replica_DIR/data" --sink "file:$BT_TMP/g2.jsonl" --start "gtid:$uuid:1-$(gno_of 600)" \
  --state-dir "$BT_TMP/gstate" --stop-at-end >"$BT_TMP/g2.log" 2>&1
is "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["gtid"])' "$BT_TMP/gstate/checkpoint.json")" \
  "$(executed replica)" "the checkpoint after a gtid: start holds the whole executed set"
# The same over the replication protocol (the server's files searched with SHOW BINLOG EVENTS).
"$BINTAIL" --source replication --mysql "mysql://repl@127.0.0.1:$primary_PORT" --mysql-password-file "$BT_TMP/pw" \
  --server-id 4344 --snapshot never --start "gtid:$uuid:1-$(gno_of 600)" --include "$db\\.t" \
  --sink "file:$BT_TMP/rg.jsonl" --stop-at-end >"$BT_TMP/rg.log" 2>&1
ok $? "--source replication --start gtid:$uuid:1-$(gno_of 600)" || tail -3 "$BT_TMP/rg.log"
is "$(ids "$BT_TMP/rg.jsonl" | sed -n 1p) $(ids "$BT_TMP/rg.jsonl" | wc -l)" "601 41" \
  "over replication too it starts at the first row the set lacks and reads on to the end"
"$BINTAIL" --source replication --mysql "mysql://repl@127.0.0.1:$primary_PORT" --mysql-password-file "$BT_TMP/pw" \
  --server-id 4344 --snapshot never --start "gtid:0-1-5" --sink stdout --stop-at-end >/dev/null 2>"$BT_TMP/rgm.log"
is "$?" 2 "over replication a MariaDB position for a MySQL server exits 2"
grep -q "is a MariaDB GTID position, but --mysql is a MySQL server" "$BT_TMP/rgm.log"
ok $? "and says so: $(tail -1 "$BT_TMP/rgm.log" | cut -c1-160)"
"$BINTAIL" --binlog-dir "$replica_DIR/data" --sink stdout --start "gtid:0-1-5" --stop-at-end >/dev/null 2>"$BT_TMP/gm.log"
is "$?" 2 "a MariaDB GTID position given for MySQL binlogs exits 2"
grep -q "is a MariaDB GTID position, but the binlogs here are MySQL's" "$BT_TMP/gm.log"
ok $? "and says so: $(tail -1 "$BT_TMP/gm.log")"
"$BINTAIL" --binlog-dir "$replica_DIR/data" --sink stdout --start "gtid:$uuid:1-5:-3" --stop-at-end >/dev/null 2>"$BT_TMP/gp.log"
is "$?" 2 "a GTID set that does not parse exits 2"
grep -q "at character" "$BT_TMP/gp.log"; ok $? "naming where: $(tail -1 "$BT_TMP/gp.log")"
# Purged: the set lacks GTIDs from before the oldest file left.
last=$(sql replica "SHOW BINARY LOG STATUS" | cut -f1)
sql replica "PURGE BINARY LOGS TO '$last';"
"$BINTAIL" --binlog-dir "$replica_DIR/data" --sink stdout --start "gtid:$uuid:1-5" --stop-at-end >/dev/null 2>"$BT_TMP/gx.log"
is "$?" 3 "a GTID set whose next transactions were purged exits 3 (needs an operator)"
grep -q "they were purged" "$BT_TMP/gx.log" && grep -q "$uuid:6-" "$BT_TMP/gx.log"
ok $? "and lists the GTIDs that are gone: $(tail -1 "$BT_TMP/gx.log" | cut -c1-200)"

# kill -9 while rows are written and rotated, three times: after the last restart every row
# written is in the output (some twice: at least once), none invented.
kstate=$BT_TMP/kstate
kout=$BT_TMP/kill.jsonl
sql primary "CREATE TABLE $db.k (id INT PRIMARY KEY, v INT);"
mysql_wait_replica replica primary
n=0
for round in 1 2 3; do
  bintail_bg "$BT_TMP/kill-$round.log" --binlog-dir "$replica_DIR/data" --sink "file:$kout" --state-dir "$kstate" \
    --checkpoint-interval 100ms --include "$db\\.k" --start earliest
  kpid=$BT_PID
  for i in $(seq $((n + 1)) $((n + 100))); do echo "INSERT INTO $db.k VALUES ($i, $round);"; done |
    mariadb --no-defaults -uroot -h127.0.0.1 -P"$primary_PORT"
  n=$((n + 100))
  sql replica "FLUSH BINARY LOGS;"
  sleep 0.3
  kill -KILL "$kpid"; wait "$kpid" 2>/dev/null; bt_untrack "$kpid"
done
mysql_wait_replica replica primary
"$BINTAIL" --binlog-dir "$replica_DIR/data" --sink "file:$kout" --state-dir "$kstate" --include "$db\\.k" \
  --stop-at-end >"$BT_TMP/kill-end.log" 2>&1
ok $? "after three kill -9 the last run reads to the end" || tail -3 "$BT_TMP/kill-end.log"
got=$(inserted_ids "$kout" k | sort -nu | tr '\n' ' ')
is "$got" "$(seq 1 "$n" | tr '\n' ' ')" "every one of the $n rows is in the output, none invented"
diag "$(inserted_ids "$kout" k | wc -l) messages for $n rows (a kill -9 sends some again)"

done_testing
