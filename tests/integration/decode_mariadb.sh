#!/usr/bin/env bash
# decode_mariadb.sh: `bintail decode` on binlogs written here by a throwaway MariaDB, for what no
# copied file has: compressed events (log_bin_compress: QUERY_COMPRESSED and
# WRITE/UPDATE/DELETE_ROWS_COMPRESSED), many column types with full metadata, statement-based
# DML, and an encrypted binlog (encrypt_binlog: START_ENCRYPTION must stop decoding with a clear
# error). Every row value is cross-checked against mariadb-binlog -vv.
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

command -v mariadb-install-db >/dev/null && [ -x /usr/sbin/mariadbd ] || skip_all "MariaDB server not installed"
[ -x "$BINTAIL" ] || bail "bintail not built: $BINTAIL"
CHECK=$BT_SRCDIR/tests/lib/crosscheck_mysqlbinlog.py

# event types present in a binlog file, one per line with their count
types_of() {
  /usr/bin/python3 - "$1" <<'PY'
import collections, struct, sys
d = open(sys.argv[1], "rb").read()
pos, c = 4, collections.Counter()
while pos + 19 <= len(d):
    c[d[pos + 4]] += 1
    pos += struct.unpack_from("<I", d, pos + 9)[0]
for t, n in sorted(c.items()):
    print(t, n)
PY
}

mariadb_start m1 11 --log-bin-compress=ON --log-bin-compress-min-len=10
sql m1 "CREATE DATABASE d; USE d;
  CREATE TABLE t (id INT PRIMARY KEY, u INT UNSIGNED, big BIGINT, s VARCHAR(200), c CHAR(10), txt TEXT,
    bin VARBINARY(50), dec1 DECIMAL(20,6), f FLOAT, dbl DOUBLE, dt DATETIME(6), ts TIMESTAMP(3) NULL,
    tm TIME(2), dte DATE, yr YEAR, e ENUM('red','green','blue'), st SET('a','b','c'), b BIT(10),
    j JSON, lat VARCHAR(30) CHARACTER SET latin1, n INT NULL);
  INSERT INTO t SELECT seq, seq * 3000000, -seq * 1000000007, CONCAT('row ', seq, ' ', REPEAT('xy', seq % 50)),
    'c', REPEAT('text ', 20), UNHEX(REPEAT('00ff', 5)), seq / 7, seq / 3, seq / 9, '2024-02-29 23:59:59.123456',
    '2024-01-01 00:00:00.5', '-838:59:59.99', '1999-12-31', 2024, 'green', 'a,c', b'1010101010',
    JSON_OBJECT('k', seq, 'arr', JSON_ARRAY(1, 2, 'x')), 'café', NULL FROM seq_1_to_300;
  UPDATE t SET s = CONCAT(s, ' updated'), n = id WHERE id % 3 = 0;
  DELETE FROM t WHERE id > 250;
  SET SESSION binlog_format = STATEMENT;
  INSERT INTO t (id, s) VALUES (1000, 'statement-based insert with a long enough text to be compressed');
  UPDATE t SET s = 'statement-based update, long enough to be compressed too' WHERE id = 1000;
  SET SESSION binlog_format = ROW;
  ALTER TABLE t ADD COLUMN extra INT;
  INSERT INTO t (id, s, extra) VALUES (2000, 'after alter', 7);
  FLUSH BINARY LOGS;"
bin=$m1_DIR/data/mysql-bin.000001
types=$(types_of "$bin")
for t in 165 166 167 168; do
  echo "$types" | grep -q "^$t "
  ok $? "the server wrote event type $t (compressed)"
done
"$BINTAIL" decode "$bin" >"$BT_TMP/m1.json" 2>"$BT_TMP/m1.err"
is "$?" 0 "compressed binlog decodes: $(head -c 300 "$BT_TMP/m1.err")"
is "$(grep -c '"op":"\(insert\|update\|delete\)"' "$BT_TMP/m1.json")" $((300 + 100 + 50 + 1)) "all row changes"
is "$(grep -c '"op":"statement"' "$BT_TMP/m1.json")" 2 "statement-based DML printed as statements"
grep -q '"op":"statement".*statement-based update, long enough' "$BT_TMP/m1.json"
ok $? "QUERY_COMPRESSED text inflated"
grep -q '"op":"ddl".*ALTER TABLE t ADD COLUMN extra' "$BT_TMP/m1.json"
ok $? "DDL printed"
grep -q '"after":{"id":1,"u":3000000,' "$BT_TMP/m1.json"
ok $? "column names from binlog_row_metadata=FULL"
res=$(/usr/bin/python3 "$CHECK" "$bin" "$BT_TMP/m1.json" 2>&1)
ok $? "mariadb-binlog agrees on every value: $(echo "$res" | tail -n 1)" || echo "$res" | head -n 20 | sed 's/^/# /'

