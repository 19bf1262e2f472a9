#!/usr/bin/env bash
# Throttling measured from the consumer's side: --max-rps and --max-mbps hold the produced
# rate within 5% over 10 s, and `bintail throttle` changes a running agent's limit within 1 s.
. "$BT_SRCDIR/tests/lib/common.sh"

mariadb_start primary 1
broker_start 1
db=${TOPIC_PREFIX}
sql primary "CREATE DATABASE $db; USE $db; CREATE TABLE $db.r (id INT PRIMARY KEY, pad VARCHAR(1000));
  CREATE TABLE $db.m (id INT PRIMARY KEY, pad VARCHAR(1000));
  CREATE TABLE $db.c (id INT PRIMARY KEY, pad VARCHAR(10));
  INSERT INTO $db.r SELECT seq, 'x' FROM seq_1_to_23000;
  INSERT INTO $db.m SELECT seq, REPEAT('m', 900) FROM seq_1_to_12000;
  INSERT INTO $db.c SELECT seq, 'c' FROM seq_1_to_16000;"

within() {  # within GOT WANT PERCENT
  $PY -c "import sys; g,w,p=map(float,sys.argv[1:]); sys.exit(0 if abs(g-w)<=w*p/100 else 1)" "$1" "$2" "$3"
}
field() { $PY -c "import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], 0))" "$1" "$2"; }

# --max-rps 2000: 23000 rows; skip the first second's burst, measure 20000 rows (10 s).
"$BINTAIL" --binlog-dir "$primary_DIR/data" --kafka "$BROKERS" --include "$db\\.r" --topic "$db.r" \
  --max-rps 2000 --stop-at-end >"$BT_TMP/rps.log" 2>&1
ok $? "streams under --max-rps 2000" || tail -5 "$BT_TMP/rps.log"
out=$($PY "$BT_SRCDIR/tests/lib/rate_check.py" --brokers "$BROKERS" --topic "$db.r" --count 23000 --skip 2500 --window 20000)
rate=$(field "$out" rate)
within "$rate" 2000 5; ok $? "achieved $rate rows/s over $(field "$out" seconds) s (want 2000 ±5%)"

# --max-mbps 1: about 1 KB per message; 12000 messages ≈ 12 MB ≈ 12 s.
"$BINTAIL" --binlog-dir "$primary_DIR/data" --kafka "$BROKERS" --include "$db\\.m" --topic "$db.m" \
  --max-mbps 1 --stop-at-end >"$BT_TMP/mbps.log" 2>&1
ok $? "streams under --max-mbps 1" || tail -5 "$BT_TMP/mbps.log"
out=$($PY "$BT_SRCDIR/tests/lib/rate_check.py" --brokers "$BROKERS" --topic "$db.m" --count 12000 --skip 1500 --window 9000)
bps=$(field "$out" bytes_rate)
within "$bps" 1000000 5; ok $? "achieved $bps bytes/s of key+value over $(field "$out" seconds) s (want 10^6 ±5%)"

# A limit changed at run time applies within a second.
state=$BT_TMP/state
bintail_bg "$BT_TMP/change.log" --binlog-dir "$primary_DIR/data" --kafka "$BROKERS" --include "$db\\.c" \
  --topic "$db.c" --max-rps 1000 --state-dir "$state" --stop-at-end
wait_for 10 test -S "$state/control.sock"; ok $? "the control socket is there"
sleep 3
changed_ms=$(( $(date +%s%N) / 1000000 ))
"$BINTAIL" throttle --state-dir "$state" --max-rps 4000 >"$BT_TMP/throttle.out" 2>&1
ok $? "bintail throttle --max-rps 4000: $(cat "$BT_TMP/throttle.out")"
wait "$BT_PID"; ok $? "the agent finished the backlog"; bt_untrack "$BT_PID"
grep -q "throttle limits now: max-rps 4000" "$BT_TMP/change.log"; ok $? "the new limit is logged"
out=$($PY "$BT_SRCDIR/tests/lib/rate_check.py" --brokers "$BROKERS" --topic "$db.c" --count 16000 --after-ms $((changed_ms + 1000)) --window 8000)
rate=$(field "$out" rate)
within "$rate" 4000 5; ok $? "from 1 s after the change the rate is $rate rows/s (want 4000 ±5%)"
"$BINTAIL" throttle --state-dir "$state" --max-rps -1 >/dev/null 2>&1; is "$?" 2 "a negative limit is refused"

done_testing
