#!/usr/bin/env bash
# The replication-protocol source against a real MariaDB replica, through tests/bt-repl-dump
# (the source plus the decoder, printing every event and row): rows of every common type
# arrive in commit order with exact values (CHAR and ENUM included, which Connector/C's own
# row decoder gets wrong); FLUSH BINARY LOGS mid-stream is followed; a GTID start begins at
# the right transaction; a wrong password and a non-ROW server fail clearly; killing the dump
# thread on the server makes the source reconnect without losing or repeating a row.
. "$BT_SRCDIR/tests/lib/common.sh"

DUMP=${BT_REPL_DUMP:-$BT_BUILDDIR/tests/bt-repl-dump}
[ -x "$DUMP" ] || skip_all "tests/bt-repl-dump is not built (make check-build)"
unset BINTAIL_MYSQL_PASSWORD

mariadb_start primary 1
mariadb_start replica 2
replica_of replica primary
db=${TOPIC_PREFIX}
url="mysql://root@127.0.0.1:$replica_PORT"

# dump ARGS...: run bt-repl-dump against the replica until it is caught up.
dump() { timeout 60 "$DUMP" --mysql "$url" --heartbeat-ms 500 --stop-at-end "$@"; }
# rows TABLE FILE: the ROW lines of db.TABLE, without the prefix.
rows() { grep "^  ROW $db\\.$1 " "$2" | sed "s/^  ROW $db\\.$1 //"; }
# ids TABLE FILE: the ids of the inserted rows, space-separated, in output order.
ids() { rows "$1" "$2" | sed -n 's/^insert after={"id":\([0-9]*\)[,}].*/\1/p' | tr '\n' ' '; }
# master_pos SERVER: FILE:POS of its binlog end.
master_pos() { sql "$1" "SHOW MASTER STATUS" | awk '{print $1 ":" $2}'; }
dump_thread() {
  sql replica "SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'" | head -1
}

# ---------------------------------------------------------------- values, order, rotation
sql primary "SET NAMES utf8mb4; CREATE DATABASE $db;
  CREATE TABLE $db.v (id INT PRIMARY KEY, n BIGINT, s VARCHAR(20), c CHAR(5), e ENUM('red','green','blue'),
                      u INT UNSIGNED, t TINYINT);
  INSERT INTO $db.v VALUES (1, -5, 'héllo', 'ab', 'green', 4294967295, -128), (2, NULL, '', '', 'red', 0, 127);
  UPDATE $db.v SET c = 'xyz', e = 'blue', n = 9223372036854775807 WHERE id = 2;"
wait_replica replica primary
sql replica "FLUSH BINARY LOGS;"
sql primary "DELETE FROM $db.v WHERE id = 1; INSERT INTO $db.v VALUES (3, 0, 'three', 'c  ', 'green', 3, 0);"
wait_replica replica primary

dump >"$BT_TMP/v.out" 2>"$BT_TMP/v.err"
ok $? "bt-repl-dump reads the replica from its first binlog to the end" || cat "$BT_TMP/v.err"
want='insert after={"id":1,"n":-5,"s":"héllo","c":"ab","e":"green","u":4294967295,"t":-128}
insert after={"id":2,"n":null,"s":"","c":"","e":"red","u":0,"t":127}
update before={"id":2,"n":null,"s":"","c":"","e":"red","u":0,"t":127} after={"id":2,"n":9223372036854775807,"s":"","c":"xyz","e":"blue","u":0,"t":127}
delete before={"id":1,"n":-5,"s":"héllo","c":"ab","e":"green","u":4294967295,"t":-128}
insert after={"id":3,"n":0,"s":"three","c":"c","e":"green","u":3,"t":0}'
is "$(rows v "$BT_TMP/v.out")" "$want" "every row in commit order with exact values (ints, VARCHAR, CHAR, ENUM, NULL)"
head -1 "$BT_TMP/v.out" | grep -q '^FORMAT_DESCRIPTION_EVENT mysql-bin.000001:4$'
ok $? "the stream starts with the first file's FORMAT_DESCRIPTION at offset 4"
grep -q '^ROTATE_EVENT mysql-bin.000001:[0-9]* mysql-bin.000002:4$' "$BT_TMP/v.out" &&
  grep -q '^FORMAT_DESCRIPTION_EVENT mysql-bin.000002:4$' "$BT_TMP/v.out"
