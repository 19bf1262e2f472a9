#!/usr/bin/env bash
# A 1,000,000-row transaction on a real MySQL, written once with binlog_transaction_compression
# (one TRANSACTION_PAYLOAD event, zstd) and once without: bintail streams both with flat memory.
# The compressed payload is inflated one inner event at a time, so its peak resident memory
# (VmHWM, read from /proc while it runs) stays near the uncompressed run's and far below the
# transaction's size. No time is measured.
. "$BT_SRCDIR/tests/lib/common.sh"

mysql_start primary 1 --max-binlog-size=1G
sql primary "CREATE DATABASE d; CREATE TABLE d.k (i INT PRIMARY KEY);
  CREATE TABLE d.tc (id INT PRIMARY KEY, s VARCHAR(100)); CREATE TABLE d.tu LIKE d.tc;
  INSERT INTO d.k WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 1000) SELECT i FROM r;"
sql primary "SET SESSION binlog_transaction_compression = ON;
  INSERT INTO d.tc SELECT a.i * 1000 + b.i, REPEAT('x', 60) FROM d.k a, d.k b; FLUSH BINARY LOGS;"
second=$(sql primary "SHOW BINARY LOG STATUS" | cut -f1)
sql primary "SET SESSION binlog_transaction_compression = OFF;
  INSERT INTO d.tu SELECT a.i * 1000 + b.i, REPEAT('x', 60) FROM d.k a, d.k b;"
size=$(stat -c %s "$primary_DIR/data/$second")
diag "the uncompressed transaction takes $((size / 1048576)) MB of binlog"

# peak_run OUT START INCLUDE: runs bintail to the end; prints its peak resident KB.
peak_run() {
  "$BINTAIL" --binlog-dir "$primary_DIR/data" --sink stdout --start "$2" --include "$3" --stop-at-end \
    2>"$1.log" | grep -c '"op":"insert"' >"$1.count" &
  local pid peak=0 v
  sleep 0.05
  pid=$(pgrep -n -f "bintail --binlog-dir $primary_DIR/data --sink stdout --start $2 ")
  while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; do
    v=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null)
    [ -n "$v" ] && [ "$v" -gt "$peak" ] && peak=$v
    sleep 0.02
  done
  wait
  echo "$peak"
}
pc=$(peak_run "$BT_TMP/c" earliest 'd\.tc')
is "$(cat "$BT_TMP/c.count")" 1000000 "the compressed transaction: every row"
pu=$(peak_run "$BT_TMP/u" "$second:4" 'd\.tu')
is "$(cat "$BT_TMP/u.count")" 1000000 "the uncompressed transaction: every row"
diag "peak resident memory: compressed ${pc} KB, uncompressed ${pu} KB"
ok $([ "$pc" -gt 0 ] && [ "$pu" -gt 0 ] && [ "$pu" -lt 65536 ]; echo $?) \
  "the uncompressed run stays under 64 MB for a $((size / 1048576)) MB transaction (${pu} KB)"
ok $([ "$pc" -le $((pu + 16384)) ]; echo $?) \
  "the compressed run's memory is as flat: within 16 MB of the uncompressed run (${pc} KB vs ${pu} KB)"

done_testing
