#!/usr/bin/env bash
# demo.sh - `make demo` (scripts/demo.sh) run non-interactively: it must
# succeed, show every outcome of the story (STE and Chinese-Wall denials
# with their audit records, the resource denial, the refused and the
# applied policy update, the statistics; the vTPM manager on a swtpm
# platform TPM: the guest's EK certificate verified against its CA, the
# sealed state, the deep quote pinned then matched, the rollback refused),
# use no colours off a terminal, finish well under a minute, leave no
# hvsecd, guest, stub, manager or swtpm behind, start clean over the
# leftovers of a previous run (a killed one's swtpm included), and stop
# hvsecd and the swtpm when it is interrupted.  Each run uses its own
# scratch directory (HVSEC_DEMO_DIR), so this test can run beside
# `make demo`.
source "$(dirname "$0")/../lib.sh"

: "${HVSEC_BUILD:=build}"
DEMO_SH=$HVSEC_SRC/scripts/demo.sh
T=$TL_TMP

for b in hvsec hvsecd hvsec-polc hvsec-testguest hvsec-tpmfront hvsec-vtpmd hvsec-vtpm-managerd; do
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
	if [ -n "$lp" ] && tr '\0' ' ' 2>/dev/null <"/proc/$lp/cmdline" | grep -q "hvsecd --uid-base"; then
		kill -TERM "$lp"
		sleep 0.5
	fi
	# a swtpm a failed run left (a killed run's, if the next did not stop it)
	for lp in $(cat "$T"/*/swtpm.pid 2>/dev/null); do
		tr '\0' ' ' 2>/dev/null <"/proc/$lp/cmdline" | grep -q "dir=$T/" && kill -TERM "$lp"
	done
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
# domain it started (guests, vTPM stubs, the manager: pids from its log)
# have exited, the socket is gone; a swtpm the demo started (its pid from
# the demo's output) was stopped and has exited.
gone() {
	local pids p alive= sw
	pids=$(sed -nE 's/^hvsecd \(pid ([0-9]+)\) stopped.*/\1/p' "$2")
	pids+=" $(sed -nE 's/.* created, label .*, pid ([0-9]+)$/\1/p' "$3/hvsecd.log" 2>/dev/null)"
	for p in $pids; do
		# (a pid reused since is no hvsecd or domain of this run)
		if [ -d "/proc/$p" ] && tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null |
			grep -Eq 'hvsecd|hvsec-(testguest|tpmfront|vtpmd|vtpm-managerd)'; then
			alive+=" $p"
		fi
	done
	ok "$1: no hvsecd or domain left" "$([ -z "$alive" ] && [ -n "${pids// /}" ]; echo $?)" \
		"still running:${alive:- (or no pids found)}"
	ok "$1: control socket removed" "$([ ! -e "$3/hv/control" ]; echo $?)" "$3/hv/control exists"
	sw=$(sed -nE 's/^  swtpm running \(pid ([0-9]+)\).*/\1/p' "$2" | tail -n 1)
	if [ -n "$sw" ]; then
		ok "$1: the demo says it stopped its swtpm" \
			"$(grep -Eq "^swtpm \(pid $sw\) stopped" "$2"; echo $?)" "no 'swtpm (pid $sw) stopped' line"
		ok "$1: no swtpm left" "$(! { [ -d "/proc/$sw" ] && tr '\0' ' ' <"/proc/$sw/cmdline" 2>/dev/null |
			grep -q "dir=$3/ptpm"; }; echo $?)" "swtpm $sw still runs"
	fi
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
has "points to the vTPM docs" 'virtual TPM' "$T/out1"
# the vTPM manager
has "swtpm as the platform TPM" '^  swtpm running \(pid [0-9]+\); .*HVSEC_VTPM_MGR_TCTI=swtpm:host=127\.0\.0\.1,port=[0-9]+$' "$T/out1"
has "manager init" '^  vTPM manager initialised in ' "$T/out1"
has "manager init: root key sealed to PCRs" 'sealed to SHA-256 PCRs 0,2,4,7' "$T/out1"
has "manager start" '^  vTPM manager running: domain [0-9]+ \(vtpm-manager\), label SystemManagement' "$T/out1"
has "manager status" '^  Root record +generation [0-9]+, NV counter 0x[0-9a-f]+ = [0-9]+$' "$T/out1"
has "the manager runs as a domain" '^  vtpm-manager +[0-9]+ .*ACM:multi-tenant:SystemManagement$' "$T/out1"
has "the stub: NEW, EKs certified by the manager" 'NEW: manufactured, EKs certified by the manager, committed' "$T/out1"
has "EK certificate read inside the guest" '^  EK certificate read from NV index 0x01c00002 \([0-9]+ bytes\)$' "$T/out1"
has "vtpm ca is the manager's" '^  subject=.*hvsec vTPM manager CA' "$T/out1"
has "EK certificate verifies against vtpm ca" '^  .*acme-tpm-ek\.pem: OK$' "$T/out1"
has "sealed state: the blob's magic" '^  0000000 48 56 53 42 .*>HVSB' "$T/out1"
has "sealed state: the CA's name in the certificate, not in the state" '^  .*/permall:0$' "$T/out1"
has "attest --deep: first use pins the platform" '^  deep quote +OK .*\(trust on first use\)$' "$T/out1"
has "attest: EK certificate issued by the manager's CA" '^  EK certificate +OK .*issued by .*vtpm-manager-ca\.pem$' "$T/out1"
has "attest --deep again: the pin matches" '^  deep quote +OK .*match the pin ' "$T/out1"
has "rollback refused, named" 'state permall refused: permall: generation [0-9]+, the manager committed [0-9]+: rollback' "$T/out1"
has "rollback: create says it did not start" 'create acme-db: not started' "$T/out1"
has "rollback in the vTPM audit log" '^  [-0-9T:Z]+ +create +6a1c0e52-.* failed .*rollback' "$T/out1"
has "the committed files back: the NV value is there" '^  acme-v2!$' "$T/out1"
has "summary names the manager's docs" 'docs/vtpm-manager\.md' "$T/out1"
gone "full run" "$T/out1" "$D1"
san=$(grep -rlE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$D1/hvsecd.log" "$D1/hv/console" 2>/dev/null)
ok "no sanitizer report from hvsecd or a guest" "$([ -z "$san" ]; echo $?)" "in: $san"

# ---------------------------------------------------------------- again, over the leftovers
# of a run killed (-9) while its manager and swtpm ran: the next run in
# the same directory stops its hvsecd and its swtpm, then starts clean.
HVSEC_DEMO_DIR=$D1 HVSEC_BUILD=$HVSEC_BUILD bash "$DEMO_SH" </dev/null >"$T/out-killed" 2>&1 &
demo_pid=$!
for _ in $(seq 300); do
	grep -q '^  vTPM manager running' "$T/out-killed" && break
	kill -0 "$demo_pid" 2>/dev/null || break
	sleep 0.1
done
old_sw=$(cat "$D1/swtpm.pid" 2>/dev/null)
old_hv=$(cat "$D1/hv/hvsecd.pid" 2>/dev/null)
# (bash reports the job's death on its own stderr: not in the log)
exec 3>&2 2>/dev/null
kill -KILL "$demo_pid"
wait "$demo_pid"
exec 2>&3 3>&-
demo_pid=
ok "killed run: its manager and swtpm were running" "$([ -n "$old_sw" ] && [ -n "$old_hv" ] &&
	kill -0 "$old_sw" 2>/dev/null && kill -0 "$old_hv" 2>/dev/null; echo $?)" \
	"swtpm '${old_sw}', hvsecd '${old_hv}': $(tail -n 3 "$T/out-killed")"
