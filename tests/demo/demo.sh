#!/usr/bin/env bash
# demo.sh - `make demo` (scripts/demo.sh) run non-interactively: it must
# succeed, show every outcome of the story (STE and Chinese-Wall denials
# with their audit records, the resource denial, the refused and the
# applied policy update, the statistics), use no colours off a terminal,
# finish well under a minute, leave no hvsecd or guest behind, start
# clean over the leftovers of a previous run, and stop hvsecd when it is
# interrupted.  Each run uses its own scratch directory (HVSEC_DEMO_DIR),
# so this test can run beside `make demo`.
source "$(dirname "$0")/../lib.sh"

: "${HVSEC_BUILD:=build}"
DEMO_SH=$HVSEC_SRC/scripts/demo.sh
T=$TL_TMP

for b in hvsec hvsecd hvsec-polc hvsec-testguest; do
	case $HVSEC_BUILD in /*) f=$HVSEC_BUILD/bin/$b ;; *) f=$HVSEC_SRC/$HVSEC_BUILD/bin/$b ;; esac
	if [ ! -x "$f" ]; then
		echo "FAIL: missing $f (make BUILD=$HVSEC_BUILD)"
		echo "0 passed, 1 failed"
		exit 1
	fi
done

# The whole test is bounded: a hang cannot stall the suite.
demo_pid=
watchdog=
cleanup() {
	[ -n "$demo_pid" ] && kill -TERM "$demo_pid" 2>/dev/null && wait "$demo_pid" 2>/dev/null
	# the lab's hvsecd (--daemon: not our child), if a failure left it
	local lp
	lp=$(cat "$T/lab5/hv/hvsecd.pid" 2>/dev/null)
	if [ -n "$lp" ] && tr '\0' ' ' <"/proc/$lp/cmdline" 2>/dev/null | grep -q "hvsecd --uid-base"; then
		kill -TERM "$lp"
		sleep 0.5
	fi
	[ -n "$watchdog" ] && kill "$watchdog" 2>/dev/null
	rm -rf "$TL_TMP"
}
trap cleanup EXIT
trap 'echo "FAIL: time limit of ${DEMO_TEST_LIMIT:-240} s"; tl_fail=$((tl_fail + 1)); tl_done' TERM
(
	exec >/dev/null 2>&1
	trap 'kill "$s" 2>/dev/null; exit 0' TERM
	sleep "${DEMO_TEST_LIMIT:-240}" &
	s=$!
	wait "$s" && kill -TERM $$
) &
watchdog=$!

# run_demo DIR LOG: runs the demo (bounded) on scratch directory DIR;
# sets rc and secs.
run_demo() {
	local t0=$SECONDS
	HVSEC_CA=$T/ca.pem HVSEC_DEMO_DIR=$1 HVSEC_BUILD=$HVSEC_BUILD timeout 120 bash "$DEMO_SH" </dev/null >"$2" 2>&1
	rc=$?
	secs=$((SECONDS - t0))
}

# has NAME REGEX LOG: the log has a line matching REGEX.
has() {
	if grep -Eq -- "$2" "$3"; then ok "$1" 0 ""; else
		ok "$1" 1 "no line matches /$2/ in $3:
$(tail -n 15 "$3" | sed 's/^/  | /')"
	fi
}

# gone NAME LOG DIR: hvsecd (its pid from the demo's output) and every
# guest it started (pids from its log) have exited, the socket is gone.
gone() {
	local pids p alive=
	pids=$(sed -nE 's/^hvsecd \(pid ([0-9]+)\) stopped.*/\1/p' "$2")
	pids+=" $(sed -nE 's/.* created, label .*, pid ([0-9]+)$/\1/p' "$3/hvsecd.log" 2>/dev/null)"
	for p in $pids; do
		# (a pid reused since is no hvsecd or guest of this run)
		if [ -d "/proc/$p" ] && tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null |
			grep -Eq 'hvsecd|hvsec-testguest'; then
			alive+=" $p"
		fi
	done
	ok "$1: no hvsecd or guest left" "$([ -z "$alive" ] && [ -n "${pids// /}" ]; echo $?)" \
		"still running:${alive:- (or no pids found)}"
	ok "$1: control socket removed" "$([ ! -e "$3/hv/control" ]; echo $?)" "$3/hv/control exists"
}

