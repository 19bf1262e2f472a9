#!/usr/bin/env bash
# Alerts end to end, with a real HTTP receiver on loopback: lag crosses warning, then
# critical, then clears (exactly firing WARNING, firing CRITICAL, resolved); the HMAC header
# verifies; a hanging receiver does not slow replication; alert-test reports the status.
. "$BT_SRCDIR/tests/lib/common.sh"

mariadb_start primary 1
broker_start 1
db=${TOPIC_PREFIX}
webhook_start hook
secret=$BT_TMP/secret; printf 'test-secret-123\n' >"$secret"

# alert-test
out=$("$BINTAIL" alert-test --webhook "$hook_URL" --webhook-secret-file "$secret" 2>&1)
ok $? "alert-test succeeds: $out"
echo "$out" | grep -q "HTTP 200"; ok $? "and reports the HTTP status"
"$BINTAIL" alert-test --webhook "http://127.0.0.1:1/none" >/dev/null 2>&1; is "$?" 1 "alert-test to nowhere exits 1"

# Lag: writes come at ~50 rows/s while the agent may read 20/s, so lag grows by about half a
# second per second: past 2 s (WARNING), then past 4 s (CRITICAL); lifting the limit lets it
# catch up (resolved).
sql primary "CREATE DATABASE $db; CREATE TABLE $db.t (id INT PRIMARY KEY AUTO_INCREMENT, v INT);"
state=$BT_TMP/state
bintail_bg "$BT_TMP/lag.log" --binlog-dir "$primary_DIR/data" --kafka "$BROKERS" --topic "$db.t" \
  --include "$db\\.t" --start latest --state-dir "$state" --max-rps 20 \
  --webhook "$hook_URL" --webhook-secret-file "$secret" --name lagtest \
  --lag-warning 2s --lag-critical 4s --lag-for 1s --alert-interval 10m
agent=$BT_PID
# one client connection: a new client per row could not keep up the rate
( for i in $(seq 1 400); do echo "INSERT INTO $db.t (v) VALUES ($i); DO SLEEP(0.02);"; done | sql primary "$(cat)" ) &
writer=$!; bt_track "$writer"
wait_for 40 has_alert "$hook_OUT" "^lag CRITICAL firing"; ok $? "lag went critical"
"$BINTAIL" throttle --state-dir "$state" --max-rps 0 >/dev/null; ok $? "throttle lifted"
wait "$writer" 2>/dev/null; bt_untrack "$writer"
wait_for 40 has_alert "$hook_OUT" "^lag .* resolved"; ok $? "lag resolved"
is "$(alerts_seen "$hook_OUT" | grep '^lag ' | tr '\n' ';')" "lag WARNING firing;lag CRITICAL firing;lag CRITICAL resolved;" \
  "exactly firing(WARNING), firing(CRITICAL), resolved"
grep -q "throttle" <(alerts_seen "$hook_OUT"; $PY -c '
import json,sys
for l in open(sys.argv[1]):
    print(json.loads(json.loads(l)["body"]).get("message",""))' "$hook_OUT")
ok $? "the lag message names the throttle as the likely cause"

# HMAC-SHA256 of the exact body, in X-Bintail-Signature: sha256=<hex>
$PY -c '
import base64, hashlib, hmac, json, sys
key = open(sys.argv[2], "rb").read().rstrip(b"\r\n")
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    body = base64.b64decode(r["body_b64"])
    sig = {k.lower(): v for k, v in r["headers"].items()}.get("x-bintail-signature", "")
    want = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
    if sig != want:
        sys.exit("bad signature: %s != %s" % (sig, want))
    n += 1
sys.exit(0 if n else 1)' "$hook_OUT" "$secret"
ok $? "every request carries a valid HMAC-SHA256 signature of its body"
body=$($PY -c '
import json, sys
for l in open(sys.argv[1]):
    b = json.loads(json.loads(l)["body"])
    if b.get("alert") == "lag":
        print(b["agent"]); break' "$hook_OUT")
is "$body" lagtest "the body names the agent (--name)"
kill -TERM "$agent"; wait "$agent"; bt_untrack "$agent"

# A receiver that never answers must not slow replication.
webhook_start slow --mode hang
t0=$(date +%s%N)
"$BINTAIL" --binlog-dir "$primary_DIR/data" --kafka "$BROKERS" --topic "$db.t2" --include "$db\\.t" \
  --stop-at-end --webhook "$slow_URL" --alert-ddl --webhook-timeout 30s >"$BT_TMP/slow.log" 2>&1
ok $? "replication with a hanging webhook receiver"
secs=$(( ($(date +%s%N) - t0) / 1000000000 ))
ok $([ "$secs" -lt 20 ]; echo $?) "finished in ${secs}s, not held up by the 30 s webhook timeout"

done_testing
