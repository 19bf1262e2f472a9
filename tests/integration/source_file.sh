#!/usr/bin/env bash
# The file source on a real replica: rows arrive in commit order; rotation (FLUSH BINARY LOGS)
# and a replica restart are followed; kill -9 then restart loses nothing; every --start form
# starts where it says; a purged file and a foreign checkpoint are refused clearly.
. "$BT_SRCDIR/tests/lib/common.sh"

mariadb_start primary 1
mariadb_start replica 2
replica_of replica primary
db=${TOPIC_PREFIX}
out=$BT_TMP/out.jsonl
state=$BT_TMP/state
ids() { inserted_ids "$1" t; }  # the ids of rows inserted into table t, in order

sql primary "CREATE DATABASE $db; CREATE TABLE $db.t (id INT PRIMARY KEY, note VARCHAR(100));"
bintail_bg "$BT_TMP/follow.log" --binlog-dir "$replica_DIR/data" --sink "file:$out" --state-dir "$state" \
  --checkpoint-interval 100ms
for i in $(seq 1 20); do sql primary "INSERT INTO $db.t VALUES ($i, 'a');"; done
sql replica "FLUSH BINARY LOGS;"
for i in $(seq 21 40); do sql primary "INSERT INTO $db.t VALUES ($i, 'b');"; done
mariadb_restart replica
sql replica "START SLAVE;"
for i in $(seq 41 60); do sql primary "INSERT INTO $db.t VALUES ($i, 'c');"; done
wait_replica replica primary
wait_for 20 sh -c "[ \$(grep -c '\"op\":\"insert\"' '$out') -ge 60 ]"
ok $? "60 rows arrived while following rotation and a replica restart"
is "$(ids "$out" | tr '\n' ' ')" "$(seq 1 60 | tr '\n' ' ')" "in commit order, each once"
grep -q "following the binlog to" "$BT_TMP/follow.log"; ok $? "the log names the files it moved to"
kill -TERM "$BT_PID"; wait "$BT_PID"; is "$?" 0 "SIGTERM: clean exit 0"; bt_untrack "$BT_PID"

# kill -9 in the middle of a load, then restart: every row at least once.
sql primary "CREATE TABLE $db.big (id INT PRIMARY KEY, pad CHAR(100));"
bintail_bg "$BT_TMP/k1.log" --binlog-dir "$replica_DIR/data" --sink "file:$BT_TMP/k.jsonl" --state-dir "$BT_TMP/k" \
  --checkpoint-interval 50ms --start latest --include "$db\\.big"
for b in $(seq 0 19); do
  sql primary "USE $db; INSERT INTO $db.big SELECT seq, 'x' FROM seq_$((b * 10000 + 1))_to_$((b * 10000 + 10000));"
  [ "$b" = 8 ] && kill -KILL "$BT_PID"
done
wait "$BT_PID" 2>/dev/null; bt_untrack "$BT_PID"
wait_replica replica primary
"$BINTAIL" --binlog-dir "$replica_DIR/data" --sink "file:$BT_TMP/k.jsonl" --state-dir "$BT_TMP/k" --stop-at-end \
  --include "$db\\.big" >"$BT_TMP/k2.log" 2>&1