touch "$D1/leftover" "$D1/hv/stale"
run_demo "$D1" "$T/out2"
ok "second run in the same directory exits 0" "$rc" "exit $rc: $(grep -E 'UNEXPECTED|demo:' "$T/out2" | head -n 5)"
ok "the directory was wiped" "$([ ! -e "$D1/leftover" ]; echo $?)" "$D1/leftover survived"
gone "second run" "$T/out2" "$D1"
ok "the killed run's hvsecd was stopped" "$(! { [ -n "$old_hv" ] && tr '\0' ' ' 2>/dev/null <"/proc/$old_hv/cmdline" |
	grep -q hvsecd; }; echo $?)" "pid $old_hv still runs"
ok "the killed run's swtpm was stopped" "$(! { [ -n "$old_sw" ] && tr '\0' ' ' 2>/dev/null <"/proc/$old_sw/cmdline" |
	grep -q swtpm; }; echo $?)" "pid $old_sw still runs"
# (its scratch directory for the guests, which its exit trap never removed)
old_tmp=$(sed -nE 's|^  vTPM manager initialised in (/tmp/hvsec-demo\.[A-Za-z0-9]+)/manager$|\1|p' "$T/out-killed")
[ -n "$old_tmp" ] && rm -rf "$old_tmp"

# ---------------------------------------------------------------- interrupted
# Signal the demo as soon as hvsecd is up: it must stop hvsecd and fail.
# (Ctrl-C is SIGINT; a background job of a script ignores it, so reset it.)
# sig_test SIG [WHEN]: WHEN = hvsecd (default: as soon as it is up) or
# manager (once the swtpm runs and the manager is being set up).
sig_test() {
	local sig=$1 when=${2:-hvsecd} d=$T/int-$1-${2:-hvsecd} hp= f
	rm -rf "$d"
	if [ "$sig" = INT ]; then
		HVSEC_DEMO_DIR=$d HVSEC_BUILD=$HVSEC_BUILD perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die' \
			bash "$DEMO_SH" </dev/null >"$T/out-$sig-$when" 2>&1 &
	else
		HVSEC_DEMO_DIR=$d HVSEC_BUILD=$HVSEC_BUILD bash "$DEMO_SH" </dev/null >"$T/out-$sig-$when" 2>&1 &
	fi
	demo_pid=$!
	f=$d/hv/hvsecd.pid
	[ "$when" = manager ] && f=$d/swtpm.pid
	for _ in $(seq 2000); do
		hp=$(cat "$f" 2>/dev/null) && [ -n "$hp" ] && break
		kill -0 "$demo_pid" 2>/dev/null || break
		sleep 0.005
	done
	[ "$when" = manager ] && sleep 0.3 # (swtpm up; init under way)
	kill -"$sig" "$demo_pid" 2>/dev/null
	local t0=$SECONDS
	wait "$demo_pid"
	rc=$?
	demo_pid=
	# It may have finished first (exit 0); otherwise it says so.
	if [ "$rc" -ne 0 ]; then
		ok "SIG$sig ($when): exit status" "$([ "$rc" -eq 130 ]; echo $?)" "exit $rc"
		has "SIG$sig ($when): says so" '^demo: interrupted$' "$T/out-$sig-$when"
	fi
	ok "SIG$sig ($when): stops within 10 s" "$([ $((SECONDS - t0)) -le 10 ]; echo $?)" "took $((SECONDS - t0)) s"
	has "SIG$sig ($when): hvsecd stopped" '^hvsecd \(pid [0-9]+\) stopped' "$T/out-$sig-$when"
	if [ "$when" = manager ]; then
		has "SIG$sig ($when): the swtpm had started" '^  swtpm running \(pid' "$T/out-$sig-$when"
	fi
	gone "SIG$sig ($when)" "$T/out-$sig-$when" "$d"
}
sig_test TERM
sig_test TERM manager
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
