#!/usr/bin/env bash
# decode_cli.sh: `bintail decode` as a command: usage errors (exit 2, naming the flag), --start and
# --stop windows, several files, gzip input, formats, and input that must stop decoding with
# exit 1 and a message naming file:offset: a truncated file, a flipped byte, a non-binlog; and
# that the daemon numbers rows (file, pos, row) the same way.
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

DATA=$BT_SRCDIR/../shared/testdata/binlogs
[ -d "$DATA" ] || skip_all "real binlogs not found at $DATA (a clean clone of main sits beside shared/)"
[ -x "$BINTAIL" ] || bail "bintail not built: $BINTAIL"
CRC=$DATA/mysql-binlog-connector-java/mysql-bin.checksum-crc32
NONE=$DATA/mysql-binlog-connector-java/mysql-bin.checksum-none

run() {  # run ARGS...: sets out, err, rc
  "$BINTAIL" decode "$@" >"$BT_TMP/out" 2>"$BT_TMP/err"
  rc=$?
  out=$(cat "$BT_TMP/out")
  err=$(cat "$BT_TMP/err")
}

# --- usage ---------------------------------------------------------------------------------
run --help
is "$rc" 0 "--help exits 0"
echo "$out" | grep -q -- "--no-checksum-verify"
ok $? "--help lists the flags"
run
is "$rc" 2 "no file: exit 2"
echo "$err" | grep -q "no binlog file given"
ok $? "no file: says so"
run --bogus "$CRC"
is "$rc" 2 "unknown flag: exit 2"
echo "$err" | grep -q -- "unknown flag '--bogus' (see bintail decode --help)"
ok $? "unknown flag: named"
run --format nope "$CRC"
is "$rc" 2 "bad --format: exit 2"
echo "$err" | grep -q -- "--format: unknown value 'nope' (expected one of: json, debezium,"
ok $? "bad --format: named, with the accepted names"
run --start
is "$rc" 2 "--start without a value: exit 2"
echo "$err" | grep -q -- "--start needs a value"
ok $? "--start without a value: named"
run --stop=12x "$CRC"
is "$rc" 2 "--stop=12x: exit 2"
echo "$err" | grep -q -- "--stop: invalid value '12x'"
ok $? "--stop=12x: named"
run --kafka k:9092 "$CRC"
is "$rc" 2 "a flag of bintail run: exit 2"
echo "$err" | grep -q -- "--kafka is a flag of bintail run"
ok $? "a flag of bintail run: said so"
run --format=JSON --stop=0 "$CRC"
is "$rc" 0 "--format=JSON --stop=0: the table's parser, any case for the format"
run --start 50 "$CRC"
is "$rc" 2 "--start inside the FORMAT_DESCRIPTION: exit 2"
echo "$err" | grep -q -- "--start 50 is inside the FORMAT_DESCRIPTION"
ok $? "--start inside the FDE: named"

# --- windows and several files -------------------------------------------------------------
run "$CRC"
is "$rc" 0 "whole file: exit 0"
all=$out
total=$(echo "$all" | wc -l)
# transaction boundaries: offsets of the file's 10th and 20th ANONYMOUS_GTID events
read -r p10 p20 < <(/usr/bin/python3 - "$CRC" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
pos, gt = 4, []
while pos + 19 <= len(d):
    if d[pos + 4] == 34:
        gt.append(pos)
    pos += struct.unpack_from("<I", d, pos + 9)[0]
print(gt[9], gt[19])
PY
)
run --start "$p10" --stop "$p20" "$CRC"
is "$rc" 0 "--start/--stop at transaction boundaries: exit 0"
want=$(echo "$all" | awk -v a="$p10" -v b="$p20" '{ match($0, /"pos":[0-9]+/); p = substr($0, RSTART + 6, RLENGTH - 6) + 0; if (p >= a && p < b) print }' |
  sed 's/"txn":[0-9]*//')
got=$(echo "$out" | sed 's/"txn":[0-9]*//')
ok $([ -n "$want" ] && [ "$got" = "$want" ] && echo 0 || echo 1) \
  "--start $p10 --stop $p20 prints exactly the changes of the events in [start, stop)"
# starting at a rows event skips its TABLE_MAP: an error, not a guess
rows_pos=$(echo "$all" | sed -n 10p | sed 's/.*"pos":\([0-9]*\).*/\1/')
run --start "$rows_pos" "$CRC"
is "$rc" 1 "--start at a rows event: exit 1"
echo "$err" | grep -q "mysql-bin.checksum-crc32:$rows_pos: .*unknown table id"
ok $? "--start at a rows event: unknown table id at that offset"
run "$NONE" "$CRC"
is "$rc" 0 "two files: exit 0"
is "$(echo "$out" | wc -l)" "$(( $(("$BINTAIL" decode "$NONE") | wc -l) + total ))" "two files: both files' changes"
echo "$out" | tail -n 1 | grep -q '"file":"mysql-bin.checksum-crc32"'
ok $? "two files: coordinates name each file"
run "$DATA/mysql-binlog-connector-java/mysql-bin.sakila.gz"
is "$rc" 0 "gzip-compressed binlog: exit 0"
is "$(echo "$out" | wc -l)" 47310 "gzip-compressed binlog: all changes"
# A gzip file whose trailer CRC is wrong: the damage is only found at the end; what came before
# is printed, then exit 1 with zlib's diagnosis (not "not a binlog file").
cp "$DATA/mysql-binlog-connector-java/mysql-bin.sakila.gz" "$BT_TMP/bad.gz"
chmod u+w "$BT_TMP/bad.gz"
/usr/bin/python3 -c 'import sys; p = sys.argv[1]; d = bytearray(open(p, "rb").read()); d[-8] ^= 0xff; open(p, "wb").write(d)' \
  "$BT_TMP/bad.gz"
