#!/usr/bin/env bash
# decode_golden.sh: `bintail decode` on every real binlog of ../shared/testdata/binlogs, compared
# with the expected output in tests/golden/NNNN-name.expected (stdout, then "# stderr: ..." lines
# and "# exit N"), and every row value cross-checked against an independent decoder:
#   - mariadb-binlog -vv (MariaDB's tool) through tests/lib/crosscheck_mysqlbinlog.py, for every
#     file it can read ("mariadb"), or the part it reads before it stops ("partial");
#   - Oracle's mysqlbinlog output recorded in the mysql-cdc-rs dump.txt files ("dump").
# mariadb-binlog cannot read MySQL 8's TRANSACTION_PAYLOAD (transaction_compression.000001,
# mysql-bin.000057), PARTIAL_UPDATE_ROWS / binary JSON (json.binlog.000001), VECTOR rows
# (vector.binlog) or GTID_TAGGED (binlog_transaction_with_GTID_TAG.000001). Those were verified
# against the values their source repositories assert (SOURCES.md): the checks marked "asserted"
# below grep them out of our output, and tests/unit/test_decoder.c checks them on decoded values.
#
# sakila's output (47310 lines, 13 MB) is kept as its first 300 lines plus the line count and
# SHA-256 of the whole; mariadb-binlog cross-checks all of its 292199 values.
#
# BT_GOLDEN_UPDATE=1 rewrites the expected files from the current output (review the diff!).
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

DATA=$BT_SRCDIR/../shared/testdata/binlogs
GOLDEN=$BT_SRCDIR/tests/golden
CHECK=$BT_SRCDIR/tests/lib/crosscheck_mysqlbinlog.py
[ -d "$DATA" ] || skip_all "real binlogs not found at $DATA (a clean clone of main sits beside shared/)"
[ -x "$BINTAIL" ] || bail "bintail not built: $BINTAIL"
have_mariadb_binlog=1
command -v mariadb-binlog >/dev/null || have_mariadb_binlog=0

# number name path crosscheck
cases=(
  "0001 sakila mysql-binlog-connector-java/mysql-bin.sakila.gz mariadb"
  "0002 checksum-none mysql-binlog-connector-java/mysql-bin.checksum-none mariadb"
  "0003 checksum-crc32 mysql-binlog-connector-java/mysql-bin.checksum-crc32 mariadb"
  "0004 aurora-padding mysql-binlog-connector-java/mysql-bin.aurora-padding mariadb"
  "0005 payload-gtid-json mysql-binlog-connector-rust/mysql-bin.000057 asserted"
  "0006 gtid-emoji-57 mysql-binlog-connector-rust/mysql-bin.000080 mariadb"
  "0007 maxwell-ddl maxwell/binlog.000004 mariadb"
  "0008 cdcrs-int-types mysql-cdc-rs/tests/events/8.0/19_30_Table_map_event_Write_rows_log_event/binlog.000018 dump"
  "0009 cdcrs-update mysql-cdc-rs/tests/events/8.0/31_update_rows_v2/binlog.000001 dump"
  "0010 cdcrs-delete mysql-cdc-rs/tests/events/8.0/32_delete_rows_v2/binlog.000001 dump"
  "0011 cdcrs-load-57 mysql-cdc-rs/tests/events/5.7/17_18_load/log.bin mariadb"
  "0012 gtid-56 mysql-server/mysql-test/std_data/binlog_56_gtid_reserved_word.000001 mariadb"
  "0013 xa mysql-server/mysql-test/std_data/binlog_recovery/duplicate_xid_xa_commit.000001 mariadb"
  "0014 incident mysql-server/mysql-test/std_data/bug40482-bin.000001 partial"
  "0015 gipk-full mysql-server/mysql-test/std_data/rpl_binlog_with_gipk_info_full_metadata.000001 mariadb"
  "0016 gipk-minimal mysql-server/mysql-test/std_data/rpl_binlog_with_gipk_info_minimal_metadata.000001 mariadb"
  "0017 encrypted mysql-server/mysql-test/std_data/rpl_nogtid_encryption_master-bin.000002 none"
  "0018 hidden-gcol-relay mysql-server/mysql-test/std_data/rpl_unfiltered_hidden_gcol.000001 mariadb"
  "0019 statement-56 mysql-server/mysql-test/suite/binlog/std_data/bug11747887-bin.000003 mariadb"
  "0020 update-partial-row mysql-server/mysql-test/suite/binlog/std_data/update-partial-row.binlog mariadb"
  "0021 ver-5-1-23 mysql-server/mysql-test/suite/binlog/std_data/ver_5_1_23.001 mariadb"
  "0022 ver-trunk-row-v2 mysql-server/mysql-test/suite/binlog/std_data/ver_trunk_row_v2.001 mariadb"
  "0023 write-partial-row mysql-server/mysql-test/suite/binlog/std_data/write-partial-row.binlog mariadb"
  "0024 invisible-columns rust_mysql_common/binlog-invisible-columns.000001 mariadb"
  "0025 gtid-tagged rust_mysql_common/binlog_transaction_with_GTID_TAG.000001 asserted"
  "0026 json-partial rust_mysql_common/json.binlog.000001 asserted"
  "0027 mariadb-105-full-meta rust_mysql_common/mariadb-bin.000001 mariadb"
  "0028 minimal-row-metadata rust_mysql_common/minimal_row_metadata.000001 mariadb"
  "0029 enum-string-set rust_mysql_common/mysql-enum-string-set.000001 mariadb"
  "0030 type-bit rust_mysql_common/mysql_type_bit.000001 mariadb"
  "0031 negative-time rust_mysql_common/time_issue.000001 mariadb"
  "0032 payload-zstd rust_mysql_common/transaction_compression.000001 asserted"
  "0033 vector rust_mysql_common/vector.binlog asserted"
  "0034 mariadb-100-hires-timestamp tiflow/mysql-bin.000001 partial"
  "0035 mariadb-118-statements mariadb-poc/mariadb-binlog/binlogs/domain_id_0/mariadb-repl-bin.000007 mariadb"
)

