# common.sh: shared shell helpers for bintail's integration tests and scripts.
# Source it; it provides TAP output, a scratch directory, free loopback ports, throwaway
# MariaDB servers and a Kafka-protocol broker, all stopped by pid when the script exits.
set -u

BT_SRCDIR=${BT_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BT_BUILDDIR=${BT_BUILDDIR:-$BT_SRCDIR}
BINTAIL=${BINTAIL:-$BT_BUILDDIR/agent/bintail}
MOCKBROKER=${MOCKBROKER:-$BT_BUILDDIR/tests/bt-mockbroker}
PY=/usr/bin/python3

BT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/bintail-test.XXXXXX")
BT_PIDS=()
BT_DIRS=()  # scratch directories outside BT_TMP (MySQL data inside its root), removed likewise
# A subshell signalled before it has reset its traps runs this shell's TERM and EXIT traps
# (bash does that, e.g. for a watchdog subshell stopped right after it was forked); only the
# shell that made the scratch dir may stop the servers and remove it.
BT_MAIN_PID=$BASHPID
_tap_n=0
_tap_fail=0

bt_cleanup() {
  local pid
  [ "$BASHPID" = "$BT_MAIN_PID" ] || return 0
  for pid in "${BT_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${BT_PIDS[@]}"; do
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done  # mysqld may take 10 s
    kill -KILL "$pid" 2>/dev/null
  done
  if [ "${BT_KEEP_TMP:-0}" = 1 ] || [ "$_tap_fail" -gt 0 ]; then
    echo "# scratch kept in $BT_TMP ${BT_DIRS[*]}"
  else
    rm -rf "$BT_TMP" "${BT_DIRS[@]}"
  fi
}
trap bt_cleanup EXIT
trap 'exit 130' INT TERM

# Remember a pid so that it is stopped when the script exits, whatever happens.
bt_track() { BT_PIDS+=("$1"); }
bt_untrack() {
  local keep=() p
  for p in "${BT_PIDS[@]}"; do [ "$p" != "$1" ] && keep+=("$p"); done
  BT_PIDS=("${keep[@]}")
}

ok() {  # ok CONDITION_STATUS DESCRIPTION  (use: some_command; ok $? "desc")
  local rc=$1; shift
  _tap_n=$((_tap_n + 1))
  if [ "$rc" -eq 0 ]; then echo "ok $_tap_n - $*"; else echo "not ok $_tap_n - $*"; _tap_fail=$((_tap_fail + 1)); fi
  return "$rc"
}
is() {  # is GOT WANT DESCRIPTION
  local got=$1 want=$2; shift 2
  _tap_n=$((_tap_n + 1))
  if [ "$got" == "$want" ]; then echo "ok $_tap_n - $*"; return 0; fi
  echo "not ok $_tap_n - $*"; echo "#   got:  $got"; echo "#   want: $want"
  _tap_fail=$((_tap_fail + 1)); return 1
}
skip_all() { echo "1..0 # SKIP $*"; exit 77; }
diag() { echo "# $*"; }
done_testing() { echo "1..$_tap_n"; [ "$_tap_fail" -eq 0 ]; exit $?; }
bail() { echo "Bail out! $*"; _tap_fail=$((_tap_fail + 1)); exit 1; }

# A free TCP port on 127.0.0.1 (asks the kernel, then releases it).
free_port() {
  $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for SECONDS COMMAND...: retry COMMAND every 0.1 s until it succeeds or time runs out.
wait_for() {
  local secs=$1; shift
  local end=$(( $(date +%s%N) / 1000000 + secs * 1000 ))
  while ! "$@" >/dev/null 2>&1; do
    [ $(( $(date +%s%N) / 1000000 )) -ge $end ] && return 1
    sleep 0.1
  done
}

# ---------------------------------------------------------------- MariaDB
# mariadb_start NAME SERVER_ID [extra mariadbd options...]
# Sets ${NAME}_PORT, ${NAME}_DIR, ${NAME}_PID; the server is stopped at exit.
mariadb_start() {
  local name=$1 sid=$2; shift 2
  local dir=$BT_TMP/$name port
  port=$(free_port)
  mkdir -p "$dir/data" "$dir/tmp"
  mariadb-install-db --no-defaults --user=root --datadir="$dir/data" --tmpdir="$dir/tmp" \
    --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 ||
    { cat "$dir/install.log"; bail "mariadb-install-db failed for $name"; }
  /usr/sbin/mariadbd --no-defaults --user=root --datadir="$dir/data" --bind-address=127.0.0.1 \
    --port="$port" --socket="$dir/mysqld.sock" --pid-file="$dir/mysqld.pid" \
    --log-error="$dir/error.log" --server-id="$sid" --log-bin="$dir/data/mysql-bin" --tmpdir="$dir/tmp" \
    --binlog-format=ROW --binlog-row-metadata=FULL --binlog-row-image=FULL \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci --skip-name-resolve \
    --innodb-buffer-pool-size=64M --innodb-log-file-size=48M --performance-schema=OFF \
    --log-slave-updates=ON --gtid-strict-mode=OFF "$@" >"$dir/stdout.log" 2>&1 &
  local pid=$!
  bt_track "$pid"
  printf -v "${name}_ARGS" '%s' "$sid $*"
  printf -v "${name}_PORT" '%s' "$port"
  printf -v "${name}_DIR" '%s' "$dir"
  printf -v "${name}_PID" '%s' "$pid"
  if ! wait_for 60 mariadb-admin --no-defaults -uroot -h127.0.0.1 -P"$port" ping; then
    tail -20 "$dir/error.log"; bail "mariadbd $name did not start"
  fi
}

# mariadb_stop NAME: clean shutdown, waits for the pid to exit.
mariadb_stop() {
  local name=$1 port pid
  port=$(eval echo "\$${name}_PORT"); pid=$(eval echo "\$${name}_PID")
  mariadb-admin --no-defaults -uroot -h127.0.0.1 -P"$port" shutdown >/dev/null 2>&1 || kill -TERM "$pid"
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  bt_untrack "$pid"
}

# mariadb_restart NAME: stop the server cleanly and start it again on the same datadir and port.
mariadb_restart() {
  local name=$1 dir port args
  dir=$(eval echo "\$${name}_DIR"); port=$(eval echo "\$${name}_PORT"); args=$(eval echo "\$${name}_ARGS")
  mariadb_stop "$name"
  set -- $args
  local sid=$1; shift
  /usr/sbin/mariadbd --no-defaults --user=root --datadir="$dir/data" --bind-address=127.0.0.1 \
    --port="$port" --socket="$dir/mysqld.sock" --pid-file="$dir/mysqld.pid" \
    --log-error="$dir/error.log" --server-id="$sid" --log-bin="$dir/data/mysql-bin" --tmpdir="$dir/tmp" \
    --binlog-format=ROW --binlog-row-metadata=FULL --binlog-row-image=FULL \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci --skip-name-resolve \
    --innodb-buffer-pool-size=64M --innodb-log-file-size=48M --performance-schema=OFF \
    --log-slave-updates=ON --gtid-strict-mode=OFF "$@" >>"$dir/stdout.log" 2>&1 &
  local pid=$!
  bt_track "$pid"
  printf -v "${name}_PID" '%s' "$pid"
  wait_for 60 mariadb-admin --no-defaults -uroot -h127.0.0.1 -P"$port" ping || bail "mariadbd $name did not restart"
}

# sql NAME "STATEMENTS": run SQL on the named server (batch mode, tab-separated output).
sql() {
  local name=$1; shift
  local port; port=$(eval echo "\$${name}_PORT")
  mariadb --no-defaults -uroot -h127.0.0.1 -P"$port" --batch --skip-column-names -e "$*"
}

# replica_of REPLICA PRIMARY: point REPLICA at PRIMARY from its first binlog and wait until it runs.
replica_of() {
  local rep=$1 pri=$2 pport
  pport=$(eval echo "\$${pri}_PORT")
  sql "$rep" "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$pport, MASTER_USER='root',
      MASTER_PASSWORD='', MASTER_LOG_FILE='mysql-bin.000001', MASTER_LOG_POS=4, MASTER_USE_GTID=no;
      START SLAVE;"
  wait_for 30 replica_running "$rep" || bail "replica $rep did not start replicating"
}
replica_running() {
  [ "$(sql "$1" "SHOW GLOBAL STATUS LIKE 'Slave_running'" | cut -f2)" = ON ]
}
# replica_caught_up REPLICA PRIMARY: the replica has executed everything the primary wrote.
replica_caught_up() {
  local p r
  p=$(sql "$2" "SELECT @@gtid_binlog_pos")
  r=$(sql "$1" "SELECT @@gtid_slave_pos")
  [ "$p" = "$r" ]
}
wait_replica() { wait_for 60 replica_caught_up "$1" "$2" || bail "replica $1 did not catch up with $2"; }

# ---------------------------------------------------------------- MySQL
# A real MySQL runs from a Debian unstable root (scripts/mysql-root builds and caches it) under
# chroot; its data directory lives inside the root, so bintail on the host reads the binlogs at
# $NAME_DIR/data like a MariaDB one's. mysql_need skips the whole test file, with the reason, when
# the root cannot be had.
mysql_need() {
  local why
  MYSQL_ROOT=$("$BT_SRCDIR/scripts/mysql-root" 2>"$BT_TMP/mysql-root.err") ||
    { why=$(tail -n 1 "$BT_TMP/mysql-root.err"); skip_all "no MySQL server here: ${why:-scripts/mysql-root failed}"; }
}

# mysql_start NAME SERVER_ID [mysqld options...]: like mariadb_start, with GTIDs on, the binlog
# as mysql-bin.*, and log_replica_updates on. Sets NAME_PORT, NAME_DIR (host path), NAME_PID.
mysql_start() {
  local name=$1 sid=$2; shift 2
  [ -n "${MYSQL_ROOT:-}" ] || mysql_need
  local rel=/srv/$(basename "$BT_TMP")/$name port
  local dir=$MYSQL_ROOT$rel
  port=$(free_port)
  mkdir -p "$dir/tmp"
  BT_DIRS+=("$dir")
  ln -sfn "$dir" "$BT_TMP/$name"
  # (TMPDIR names a host path the chroot does not have: --tmpdir replaces it)
  chroot "$MYSQL_ROOT" /usr/sbin/mysqld --no-defaults --initialize-insecure --user=root \
    --datadir="$rel/data" --tmpdir="$rel/tmp" --log-error="$rel/install.log" >/dev/null 2>&1 ||
    { tail -20 "$dir/install.log"; bail "mysqld --initialize-insecure failed for $name"; }
  chroot "$MYSQL_ROOT" /usr/sbin/mysqld --no-defaults --user=root --datadir="$rel/data" --tmpdir="$rel/tmp" \
    --bind-address=127.0.0.1 --port="$port" --socket="$rel/mysqld.sock" --pid-file="$rel/mysqld.pid" \
    --log-error="$rel/error.log" --mysqlx=OFF --secure-file-priv= --server-id="$sid" \
    --log-bin="$rel/data/mysql-bin" --binlog-format=ROW --binlog-row-metadata=FULL --binlog-row-image=FULL \
    --gtid-mode=ON --enforce-gtid-consistency=ON --log-replica-updates=ON \
    --innodb-buffer-pool-size=64M --innodb-redo-log-capacity=32M "$@" >"$dir/stdout.log" 2>&1 &
  local pid=$!
  bt_track "$pid"
  printf -v "${name}_PORT" '%s' "$port"
  printf -v "${name}_DIR" '%s' "$dir"
  printf -v "${name}_PID" '%s' "$pid"
  printf -v "${name}_FLAVOR" '%s' mysql
  if ! wait_for 90 mariadb-admin --no-defaults -uroot -h127.0.0.1 -P"$port" ping; then
    tail -20 "$dir/error.log"; bail "mysqld $name did not start"
  fi
}

# mysql_replica_of REPLICA PRIMARY: GTID auto-positioning, as MySQL 8.4+ spells it.
mysql_replica_of() {
  local rep=$1 pri=$2 pport
  pport=$(eval echo "\$${pri}_PORT")
  sql "$rep" "CHANGE REPLICATION SOURCE TO SOURCE_HOST='127.0.0.1', SOURCE_PORT=$pport, SOURCE_USER='root',
      SOURCE_PASSWORD='', SOURCE_AUTO_POSITION=1, GET_SOURCE_PUBLIC_KEY=1; START REPLICA;"
  wait_for 30 mysql_replica_running "$rep" || bail "replica $rep did not start replicating"
}
mysql_replica_running() { [ "$(sql "$1" "SELECT SERVICE_STATE FROM performance_schema.replication_connection_status")" = ON ]; }
mysql_wait_replica() {
  local rep=$1 pri=$2 set
  set=$(sql "$pri" "SELECT @@GLOBAL.gtid_executed" | tr -d '\n')
  [ "$(sql "$rep" "SELECT WAIT_FOR_EXECUTED_GTID_SET('$set', 60)")" = 0 ] || bail "replica $rep did not catch up with $pri"
}

# ---------------------------------------------------------------- Kafka
# broker_start [NBROKERS] [topic:partitions ...]: a local Kafka-protocol broker (librdkafka's
# mock cluster), or the real one named by KAFKA_BROKERS. Sets BROKERS (and BROKER_PID).
broker_start() {
  local n=${1:-1}; shift || true
  if [ -n "${KAFKA_BROKERS:-}" ]; then
    BROKERS=$KAFKA_BROKERS; BROKER_PID=
    return 0
  fi
  local f=$BT_TMP/bootstrap.$RANDOM
  "$MOCKBROKER" --brokers "$n" --bootstrap-file "$f" "$@" >"$BT_TMP/mockbroker.log" 2>&1 &
  BROKER_PID=$!
  bt_track "$BROKER_PID"
  wait_for 20 test -s "$f" || { cat "$BT_TMP/mockbroker.log"; bail "mock broker did not start"; }
  BROKERS=$(cat "$f")
}
broker_stop() {
  [ -z "${BROKER_PID:-}" ] && return 0
  kill -TERM "$BROKER_PID" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$BROKER_PID" 2>/dev/null || break; sleep 0.1; done
  bt_untrack "$BROKER_PID"
}

# A unique topic prefix, so tests can share a real broker.
TOPIC_PREFIX=bt$$_$RANDOM

# consume_py TOPIC COUNT [TIMEOUT_S]: read COUNT messages with kafka-python (an independent client);
# prints one JSON object per message: {"partition","offset","key","value","headers"}.
consume_py() {
  "$PY" "$BT_SRCDIR/tests/lib/consume.py" --brokers "$BROKERS" --topic "$1" --count "$2" --timeout "${3:-30}"
}

# ---------------------------------------------------------------- bintail
# bintail_bg LOGFILE ARGS...: start bintail in the background; sets BT_PID.
# inserted_ids FILE TABLE: the ids of the rows inserted into TABLE in a JSON-lines output of
# bintail's json format, in order, one per line.
inserted_ids() {
  $PY -c '
import json, sys
for line in open(sys.argv[1]):
    v = json.loads(line)
    if v.get("op") == "insert" and v.get("table") == sys.argv[2]: print(v["after"]["id"])' "$1" "$2"
}

bintail_bg() {
  local log=$1; shift
  "$BINTAIL" "$@" >"$log" 2>&1 &
  BT_PID=$!
  bt_track "$BT_PID"
}

# ---------------------------------------------------------------- webhooks
# webhook_start NAME [receiver options...]: a recording HTTP receiver on loopback.
# Sets ${NAME}_URL and ${NAME}_OUT (JSON lines, one per request).
webhook_start() {
  local name=$1; shift
  local pf=$BT_TMP/$name.port out=$BT_TMP/$name.requests
  "$PY" "$BT_SRCDIR/tests/lib/webhook_receiver.py" --port-file "$pf" --out "$out" "$@" \
    >"$BT_TMP/$name.log" 2>&1 &
  bt_track $!
  wait_for 10 test -s "$pf" || bail "webhook receiver $name did not start"
  printf -v "${name}_URL" '%s' "http://127.0.0.1:$(cat "$pf")/hook"
  printf -v "${name}_OUT" '%s' "$out"
}
# alerts_seen FILE: one line per received alert: "alert severity state"
alerts_seen() {
  "$PY" -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    try:
        b = json.loads(r["body"])
    except Exception:
        continue
    print(b.get("alert"), b.get("severity"), b.get("state"))' "$1" 2>/dev/null
}
# has_alert FILE "NAME SEVERITY STATE" (a grep pattern over alerts_seen's lines)
has_alert() { alerts_seen "$1" | grep -q "$2"; }
