#!/usr/bin/env bash
# type_matrix.sh: every column type family, edge values included, written by a real MariaDB and
# decoded from its binlog file, must equal what SELECT returns, cell by cell, as typed JSON
# (README "Values").
#
# The tables and values are in tests/lib/type_matrix.sql (integers at their limits, DECIMAL(65,30),
# FLOAT/DOUBLE extremes, zero and partial dates, DATETIME/TIME/TIMESTAMP with every fsp, negative
# times, 4-byte UTF-8, 25 single-byte charsets over every byte, CJK and UTF-16/32 text, BINARY
# padding, BLOBs, BIT(1..64), ENUM/SET (64 members), JSON (MariaDB: text), GEOMETRY, COMPRESSED
# columns). tests/lib/type_matrix_check.py SELECTs the same rows and compares.
#
# Decoder: `bintail decode --format json FILE`; BT_TYPE_MATRIX_DECODER="cmd args" replaces it
# (any command that prints one JSON object per row change with db, table and after).
source "$BT_SRCDIR/tests/lib/common.sh"

[ -x /usr/sbin/mariadbd ] || skip_all "no MariaDB server (/usr/sbin/mariadbd)"
$PY -c 'import pymysql' 2>/dev/null || skip_all "python3-pymysql is not installed"
if [ -n "${BT_TYPE_MATRIX_DECODER:-}" ]; then
  read -r -a decoder <<<"$BT_TYPE_MATRIX_DECODER"
else
  [ -x "$BINTAIL" ] || skip_all "no bintail binary at $BINTAIL"
  "$BINTAIL" decode --help >/dev/null 2>&1 || skip_all "bintail has no working 'decode' subcommand yet"
  decoder=("$BINTAIL" decode --format json)
fi

mariadb_start db 1
sql db "$(cat "$BT_SRCDIR/tests/lib/type_matrix.sql")"
ok $? "the type matrix tables and rows are written"
sql db "FLUSH BINARY LOGS"
binlog=$db_DIR/data/mysql-bin.000001
[ -s "$binlog" ] || bail "no binlog at $binlog"

"${decoder[@]}" "$binlog" >"$BT_TMP/decoded.jsonl" 2>"$BT_TMP/decode.err"
rc=$?
ok $rc "the binlog decodes without error"
[ $rc -ne 0 ] && sed 's/^/# /' "$BT_TMP/decode.err" | head -20
diag "$(wc -l <"$BT_TMP/decoded.jsonl") lines decoded"

$PY "$BT_SRCDIR/tests/lib/type_matrix_check.py" --port "$db_PORT" --db tm --decoded "$BT_TMP/decoded.jsonl" \
  >"$BT_TMP/check.out" 2>&1
ok $? "the checker ran"
while IFS=$'\t' read -r tag status desc; do
  case $tag in
    RESULT) ok "$status" "$desc" ;;
    *) echo "$tag${status:+ $status}${desc:+ $desc}" ;;
  esac
done <"$BT_TMP/check.out"

done_testing
