#!/usr/bin/env bash
# The command line: --help, --version, bad flags and values (exit 2 with a message naming the
# flag and what it accepts), and the README's flags section matching the flags table.
. "$BT_SRCDIR/tests/lib/common.sh"

out=$("$BINTAIL" --help); ok $? "--help exits 0"
echo "$out" | grep -q -- "--binlog-dir DIR"; ok $? "--help lists --binlog-dir"
out=$("$BINTAIL" --version); ok $? "--version exits 0"
echo "$out" | grep -Eq '^bintail [0-9]+\.[0-9]+\.[0-9]+$'; ok $? "--version prints 'bintail X.Y.Z' ($out)"

"$BINTAIL" --no-such-flag >"$BT_TMP/o" 2>&1; is "$?" 2 "an unknown flag exits 2"
grep -q "unknown flag '--no-such-flag'" "$BT_TMP/o"; ok $? "and names it: $(cat "$BT_TMP/o")"
"$BINTAIL" --binlog-dir /tmp --checkpoint-interval soon >"$BT_TMP/o" 2>&1; is "$?" 2 "a bad duration exits 2"
grep -q -- "--checkpoint-interval: invalid value 'soon': expected a duration" "$BT_TMP/o"; ok $? "and says what is accepted"
"$BINTAIL" --binlog-dir /tmp --max-rps -5 >"$BT_TMP/o" 2>&1; is "$?" 2 "a negative rate exits 2"
"$BINTAIL" --binlog-dir >"$BT_TMP/o" 2>&1; is "$?" 2 "a flag without its value exits 2"
grep -q -- "--binlog-dir needs a value" "$BT_TMP/o"; ok $? "and says the value is missing"
"$BINTAIL" >"$BT_TMP/o" 2>&1; is "$?" 2 "no source exits 2"
grep -q -- "--binlog-dir" "$BT_TMP/o"; ok $? "and says how to name one"
"$BINTAIL" --source replication >"$BT_TMP/o" 2>&1; is "$?" 2 "--source replication without --mysql exits 2"
"$BINTAIL" --binlog-dir /tmp --partition-by colour >"$BT_TMP/o" 2>&1; is "$?" 2 "a bad --partition-by exits 2"
grep -q "partition-by" "$BT_TMP/o"; ok $? "and names the flag: $(head -1 "$BT_TMP/o")"
want="bintail: --partition-by: unknown value 'colour' (expected one of: pk, table, database, column:NAME[,NAME...],"
want="$want transaction, partition0, random)"
is "$(cat "$BT_TMP/o")" "$want" "one message that names the flag once, the value and the accepted values"
"$BINTAIL" --binlog-dir /tmp --partition-by=column:a,a >"$BT_TMP/o" 2>&1
is "$?" 2 "a repeated --partition-by column exits 2"
is "$(grep -o -- '--partition-by' "$BT_TMP/o" | wc -l)" 1 "and names the flag once: $(cat "$BT_TMP/o")"
for f in "--oversize trim" "--format xml" "--sink kafak" "--compression lzma" "--tombstones maybe"; do
  set -- $f
  "$BINTAIL" --binlog-dir /tmp "$1" "$2" >"$BT_TMP/o" 2>&1; is "$?" 2 "$f exits 2"
  grep -q -- "^bintail: $1: unknown value '$2' (expected one of: " "$BT_TMP/o"
  ok $? "and lists the values: $(cat "$BT_TMP/o")"
done
"$BINTAIL" --binlog-dir /tmp --sink file: >"$BT_TMP/o" 2>&1; is "$?" 2 "--sink file: without a path exits 2"
grep -q -- "--sink: 'file:' needs PATH" "$BT_TMP/o"; ok $? "and says what is missing"
"$BINTAIL" --binlog-dir /tmp --include '(' >"$BT_TMP/o" 2>&1; is "$?" 2 "a bad regex exits 2"
"$BINTAIL" --binlog-dir /tmp --max-record-bytes 64MB >"$BT_TMP/o" 2>&1
is "$?" 2 "--max-record-bytes above the (default) --queue-max-bytes exits 2"
grep -q -- "raise --queue-max-bytes" "$BT_TMP/o"; ok $? "and says which flag to raise: $(head -1 "$BT_TMP/o")"

# Subcommands: --help lists them; each has its own flags, parsed by the same table
out=$("$BINTAIL" --help)
for c in run decode status throttle alert-test; do
  echo "$out" | grep -Eq "^(Usage:| ) +bintail \[?$c\]? \[FLAGS\].* [a-z]"; ok $? "--help lists $c with a description"
done
out=$("$BINTAIL" status --help); ok $? "status --help exits 0"
echo "$out" | grep -q -- "--state-dir DIR" && ! echo "$out" | grep -q -- "--binlog-dir"
ok $? "and shows only its flags"
out=$("$BINTAIL" throttle --help); ok $? "throttle --help exits 0"
echo "$out" | grep -q -- "--max-mbps N"; ok $? "and shows the limits"
"$BINTAIL" decode --help | grep -q -- "--no-checksum-verify"; ok $? "decode --help shows its flags"
"$BINTAIL" alert-test --help | grep -q -- "--webhook URL"; ok $? "alert-test --help shows its flags"
# no agent runs there: exit 1 (not 2) means the flags were accepted
"$BINTAIL" status --state-dir="$BT_TMP/none" >"$BT_TMP/o" 2>&1; is "$?" 1 "status --state-dir=DIR is accepted"
grep -q "no running agent answers at $BT_TMP/none/control.sock" "$BT_TMP/o"
ok $? "and it looks there: $(cat "$BT_TMP/o")"
"$BINTAIL" status --state-dir "$BT_TMP/none" >/dev/null 2>&1; is "$?" 1 "status --state-dir DIR is accepted"
"$BINTAIL" status >"$BT_TMP/o" 2>&1; is "$?" 2 "status without --state-dir exits 2"
grep -q -- "--state-dir DIR is required" "$BT_TMP/o"; ok $? "and says so"
"$BINTAIL" throttle --state-dir="$BT_TMP/none" --max-rps=100 --max-mbps 2.5 >/dev/null 2>&1
is "$?" 1 "throttle --max-rps=N --max-mbps N are accepted"
"$BINTAIL" throttle --state-dir "$BT_TMP/none" --max-mbps=fast >"$BT_TMP/o" 2>&1; is "$?" 2 "a bad limit exits 2"
is "$(cat "$BT_TMP/o")" "bintail throttle: --max-mbps: invalid value 'fast': expected a number >= 0 (0 = unlimited)" \
  "and names the limit and what it takes"
"$BINTAIL" throttle --state-dir "$BT_TMP/none" --throttle-burst 2 >"$BT_TMP/o" 2>&1; is "$?" 2 "a run-only flag exits 2"
grep -q -- "--throttle-burst is a flag of bintail run, not of bintail throttle" "$BT_TMP/o"
ok $? "and says whose it is"
"$BINTAIL" status --state-dir /x --max-rps 5 >/dev/null 2>&1; is "$?" 2 "status refuses the throttle's flags"

# README flags section == bintail --help-markdown
want=$("$BINTAIL" --help-markdown)
have=$(sed -n '/<!-- flags:begin -->/,/<!-- flags:end -->/p' "$BT_SRCDIR/README.md" | sed '1d;$d')
if [ "$want" == "$have" ]; then ok 0 "README flags section is current"
else ok 1 "README flags section is current (regenerate it with scripts/update-readme-flags)"
  diff <(echo "$want") <(echo "$have") | head -20; fi

done_testing
