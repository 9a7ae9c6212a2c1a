#!/usr/bin/env bash
# run.sh TEST_BIN...: runs every unit-test binary given and every table
# test script tests/*/*.sh (except fuzz/ and helpers named lib*.sh), each of
# which ends its output with "N passed, N failed".  Prints one line per
# suite and, last, the totals in the same form.  Exit 0 only when nothing
# failed and every suite reported.
set -uo pipefail
cd "$(dirname "$0")/.."
export HVSEC_SRC=$PWD
export HVSEC_BUILD=${HVSEC_BUILD:-build}
export HVSEC_BIN=$PWD/$HVSEC_BUILD/bin
export HVSEC_SHARED=${HVSEC_SHARED:-$(cd .. && pwd)/shared}
if [ "${SAN:-0}" = 1 ]; then
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi
logdir=$HVSEC_BUILD/test-logs
mkdir -p "$logdir"

total_pass=0 total_fail=0 broken=0
run_suite() { # name, command...
	local name=$1; shift
	local log=$logdir/$(echo "$name" | tr '/' '_').log
	"$@" >"$log" 2>&1
	local rc=$?
	local last
	last=$(grep -E '^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -z "$last" ]; then
		printf '  %-40s BROKEN (exit %d, no result line; see %s)\n' "$name" "$rc" "$log"
		tail -n 20 "$log" | sed 's/^/      /'
		broken=$((broken + 1))
		return
	fi
	local p f
	p=$(sed -E 's/^([A-Za-z]+: )?([0-9]+) passed.*/\2/' <<<"$last")
	f=$(sed -E 's/^([A-Za-z]+: )?[0-9]+ passed, ([0-9]+) failed.*/\2/' <<<"$last")
	total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
	if [ "$f" -ne 0 ] || [ "$rc" -ne 0 ]; then
		printf '  %-40s %s (exit %d)\n' "$name" "$last" "$rc"
		grep -E '^FAIL' "$log" | head -n 30 | sed 's/^/      /'
		[ "$f" -eq 0 ] && broken=$((broken + 1))
	else
		printf '  %-40s %s\n' "$name" "$last"
	fi
}

echo "hvsec tests (${HVSEC_BUILD})"
for t in "$@"; do
	run_suite "${t#"$HVSEC_BUILD"/tests/}" "$t"
done
for s in tests/*/*.sh; do
	case "$s" in tests/fuzz/*|*/lib*.sh) continue ;; esac
	[ -e "$s" ] || continue
	run_suite "${s#tests/}" bash "$s"
done
echo "$total_pass passed, $((total_fail + broken)) failed"
[ "$total_fail" -eq 0 ] && [ "$broken" -eq 0 ]