run "$BT_TMP/bad.gz"
is "$rc" 1 "gzip with a bad CRC: exit 1"
echo "$err" | grep -qE "bad.gz:[0-9]+: cannot read the file: .*incorrect data check"
ok $? "gzip with a bad CRC: says so: $err"
[ "$(echo "$out" | wc -l)" -gt 30000 ]
ok $? "gzip with a bad CRC: the changes before the last block are printed ($(echo "$out" | wc -l))"

# --- formats -------------------------------------------------------------------------------
for f in json debezium canal maxwell dataworks upsert; do
  run --format "$f" "$CRC"
  is "$rc" 0 "--format $f: exit 0"
  n=$(echo "$out" | grep -c .)
  ok $([ "$n" -ge 63 ] && echo 0 || echo 1) "--format $f: $n lines for 63 row changes"
  echo "$out" | grep -v '^null$' | /usr/bin/python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]'
  ok $? "--format $f: every line is JSON"
done

# --- bad input -----------------------------------------------------------------------------
size=$(stat -c %s "$CRC")
head -c $((size - 100)) "$CRC" >"$BT_TMP/trunc.bin"
run "$BT_TMP/trunc.bin"
is "$rc" 1 "truncated file: exit 1"
echo "$err" | grep -qE "trunc.bin:[0-9]+: the file ends inside an event \([0-9]+ of [0-9]+ bytes"
ok $? "truncated file: 'FILE:OFFSET: the file ends inside an event' ($err)"
# cut exactly at an event boundary: a clean end
last=$(echo "$all" | tail -n 1 | sed 's/.*"pos":\([0-9]*\).*/\1/')
head -c "$last" "$CRC" >"$BT_TMP/clean.bin"
run "$BT_TMP/clean.bin"
is "$rc" 0 "file ending on an event boundary: exit 0"
head -c 20 "$CRC" >"$BT_TMP/tiny.bin"
run "$BT_TMP/tiny.bin"
is "$rc" 1 "file ending inside the first header: exit 1"
echo "$err" | grep -q "tiny.bin:4: the file ends inside an event header (16 of 19 bytes"
ok $? "...named as truncated at tiny.bin:4"
cp "$CRC" "$BT_TMP/flip.bin"
chmod u+w "$BT_TMP/flip.bin"
printf '\x55' | dd of="$BT_TMP/flip.bin" bs=1 seek=1000 conv=notrunc status=none
run "$BT_TMP/flip.bin"
is "$rc" 1 "flipped byte: exit 1"
echo "$err" | grep -qE "flip.bin:[0-9]+: [A-Z_]+: checksum mismatch: the event says 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}"
ok $? "flipped byte: checksum mismatch with file:offset and event type ($err)"
run --no-checksum-verify "$BT_TMP/flip.bin"
echo "$err" | grep -q "checksum mismatch"
ok $((! $?)) "--no-checksum-verify: no checksum error"
printf 'hello world, not a binlog' >"$BT_TMP/text.bin"
run "$BT_TMP/text.bin"
is "$rc" 1 "not a binlog: exit 1"
echo "$err" | grep -q "text.bin:0: not a binlog file"
ok $? "not a binlog: said so"
run "$BT_TMP/does-not-exist"
is "$rc" 1 "missing file: exit 1"

# --- coordinates: the daemon and decode agree ------------------------------------------------
# The rows events inside a TRANSACTION_PAYLOAD all carry the payload's offset, so their row
# numbers run on across them: (file, pos, row) stays unique, the same in both commands.
PL=$DATA/mysql-binlog-connector-rust/mysql-bin.000057
coords() { /usr/bin/python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line) if line.strip() != "null" else {}
    if m.get("op") in ("c", "u", "d", "r"):
        print(m["source"]["file"], m["source"]["pos"], m["source"]["row"])'; }
mkdir -p "$BT_TMP/pl"
cp "$PL" "$BT_TMP/pl/"
echo "./$(basename "$PL")" >"$BT_TMP/pl/mysql-bin.index"
"$BINTAIL" --binlog-dir "$BT_TMP/pl" --start earliest --stop-at-end --snapshot never --format debezium \
  2>"$BT_TMP/pl.err" | coords >"$BT_TMP/pl.daemon"
"$BINTAIL" decode --format debezium "$PL" | coords >"$BT_TMP/pl.decode"
is "$(cat "$BT_TMP/pl.daemon")" "$(cat "$BT_TMP/pl.decode")" "the daemon and decode give every row the same (file, pos, row)"
is "$(sort "$BT_TMP/pl.daemon" | uniq -d)" "" "no two rows share (file, pos, row), payload rows included"
grep -q "mysql-bin.000057 730 1" "$BT_TMP/pl.daemon"
ok $? "the second rows event of a payload continues its row numbers: $(tr '\n' ';' <"$BT_TMP/pl.daemon")"
done_testing
