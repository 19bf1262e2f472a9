#!/usr/bin/env bash
# Failing over to another replica of the same primary, or to a rebuilt one: the checkpoint
# written reading replica A is followed on replica B by its GTID state (the same transactions
# have other files and offsets there), with a log line naming both servers; nothing is lost and
# nothing sent twice. MariaDB (GTID positions) and, when a MySQL server can be had, MySQL (GTID
# sets). A checkpoint without GTIDs on another server is refused with the reason.
. "$BT_SRCDIR/tests/lib/common.sh"

db=${TOPIC_PREFIX}
ids() { inserted_ids "$1" t; }  # the ids of rows inserted into table t, in order
ckfield() { $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1/checkpoint.json" "$2"; }

# scenario FLAVOR PRIMARY A B WAIT: rows 1-50 read on A, rows 51-60 written, then read on B.
scenario() {
  local flavor=$1 pri=$2 a=$3 b=$4 wait=$5 state=$BT_TMP/state-$1
  sql "$pri" "CREATE DATABASE $db; CREATE TABLE $db.t (id INT PRIMARY KEY, note VARCHAR(20));"
  for i in $(seq 1 50); do echo "INSERT INTO $db.t VALUES ($i, 'before');"; done |
    mariadb --no-defaults -uroot -h127.0.0.1 -P"$(eval echo "\$${pri}_PORT")"
  $wait "$a" "$pri"; $wait "$b" "$pri"
  "$BINTAIL" --binlog-dir "$(eval echo "\$${a}_DIR")/data" --sink "file:$BT_TMP/$flavor-a.jsonl" --state-dir "$state" \
    --include "$db\\.t" --start earliest --stop-at-end >"$BT_TMP/$flavor-a.log" 2>&1
  ok $? "$flavor: a run on replica $a" || tail -3 "$BT_TMP/$flavor-a.log"
  is "$(ids "$BT_TMP/$flavor-a.jsonl" | wc -l)" 50 "$flavor: it read rows 1-50"
  # B has other file names and offsets for the same transactions
  sql "$b" "FLUSH BINARY LOGS; FLUSH BINARY LOGS;"
  for i in $(seq 51 60); do echo "INSERT INTO $db.t VALUES ($i, 'after');"; done |
    mariadb --no-defaults -uroot -h127.0.0.1 -P"$(eval echo "\$${pri}_PORT")"
  $wait "$b" "$pri"
  "$BINTAIL" --binlog-dir "$(eval echo "\$${b}_DIR")/data" --sink "file:$BT_TMP/$flavor-b.jsonl" --state-dir "$state" \
    --include "$db\\.t" --stop-at-end >"$BT_TMP/$flavor-b.log" 2>&1
  ok $? "$flavor: the same checkpoint on replica $b" || tail -3 "$BT_TMP/$flavor-b.log"
  is "$(ids "$BT_TMP/$flavor-b.jsonl" | tr '\n' ' ')" "$(seq 51 60 | tr '\n' ' ')" \
    "$flavor: it reads on at row 51: nothing lost, nothing twice"
  grep -q "resuming by the checkpoint's GTID state" "$BT_TMP/$flavor-b.log"
  ok $? "$flavor: a log line names both servers: $(grep -m1 'resuming by' "$BT_TMP/$flavor-b.log" | cut -c1-200)"
  is "$(ckfield "$state" server_id)" "$(sql "$b" "SELECT @@server_id")" "$flavor: the checkpoint is now replica $b's"
}

mariadb_start primary 1
mariadb_start ra 2
mariadb_start rb 3
replica_of ra primary
replica_of rb primary
scenario mariadb primary ra rb wait_replica

# repl_scenario FLAVOR PRIMARY A B WAIT FIRST: the replication source checks the checkpoint's
# server too, and follows its GTID state (MariaDB position, or MySQL set) on replica B.
repl() {
  "$BINTAIL" --source replication --mysql "mysql://root@127.0.0.1:$1" --server-id 4242 --snapshot never \
    --sink "file:$2" --state-dir "$3" --include "$db\\.t" --stop-at-end
}
repl_scenario() {
  local flavor=$1 pri=$2 a=$3 b=$4 wait=$5 first=$6 rstate=$BT_TMP/rstate-$1 i
  repl "$(eval echo "\$${a}_PORT")" "$BT_TMP/$flavor-r1.jsonl" "$rstate" >"$BT_TMP/$flavor-r1.log" 2>&1
  ok $? "$flavor replication source: a run on replica $a" || tail -3 "$BT_TMP/$flavor-r1.log"
  for i in $(seq "$first" $((first + 4))); do sql "$pri" "INSERT INTO $db.t VALUES ($i, 'repl');"; done
  $wait "$a" "$pri"; $wait "$b" "$pri"
  repl "$(eval echo "\$${b}_PORT")" "$BT_TMP/$flavor-r2.jsonl" "$rstate" >"$BT_TMP/$flavor-r2.log" 2>&1
  ok $? "$flavor replication source: the same checkpoint on replica $b" || tail -3 "$BT_TMP/$flavor-r2.log"
  is "$(ids "$BT_TMP/$flavor-r2.jsonl" | tr '\n' ' ')" "$(seq "$first" $((first + 4)) | tr '\n' ' ')" \
    "$flavor replication source: it reads on at row $first"
  grep -q "resuming by the checkpoint's GTID" "$BT_TMP/$flavor-r2.log"
  ok $? "$flavor replication source: a log line names both servers: $(grep -m1 'resuming by' "$BT_TMP/$flavor-r2.log" | cut -c1-160)"
}
repl_scenario mariadb primary ra rb wait_replica 61

# Without a GTID state, another server's checkpoint is refused and the message says why.
nogtid=$BT_TMP/state-nogtid
mkdir -p "$nogtid"
$PY - "$BT_TMP/state-mariadb/checkpoint.json" "$nogtid/checkpoint.json" <<'PY'
import json, sys
ck = json.load(open(sys.argv[1])); ck["gtid"] = ""; ck["server_id"] = 2; ck["file"] = "mysql-bin.000001"; ck["file_created"] = 1
json.dump(ck, open(sys.argv[2], "w"), separators=(",", ":"))
PY
"$BINTAIL" --binlog-dir "$rb_DIR/data" --sink stdout --state-dir "$nogtid" --stop-at-end >/dev/null 2>"$BT_TMP/nogtid.log"
is "$?" 3 "a foreign checkpoint without a GTID state exits 3"
grep -q "has no GTID state to find its place here" "$BT_TMP/nogtid.log"
ok $? "and says why: $(tail -1 "$BT_TMP/nogtid.log" | cut -c1-200)"

if "$BT_SRCDIR/scripts/mysql-root" >/dev/null 2>&1; then
  mysql_start mprimary 11
  mysql_start ma 12
  mysql_start mb 13
  mysql_replica_of ma mprimary
  mysql_replica_of mb mprimary
  scenario mysql mprimary ma mb mysql_wait_replica
  is "$(ckfield "$BT_TMP/state-mysql" gtid)" "$(sql mb "SELECT @@GLOBAL.gtid_executed" | tr -d '\n ')" \
    "mysql: the checkpoint holds replica mb's executed set"
  repl_scenario mysql mprimary ma mb mysql_wait_replica 71
else
  ok 1 "# SKIP no MySQL server here: $("$BT_SRCDIR/scripts/mysql-root" 2>&1 >/dev/null | tail -1)"
fi

done_testing
