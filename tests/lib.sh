# lib.sh - helpers for table-driven CLI tests (sourced, not run).
#
#   expect NAME WANT_EXIT WANT_REGEX -- CMD ARGS...
#       runs CMD, checks its exit status and that stdout+stderr matches the
#       extended regex WANT_REGEX ('' = anything); counts pass/fail.
#   tl_done  prints "N passed, N failed" and exits accordingly.
#
# $HVSEC_BIN points at the tools under test, $HVSEC_SRC at the checkout,
# $HVSEC_SHARED at ../shared; $TL_TMP is a scratch directory removed at exit.
set -uo pipefail
: "${HVSEC_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${HVSEC_BIN:=$HVSEC_SRC/build/bin}"
: "${HVSEC_SHARED:=$(cd "$HVSEC_SRC/.." && pwd)/shared}"
TL_TMP=$(mktemp -d)
trap 'rm -rf "$TL_TMP"' EXIT
tl_pass=0 tl_fail=0

expect() {
	local name=$1 want_rc=$2 want_re=$3
	shift 3
	[ "${1:-}" = "--" ] && shift
	local out rc
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -ne "$want_rc" ]; then
		tl_fail=$((tl_fail + 1))
		printf 'FAIL: %s: exit %d, wanted %d\n  cmd: %s\n%s\n' "$name" "$rc" "$want_rc" "$*" "$(head -c 2000 <<<"$out" | sed 's/^/  | /')"
		return 1
	fi
	if [ -n "$want_re" ] && ! grep -Eq -- "$want_re" <<<"$out"; then
		tl_fail=$((tl_fail + 1))
		printf 'FAIL: %s: output does not match /%s/\n  cmd: %s\n%s\n' "$name" "$want_re" "$*" "$(head -c 2000 <<<"$out" | sed 's/^/  | /')"
		return 1
	fi
	tl_pass=$((tl_pass + 1))
	[ -n "${TH_VERBOSE:-}" ] && printf 'ok: %s\n' "$name"
	return 0
}

# ok NAME COND_STATUS MESSAGE: record a check computed by the caller.
ok() {
	if [ "$2" -eq 0 ]; then tl_pass=$((tl_pass + 1)); else
		tl_fail=$((tl_fail + 1)); printf 'FAIL: %s: %s\n' "$1" "$3"; fi
}

tl_done() {
	echo "$tl_pass passed, $tl_fail failed"
	[ "$tl_fail" -eq 0 ]
	exit $?
}
