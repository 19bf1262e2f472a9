#!/usr/bin/env bash
# One agent per --state-dir: a second bintail on the same directory exits 2 at once, naming
# the first one's pid, and leaves the first's control socket and checkpoint alone; status and
# throttle still talk to the first; once it stops (cleanly or by kill -9) the lock file left
# behind does not keep the next one out.
. "$BT_SRCDIR/tests/lib/common.sh"

mariadb_start primary 1
db=${TOPIC_PREFIX}
state=$BT_TMP/s
out=$BT_TMP/first.jsonl
sql primary "CREATE DATABASE $db; CREATE TABLE $db.t (id INT PRIMARY KEY, note VARCHAR(100));
             INSERT INTO $db.t VALUES (1, 'before');"
run=(--binlog-dir "$primary_DIR/data" --state-dir "$state" --include "$db\\.t" --checkpoint-interval 100ms)
inserts() { grep -c '"op":"insert"' "$1" 2>/dev/null; }
has_inserts() { [ "$(inserts "$1")" -ge "$2" ]; }

bintail_bg "$BT_TMP/first.log" "${run[@]}" --sink "file:$out" --name first
first=$BT_PID
wait_for 20 "$BINTAIL" status --state-dir "$state"; ok $? "the first agent answers status"
wait_for 20 has_inserts "$out" 1; ok $? "and has read the first row"
is "$(cat "$state/lock" 2>/dev/null)" "$first" "the lock file holds its pid"

t0=$(date +%s%N)
timeout -k 1 10 "$BINTAIL" "${run[@]}" --sink "file:$BT_TMP/second.jsonl" --name second >"$BT_TMP/second.log" 2>&1
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
is "$rc" 2 "a second agent on the same --state-dir exits 2"
[ "$ms" -lt 1000 ]; ok $? "within a second (${ms} ms)"
want="bintail: --state-dir $state is in use by another bintail (pid $first): stop it, or give this one its own --state-dir"
is "$(cat "$BT_TMP/second.log")" "$want" "with one line naming the first's pid and what to do"
[ ! -s "$BT_TMP/second.jsonl" ]; ok $? "it wrote no output"
kill -0 "$first" 2>/dev/null; ok $? "the first agent still runs"
st=$("$BINTAIL" status --state-dir "$state"); ok $? "status still answers"
echo "$st" | grep -q '"name":"first"'; ok $? "from the first agent: its control socket was not taken ($st)"
"$BINTAIL" throttle --state-dir "$state" --max-rps 0 >/dev/null; ok $? "throttle still reaches it"
is "$(cat "$state/lock")" "$first" "the lock file still names the first"
sql primary "INSERT INTO $db.t VALUES (2, 'while refused');"
wait_for 20 has_inserts "$out" 2; ok $? "and the first agent still delivers new rows"

kill -TERM "$first"; wait "$first"; is "$?" 0 "the first agent stops cleanly"; bt_untrack "$first"
[ -f "$state/lock" ]; ok $? "its lock file is left, with a pid that is gone"
"$BINTAIL" "${run[@]}" --sink "file:$BT_TMP/third.jsonl" --stop-at-end >"$BT_TMP/third.log" 2>&1
ok $? "after it stopped, a new agent on the same --state-dir runs (exit 0)"

bintail_bg "$BT_TMP/killed.log" "${run[@]}" --sink "file:$BT_TMP/killed.jsonl"
killed=$BT_PID
wait_for 20 "$BINTAIL" status --state-dir "$state"; ok $? "another agent started"
kill -KILL "$killed"; wait "$killed" 2>/dev/null; bt_untrack "$killed"
is "$(cat "$state/lock")" "$killed" "kill -9 left its pid in the lock file"
sql primary "INSERT INTO $db.t VALUES (3, 'after kill');"
"$BINTAIL" "${run[@]}" --sink "file:$BT_TMP/fourth.jsonl" --stop-at-end >"$BT_TMP/fourth.log" 2>&1
ok $? "after kill -9, a new agent on the same --state-dir runs (exit 0)"
grep -q '"id":3' "$BT_TMP/fourth.jsonl"; ok $? "and reads from the checkpoint on"

"$BINTAIL" --binlog-dir "$primary_DIR/data" --state-dir "$BT_TMP/other" --include "$db\\.t" --sink stdout \
  --stop-at-end >/dev/null 2>"$BT_TMP/other.log"
ok $? "an agent on another --state-dir is not affected"

done_testing
