#!/usr/bin/env bash
# type_matrix.sh: every column type family, edge values included, written by a real MariaDB and
# by a real MySQL and decoded from their binlog files, must equal what SELECT returns, cell by
# cell, as typed JSON (README "Values").
#
# The tables and values are in tests/lib/type_matrix.sql, plus type_matrix_mariadb.sql for MariaDB (integers at their limits, DECIMAL(65,30),
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

# matrix SERVER SQL...: the matrix written by SERVER (started already), decoded, compared.
matrix() {
  local server=$1 f sqltext=""; shift
  for f in "$@"; do sqltext+="$(cat "$BT_SRCDIR/tests/lib/$f")"$'\n'; done
  sql "$server" "$sqltext"
  ok $? "$server: the type matrix tables and rows are written"
  sql "$server" "FLUSH BINARY LOGS"
  local binlog
  binlog=$(eval echo "\$${server}_DIR")/data/mysql-bin.000001
  [ -s "$binlog" ] || bail "no binlog at $binlog"
  "${decoder[@]}" "$binlog" >"$BT_TMP/$server.jsonl" 2>"$BT_TMP/$server.err"
  local rc=$?
  ok $rc "$server: the binlog decodes without error"
  [ $rc -ne 0 ] && sed 's/^/# /' "$BT_TMP/$server.err" | head -20
  diag "$server: $(wc -l <"$BT_TMP/$server.jsonl") lines decoded"
  $PY "$BT_SRCDIR/tests/lib/type_matrix_check.py" --port "$(eval echo "\$${server}_PORT")" --db tm \
    --decoded "$BT_TMP/$server.jsonl" >"$BT_TMP/$server.check" 2>&1
  ok $? "$server: the checker ran"
  local tag status desc
  while IFS=$'\t' read -r tag status desc; do
    case $tag in
      RESULT) ok "$status" "$server: $desc" ;;
      *) echo "$tag${status:+ $status}${desc:+ $desc}" ;;
    esac
  done <"$BT_TMP/$server.check"
}

mariadb_start mariadb 1
matrix mariadb type_matrix.sql type_matrix_mariadb.sql
# The same tables and values from a real MySQL (its JSON is native: compared as values).
if "$BT_SRCDIR/scripts/mysql-root" >/dev/null 2>&1; then
  mysql_start mysql 2
  matrix mysql type_matrix.sql
else
  ok 1 "# SKIP no MySQL server here: $("$BT_SRCDIR/scripts/mysql-root" 2>&1 >/dev/null | tail -1)"
fi

done_testing