ok $? "restart after kill -9 runs to the end"
res=$($PY -c '
import json, sys
ids = [json.loads(l)["after"]["id"] for l in open(sys.argv[1]) if l.strip() and json.loads(l).get("op") == "insert"]
s = set(ids)
print(len(s), len(ids) - len(s), min(s) if s else 0, max(s) if s else 0)' "$BT_TMP/k.jsonl")
set -- $res
is "$1 $3 $4" "200000 1 200000" "all 200000 rows are there after kill -9 and restart ($2 duplicates)"

# --start forms (no checkpoint: each run starts where --start says)
run_from() { "$BINTAIL" --binlog-dir "$replica_DIR/data" --sink "file:$BT_TMP/s.jsonl" --stop-at-end --include "$db\\.t" "$@" >"$BT_TMP/s.log" 2>&1; }
rm -f "$BT_TMP/s.jsonl"*; run_from --start earliest; ok $? "--start earliest"
is "$(ids "$BT_TMP/s.jsonl" | wc -l)" 60 "earliest: all 60 rows of t"
rm -f "$BT_TMP/s.jsonl"*; run_from --start latest; ok $? "--start latest"
is "$(ids "$BT_TMP/s.jsonl" | wc -l)" 0 "latest: nothing old"
sleep 1.2
t0=$(date -u +%Y-%m-%dT%H:%M:%SZ); sleep 1.2
sql primary "INSERT INTO $db.t VALUES (61, 'after t0'), (62, 'after t0');"
wait_replica replica primary
rm -f "$BT_TMP/s.jsonl"*; run_from --start "time:$t0"; ok $? "--start time:$t0"
is "$(ids "$BT_TMP/s.jsonl" | tr '\n' ' ')" "61 62 " "time: starts at the first transaction at or after that time"
last=$(sql replica "SHOW MASTER STATUS" | cut -f1,2 | tr '\t' ':')
sql primary "INSERT INTO $db.t VALUES (63, 'after gtid');"
wait_replica replica primary
rm -f "$BT_TMP/s.jsonl"*; run_from --start "$last"; ok $? "--start FILE:POS ($last)"
is "$(ids "$BT_TMP/s.jsonl" | tr '\n' ' ')" "63 " "FILE:POS starts there"
pos_gtid=$(sql replica "SELECT @@gtid_binlog_pos")
sql primary "INSERT INTO $db.t VALUES (64, 'after gtid 2');"
wait_replica replica primary
rm -f "$BT_TMP/s.jsonl"*; run_from --start "gtid:$pos_gtid"; ok $? "--start gtid:$pos_gtid"
is "$(ids "$BT_TMP/s.jsonl" | tr '\n' ' ')" "64 " "gtid: starts after that GTID position"

# A checkpoint of another server (same file names, different files) is refused.
mariadb_start other 3
sql other "CREATE DATABASE x; CREATE TABLE x.t (id INT PRIMARY KEY); INSERT INTO x.t VALUES (1);"
"$BINTAIL" --binlog-dir "$other_DIR/data" --sink "file:$BT_TMP/o.jsonl" --state-dir "$BT_TMP/o" --stop-at-end >/dev/null 2>&1
ok $? "a run on another server"
"$BINTAIL" --binlog-dir "$replica_DIR/data" --sink "file:$BT_TMP/o.jsonl" --state-dir "$BT_TMP/o" --stop-at-end >"$BT_TMP/o.log" 2>&1
is "$?" 3 "its checkpoint is refused on this replica, with the needs-an-operator exit status"
grep -q "checkpoint is for another binlog" "$BT_TMP/o.log"; ok $? "with a message that says why: $(tail -1 "$BT_TMP/o.log")"

# The checkpoint keeps the GTID of every domain: a transaction in domain 5, then more in domain 0
# after a restart, and the checkpoint still names domain 5 (a restart by GTID would otherwise
# replay it).
gstate=$BT_TMP/gstate
ckgtid() { $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["gtid"])' "$gstate/checkpoint.json"; }
sql primary "SET SESSION gtid_domain_id = 5; INSERT INTO $db.t VALUES (70, 'domain 5');"
sql primary "INSERT INTO $db.t VALUES (71, 'domain 0');"
wait_replica replica primary
"$BINTAIL" --binlog-dir "$replica_DIR/data" --sink "file:$BT_TMP/g1.jsonl" --state-dir "$gstate" --start earliest \
  --stop-at-end >"$BT_TMP/g1.log" 2>&1
ok $? "a run over both domains" || tail -5 "$BT_TMP/g1.log"
want=$(sql replica "SELECT @@gtid_binlog_pos")
is "$(ckgtid)" "$want" "the checkpoint's GTID is the replica's position in every domain"
sql primary "INSERT INTO $db.t VALUES (72, 'domain 0 after the restart');"
wait_replica replica primary
"$BINTAIL" --binlog-dir "$replica_DIR/data" --sink "file:$BT_TMP/g2.jsonl" --state-dir "$gstate" \
  --stop-at-end >"$BT_TMP/g2.log" 2>&1
ok $? "the restart reads on" || tail -5 "$BT_TMP/g2.log"
is "$(ids "$BT_TMP/g2.jsonl" | tr '\n' ' ')" "72 " "only the new row"
case "$(ckgtid)" in *5-1-*) r=0 ;; *) r=1 ;; esac
ok $r "after the restart the checkpoint still holds domain 5: $(ckgtid)"
is "$(ckgtid)" "$(sql replica "SELECT @@gtid_binlog_pos")" "and equals the replica's position again"

# A checkpoint whose file was purged: a clear error, exit 1.
# (the server keeps a file until its binlog checkpoint moved past it: retry until it is gone)
ckfile=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["file"])' "$state/checkpoint.json")
purged() {
  sql replica "FLUSH BINARY LOGS;"
  sql replica "PURGE BINARY LOGS TO '$(sql replica "SHOW MASTER STATUS" | cut -f1)';"
  ! grep -q "$ckfile" "$replica_DIR/data/mysql-bin.index"
}
wait_for 20 purged || diag "could not purge $ckfile"
"$BINTAIL" --binlog-dir "$replica_DIR/data" --sink "file:$out" --state-dir "$state" --stop-at-end >"$BT_TMP/p.log" 2>&1
is "$?" 3 "a checkpoint in a purged file exits 3 (needs an operator: a restart cannot cure it)"
grep -q "purged" "$BT_TMP/p.log"; ok $? "and says the file was purged: $(tail -1 "$BT_TMP/p.log")"

done_testing
