# lib-vtpm.sh - helpers for the vTPM end-to-end tests (sourced after
# tests/tools/lib-ts.sh, which provides hv and ok).
#
#   wait_console NAME REGEX [SECONDS]   until NAME's console matches (60 s)
#   console_ok NAME CHECKNAME REGEX     a check that the console matches,
#                                       showing its last lines when not
#   domid_of NAME                       the domain's id from hvsec list

wait_console() {
	local n=$(( ${3:-60} * 10 ))
	for _ in $(seq "$n"); do
		hv console "$1" 2>/dev/null | grep -Eq -- "$2" && return 0
		sleep 0.1
	done
	return 1
}

console_ok() {
	if hv console "$1" | grep -Eq -- "$3"; then ok "$2" 0 ""; else
		ok "$2" 1 "console of $1 lacks /$3/:
$(hv console "$1" | tail -n 30 | sed 's/^/  | /')"; fi
}

domid_of() { hv list "$1" | awk -v n="$1" '$1 == n { print $2 }'; }
