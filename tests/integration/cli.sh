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
"$BINTAIL" --binlog-dir /tmp --include '(' >"$BT_TMP/o" 2>&1; is "$?" 2 "a bad regex exits 2"
"$BINTAIL" --binlog-dir /tmp --max-record-bytes 64MB >"$BT_TMP/o" 2>&1
is "$?" 2 "--max-record-bytes above the (default) --queue-max-bytes exits 2"
grep -q -- "raise --queue-max-bytes" "$BT_TMP/o"; ok $? "and says which flag to raise: $(head -1 "$BT_TMP/o")"

# README flags section == bintail --help-markdown
want=$("$BINTAIL" --help-markdown)
have=$(sed -n '/<!-- flags:begin -->/,/<!-- flags:end -->/p' "$BT_SRCDIR/README.md" | sed '1d;$d')
if [ "$want" == "$have" ]; then ok 0 "README flags section is current"
else ok 1 "README flags section is current (regenerate it with scripts/update-readme-flags)"
  diff <(echo "$want") <(echo "$have") | head -20; fi

done_testing