# uncompressed, v2 rows and NOBLOB/MINIMAL images on the same server
sql m1 "SET GLOBAL log_bin_compress = OFF; SET SESSION binlog_row_image = MINIMAL; USE d;
  UPDATE t SET u = u + 1 WHERE id <= 20; DELETE FROM t WHERE id BETWEEN 21 AND 30;
  SET SESSION binlog_row_image = NOBLOB; UPDATE t SET big = 1 WHERE id BETWEEN 31 AND 40;
  FLUSH BINARY LOGS;"
bin2=$m1_DIR/data/mysql-bin.000002
"$BINTAIL" decode "$bin2" >"$BT_TMP/m2.json" 2>"$BT_TMP/m2.err"
is "$?" 0 "MINIMAL/NOBLOB images decode: $(head -c 300 "$BT_TMP/m2.err")"
is "$(grep -c '"op":"\(update\|delete\)"' "$BT_TMP/m2.json")" 40 "40 row changes"
grep -q '"op":"update".*"before":{"id":1},"after":{"u":3000001}' "$BT_TMP/m2.json"
ok $? "MINIMAL update: only the key before, only the changed column after"
res=$(/usr/bin/python3 "$CHECK" "$bin2" "$BT_TMP/m2.json" 2>&1)
ok $? "mariadb-binlog agrees on partial images: $(echo "$res" | tail -n 1)" || echo "$res" | head -n 20 | sed 's/^/# /'

# MariaDB COMPRESSED columns (types 140/141) count as character columns in the charset metadata:
# the latin1 column after them keeps its charset. (mariadb-binlog itself miscounts them and
# prints the compressed bytes, so the values are checked here directly.)
sql m1 "USE d; SET SESSION binlog_row_image = FULL;
  CREATE TABLE c (id INT PRIMARY KEY, a VARCHAR(100) COMPRESSED CHARACTER SET latin1, b TEXT COMPRESSED,
    g GEOMETRY, z VARCHAR(10) CHARACTER SET latin1);
  INSERT INTO c VALUES (1, 'hello compressed', REPEAT('text ', 100), ST_GeomFromText('POINT(1 2)'), 'café');
  FLUSH BINARY LOGS;"
"$BINTAIL" decode "$m1_DIR/data/mysql-bin.000003" >"$BT_TMP/m3.json" 2>"$BT_TMP/m3.err"
is "$?" 0 "COMPRESSED columns decode: $(head -c 300 "$BT_TMP/m3.err")"
grep -q '"after":{"id":1,"a":"hello compressed","b":"text text .*","z":"café"}' "$BT_TMP/m3.json"
ok $? "COMPRESSED column values, and the latin1 column after them"

# An event several times larger than the blocks the file is read in (1 MB reads into a 4 MB
# buffer at first): a 9 MB row of random bytes must come out whole.
sql m1 "USE d; SET SESSION group_concat_max_len = 67108864;
  CREATE TABLE big (id INT PRIMARY KEY, b LONGBLOB);
  INSERT INTO big SELECT 1, GROUP_CONCAT(RANDOM_BYTES(1024) SEPARATOR '') FROM seq_1_to_9000;
  INSERT INTO big VALUES (2, 'small row after the big one');
  FLUSH BINARY LOGS;"
want=$(sql m1 "SELECT MD5(b) FROM d.big WHERE id = 1")
"$BINTAIL" decode "$m1_DIR/data/mysql-bin.000004" >"$BT_TMP/m4.json" 2>"$BT_TMP/m4.err"
is "$?" 0 "a 9 MB rows event decodes: $(head -c 300 "$BT_TMP/m4.err")"
got=$(/usr/bin/python3 -c '
import base64, hashlib, json, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("table") == "big" and m["after"]["id"] == 1:
        print(hashlib.md5(base64.b64decode(m["after"]["b"])).hexdigest())
' "$BT_TMP/m4.json")
is "$got" "$want" "the 9 MB value is byte for byte what the server stores"
grep -q '"after":{"id":2,"b":"' "$BT_TMP/m4.json"
ok $? "the event after it is read too"
mariadb_stop m1

# encrypted binlog
keys=$BT_TMP/keys.txt
echo "1;$(printf '%064d' 0 | tr 0 a)" >"$keys"
mariadb_start m2 12 --plugin-load-add=file_key_management --file-key-management-filename="$keys" --encrypt-binlog=ON
sql m2 "CREATE DATABASE e; CREATE TABLE e.t (a INT); INSERT INTO e.t VALUES (1); FLUSH BINARY LOGS;"
ebin=$m2_DIR/data/mysql-bin.000001
echo "$(types_of "$ebin")" | grep -q "^164 "
ok $? "the server wrote START_ENCRYPTION (164)"
"$BINTAIL" decode "$ebin" >"$BT_TMP/e.json" 2>"$BT_TMP/e.err"
is "$?" 1 "encrypted binlog: exit 1"
grep -qE "mysql-bin.000001:[0-9]+: START_ENCRYPTION_EVENT: encrypted binlog not supported" "$BT_TMP/e.err"
ok $? "encrypted binlog: $(cat "$BT_TMP/e.err")"
mariadb_stop m2
done_testing
