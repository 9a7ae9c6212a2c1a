# lib-ts.sh - helpers for the toolstack's CLI tests (sourced, not run).
#
#   ts_start [hvsecd args]   start hvsecd on a fresh run dir ($RUN) and wait
#                            for its control socket; it is killed at exit
#   ts_stop                  stop it (SIGTERM, then SIGKILL)
#   hv ARGS...               the hvsec tool on $RUN, bounded by a timeout
#   cfg FILE NAME [LINES...] write a domain config for the test guest
#   json_ok NAME CMD...      CMD's stdout parses as JSON (or JSON Lines)
#
# Every wait is bounded, and the whole script is killed after
# TS_TEST_LIMIT seconds (default 240) so a hang cannot stall CI.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

HVSEC=$HVSEC_BIN/hvsec
# vTPMs manufactured by tests are certified by a CA of the test's own, not
# the host's (/var/lib/hvsec/ca.pem).
export HVSEC_CA=${HVSEC_CA:-$TL_TMP/ca.pem}
HVSECD=$HVSEC_BIN/hvsecd
POLC=$HVSEC_BIN/hvsec-polc
TESTGUEST=$HVSEC_BIN/hvsec-testguest
RUN=$TL_TMP/run
TS_PID=
# Each root daemon needs its own guest uid range (a second one on the same
# range refuses to start; before that, destroying a guest of one killed
# the same-uid guest of the other).  Tests run in parallel: take one from
# our pid, and move on if it is taken.
TS_UID_BASE=${TS_UID_BASE:-$((1000000 + ($$ % 30000) * 32768))}

ts_need() {
	for b in "$@"; do
		if [ ! -x "$b" ]; then
			echo "FAIL: missing $b (make BUILD=${HVSEC_BUILD:-build})"
			echo "0 passed, 1 failed"
			exit 1
		fi
	done
}

ts_stop() {
	[ -n "$TS_PID" ] || return 0
	kill -TERM "$TS_PID" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$TS_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$TS_PID" 2>/dev/null
	wait "$TS_PID" 2>/dev/null
	TS_PID=
}

ts_watchdog=
ts_cleanup() {
	ts_stop
	# A failure against the daemon is easier to read with its side.
	if [ "${tl_fail:-0}" -ne 0 ] && [ -s "$TL_TMP/hvsecd.log" ]; then
		echo "--- hvsecd log (last 30 lines)"
		tail -n 30 "$TL_TMP/hvsecd.log"
	fi
	[ -n "$ts_watchdog" ] && kill "$ts_watchdog" 2>/dev/null
	rm -rf "$TL_TMP"
}
trap ts_cleanup EXIT
# The watchdog's sleep must die with it, or it would hold our stdout open
# (a caller reading it through a pipe would wait for the whole limit).
(
	trap 'kill "$sp" 2>/dev/null; exit 0' TERM
	sleep "${TS_TEST_LIMIT:-240}" >/dev/null 2>&1 &
	sp=$!
	wait "$sp" && { echo "FAIL: time limit"; kill -TERM $$; }
) &
ts_watchdog=$!

ts_start() {
	ts_stop
	for try in 1 2 3 4; do
		rm -rf "$RUN"
		"$HVSECD" --run-dir "$RUN" --uid-base "$TS_UID_BASE" "$@" \
			>"$TL_TMP/hvsecd.log" 2>&1 &
		TS_PID=$!
		for _ in $(seq 100); do
			[ -S "$RUN/control" ] && timeout 5 "$HVSEC" --run-dir "$RUN" \
				stats >/dev/null 2>&1 && return 0
			kill -0 "$TS_PID" 2>/dev/null || break
			sleep 0.05
		done
		ts_stop
		grep -q 'another hvsecd uses guest uids' "$TL_TMP/hvsecd.log" || break
		TS_UID_BASE=$(((TS_UID_BASE + 7 * 32768 * try) % 900000000 + 1000000))
	done
	echo "hvsecd did not start:"; cat "$TL_TMP/hvsecd.log"
	return 1
}

hv() { timeout 30 "$HVSEC" --run-dir "$RUN" "$@"; }

# cfg FILE NAME [LINE...]: a config running the test guest ("whoami
# hold" unless a LINE sets extra); the LINEs (label, disks, ...) are
# appended as given.
cfg() {
	local f=$1 name=$2
	shift 2
	{
		printf '# test domain %s\n' "$name"
		printf 'name = "%s"\n' "$name"
		printf 'kernel = "%s"\n' "$TESTGUEST"
		case " $* " in *" extra = "*) ;; *) printf 'extra = "whoami hold"\n' ;; esac
		printf 'memory = 32\n'
		for l in "$@"; do printf '%s\n' "$l"; done
	} >"$f"
}

# A JSON checker: python3, else jq; without either, JSON checks only
# look for an object or array on every line.
if command -v python3 >/dev/null 2>&1; then
	json_valid() {
		python3 -c 'import json,sys
t=sys.stdin.read()
if not t.strip(): sys.exit(1)
try:
    json.loads(t)
except ValueError:
    [json.loads(l) for l in t.splitlines() if l]'
	}
elif command -v jq >/dev/null 2>&1; then
	json_valid() { local t; t=$(cat); [ -n "$t" ] && jq -e . >/dev/null <<<"$t"; }
else
	json_valid() { local t; t=$(cat); [ -n "$t" ] && ! grep -Evq '^[[{].*[]}]$' <<<"$t"; }
fi

json_ok() {
	local name=$1
	shift
	local out
	out=$("$@" 2>/dev/null)
	if json_valid <<<"$out" 2>/dev/null; then
		ok "$name" 0 ""
	else
		ok "$name" 1 "not JSON: $(head -c 300 <<<"$out")"
	fi
}