# decode FILE OUT: stdout, then stderr lines and the exit status, as the expected files hold them.
decode() {
  local rc
  "$BINTAIL" decode "$1" >"$2" 2>"$2.err"
  rc=$?
  sed 's/^/# stderr: /' "$2.err" >>"$2"
  echo "# exit $rc" >>"$2"
}

# For the big one: the head plus the count and digest of the whole output.
digest() {
  local full=$1 out=$2
  head -n 300 "$full" >"$out"
  echo "# lines: $(wc -l <"$full")" >>"$out"
  echo "# sha256: $(sha256sum <"$full" | cut -d' ' -f1)" >>"$out"
}

# asserted NAME OUT: values SOURCES.md gives for files mariadb-binlog cannot read.
asserted() {
  local name=$1 out=$2
  case "$name" in
    payload-gtid-json)
      grep -q '"gtid":"76f3e7be-6720-11ed-9cad-0242ac110002:12"' "$out" &&
        grep -q '"@10":{"c":1}' "$out" &&
        [ "$(grep -c '"op":"\(insert\|update\)"' "$out")" = 3 ] ;;
    gtid-tagged)
      grep -q '"gtid":"55778904-0299-11f1-b1b8-4ef0c4956feb:mytag:3"' "$out" &&
        grep -q '"table":"orders","after":{"@1":3,"@2":100,"@3":"250.00"}' "$out" ;;
    json-partial)
      [ "$(grep -c '"op":"\(insert\|update\)"' "$out")" = 12 ] &&
        grep -q '^# stderr: .*json.binlog.000001:3750: PARTIAL_UPDATE_ROWS_EVENT: .*before image' "$out" ;;
    payload-zstd)
      grep -q '"db":"test","table":"tb1","after":{"@1":1}' "$out" && grep -q '^# exit 0$' "$out" ;;
    vector)
      grep -q '"table":"foo","after":{"id":1,"vector_column":\[1.1,2.2,3.3\]}' "$out" &&
        grep -q '"table":"foo","after":{"id":2,"vector_column":\[1,-1,0\]}' "$out" ;;
    *) return 1 ;;
  esac
}

for c in "${cases[@]}"; do
  set -- $c
  num=$1 name=$2 rel=$3 xc=$4
  path=$DATA/$rel
  exp=$GOLDEN/$num-$name.expected
  out=$BT_TMP/$num-$name.out
  decode "$path" "$out"
  cmp=$out
  if [ "$name" = sakila ]; then
    digest "$out" "$out.digest"
    cmp=$out.digest
  fi
  if [ "${BT_GOLDEN_UPDATE:-0}" = 1 ]; then
    mkdir -p "$GOLDEN"
    cp "$cmp" "$exp"
  fi
  if [ -f "$exp" ] && diff -u "$exp" "$cmp" >"$out.diff"; then
    ok 0 "$num $name: output matches $(basename "$exp")"
  else
    ok 1 "$num $name: output matches $(basename "$exp")"
    head -n 40 "$out.diff" | sed 's/^/# /'
  fi
  case "$xc" in
    mariadb | partial)
      if [ "$have_mariadb_binlog" = 0 ]; then
        ok 0 "$num $name: cross-check # SKIP mariadb-binlog not installed"
        continue
      fi
      src=$path
      if [ "$name" = sakila ]; then
        src=$BT_TMP/mysql-bin.sakila
        gzip -dc "$path" >"$src"
      fi
      flag=
      [ "$xc" = partial ] && flag=--allow-partial
      res=$(/usr/bin/python3 "$CHECK" $flag "$src" "$out" 2>&1)
      ok $? "$num $name: mariadb-binlog agrees: $(echo "$res" | tail -n 1)" || echo "$res" | head -n 20 | sed 's/^/# /'
      ;;
    dump)
      res=$(/usr/bin/python3 "$CHECK" --dump "$(dirname "$path")/dump.txt" "$path" "$out" 2>&1)
      ok $? "$num $name: Oracle mysqlbinlog (dump.txt) agrees: $(echo "$res" | tail -n 1)" ||
        echo "$res" | head -n 20 | sed 's/^/# /'
      ;;
    asserted)
      asserted "$name" "$out"
      ok $? "$num $name: values asserted by the source repository"
      ;;
    none) ;;
  esac
done

# The errors that stop decoding name file, offset and event type.
grep -q '^# stderr: bintail decode: bug40482-bin.000001:106: INCIDENT_EVENT: ' "$BT_TMP/0014-incident.out"
ok $? "INCIDENT names file:offset and event type"
grep -q '^# stderr: .*encrypted binlog not supported' "$BT_TMP/0017-encrypted.out" &&
  grep -q '^# exit 1$' "$BT_TMP/0017-encrypted.out"
ok $? "an encrypted binlog is refused with a clear message and exit 1"
done_testing
