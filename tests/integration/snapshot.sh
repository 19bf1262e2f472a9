#!/usr/bin/env bash
# Full sync (--snapshot): MariaDB primary -> replica; bintail snapshots the replica (--mysql) and
# streams the replica's binlog files from the snapshot's position, while a workload keeps
# writing on the primary. Checks, with an independent Kafka client, that the keyed state a
# consumer rebuilds equals SELECT; that a kill -9 in the middle of the 100k-row table resumes
# inside it; that snapshot rows render exactly like binlog rows; --snapshot-where,
# --snapshot-skip, --snapshot only; that --snapshot-max-qps 5 never sends more than 5 queries in
# any second (the server's general log); and that a missing privilege names the GRANT.
. "$BT_SRCDIR/tests/lib/common.sh"

mariadb_start primary 1
mariadb_start replica 2
replica_of replica primary
broker_start 1
db=${TOPIC_PREFIX}
REPLICA_URL="mysql://root@127.0.0.1:$replica_PORT"
# utf8mb4 on the client too: the test data has 4-byte characters
u8() {
  local port; port=$(eval echo "\$${1}_PORT"); shift
  mariadb --no-defaults --default-character-set=utf8mb4 -uroot -h127.0.0.1 -P"$port" --batch --skip-column-names -e "$*"
}
json_field() { $PY -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print("" if v is None else v)' "$@"; }

u8 primary "CREATE DATABASE $db; CREATE DATABASE ${db}_t; USE $db;
  CREATE TABLE $db.big (id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(40));
  CREATE TABLE $db.comp (a INT, b VARCHAR(10), d DECIMAL(12,3), dt DATETIME(6), e ENUM('x','y','z'),
    u VARCHAR(40) CHARACTER SET utf8mb4, PRIMARY KEY (a, b));
  CREATE TABLE $db.vkey (k VARCHAR(32) PRIMARY KEY, amount DECIMAL(10,2), note TEXT);
  CREATE TABLE $db.nokey (x INT, y VARCHAR(10));
  CREATE TABLE $db.skipme (id INT PRIMARY KEY);
  INSERT INTO $db.big SELECT seq, seq % 7, CONCAT('pad', seq) FROM seq_1_to_100000;
  INSERT INTO $db.comp SELECT seq DIV 5 + 1, CONCAT('b', seq MOD 5), seq / 8,
    '2024-01-02 03:04:05.123456' + INTERVAL seq SECOND, ELT(1 + seq MOD 3, 'x', 'y', 'z'),
    IF(seq MOD 4 = 0, NULL, CONCAT('é😀', seq)) FROM seq_0_to_999;
  INSERT INTO $db.vkey SELECT CONCAT('key-', LPAD(seq, 5, '0')), seq / 4, IF(seq MOD 9 = 0, NULL, 'note')
    FROM seq_1_to_5000;
  INSERT INTO $db.nokey SELECT seq, 'n' FROM seq_1_to_3000;
  INSERT INTO $db.skipme SELECT seq FROM seq_1_to_10;"
wait_replica replica primary

# ---------------------------------------------------------------- same rendering as the binlog
# A row read by the snapshot and the same row decoded from the binlog give the same JSON.
start=$(sql replica "SHOW MASTER STATUS" | awk '{print $1 ":" $2}')
u8 primary "CREATE TABLE ${db}_t.types (id INT PRIMARY KEY, ti TINYINT, su SMALLINT UNSIGNED, mi MEDIUMINT,
    bu BIGINT UNSIGNED, f FLOAT, d DOUBLE, dc DECIMAL(20,6), dz DECIMAL(8,2) ZEROFILL, dd DATE, dt DATETIME(6),
    dt0 DATETIME, ts TIMESTAMP(3) NULL, tm TIME(1), b BIT(12), e ENUM('a','b''c','é'), s SET('p','q','r'),
    c CHAR(5), vc VARCHAR(30), bn BINARY(4), vb VARBINARY(8), tx TEXT, bl BLOB, j JSON, g POINT,
    i6 INET6, y YEAR);
  SET time_zone = '+00:00';
  INSERT INTO ${db}_t.types VALUES
    (1, -128, 65535, -8388608, 18446744073709551615, 16777217, 0.1, -12345678901234.000001, 42.5, '2024-02-29',
     '2024-01-02 03:04:05.000001', '1999-12-31 23:59:59', '2038-01-19 03:14:07.999', '-838:59:59.9', b'101010101010',
     'b''c', 'p,r', 'ab', 'é😀 \"q\" \\\\ x', 'xy', 0x00ff00, 'text', 0xdeadbeef, '{\"a\": [1, 2.5, \"x\"]}',
     POINT(1.5, -2), '2001:db8::1', 2155),
    (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (3, 0, 0, 0, 0, -0.5, -1e300, 0, 0, '1000-01-01', '9999-12-31 23:59:59.999999', '1000-01-01 00:00:00',
     '1970-01-01 00:00:01', '00:00:00', b'0', 'é', '', '', '', '', '', '', '', '[]', POINT(0, 0), '::', 1901);"
wait_replica replica primary
"$BINTAIL" --binlog-dir "$replica_DIR/data" --snapshot never --start "$start" --stop-at-end --sink stdout \
  --format json --include "${db}_t\\.types" >"$BT_TMP/types.binlog" 2>"$BT_TMP/types.binlog.log"
ok $? "the types table decoded from the binlog" || tail -5 "$BT_TMP/types.binlog.log"
"$BINTAIL" --binlog-dir "$replica_DIR/data" --mysql "$REPLICA_URL" --snapshot only --state-dir "$BT_TMP/st_types" \
  --sink stdout --format json --include "${db}_t\\.types" >"$BT_TMP/types.snap" 2>"$BT_TMP/types.snap.log"
ok $? "the types table read by the snapshot" || tail -5 "$BT_TMP/types.snap.log"
$PY - "$BT_TMP/types.binlog" "$BT_TMP/types.snap" <<'EOF'
import json, sys
binlog = {m["after"]["id"]: m for m in map(json.loads, open(sys.argv[1])) if m.get("op") == "insert"}
snap = {m["after"]["id"]: m for m in map(json.loads, open(sys.argv[2])) if m.get("op") == "read"}
bad = 0
for k in sorted(binlog):
    b, s = binlog[k], snap.get(k)
    if s is None or b["after"] != s["after"] or b["pk"] != s["pk"]:
        bad += 1
        print(f"# row {k}:\n#   binlog   {json.dumps(b['after'], ensure_ascii=False)}\n"
              f"#   snapshot {json.dumps(s and s['after'], ensure_ascii=False)}")
print(f"# {len(binlog)} binlog rows, {len(snap)} snapshot rows, {bad} differ")
sys.exit(1 if bad or len(binlog) != 3 or len(snap) != 3 else 0)
EOF
ok $? "every column type renders the same JSON via the snapshot and via the binlog"

# ---------------------------------------------------------------- snapshot + stream under writes, kill -9, resume
state=$BT_TMP/state
common=(--binlog-dir "$replica_DIR/data" --mysql "$REPLICA_URL" --kafka "$BROKERS" --state-dir "$state"
  --topic "\${db}.\${table}" --include "$db\\..*" --snapshot-skip "$db\\.skipme" --snapshot-chunk-rows 5000
  --checkpoint-interval 200ms)
$PY "$BT_SRCDIR/tests/lib/snapshot_workload.py" --port "$primary_PORT" --db "$db" --seconds 10 \
  >"$BT_TMP/workload.out" 2>&1 &
wl_pid=$!
bt_track "$wl_pid"
# Two readers (one read view through the brief global read lock); slowed down so that the kill
# lands inside the 100k-row table.
bintail_bg "$BT_TMP/run1.log" "${common[@]}" --snapshot initial --snapshot-threads 2 --snapshot-max-rps 30000
inside_big() {
  $PY - "$state/checkpoint.json" "$db.big" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
k = c.get("snapshot_last_key") or ""
sys.exit(0 if c.get("snapshot_table") == sys.argv[2] and k and json.loads(k)[0] >= 40000 else 1)
EOF
}
wait_for 60 inside_big
ok $? "the checkpoint records progress inside $db.big: $(cat "$state/checkpoint.json" 2>/dev/null)"
kill -9 "$BT_PID"; wait "$BT_PID" 2>/dev/null; bt_untrack "$BT_PID"
grep -q "global read lock held" "$BT_TMP/run1.log"
ok $? "two readers share one read view: $(grep -o 'global read lock held [^(]*' "$BT_TMP/run1.log")"
killed_key=$(json_field "$state/checkpoint.json" snapshot_last_key)
killed_id=$(echo "$killed_key" | tr -d '[]')

bintail_bg "$BT_TMP/run2.log" "${common[@]}" --snapshot initial
wait_for 60 grep -q "snapshot: done" "$BT_TMP/run2.log"
ok $? "the restarted snapshot finished" || tail -20 "$BT_TMP/run2.log"
grep -q "resuming at table $db.big after key \\[" "$BT_TMP/run2.log"
ok $? "the restart resumed inside $db.big: $(grep -o 'resuming at table [^(]*' "$BT_TMP/run2.log")"
reread=$(sed -n "s/.*snapshot: $db\\.big done: \\([0-9]*\\) rows.*/\\1/p" "$BT_TMP/run2.log")
diag "killed at key $killed_key; the restart read ${reread:-?} rows of $db.big"
# what is left after the key, plus the workload's inserts (new ids sort after 100000)
[ -n "$reread" ] && [ "$reread" -lt $((100000 - killed_id + 5000)) ] && [ "$reread" -lt 65000 ]
ok $? "far fewer than 100k rows of $db.big were read again ($reread)"
grep -q "$db.skipme skipped (--snapshot-skip)" "$BT_TMP/run2.log"
ok $? "--snapshot-skip: $db.skipme was not read"

wait "$wl_pid"; bt_untrack "$wl_pid"
diag "workload: $(cat "$BT_TMP/workload.out")"
wait_replica replica primary
settled() {
  local s
  s=$("$BINTAIL" status --state-dir "$state" 2>/dev/null) || return 1
  $PY -c 'import json,sys; s=json.loads(sys.argv[1]); sys.exit(0 if s["caught_up"] and s["acked"] == s["messages"] else 1)' "$s"
}
wait_for 60 settled
ok $? "bintail caught up with the replica and every message is acknowledged"
kill -TERM "$BT_PID"; wait "$BT_PID"
ok $? "SIGTERM: clean stop" || tail -5 "$BT_TMP/run2.log"
bt_untrack "$BT_PID"
# a last pass to the end of the binlog (nothing should be left)
"$BINTAIL" "${common[@]}" --stop-at-end >"$BT_TMP/run3.log" 2>&1
ok $? "a --stop-at-end pass from the checkpoint" || tail -5 "$BT_TMP/run3.log"

check_state() {  # TABLE KEY
  local out
  out=$($PY "$BT_SRCDIR/tests/lib/snapshot_state.py" --brokers "$BROKERS" --topic "$db.$1" --port "$replica_PORT" \
    --table "$db.$1" --key "$2" --min-messages 1)
  ok $? "$db.$1: the state rebuilt from Kafka equals SELECT on the replica ($(echo "$out" | head -1))" ||
    echo "$out" | sed 's/^/# /'
}
check_state big id
check_state comp a,b
check_state vkey k

# ---------------------------------------------------------------- --snapshot only, -where, -skip
"$BINTAIL" --binlog-dir "$replica_DIR/data" --mysql "$REPLICA_URL" --state-dir "$BT_TMP/st_only" --sink stdout \
  --format json --include "$db\\..*" --snapshot only --snapshot-skip "$db\\.(big|skipme)" \
  --snapshot-where "$db.vkey:amount > 1000" --snapshot-where "$db.comp:a <= 10 AND e <> 'z'" \
  >"$BT_TMP/only.json" 2>"$BT_TMP/only.log"
ok $? "--snapshot only exits 0 after the snapshot" || tail -5 "$BT_TMP/only.log"
count() { grep -c "\"table\":\"$1\"" "$BT_TMP/only.json"; }
is "$(count vkey)" "$(sql replica "SELECT COUNT(*) FROM $db.vkey WHERE amount > 1000")" "--snapshot-where on vkey"
is "$(count comp)" "$(sql replica "SELECT COUNT(*) FROM $db.comp WHERE a <= 10 AND e <> 'z'")" "--snapshot-where on comp"
is "$(count nokey)" "$(sql replica "SELECT COUNT(*) FROM $db.nokey")" "the table without a key is read whole"
is "$(count big)$(count skipme)" "00" "--snapshot-skip: no rows of big and skipme"
is "$(grep -vc '"op":"read"' "$BT_TMP/only.json")" 0 "--snapshot only emits snapshot reads only"
is "$(json_field "$BT_TMP/st_only/checkpoint.json" snapshot_table)" "" "the checkpoint says the snapshot is complete"

# ---------------------------------------------------------------- --snapshot-max-qps, privileges
sql replica "SET sql_log_bin = 0; CREATE USER snap@'%' IDENTIFIED BY 'pw1'; GRANT SELECT ON *.* TO snap@'%';
  CREATE USER weak@'%' IDENTIFIED BY 'pw2'; GRANT INSERT ON $db.vkey TO weak@'%';
  TRUNCATE mysql.general_log; SET GLOBAL log_output = 'TABLE'; SET GLOBAL general_log = ON;"
BINTAIL_MYSQL_PASSWORD=pw1 "$BINTAIL" --binlog-dir "$replica_DIR/data" --mysql "mysql://snap@127.0.0.1:$replica_PORT" \
  --state-dir "$BT_TMP/st_qps" --sink stdout --include "$db\\.vkey" --snapshot only --snapshot-chunk-rows 400 \
  --snapshot-max-qps 5 >/dev/null 2>"$BT_TMP/qps.log"
ok $? "a snapshot under --snapshot-max-qps 5" || tail -5 "$BT_TMP/qps.log"
sql replica "SET GLOBAL general_log = OFF"
sql replica "SELECT UNIX_TIMESTAMP(event_time) FROM mysql.general_log WHERE user_host LIKE 'snap[%'
  AND command_type = 'Query' ORDER BY event_time" >"$BT_TMP/qps.times"
$PY - "$BT_TMP/qps.times" <<'EOF'
import sys
t = [float(x) for x in open(sys.argv[1]) if x.strip()]
# the most queries in any one-second interval [x, x + 1)
worst = max((sum(1 for u in t if s <= u < s + 1) for s in t), default=0)
span = t[-1] - t[0] if t else 0
print(f"# {len(t)} queries over {span:.2f} s; at most {worst} in any second")
sys.exit(0 if t and worst <= 5 and len(t) >= 15 else 1)
EOF
ok $? "--snapshot-max-qps 5: never more than 5 queries in any second (general log)"

BINTAIL_MYSQL_PASSWORD=pw2 "$BINTAIL" --binlog-dir "$replica_DIR/data" --mysql "mysql://weak@127.0.0.1:$replica_PORT" \
  --state-dir "$BT_TMP/st_weak" --sink stdout --include "$db\\..*" --snapshot only >/dev/null 2>"$BT_TMP/weak.log"
is "$?" 1 "a missing SELECT privilege fails the snapshot"
grep "bintail: snapshot of $db.vkey: .*GRANT SELECT ON" "$BT_TMP/weak.log" | sed 's/^/# /'
grep -q "bintail: snapshot of $db.vkey: .*GRANT SELECT ON" "$BT_TMP/weak.log"
ok $? "the error names the table and the GRANT to add"

done_testing