ok $? "FLUSH BINARY LOGS: the ROTATE and the next file's FORMAT_DESCRIPTION are passed on"
is "$(grep -c '^ROTATE_EVENT' "$BT_TMP/v.out")" 1 "one ROTATE: the server's artificial ROTATEs are not passed on"
last_row_file=$(grep -B1 '^  ROW .* insert after={"id":3,' "$BT_TMP/v.out" | head -1 | awk '{print $2}')
case "$last_row_file" in mysql-bin.000002:*) r=0 ;; *) r=1 ;; esac
ok $r "rows after the rotation carry the new file name ($last_row_file)"
positions_bad=$($PY -c '
import re, sys
prev = None; bad = 0
for line in open(sys.argv[1]):
    m = re.match(r"(\S+) (\S+):(\d+)", line)
    if not m or line.startswith(" "): continue
    f, p = m[2], int(m[3])
    if prev and prev[0] == f and p <= prev[1]: bad += 1
    prev = (f, p)
print(bad)' "$BT_TMP/v.out")
is "$positions_bad" 0 "offsets increase within each file"

# Starting in the middle of a file: its FORMAT_DESCRIPTION comes first, marked skip.
mid=$(grep '^MARIADB_GTID_EVENT mysql-bin.000002:' "$BT_TMP/v.out" | head -1 | awk '{print $2}')
dump --start "$mid" >"$BT_TMP/mid.out" 2>"$BT_TMP/mid.err"
ok $? "--start $mid"
is "$(head -2 "$BT_TMP/mid.out" | cut -d' ' -f1-3 | sed 's/ 0-.*//' | tr '\n' '|')" \
  "FORMAT_DESCRIPTION_EVENT mysql-bin.000002:4 skip|MARIADB_GTID_EVENT $mid|" \
  "FILE:POS start: the file's FORMAT_DESCRIPTION (skip), then the event at POS"
is "$(rows v "$BT_TMP/mid.out" | sed -n 1p)" 'delete before={"id":1,"n":-5,"s":"héllo","c":"ab","e":"green","u":4294967295,"t":-128}' \
  "and the rows from there on"

# ---------------------------------------------------------------- GTID start
sql primary "CREATE TABLE $db.g (id INT PRIMARY KEY);"
for i in $(seq 1 10); do
  sql primary "INSERT INTO $db.g VALUES ($i);"
  [ "$i" = 6 ] && gtid6=$(sql primary "SELECT @@gtid_binlog_pos")
done
wait_replica replica primary
seq6=${gtid6##*-}
dump --gtid "$gtid6" >"$BT_TMP/g.out" 2>"$BT_TMP/g.err"
ok $? "--gtid $gtid6" || cat "$BT_TMP/g.err"
is "$(ids g "$BT_TMP/g.out")" "7 8 9 10 " "a GTID start delivers the transactions after that position"
first_gtid=$(grep '^MARIADB_GTID_EVENT' "$BT_TMP/g.out" | head -1 | awk '{print $3}')
is "$first_gtid" "0-1-$((seq6 + 1))" "the first transaction is the one after the GTID"
"$DUMP" --mysql "$url" --gtid "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5" --stop-at-end >/dev/null 2>"$BT_TMP/mg.err"
r=$?
[ $r -ne 0 ] && grep -q "MariaDB GTID positions" "$BT_TMP/mg.err"
ok $? "a MySQL GTID set is refused clearly: $(tail -1 "$BT_TMP/mg.err")"

# ---------------------------------------------------------------- passwords and server checks
sql replica "CREATE USER bt@'127.0.0.1' IDENTIFIED BY 'right-pw'; GRANT REPLICATION SLAVE ON *.* TO bt@'127.0.0.1';"
BINTAIL_MYSQL_PASSWORD=wrong-pw "$DUMP" --mysql "mysql://bt@127.0.0.1:$replica_PORT" --stop-at-end \
  >/dev/null 2>"$BT_TMP/pw.err"
r=$?
[ $r -ne 0 ]; ok $? "a wrong password: non-zero exit ($r)"
grep -q "refused user 'bt'" "$BT_TMP/pw.err" && grep -q -- "--mysql-password-file" "$BT_TMP/pw.err" &&
  grep -q "BINTAIL_MYSQL_PASSWORD" "$BT_TMP/pw.err"
ok $? "a wrong password: the error says so and where the password comes from: $(tail -1 "$BT_TMP/pw.err")"
grep -q "wrong-pw" "$BT_TMP/pw.err"; [ $? -ne 0 ]; ok $? "the error does not print the password"
printf 'right-pw\n' >"$BT_TMP/pw"
# bt has no BINLOG MONITOR: the end is found by heartbeats instead of SHOW MASTER STATUS.
timeout 60 "$DUMP" --mysql "mysql://bt@127.0.0.1:$replica_PORT" --mysql-password-file "$BT_TMP/pw" \
  --heartbeat-ms 300 --stop-at-end >"$BT_TMP/pwok.out" 2>"$BT_TMP/pwok.err"
ok $? "the right password from --mysql-password-file works (replication privilege only)" || cat "$BT_TMP/pwok.err"
is "$(ids g "$BT_TMP/pwok.out")" "1 2 3 4 5 6 7 8 9 10 " "and reads every row"
"$DUMP" --mysql "mysql://bt:right-pw@127.0.0.1:$replica_PORT" --stop-at-end >/dev/null 2>"$BT_TMP/url.err"
[ $? -ne 0 ] && grep -q "contains a password" "$BT_TMP/url.err" && ! grep -q "right-pw" "$BT_TMP/url.err"
ok $? "a password in the URL is refused, without echoing it"
"$DUMP" --mysql "mysql://root@127.0.0.1:$(free_port)" --stop-at-end >/dev/null 2>"$BT_TMP/down.err"
[ $? -ne 0 ] && grep -q "127.0.0.1:[0-9]*: Connection refused" "$BT_TMP/down.err"
ok $? "an unreachable server: host:port and the system error: $(tail -1 "$BT_TMP/down.err")"
dump --start mysql-bin.999999:4 >/dev/null 2>"$BT_TMP/nofile.err"
[ $? -ne 0 ] && grep -q "1236" "$BT_TMP/nofile.err"
ok $? "a start file the server does not have: the server's error: $(tail -1 "$BT_TMP/nofile.err")"
sql primary "SET GLOBAL binlog_format = MIXED;"
timeout 60 "$DUMP" --mysql "mysql://root@127.0.0.1:$primary_PORT" --stop-at-end >/dev/null 2>"$BT_TMP/fmt.err"
r=$?
sql primary "SET GLOBAL binlog_format = ROW;"
[ $r -ne 0 ] && grep -q "the server logs binlog_format=MIXED; bintail needs ROW: SET GLOBAL binlog_format=ROW" "$BT_TMP/fmt.err"
ok $? "binlog_format=MIXED is refused with the fix: $(tail -1 "$BT_TMP/fmt.err")"

# ---------------------------------------------------------------- reconnect after KILL
sql primary "CREATE TABLE $db.k (id INT PRIMARY KEY, pad VARCHAR(200));"
wait_replica replica primary
start=$(master_pos replica)
"$DUMP" --mysql "$url" --start "$start" --heartbeat-ms 500 >"$BT_TMP/k.out" 2>"$BT_TMP/k.err" &
kpid=$!
bt_track "$kpid"
wait_for 20 sh -c "[ -n \"\$(mariadb --no-defaults -uroot -h127.0.0.1 -P$replica_PORT -N -e \
  \"SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'\")\" ]"
ok $? "bt-repl-dump is connected (a Binlog Dump thread on the replica)"
kills=0
for b in $(seq 0 9); do
  # Multi-row transactions big enough to span several events, so a KILL can land mid-transaction.
  sql primary "USE $db; INSERT INTO $db.k SELECT seq, REPEAT('x', 150) FROM seq_$((b * 2000 + 1))_to_$((b * 2000 + 2000));"
  if [ "$b" = 3 ] || [ "$b" = 6 ]; then
    wait_replica replica primary
    id=$(dump_thread)
    [ -n "$id" ] && sql replica "KILL $id;" && kills=$((kills + 1))
  fi
done
for i in $(seq 20001 20020); do sql primary "INSERT INTO $db.k VALUES ($i, 'single');"; done
wait_replica replica primary
wait_for 60 sh -c "[ \$(grep -c '^  ROW $db\\.k insert' '$BT_TMP/k.out') -ge 20020 ]"
ok $? "all 20020 rows arrive across $kills kills of the dump thread"
sleep 1
kill -TERM "$kpid"; wait "$kpid"; r=$?; bt_untrack "$kpid"
is "$r" 0 "bt-repl-dump exits 0 on SIGTERM"
got=$(rows k "$BT_TMP/k.out" | sed -n 's/^insert after={"id":\([0-9]*\),.*/\1/p' | $PY -c '
import sys
ids = [int(l) for l in sys.stdin]
print(len(ids), len(set(ids)), int(ids == sorted(ids)), min(ids), max(ids))')
is "$got" "20020 20020 1 1 20020" "each row exactly once, in commit order (count, distinct, ordered, min, max)"
n_rec=$(grep -c "reconnected to 127.0.0.1:$replica_PORT" "$BT_TMP/k.err")
is "$n_rec" "$kills" "one reconnection per KILL"
is "$(grep -c '^FORMAT_DESCRIPTION_EVENT' "$BT_TMP/k.out")" 1 \
  "a reconnection does not replay the FORMAT_DESCRIPTION (the decoder keeps its table maps)"

# ---------------------------------------------------------------- server restart, hung server
sql primary "CREATE TABLE $db.r (id INT PRIMARY KEY);"
wait_replica replica primary
start=$(master_pos replica)
"$DUMP" --mysql "$url" --start "$start" --heartbeat-ms 500 >"$BT_TMP/r.out" 2>"$BT_TMP/r.err" &
rpid=$!
bt_track "$rpid"
for i in $(seq 1 10); do sql primary "INSERT INTO $db.r VALUES ($i);"; done
wait_replica replica primary
mariadb_restart replica
sql replica "START SLAVE;" 2>/dev/null
for i in $(seq 11 20); do sql primary "INSERT INTO $db.r VALUES ($i);"; done
wait_replica replica primary
wait_for 60 sh -c "[ \$(grep -c '^  ROW $db\\.r insert' '$BT_TMP/r.out') -ge 20 ]"
ok $? "rows written before and after a replica restart arrive"
grep -q '^STOP_EVENT' "$BT_TMP/r.out" && grep -q "reconnected to 127.0.0.1:$replica_PORT" "$BT_TMP/r.err"
ok $? "the STOP event is passed on and the source reconnects to the restarted server"
# A hung server (SIGSTOP) sends no error and no heartbeat: after the read timeout (two
# heartbeats + 10 s = 11 s here) the source gives up on the connection and reconnects.
kill -STOP "$replica_PID"
sleep 13
kill -CONT "$replica_PID"
for i in $(seq 21 30); do sql primary "INSERT INTO $db.r VALUES ($i);"; done
wait_replica replica primary
wait_for 60 sh -c "[ \$(grep -c '^  ROW $db\\.r insert' '$BT_TMP/r.out') -ge 30 ]"
ok $? "rows written after the server hung and recovered arrive"
grep -q "lost at .*(nothing received for 11 s, not even a heartbeat)" "$BT_TMP/r.err"
ok $? "the hang is detected by the missing heartbeats"
kill -TERM "$rpid"; wait "$rpid"; bt_untrack "$rpid"
is "$(ids r "$BT_TMP/r.out")" "$(seq 1 30 | tr '\n' ' ')" "each once, in order, across the restart and the hang"

# ---------------------------------------------------------------- reconnect mid-transaction
# One ~50 MB transaction read by a slow consumer: the source's queue (16 MiB) and the socket
# buffers fill, the server's dump thread blocks in the middle of the transaction, and the KILL,
# sent as soon as the first row is out, lands there.
sql primary "CREATE TABLE $db.m (id INT PRIMARY KEY, pad VARCHAR(200));"
wait_replica replica primary
start=$(master_pos replica)
"$DUMP" --mysql "$url" --start "$start" --heartbeat-ms 500 --delay-us 1000 >"$BT_TMP/m.out" 2>"$BT_TMP/m.err" &
mpid=$!
bt_track "$mpid"
sql primary "USE $db; INSERT INTO $db.m SELECT seq, REPEAT('y', 190) FROM seq_1_to_250000;"
wait_for 60 grep -q "^  ROW $db\\.m insert" "$BT_TMP/m.out"
sql replica "KILL $(dump_thread);"
wait_replica replica primary
wait_for 120 sh -c "[ \$(grep -c '^  ROW $db\\.m insert' '$BT_TMP/m.out') -ge 250000 ]"
ok $? "all 250000 rows of the big transaction arrive after the KILL"
kill -TERM "$mpid"; wait "$mpid"; bt_untrack "$mpid"
resumed=$(sed -n 's/.*reconnected to .*, reading from \(mysql-bin\.[0-9]*:[0-9]*\)$/\1/p' "$BT_TMP/m.err")
at=$(grep "^[A-Z_0-9]* $resumed\( \|$\)" "$BT_TMP/m.out" | awk '{print $1}')
is "$at" "WRITE_ROWS_EVENT_V1" "the reconnection resumed in the middle of the transaction ($resumed)"
got=$(rows m "$BT_TMP/m.out" | sed -n 's/^insert after={"id":\([0-9]*\),.*/\1/p' | $PY -c '
import sys
ids = [int(l) for l in sys.stdin]
print(len(ids), len(set(ids)), int(ids == sorted(ids)), min(ids), max(ids))')
is "$got" "250000 250000 1 1 250000" "each row of the interrupted transaction exactly once, in order"
is "$(grep -c '^MARIADB_GTID_EVENT' "$BT_TMP/m.out") $(grep -c '^XID_EVENT' "$BT_TMP/m.out")" "1 1" \
  "the transaction's GTID and XID each appear once: the caller sees one seamless transaction"

done_testing
