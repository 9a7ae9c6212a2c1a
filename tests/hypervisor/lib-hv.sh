# lib-hv.sh - helpers for the hypervisor integration tests (sourced).
#
#   hv_start [hvsecd args]   start hvsecd on a fresh run dir ($RUN) and wait
#                            for its control socket; it is killed at exit
#   hv_stop                  stop it (SIGTERM, then SIGKILL)
#   ctl ARGS...              tests/hypervisor/hvctl $RUN ARGS (bounded)
#   guest NAME [-l L] [-p] [-- ACTIONS...]   create an hvsec-testguest,
#                            print its domid
#   console_has DOMID TEXT [MS]   wait until the console shows TEXT
#
# Every wait is bounded; the whole script is killed after HV_TEST_LIMIT
# seconds (default 300) so a hang cannot stall CI.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

: "${HVSEC_BUILD:=build}"
HV_BUILD_DIR=$HVSEC_SRC/$HVSEC_BUILD
[ -d "$HV_BUILD_DIR" ] || HV_BUILD_DIR=$HVSEC_BUILD
HVSECD=$HVSEC_BIN/hvsecd
TESTGUEST=$HVSEC_BIN/hvsec-testguest
POLC=$HVSEC_BIN/hvsec-polc
HVCTL=$HV_BUILD_DIR/tests/hypervisor/hvctl
RUN=$TL_TMP/run
HV_PID=
HV_UID_BASE=$((1000000 + ($$ % 30000) * 32768))
# $TL_TMP stays 0700 (mktemp): guests of their own uids must start and
# reach XenStore even when they cannot traverse to the run dir.

for b in "$HVSECD" "$TESTGUEST" "$POLC" "$HVCTL"; do
	if [ ! -x "$b" ]; then
		echo "FAIL: missing $b (make BUILD=$HVSEC_BUILD)"
		echo "0 passed, 1 failed"
		exit 1
	fi
done

hv_stop() {
	[ -n "$HV_PID" ] || return 0
	kill -TERM "$HV_PID" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$HV_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$HV_PID" 2>/dev/null
	wait "$HV_PID" 2>/dev/null
	HV_PID=
	# Sanitizer builds: the daemon's exit report is part of the test.
	if grep -qE 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$TL_TMP/hvsecd.log" 2>/dev/null; then
		tl_fail=$((tl_fail + 1))
		echo "FAIL: hvsecd sanitizer report:"; grep -A20 -E 'Sanitizer|runtime error' "$TL_TMP/hvsecd.log" | head -40
	fi
}

hv_watchdog_pid=
hv_cleanup() {
	hv_stop
	# A daemon started with --daemon by a test is not our child.
	if [ -f "$RUN/hvsecd.pid" ]; then
		kill -TERM "$(cat "$RUN/hvsecd.pid")" 2>/dev/null
		sleep 0.2
	fi
	[ -n "$hv_watchdog_pid" ] && kill "$hv_watchdog_pid" 2>/dev/null
	rm -rf "$TL_TMP"
}
trap hv_cleanup EXIT
trap 'echo "FAIL: time limit of ${HV_TEST_LIMIT:-300} s"; tl_fail=$((tl_fail + 1)); tl_done' TERM
# The watchdog holds no output open, so a pipe reading this script's
# output ends when the script does.
( exec >/dev/null 2>&1; trap 'kill $s 2>/dev/null; exit 0' TERM
  sleep "${HV_TEST_LIMIT:-300}" & s=$!; wait $s; kill -TERM $$ ) &
hv_watchdog_pid=$!

hv_start() {
	hv_stop
	rm -rf "$RUN"
	# Tests run in parallel (other build dirs, SAN): each daemon gets its
	# own guest uid range.
	"$HVSECD" --run-dir "$RUN" --uid-base "$HV_UID_BASE" "$@" >"$TL_TMP/hvsecd.log" 2>&1 &
	HV_PID=$!
	for _ in $(seq 100); do
		[ -S "$RUN/control" ] && "$HVCTL" "$RUN" stats >/dev/null 2>&1 && return 0
		kill -0 "$HV_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "hvsecd did not start:"; cat "$TL_TMP/hvsecd.log"
	return 1
}

ctl() { timeout 30 "$HVCTL" "$RUN" "$@"; }

# guest NAME [create options] [-- actions]: prints the domid.
guest() {
	local name=$1; shift
	local out
	out=$(ctl create "$name" "$TESTGUEST" "$@") || { echo "$out" >&2; return 1; }
	sed -n 's/^domid //p' <<<"$out" | tee "$TL_TMP/last_id"
}

console_has() { ctl wait-console "$1" "$2" "${3:-10000}" >/dev/null 2>&1; }

# check NAME DOMID TEXT: the console of DOMID shows TEXT (waits).
check() {
	if console_has "$2" "$3" "${4:-10000}"; then
		ok "$1" 0 ""
	else
		ok "$1" 1 "console of $2 lacks \"$3\": $(ctl console "$2" | tail -n 5 | tr '\n' '|')"
	fi
}

# next_id: the domid the next create gets (ids are handed out in order
# and a refused create does not use one up).
# Destroyed domains leave the list, so the last id handed out counts too.
next_id() {
	{ ctl list; cat "$TL_TMP/last_id" 2>/dev/null; } |
		awk '{ if ($1 + 0 > m) m = $1 + 0 } END { print m + 1 }'
}

# nfds: open fds of hvsecd.
nfds() { ls "/proc/$HV_PID/fd" 2>/dev/null | wc -l; }

# stat KEY: a number from `hvctl stats`.
stat_of() { ctl stats | head -n 1 | tr ' ' '\n' | awk -v k="$1" 'p {print; exit} $0 == k {p = 1}'; }

# hv_done: stop the daemon (checking its exit report), then the summary.
hv_done() { hv_stop; tl_done; }
