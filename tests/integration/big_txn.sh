#!/usr/bin/env bash
# Bounded memory: one 1 GB transaction (a million 1 KB rows in a single INSERT) streams through
# bintail with about the same peak memory as a small one. Memory is asserted (it is a
# correctness property here); speed is measured in bench/, never here.
. "$BT_SRCDIR/tests/lib/common.sh"

mariadb_start primary 1 --max-binlog-cache-size=4G --max-binlog-size=1G
db=${TOPIC_PREFIX}
sql primary "CREATE DATABASE $db; USE $db; CREATE TABLE $db.small (id INT PRIMARY KEY, pad VARCHAR(1000));
  CREATE TABLE $db.big (id INT PRIMARY KEY, pad VARCHAR(1000));
  INSERT INTO $db.small SELECT seq, REPEAT('s', 1000) FROM seq_1_to_1000;"

# peak_rss_kb LOG ARGS...: run bintail to the end; print its peak resident set (VmHWM, kB).
peak_rss_kb() {
  local log=$1; shift
  "$BINTAIL" "$@" >"$log" 2>&1 &
  local pid=$! hwm=0 v
  bt_track "$pid"
  while kill -0 "$pid" 2>/dev/null; do
    v=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null)
    [ -n "$v" ] && hwm=$v
    sleep 0.1
  done
  wait "$pid"; local rc=$?
  bt_untrack "$pid"
  echo "$hwm"
  return $rc
}

small=$(peak_rss_kb "$BT_TMP/small.log" --binlog-dir "$primary_DIR/data" --sink "file:$BT_TMP/small.jsonl" \
  --include "$db\\.small" --stop-at-end)
ok $? "a small transaction: peak RSS ${small} kB"

sql primary "USE $db; INSERT INTO $db.big SELECT seq, REPEAT('b', 1000) FROM seq_1_to_1000000;"
size=$(stat -c %s "$primary_DIR/data/mysql-bin.000001")
ok $([ "$size" -gt 1000000000 ]; echo $?) "the binlog holds the 1 GB transaction ($size bytes)"
big=$(peak_rss_kb "$BT_TMP/big.log" --binlog-dir "$primary_DIR/data" --sink "file:/dev/null" \
  --include "$db\\.big" --stop-at-end)
ok $? "the 1 GB transaction streams to the end" || tail -5 "$BT_TMP/big.log"
ok $([ "$big" -lt 100000 ]; echo $?) "peak RSS ${big} kB stays under 100 MB"
ok $([ "$big" -lt $((small + 40000)) ]; echo $?) "and within 40 MB of the small transaction's ${small} kB (flat)"
n=$("$BINTAIL" --binlog-dir "$primary_DIR/data" --include "$db\\.big" --stop-at-end --sink stdout 2>/dev/null | grep -c '"op":"insert"')
is "$n" 1000000 "all 1000000 rows of the transaction come out"

done_testing