# ---------------------------------------------------------------- a full run
D1=$T/run1
run_demo "$D1" "$T/out1"
ok "demo exits 0" "$rc" "exit $rc: $(grep -E 'UNEXPECTED|demo:' "$T/out1" | head -n 5)"
ok "demo takes well under a minute" "$([ "$secs" -lt 30 ]; echo $?)" "took $secs s"
has "summary line" '^All [0-9]+ steps came out as expected\.$' "$T/out1"
ok "nothing UNEXPECTED" "$(! grep -q UNEXPECTED "$T/out1"; echo $?)" "$(grep -m3 UNEXPECTED "$T/out1")"
ok "no colours off a terminal" "$(! grep -q $'\e' "$T/out1"; echo $?)" "escape sequences in the output"
# the offline part
has "compiles the policy" "policy 'multi-tenant' version 1\.0" "$T/out1"
has "offline: a permit" '^  permit$' "$T/out1"
has "offline: a Chinese-Wall deny" "^  deny: Chinese Wall: type 'Globex'" "$T/out1"
# the live part
has "starts hvsecd" '^  hvsecd: ready: run dir ' "$T/out1"
has "loads the policy" 'Policy multi-tenant 1\.0 loaded' "$T/out1"
has "labels a disk" 'Resource file:.*/img/acme-web\.img labelled AcmeDisk' "$T/out1"
has "creates Acme's guest" '^  Started domain acme-web \(id=2\)$' "$T/out1"
has "vTPM: quote verified inside the guest" '^  quote over PCR 16 verified$' "$T/out1"
has "attestation holds on the good boot" '^  attestation of acme-db: OK$' "$T/out1"
has "attestation refused after tampering, naming it" '^  golden cmdline +FAIL cmdline changed' "$T/out1"
has "tampered boot: FAILED" '^  attestation of acme-db: FAILED$' "$T/out1"
has "creates Initech's guest" '^  Started domain initech-app \(id=3\)$' "$T/out1"
has "sharing allowed: map" '^  map:2: ok .*"page of 2"' "$T/out1"
has "sharing allowed: notified" '^  wait:[0-9]+: ok port [0-9]+ notified' "$T/out1"
has "STE denial on the console (evtchn)" '^  offer:2: error -EACCES' "$T/out1"
has "STE denial on the console (grant)" '^  grant:2: error -EACCES' "$T/out1"
has "STE audit record" 'DENY +evtchn_alloc_unbound +dom 3 \(Initech\) -> dom 2 \(Acme\)' "$T/out1"
has "list --label" '^  acme-web +2 .*ACM:multi-tenant:Acme$' "$T/out1"
has "Chinese-Wall denial" 'create globex-db denied' "$T/out1"
has "Chinese-Wall audit record" 'DENY +domain_create +dom [0-9]+ \(Globex\): Chinese Wall' "$T/out1"
has "resource denial: dry run" 'DENY +resource_use +AcmeDisk: may not use resource' "$T/out1"
has "resource denial: create" 'create initech-batch denied: label Initech may not use resource' "$T/out1"
has "resource audit record" 'DENY +resource_use +dom [0-9]+ \(Initech\) -> disk .*\(AcmeDisk\)' "$T/out1"
has "update refused with its blocker" 'chinese wall conflict: acme-web \(2\) and initech-app \(3\)' "$T/out1"
has "update applied" 'Policy multi-tenant 1\.1 updated' "$T/out1"
has "the new conflict set holds" 'conflict set AcmeVsInitech$' "$T/out1"
has "stats" '^  Hook +Calls +Evaluated' "$T/out1"
has "points to the vTPM issue" 'virtual TPM' "$T/out1"
gone "full run" "$T/out1" "$D1"
san=$(grep -rlE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$D1/hvsecd.log" "$D1/hv/console" 2>/dev/null)
ok "no sanitizer report from hvsecd or a guest" "$([ -z "$san" ]; echo $?)" "in: $san"

# ---------------------------------------------------------------- again, over the leftovers
touch "$D1/leftover" "$D1/hv/stale"
run_demo "$D1" "$T/out2"
ok "second run in the same directory exits 0" "$rc" "exit $rc: $(grep -E 'UNEXPECTED|demo:' "$T/out2" | head -n 5)"
ok "the directory was wiped" "$([ ! -e "$D1/leftover" ]; echo $?)" "$D1/leftover survived"
gone "second run" "$T/out2" "$D1"

# ---------------------------------------------------------------- interrupted
# Signal the demo as soon as hvsecd is up: it must stop hvsecd and fail.
# (Ctrl-C is SIGINT; a background job of a script ignores it, so reset it.)
sig_test() {
	local sig=$1 d=$T/int-$1 hp=
	rm -rf "$d"
	if [ "$sig" = INT ]; then
		HVSEC_DEMO_DIR=$d HVSEC_BUILD=$HVSEC_BUILD perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die' \
			bash "$DEMO_SH" </dev/null >"$T/out-$sig" 2>&1 &
	else
		HVSEC_DEMO_DIR=$d HVSEC_BUILD=$HVSEC_BUILD bash "$DEMO_SH" </dev/null >"$T/out-$sig" 2>&1 &
	fi
	demo_pid=$!
	for _ in $(seq 2000); do
		hp=$(cat "$d/hv/hvsecd.pid" 2>/dev/null) && [ -n "$hp" ] && break
		kill -0 "$demo_pid" 2>/dev/null || break
		sleep 0.005
	done
	kill -"$sig" "$demo_pid" 2>/dev/null
	local t0=$SECONDS
	wait "$demo_pid"
	rc=$?
	demo_pid=
	# It may have finished first (exit 0); otherwise it says so.
	if [ "$rc" -ne 0 ]; then
		ok "SIG$sig: exit status" "$([ "$rc" -eq 130 ]; echo $?)" "exit $rc"
		has "SIG$sig: says so" '^demo: interrupted$' "$T/out-$sig"
	fi
	ok "SIG$sig: stops within 10 s" "$([ $((SECONDS - t0)) -le 10 ]; echo $?)" "took $((SECONDS - t0)) s"
	has "SIG$sig: hvsecd stopped" '^hvsecd \(pid [0-9]+\) stopped' "$T/out-$sig"
	gone "SIG$sig" "$T/out-$sig" "$d"
}
sig_test TERM
command -v perl >/dev/null 2>&1 && sig_test INT

# ---------------------------------------------------------------- lab 5
# docs/labs/lab5-live-guests.md is the same story typed by hand: every
# ```sh block runs, in order, from the top of the checkout (a bash with
# set -e; exported variables carry over to the next block).  The comment
# after a block states its outcome:
#   <!-- check: exit N; shows: TEXT; shows: TEXT; retry -->
# (exit status, default 0; fixed strings the output contains; retry: run
# the block again until it shows them, at most 15 s).  Adapted to run
# here: the build directory under test, a scratch directory of our own
# instead of /tmp/lab5 and our own guest uid range.
LAB=$HVSEC_SRC/docs/labs/lab5-live-guests.md
LAB_DIR=$T/lab5
case $HVSEC_BUILD in /*) lab_bin=$HVSEC_BUILD/bin ;; *) lab_bin=$HVSEC_SRC/$HVSEC_BUILD/bin ;; esac
lab_uid_base=$((1000000 + ($$ % 30000) * 32768))
: >"$T/lab-env"

lab_block() { # N BLOCK CHECK
	local n=$1 block=$2 check=$3 want=0 retry='' f o rc tries=1 missing first
	local -a shows=()
	first=$(grep -m1 -v '^[[:space:]]*$' <<<"$block")
	check=${check#*check:}
	check=${check%%-->*}
	IFS=';' read -ra fields <<<"$check"
	for f in "${fields[@]}"; do
		f=$(sed -E 's/^ +| +$//g' <<<"$f")
		case $f in
		'exit '*) want=${f#exit } ;;
		retry) retry=1 tries=150 ;;
		'shows: '*) shows+=("${f#shows: }") ;;
		'') ;;
		*) ok "lab5 block $n: check syntax" 1 "unknown field '$f'" ;;
		esac
	done
	block=${block//'$PWD/build/bin'/$lab_bin}
	block=${block//'/tmp/lab5'/$LAB_DIR}
	block=${block//'hvsecd --run-dir'/hvsecd --uid-base $lab_uid_base --run-dir}
	printf '%s' "$block" >"$T/lab-block-$n.sh"
	for ((k = 0; k < tries; k++)); do
		o=$(cd "$HVSEC_SRC" && timeout 60 bash -c 'set -e
			source "$1"
			trap "rc=\$?; export -p >\"$1\"; exit \$rc" EXIT
			source "$2"' lab "$T/lab-env" "$T/lab-block-$n.sh" 2>&1 </dev/null)
		rc=$?
		missing=
		for f in "${shows[@]}"; do grep -Fq -- "$f" <<<"$o" || { missing=$f; break; }; done
		[ "$rc" = "$want" ] && [ -z "$missing" ] && break
		[ -n "$retry" ] && sleep 0.1
	done
	if [ "$rc" != "$want" ]; then
		ok "lab5 block $n ($first)" 1 "exit $rc, wanted $want:
$(head -c 1500 <<<"$o" | sed 's/^/  | /')"
	elif [ -n "$missing" ]; then
		ok "lab5 block $n ($first)" 1 "output lacks '$missing':
$(head -c 1500 <<<"$o" | sed 's/^/  | /')"
	else
		ok "lab5 block $n ($first)" 0 ""
	fi
}

lab_n=0 in_block='' block=''
mapfile -t lab_lines <"$LAB"
for ((i = 0; i < ${#lab_lines[@]}; i++)); do
	line=${lab_lines[i]}
	if [ -z "$in_block" ]; then
		[ "$line" = '```sh' ] && in_block=1 block=
		continue
	fi
	if [ "$line" != '```' ]; then
		block+=$line$'\n'
		continue
	fi
	in_block=
	lab_n=$((lab_n + 1))
	check=
	for ((j = i + 1; j < ${#lab_lines[@]}; j++)); do
		[ -z "${lab_lines[j]// /}" ] && continue
		case ${lab_lines[j]} in '<!-- check:'*) check=${lab_lines[j]} ;; esac
		break
	done
	lab_block "$lab_n" "$block" "$check"
done
ok "lab5: has its command blocks" "$([ "$lab_n" -ge 15 ]; echo $?)" "only $lab_n sh blocks in $LAB"
# Its last block stops hvsecd (which takes a moment: it stops its guests
# first); if a block failed before, we do.
lab_alive() {
	[ -n "$lab_pid" ] && tr '\0' ' ' <"/proc/$lab_pid/cmdline" 2>/dev/null |
		grep -q "hvsecd --uid-base $lab_uid_base"
}
lab_pid=$(sed -nE 's/.*ready \(detached\), pid ([0-9]+).*/\1/p' "$LAB_DIR/hv/hvsecd.log" 2>/dev/null | tail -n 1)
for _ in $(seq 50); do lab_alive || break; sleep 0.1; done
if [ -z "$lab_pid" ]; then
	ok "lab5: its last block stopped hvsecd" 1 "no pid in $LAB_DIR/hv/hvsecd.log"
elif lab_alive; then
	ok "lab5: its last block stopped hvsecd" 1 "pid $lab_pid still runs after 5 s"
	kill -TERM "$lab_pid"
	for _ in $(seq 50); do lab_alive || break; sleep 0.1; done
else
	ok "lab5: its last block stopped hvsecd" 0 ""
fi

# ---------------------------------------------------------------- no build
HVSEC_BUILD=$T/nothing HVSEC_DEMO_DIR=$T/nobuild timeout 30 bash "$DEMO_SH" >"$T/out-nobuild" 2>&1
rc=$?
ok "missing tools: non-zero exit" "$([ "$rc" -ne 0 ]; echo $?)" "exit 0"
has "missing tools: says what to do" "run 'make' first" "$T/out-nobuild"

tl_done
