#!/usr/bin/env bash
# The torture suite, short: scripts/torture with 3 kill -9 cycles over about a minute of
# workload (a 10 s broker outage, SIGTERM with a full queue, a kill -9 of the replica), bounded
# to a few minutes. Its assertions are repeated here, numbered as this file's; the run fails
# when its summary line has lost or invented above 0. docs/reliability.md says what each
# scenario proves; `scripts/torture --cycles 50` is the long run.
. "$BT_SRCDIR/tests/lib/common.sh"

out=$BT_TMP/torture.out
# The run's own scratch dir (servers' datadirs and all logs) is kept when it fails.
timeout -k 10 420 bash "$BT_SRCDIR/scripts/torture" --cycles 3 --seconds 60 ${BT_TORTURE_SEED:+--seed $BT_TORTURE_SEED} >"$out" 2>&1
rc=$?
while IFS= read -r line; do
  case $line in
    "ok "[0-9]*) ok 0 "${line#ok * - }" ;;
    "not ok "[0-9]*) ok 1 "${line#not ok * - }" ;;
    "1.."*) ;;
    "torture: "*) diag "$line" ;;
    *) echo "$line" | grep -q '^#' && echo "$line" || diag "$line" ;;
  esac
done <"$out"

summary=$(grep '^torture: cycles=' "$out" | tail -n 1)
ok $([ -n "$summary" ]; echo $?) "the run printed its summary line"
lost=$(echo "$summary" | sed -n 's/.* lost=\([0-9-]*\).*/\1/p')
invented=$(echo "$summary" | sed -n 's/.* invented=\([0-9-]*\).*/\1/p')
is "${lost:-none}" 0 "summary: lost=0"
is "${invented:-none}" 0 "summary: invented=0"
[ "$rc" = 124 ] && diag "scripts/torture ran out of time (420 s)"
is "$rc" 0 "scripts/torture exits 0"

done_testing
