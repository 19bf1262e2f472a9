#!/usr/bin/env bash
# --oversize against a real mariadbd and Kafka, with --max-record-bytes 2000 and rows whose TEXT
# column alone is 5000 bytes: skip leaves the big insert out (counted, logged with table and
# position) and delivers the rows around it; drop-columns (debezium) sends every message of an
# insert, an update, a key-changing update (delete, tombstone, create) and a delete within the
# limit, with the big column null and the bintail.dropped header on each of them; fail (the
# default) stops with a non-zero exit and a message naming the table and --max-record-bytes.
. "$BT_SRCDIR/tests/lib/common.sh"

mariadb_start primary 1
broker_start 1
db=${TOPIC_PREFIX}
limit=2000
big="REPEAT('x', 5000)"
for t in s d f; do sql primary "CREATE DATABASE IF NOT EXISTS $db;
  CREATE TABLE $db.$t (id INT PRIMARY KEY, s VARCHAR(20), big TEXT);"; done
# DDL goes to a topic of its own: the table topics hold only the row messages checked below
run=(--binlog-dir "$primary_DIR/data" --kafka "$BROKERS" --max-record-bytes "$limit" --ddl-topic "${db}_ddl")

# ---------------------------------------------------------------- skip
sql primary "INSERT INTO $db.s VALUES (1, 'before', 'small');
  INSERT INTO $db.s VALUES (2, 'big', $big);
  INSERT INTO $db.s VALUES (3, 'after', 'small');
  DELETE FROM $db.s WHERE id = 2;"
bintail_bg "$BT_TMP/skip.log" "${run[@]}" --include "$db\\.s" --oversize skip --state-dir "$BT_TMP/skip"
skip_pid=$BT_PID
caught_up() {
  local st; st=$("$BINTAIL" status --state-dir "$BT_TMP/skip") || return 1
  case "$st" in *'"caught_up":true'*) return 0 ;; esac; return 1
}
wait_for 30 caught_up; ok $? "skip: bintail reads to the end"
st=$("$BINTAIL" status --state-dir "$BT_TMP/skip")
echo "$st" | grep -q '"skipped_oversize":2,'; ok $? "skip: status counts the skipped insert and delete ($st)"
kill -TERM "$skip_pid"; wait "$skip_pid"; is "$?" 0 "skip: SIGTERM stops it cleanly (exit 0)"; bt_untrack "$skip_pid"
grep -Eq "warn: skipped a change of $db\.s \(key \{\"id\":2\}\) at mysql-bin\.[0-9]+:[0-9]+: a [0-9]+-byte message, over --max-record-bytes $limit" \
  "$BT_TMP/skip.log"
ok $? "skip: a warning names the table, the key, the position and the limit: $(grep -m1 -o 'skipped a.*' "$BT_TMP/skip.log")"
ids=$(consume_py "${db}_s" 3 5 | $PY -c '
import json, sys
print(" ".join(sorted(str(json.loads(json.loads(l)["key"])["id"]) for l in sys.stdin)))')
is "$ids" "1 3" "skip: the rows before and after the big one arrive; neither its insert nor its delete, nor the delete's tombstone"

# ---------------------------------------------------------------- drop-columns
sql primary "INSERT INTO $db.d VALUES (1, 'a', $big);
  INSERT INTO $db.d VALUES (2, 'small', 'tiny');
  UPDATE $db.d SET s = 'b' WHERE id = 1;
  UPDATE $db.d SET id = id + 100 WHERE id = 1;
  DELETE FROM $db.d WHERE id = 101;"
"$BINTAIL" "${run[@]}" --include "$db\\.d" --oversize drop-columns --stop-at-end >"$BT_TMP/drop.log" 2>&1
is "$?" 0 "drop-columns: bintail runs to the end with a key-changing update and a delete (exit 0)" ||
  tail -5 "$BT_TMP/drop.log"
# 8 messages: c(1), c(2), u(1), for the key change d(1) + tombstone(1) + c(101), then d(101) + tombstone(101)
consume_py "${db}_d" 8 20 >"$BT_TMP/drop.msgs"
is "$(grep -c . "$BT_TMP/drop.msgs")" 8 "drop-columns: all 8 messages of those changes arrive"
check=$($PY - "$BT_TMP/drop.msgs" "$limit" <<'EOF'
import json, sys
limit = int(sys.argv[2])
per_key, bad = {}, []
for line in open(sys.argv[1]):
    m = json.loads(line)
    key = json.loads(m["key"])["id"]
    size = len(m["key"].encode()) + len((m["value"] or "").encode())
    v = json.loads(m["value"]) if m["value"] is not None else None
    op = v["op"] if v else "tombstone"
    per_key.setdefault(key, []).append(op)
    dropped = m["headers"].get("bintail.dropped")
    where = f"{op} of id {key}"
    if size > limit:
        bad.append(f"{where} is {size} bytes")
    if key == 2:  # the small row: nothing dropped
        if dropped is not None or v["after"]["big"] != "tiny":
            bad.append(f"{where}: changed although it fits (dropped={dropped})")
        continue
    if dropped != "big":
        bad.append(f"{where}: bintail.dropped is {dropped!r}")
    for image in ("before", "after"):
        if v and v[image] is not None and v[image].get("big", 0) is not None:
            bad.append(f"{where}: {image}.big is not null")
want = {1: ["c", "u", "d", "tombstone"], 101: ["c", "d", "tombstone"], 2: ["c"]}
if per_key != want:
    bad.append(f"messages per key {per_key}, want {want}")
print("; ".join(bad) if bad else "fine")
EOF
)
is "$check" fine "drop-columns: every message is within $limit bytes, big is null and bintail.dropped says big in each"
grep -q "sent with columns big set to null" "$BT_TMP/drop.log"
ok $? "drop-columns: a warning says which columns were nulled"

# ---------------------------------------------------------------- fail (the default)
sql primary "INSERT INTO $db.f VALUES (1, 'before', 'small'); INSERT INTO $db.f VALUES (2, 'big', $big);"
"$BINTAIL" "${run[@]}" --include "$db\\.f" --stop-at-end >"$BT_TMP/fail.log" 2>&1
rc=$?
# a runtime error, not a configuration error (2) or a crash (128 + signal)
[ "$rc" -ne 0 ] && [ "$rc" -ne 2 ] && [ "$rc" -lt 128 ]
ok $? "fail: a message over the limit stops bintail with a runtime error's exit status ($rc)"
grep -Eq "bintail: a [0-9]+-byte message for $db\.f \(key \{\"id\":2\}\) at mysql-bin\.[0-9]+:[0-9]+ is over --max-record-bytes $limit: raise" \
  "$BT_TMP/fail.log"
ok $? "fail: the error names the table, the key and --max-record-bytes: $(tail -1 "$BT_TMP/fail.log")"

done_testing
