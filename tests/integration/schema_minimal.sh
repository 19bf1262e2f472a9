#!/usr/bin/env bash
# binlog_row_metadata=MINIMAL: without --mysql columns are @1..@N and a warning says how to get
# names; with --mysql they come from information_schema, and an ALTER TABLE in the stream makes
# bintail look the table up again; old events keep @N names when the table changed since. On a
# real MariaDB and, when one can be had, a real MySQL.
. "$BT_SRCDIR/tests/lib/common.sh"

db=${TOPIC_PREFIX}
# binlog_now SERVER: the binlog file the server writes now (8.4+ renamed SHOW MASTER STATUS).
binlog_now() {
  case "$(eval echo "\${$1_FLAVOR:-mariadb}")" in
    mysql) sql "$1" "SHOW BINARY LOG STATUS" | cut -f1 ;;
    *) sql "$1" "SHOW MASTER STATUS" | cut -f1 ;;
  esac
}
scenario() {
  local srv=$1
  sql "$srv" "CREATE DATABASE $db; CREATE TABLE $db.t (id INT PRIMARY KEY, name VARCHAR(20));
    INSERT INTO $db.t VALUES (1, 'one');"
  run() {
    "$BINTAIL" --binlog-dir "$(eval echo "\$${srv}_DIR")/data" --include "$db\\.t" --stop-at-end --snapshot never "$@"
  }

  run >"$BT_TMP/$srv-nomysql.out" 2>"$BT_TMP/$srv-nomysql.err"
  ok $? "$srv: runs without --mysql"
  grep -q '"after":{"@1":1,"@2":"one"}' "$BT_TMP/$srv-nomysql.out"; ok $? "$srv: columns are @1, @2: $(grep -m1 insert "$BT_TMP/$srv-nomysql.out" | cut -c1-120)"
  grep -q "binlog_row_metadata=FULL" "$BT_TMP/$srv-nomysql.err"; ok $? "$srv: a warning says how to get names"

  run --mysql "mysql://root@127.0.0.1:$(eval echo "\$${srv}_PORT")" >"$BT_TMP/$srv-mysql.out" 2>"$BT_TMP/$srv-mysql.err"
  ok $? "$srv: runs with --mysql" || tail -3 "$BT_TMP/$srv-mysql.err"
  grep -q '"after":{"id":1,"name":"one"}' "$BT_TMP/$srv-mysql.out"; ok $? "$srv: names come from information_schema"
  grep -q '"pk":\["id"\]' "$BT_TMP/$srv-mysql.out"; ok $? "$srv: and the primary key too"

  # After an ALTER the table is looked up again. (Old events read after the ALTER keep @N names when
  # the column count no longer matches: the binlog alone cannot say which column is which.)
  sql "$srv" "ALTER TABLE $db.t ADD COLUMN note VARCHAR(10); INSERT INTO $db.t VALUES (2, 'two', 'x');"
  run --mysql "mysql://root@127.0.0.1:$(eval echo "\$${srv}_PORT")" --start "$(binlog_now "$srv"):4" \
    >"$BT_TMP/$srv-alter.out" 2>"$BT_TMP/$srv-alter.err"
  ok $? "$srv: runs across the ALTER"
  grep -q '"after":{"id":2,"name":"two","note":"x"}' "$BT_TMP/$srv-alter.out"; ok $? "$srv: rows after the ALTER get the new names"
  grep -q '"after":{"@1":1,"@2":"one"}' "$BT_TMP/$srv-alter.out"; ok $? "$srv: rows before it, read today, keep @N names"
  grep -q "schema changed since" "$BT_TMP/$srv-alter.err"; ok $? "$srv: with a warning that says why"

  # Same column count, other columns: DROP one and ADD another. Old events must not get the new
  # names (the types tell them apart), and rows written after it do.
  sql "$srv" "CREATE TABLE $db.u (id INT PRIMARY KEY, a VARCHAR(10)); INSERT INTO $db.u VALUES (1, 'old a');
    ALTER TABLE $db.u DROP COLUMN a, ADD COLUMN c DATETIME; INSERT INTO $db.u VALUES (2, '2024-01-02 03:04:05');"
  "$BINTAIL" --binlog-dir "$(eval echo "\$${srv}_DIR")/data" --include "$db\\.u" --stop-at-end --snapshot never \
    --mysql "mysql://root@127.0.0.1:$(eval echo "\$${srv}_PORT")" >"$BT_TMP/$srv-swap.out" 2>"$BT_TMP/$srv-swap.err"
  ok $? "$srv: runs across DROP a, ADD c" || tail -3 "$BT_TMP/$srv-swap.err"
  grep -q '"after":{"@1":1,"@2":"old a"}' "$BT_TMP/$srv-swap.out"
  ok $? "$srv: the old row keeps @N names, not id and c: $(grep -m1 '"old a"' "$BT_TMP/$srv-swap.out" | grep -o '"after":{[^}]*}')"
  grep -q '"after":{"id":2,"c":"2024-01-02 03:04:05"}' "$BT_TMP/$srv-swap.out"; ok $? "$srv: the new row gets the new names"
  grep -q "column 2 is string in the binlog but \`c\` (datetime) in the table now" "$BT_TMP/$srv-swap.err"
  ok $? "$srv: a warning names the column and both types: $(grep -m1 'column 2' "$BT_TMP/$srv-swap.err" | cut -c1-160)"
}

mariadb_start mariadb 1 --binlog-row-metadata=MINIMAL
scenario mariadb
if "$BT_SRCDIR/scripts/mysql-root" >/dev/null 2>&1; then
  mysql_start mysql 2 --binlog-row-metadata=MINIMAL
  scenario mysql
else
  ok 1 "# SKIP no MySQL server here: $("$BT_SRCDIR/scripts/mysql-root" 2>&1 >/dev/null | tail -1)"
fi

done_testing
