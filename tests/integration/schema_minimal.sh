#!/usr/bin/env bash
# binlog_row_metadata=MINIMAL: without --mysql columns are @1..@N and a warning says how to get
# names; with --mysql they come from information_schema, and an ALTER TABLE in the stream makes
# bintail look the table up again.
. "$BT_SRCDIR/tests/lib/common.sh"

mariadb_start primary 1 --binlog-row-metadata=MINIMAL
db=${TOPIC_PREFIX}
sql primary "CREATE DATABASE $db; CREATE TABLE $db.t (id INT PRIMARY KEY, name VARCHAR(20));
  INSERT INTO $db.t VALUES (1, 'one');"
run() { "$BINTAIL" --binlog-dir "$primary_DIR/data" --include "$db\\.t" --stop-at-end --snapshot never "$@"; }

run >"$BT_TMP/nomysql.out" 2>"$BT_TMP/nomysql.err"
ok $? "runs without --mysql"
grep -q '"after":{"@1":1,"@2":"one"}' "$BT_TMP/nomysql.out"; ok $? "columns are @1, @2: $(grep -m1 insert "$BT_TMP/nomysql.out" | cut -c1-120)"
grep -q "binlog_row_metadata=FULL" "$BT_TMP/nomysql.err"; ok $? "a warning says how to get names"

run --mysql "mysql://root@127.0.0.1:$primary_PORT" >"$BT_TMP/mysql.out" 2>"$BT_TMP/mysql.err"
ok $? "runs with --mysql" || tail -3 "$BT_TMP/mysql.err"
grep -q '"after":{"id":1,"name":"one"}' "$BT_TMP/mysql.out"; ok $? "names come from information_schema"
grep -q '"pk":\["id"\]' "$BT_TMP/mysql.out"; ok $? "and the primary key too"

# After an ALTER the table is looked up again. (Old events read after the ALTER keep @N names when
# the column count no longer matches: the binlog alone cannot say which column is which.)
sql primary "ALTER TABLE $db.t ADD COLUMN note VARCHAR(10); INSERT INTO $db.t VALUES (2, 'two', 'x');"
run --mysql "mysql://root@127.0.0.1:$primary_PORT" --start "$(sql primary 'SHOW MASTER STATUS' | cut -f1):4" \
  >"$BT_TMP/alter.out" 2>"$BT_TMP/alter.err"
ok $? "runs across the ALTER"
grep -q '"after":{"id":2,"name":"two","note":"x"}' "$BT_TMP/alter.out"; ok $? "rows after the ALTER get the new names"
grep -q '"after":{"@1":1,"@2":"one"}' "$BT_TMP/alter.out"; ok $? "rows before it, read today, keep @N names"
grep -q "schema changed since" "$BT_TMP/alter.err"; ok $? "with a warning that says why"

# Same column count, other columns: DROP one and ADD another. Old events must not get the new
# names (the types tell them apart), and rows written after it do.
sql primary "CREATE TABLE $db.u (id INT PRIMARY KEY, a VARCHAR(10)); INSERT INTO $db.u VALUES (1, 'old a');
  ALTER TABLE $db.u DROP COLUMN a, ADD COLUMN c DATETIME; INSERT INTO $db.u VALUES (2, '2024-01-02 03:04:05');"
"$BINTAIL" --binlog-dir "$primary_DIR/data" --include "$db\\.u" --stop-at-end --snapshot never \
  --mysql "mysql://root@127.0.0.1:$primary_PORT" >"$BT_TMP/swap.out" 2>"$BT_TMP/swap.err"
ok $? "runs across DROP a, ADD c" || tail -3 "$BT_TMP/swap.err"
grep -q '"after":{"@1":1,"@2":"old a"}' "$BT_TMP/swap.out"
ok $? "the old row keeps @N names, not id and c: $(grep -m1 '"old a"' "$BT_TMP/swap.out" | grep -o '"after":{[^}]*}')"
grep -q '"after":{"id":2,"c":"2024-01-02 03:04:05"}' "$BT_TMP/swap.out"; ok $? "the new row gets the new names"
grep -q "column 2 is string in the binlog but \`c\` (datetime) in the table now" "$BT_TMP/swap.err"
ok $? "a warning names the column and both types: $(grep -m1 'column 2' "$BT_TMP/swap.err" | cut -c1-160)"

done_testing
