#!/usr/bin/env bash
# The snapshot on a real MySQL: with only the grants the stream needs it fails naming the ones
# the snapshot's start position needs (BACKUP_ADMIN, RELOAD) and why; with BACKUP_ADMIN it takes
# the lock-free point (performance_schema.log_status) and the GTID state starts as the executed
# set there. Under concurrent writes (inserts, updates and deletes of rows being read), the
# keyed state rebuilt from snapshot + stream equals SELECT, with one reader and with several.
. "$BT_SRCDIR/tests/lib/common.sh"

mysql_start primary 1
db=${TOPIC_PREFIX:-bt}_$$
url="mysql://snap@127.0.0.1:$primary_PORT"
echo secret >"$BT_TMP/pw"
sql primary "CREATE DATABASE $db; CREATE TABLE $db.t (id INT PRIMARY KEY, v INT NOT NULL, note VARCHAR(30));
  CREATE USER 'snap'@'%' IDENTIFIED BY 'secret';
  GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO 'snap'@'%';"
for i in $(seq 1 3000); do echo "($i, 0, 'row $i')"; done | paste -sd, | sed "s/^/INSERT INTO $db.t VALUES /" |
  mariadb --no-defaults -uroot -h127.0.0.1 -P"$primary_PORT"
run() {
  "$BINTAIL" --binlog-dir "$primary_DIR/data" --mysql "$url" --mysql-password-file "$BT_TMP/pw" \
    --include "$db\\.t" "$@"
}

run --snapshot only --sink stdout >/dev/null 2>"$BT_TMP/grants.log"
ok $([ $? -ne 0 ]; echo $?) "without BACKUP_ADMIN or RELOAD the MySQL snapshot fails"
grep -q "GRANT BACKUP_ADMIN, RELOAD ON \*\.\* TO 'snap'@'%'" "$BT_TMP/grants.log"
ok $? "naming the grants its start position needs, and why: $(tail -1 "$BT_TMP/grants.log" | cut -c1-220)"
grep -q -- "--snapshot-threads above 1" "$BT_TMP/grants.log"
is "$?" 1 "without blaming --snapshot-threads"
sql primary "GRANT BACKUP_ADMIN ON *.* TO 'snap'@'%';"

# A writer that keeps changing rows while the snapshot reads them.
writer() {
  local n=0
  while [ ! -e "$BT_TMP/stop-writer" ]; do
    n=$((n + 1))
    echo "UPDATE $db.t SET v = v + 1 WHERE id = $(( (n * 7) % 3000 + 1 ));
      INSERT INTO $db.t VALUES ($((10000 + n)), $n, 'new') ON DUPLICATE KEY UPDATE v = v + 1;
      DELETE FROM $db.t WHERE id = $(( (n * 13) % 3000 + 1 ));"
  done | mariadb --no-defaults -uroot -h127.0.0.1 -P"$primary_PORT"
}
state_equals() {  # FILE: the last image per id in the output equals SELECT
  $PY - "$1" "$primary_PORT" "$db" <<'PY'
import json, sys, pymysql
rows = {}
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("table") != "t": continue
    if m["op"] in ("read", "insert", "update"): rows[m["after"]["id"]] = (m["after"]["v"], m["after"]["note"])
    elif m["op"] == "delete": rows.pop(m["before"]["id"], None)
c = pymysql.connect(host="127.0.0.1", port=int(sys.argv[2]), user="root", database=sys.argv[3])
cur = c.cursor(); cur.execute("SELECT id, v, note FROM t")
want = {r[0]: (r[1], r[2]) for r in cur.fetchall()}
diff = [k for k in set(rows) | set(want) if rows.get(k) != want.get(k)]
print(f"{len(want)} rows, {len(diff)} differ" + (f" (e.g. id {diff[0]}: got {rows.get(diff[0])}, want {want.get(diff[0])})" if diff else ""))
sys.exit(1 if diff else 0)
PY
}
for threads in 1 4; do
  for round in 1 2 3; do
    rm -f "$BT_TMP/stop-writer"
    writer &
    wpid=$!
    bt_track "$wpid"
    sleep 0.3
    st=$BT_TMP/state-$threads-$round
    log=$BT_TMP/run-$threads-$round.log
    bintail_bg "$log" --binlog-dir "$primary_DIR/data" --mysql "$url" --mysql-password-file "$BT_TMP/pw" \
      --include "$db\\.t" --snapshot initial --snapshot-threads "$threads" --snapshot-chunk-rows 500 \
      --state-dir "$st" --sink "file:$BT_TMP/out-$threads-$round.jsonl" --stop-at-end
    bpid=$BT_PID
    wait_for 120 grep -q "snapshot: done" "$log"
    sleep 0.5 # the stream reads the writer's changes for a while too
    touch "$BT_TMP/stop-writer"; wait "$wpid"; bt_untrack "$wpid"
    wait "$bpid"
    r=$?
    bt_untrack "$bpid"
    # what the writer did after bintail reached the end: read on from the checkpoint
    run --state-dir "$st" --sink "file:$BT_TMP/out-$threads-$round.jsonl" --stop-at-end >>"$BT_TMP/run-$threads-$round.log" 2>&1
    ok $(( r | $? )) "$threads reader(s), round $round: snapshot under writes, then the stream" ||
      tail -3 "$BT_TMP/run-$threads-$round.log"
    out=$(state_equals "$BT_TMP/out-$threads-$round.jsonl")
    ok $? "$threads reader(s), round $round: the keyed state equals SELECT ($out)"
  done
done
grep -h "consistent read view\|global read lock" "$BT_TMP"/run-*.log | head -3 | while read -r l; do diag "$l"; done
executed=$(sql primary "SELECT @@GLOBAL.gtid_executed" | tr -d '\n ')
is "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["gtid"])' "$BT_TMP/state-4-3/checkpoint.json")" \
  "$executed" "the checkpoint after snapshot and stream holds the server's executed GTID set"

done_testing
