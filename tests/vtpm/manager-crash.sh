#!/usr/bin/env bash
# manager-crash.sh - crash consistency of manager-mode vTPM state: kill -9
# of the manager and of the instance at random points while NV is
# written; no instance is ever corrupt, no acknowledged write is lost.
#
# Part 1, the fast loop (CRASH_ITER iterations, default 300): crashtpm's
# writer on the manager-mode store (vtpm_store_mgr.c: sealed blob to
# N.new, COMMIT, rename) against `crashtpm manager`, a stand-in manager
# process that makes each commit durable before answering (as the key
# holder does).  Each round kills the writer (2 in 3) or the manager
# (1 in 3) after a random 0-60 ms, then `crashtpm check` opens the state
# as the next start would and must find the last acknowledged value or
# the one in flight.  Manager kills land before the commit is durable
# (N.new is uncommitted: discarded), between durable and answered (the
# write failed for the writer but is the committed one: N.new kept and
# renamed in), or elsewhere.  Negative controls first: the checker calls
# a rollback, a flipped byte and a lost write what they are.
#
# Part 2, the real thing (MGR_REAL_ITER rounds, default 10; 0 skips):
# hvsecd, a swtpm platform TPM, hvsec-vtpm-managerd as its domain, a
# guest writing NV through tpm2-tools in a loop; each round kills -9
# (hvsec destroy) the manager or the stub at a random point, restarts
# what was killed, creates the guest again and checks that its vTPM
# starts (never refused as corrupt or rolled back) with the last
# acknowledged value or the next one.
source "$(dirname "$0")/../tools/lib-ts.sh"
source "$(dirname "$0")/lib-vtpm.sh"

: "${HVSEC_BUILD:=build}"
CRASH=$HVSEC_SRC/$HVSEC_BUILD/tests/vtpm/crashtpm
[ -x "$CRASH" ] || CRASH=$HVSEC_BUILD/tests/vtpm/crashtpm
ts_need "$CRASH"
ITER=${CRASH_ITER:-300}
REAL_ITER=${MGR_REAL_ITER:-10}
KILL_MAX_MS=60

mkfifo "$TL_TMP/tick"
exec {TICK}<>"$TL_TMP/tick"
sleep_ms() {
	local t
	printf -v t '%d.%03d' $(($1 / 1000)) $(($1 % 1000))
	read -r -t "$t" -u "$TICK" _ || true
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

last_ack() { # FILE: N of the last complete "ack N" line
	local f=$1
	[ -s "$f" ] || return 0
	if [ "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" = '\n' ]; then
		grep -E '^ack [0-9]+$' "$f" | tail -n 1 | cut -d' ' -f2
	else
		head -n -1 "$f" | grep -E '^ack [0-9]+$' | tail -n 1 | cut -d' ' -f2
	fi
}

# ------------------------------------------------------------ part 1
MD=$TL_TMP/mgr SD=$TL_TMP/state
mkdir -m 0700 "$MD" "$SD"
export CRASHTPM_MGR=$MD
MPID=
start_mgr() {
	: >"$TL_TMP/mgr.out"
	"$CRASH" manager "$MD" >"$TL_TMP/mgr.out" 2>&1 &
	MPID=$!
	for _ in $(seq 200); do
		grep -q '^ready' "$TL_TMP/mgr.out" && return 0
		sleep_ms 5
	done
	return 1
}
kill_mgr() { [ -n "$MPID" ] && { kill -KILL "$MPID" 2>/dev/null; wait "$MPID" 2>/dev/null; }; MPID=; }
trap 'kill_mgr; ts_cleanup' EXIT

WOUT=$TL_TMP/writer.out WERR=$TL_TMP/writer.err
# round MS VICTIM: a writer killed after MS ms (VICTIM writer), or the
# manager killed after MS ms and then the writer (VICTIM manager).
round() {
	local pid
	: >"$WOUT"; : >"$WERR"
	"$CRASH" writer "$SD" >"$WOUT" 2>"$WERR" &
	pid=$!
	sleep_ms "$1"
	[ "$2" = manager ] && kill_mgr
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	WSTATUS=$?
}
check() { CHECK=$("$CRASH" check "$SD" "$1" 2>&1); CHECK_RC=$?; }

start_mgr || { echo "FAIL: the stand-in manager did not start: $(cat "$TL_TMP/mgr.out")"; echo "0 passed, 1 failed"; exit 1; }
expect "no state yet" 3 '^no state$' -- "$CRASH" check "$SD" 0
# A writer that acknowledged some writes.
"$CRASH" writer "$SD" >"$WOUT" 2>"$WERR" &
wp=$!
for _ in $(seq 500); do [ "$(grep -c '^ack ' "$WOUT")" -ge 5 ] && break; sleep_ms 10; done
kill -KILL $wp; wait $wp 2>/dev/null
ack=$(last_ack "$WOUT")
ok "a manager-mode writer acknowledges writes" "$( [ "${ack:-0}" -ge 5 ]; echo $?)" "$(cat "$WERR")"
ack=${ack:-5}
expect "check: the last ack" 0 "^ok value ($ack|$((ack + 1)))$" -- "$CRASH" check "$SD" "$ack"
ok "the state is sealed (HVSB), no plaintext store header" "$(head -c 4 "$SD/permall" | grep -q HVSB; echo $?)" \
	"$(head -c 8 "$SD/permall" | od -c | head -1)"
# Negative controls: rollback, corruption, a lost write.
cp "$SD/permall" "$TL_TMP/old.permall"
"$CRASH" writer "$SD" >"$WOUT" 2>"$WERR" &
wp=$!
for _ in $(seq 500); do [ "$(grep -c '^ack ' "$WOUT")" -ge 3 ] && break; sleep_ms 10; done
kill -KILL $wp; wait $wp 2>/dev/null
ack=$(last_ack "$WOUT")
# The kill may have left a committed permall.new (made durable by the
# manager, not yet renamed): the next open moves it into place, and it
# would then hide the old permall put back below.  Settle the directory
# the way a start does before taking the copies.
"$CRASH" check "$SD" "$ack" >/dev/null 2>&1
ok "the directory is settled (no permall.new)" "$( [ ! -e "$SD/permall.new" ]; echo $?)" "$(ls -l "$SD")"
cp "$SD/permall" "$TL_TMP/new.permall"
cp "$TL_TMP/old.permall" "$SD/permall"
expect "check: an older permall put back is a rollback" 1 'rollback' -- "$CRASH" check "$SD" "$ack"
cp "$TL_TMP/new.permall" "$SD/permall"
size=$(stat -c %s "$SD/permall")
cp "$SD/permall" "$TL_TMP/flip"
printf '\x5a' | dd of="$SD/permall" bs=1 seek=$((size / 2)) conv=notrunc status=none
cmp -s "$SD/permall" "$TL_TMP/flip" && printf '\xa5' | dd of="$SD/permall" bs=1 seek=$((size / 2)) conv=notrunc status=none
expect "check: a flipped byte fails authentication" 1 'authentication' -- "$CRASH" check "$SD" "$ack"
cp "$TL_TMP/new.permall" "$SD/permall"
expect "check: a lost write" 1 "acknowledged write $((ack + 2)) lost" -- "$CRASH" check "$SD" $((ack + 2))
expect "check: the committed state again" 0 "^ok value ($ack|$((ack + 1)))$" -- "$CRASH" check "$SD" "$ack"

kills=0 mkills=0 inflight=0 acks=0 kept_new=0 dropped_new=0 booting=0
prev=$(sed -n 's/^ok value //p' <<<"$("$CRASH" check "$SD" "$ack")")
prev=${prev:-$ack}
fails_before=$tl_fail
t0=$(now_ms)
for ((i = 1; i <= ITER; i++)); do
	[ -n "$MPID" ] || start_mgr || { ok "iteration $i: manager restart" 1 "$(cat "$TL_TMP/mgr.out")"; break; }
	ms=$((RANDOM % (KILL_MAX_MS + 1)))
	victim=writer
	((RANDOM % 3 == 0)) && victim=manager
	round "$ms" "$victim"
	if [ "$victim" = manager ]; then
		mkills=$((mkills + 1))
	elif [ "$WSTATUS" = 137 ]; then
		kills=$((kills + 1))
	else
		ok "iteration $i: writer killed" 1 "exited $WSTATUS after ${ms} ms: $(head -c 300 "$WERR") $(head -c 300 "$WOUT")"
		continue
	fi
	start=$(sed -n 's/^start //p' "$WOUT")
	[ -z "$start" ] && booting=$((booting + 1))
	if [ -n "$start" ] && [ "$start" != "$prev" ]; then
		ok "iteration $i: writer starts from the checked state" 1 "writer read $start, check had found $prev"
	fi
	ack=$(last_ack "$WOUT")
	if [ -n "$ack" ]; then acks=$((acks + ack - prev)); else ack=$prev; fi
	had_new=$(ls "$SD" | grep -c '\.new$')
	check "$ack"
	case "$CHECK_RC:$CHECK" in
	0:"ok value $ack") [ "$had_new" -gt 0 ] && dropped_new=$((dropped_new + 1)) ;;
	0:"ok value $((ack + 1))")
		inflight=$((inflight + 1))
		[ "$had_new" -gt 0 ] && kept_new=$((kept_new + 1)) ;;
	*) CHECK_RC=1 ;;
	esac
	if [ "$CHECK_RC" = 1 ]; then
		ok "iteration $i ($victim killed at ${ms} ms, last ack $ack)" 1 "$CHECK; writer: $(head -c 300 "$WERR")"
		break
	fi
	prev=$(sed -n 's/^ok value //p' <<<"$CHECK")
	left=$(ls "$SD" | grep '\.new$')
	[ -z "$left" ] || { ok "iteration $i: .new resolved by the open" 1 "left: $left"; break; }
done
t1=$(now_ms)
ok "$ITER kill iterations (writer and stand-in manager)" $((tl_fail - fails_before)) "see above"
echo "# part 1: $kills writer kills, $mkills manager kills ($booting before the writer started);" \
	"$inflight with the write in flight durable ($kept_new of them found as a committed N.new);" \
	"$dropped_new uncommitted N.new discarded; $acks writes acknowledged; $ITER iterations in $((t1 - t0)) ms"
kill_mgr
unset CRASHTPM_MGR

# ------------------------------------------------------------ part 2
if [ "$REAL_ITER" -eq 0 ]; then tl_done; fi
TPMFRONT=$HVSEC_BIN/hvsec-tpmfront
ts_need "$HVSEC" "$HVSECD" "$POLC" "$TPMFRONT" "$HVSEC_BIN/hvsec-vtpmd" "$HVSEC_BIN/hvsec-vtpm-managerd"
for t in swtpm tpm2_nvwrite tpm2_nvread; do
	command -v $t >/dev/null || { echo "# part 2 skipped: $t missing"; tl_done; }
done
T=$TL_TMP
"$POLC" compile --quiet "$HVSEC_SRC/policies/multi-tenant.xml" -o "$T/mt.bin" || { ok "policy" 1 ""; tl_done; }
G=$(mktemp -d /tmp/hvsec-vtpm-mgrcrash.XXXXXX)
chmod 0755 "$G"
SWTPM_PID=
trap 'hv vtpm manager stop >/dev/null 2>&1; [ -n "$SWTPM_PID" ] && kill $SWTPM_PID; rm -rf "$G"; ts_cleanup' EXIT
export HVSEC_VTPM_DIR=$G/state HVSEC_VTPM_MGR_DIR=$G/mgr
mkdir -p "$G/ptpm"
for _ in 1 2 3 4 5; do
	port=$((20000 + RANDOM % 20000))
	swtpm socket --tpm2 --server type=tcp,port=$port --ctrl type=tcp,port=$((port + 1)) \
		--flags not-need-init,startup-clear --tpmstate dir="$G/ptpm" >>"$G/swtpm.log" 2>&1 &
	SWTPM_PID=$!
	for _ in $(seq 100); do
		kill -0 $SWTPM_PID 2>/dev/null || { SWTPM_PID=; break; }
		(exec 3<>/dev/tcp/127.0.0.1/$((port + 1))) 2>/dev/null && break 2
		sleep 0.05
	done
	[ -n "$SWTPM_PID" ] && kill $SWTPM_PID
	SWTPM_PID=
done
[ -n "$SWTPM_PID" ] || { ok "swtpm" 1 "$(cat "$G/swtpm.log")"; tl_done; }
export HVSEC_VTPM_MGR_TCTI="swtpm:host=127.0.0.1,port=$port"
ts_start --policy "$T/mt.bin" || { ok "hvsecd" 1 ""; tl_done; }
expect "manager init" 0 '' -- hv vtpm manager init
expect "manager start" 0 '' -- hv vtpm manager start

cat >"$G/writer.sh" <<'EOF'
I=0x1500017
tpm2_nvreadpublic $I >/dev/null 2>&1 ||
	tpm2_nvdefine $I -C o -s 8 -a "ownerread|ownerwrite|authread|authwrite" >/dev/null 2>&1
v=$(tpm2_nvread $I -C o -s 8 2>/dev/null | tr -dc 0-9)
echo "start ${v:-none}"
n=$(expr "${v:-0}" + 0)
while :; do
	n=$((n + 1))
	printf '%08d' $n | tpm2_nvwrite $I -C o -i - >/dev/null 2>&1 || { echo "nvwrite $n failed"; sleep 60; }
	echo "ack $n"
done
EOF
cat >"$G/g.cfg" <<EOF
name = "cw"
uuid = "7e6d5c4b-3a29-4817-9605-f4e3d2c1b0a9"
kernel = "$TPMFRONT"
extra = "--exec /bin/sh $G/writer.sh"
access_control = ['policy=multi-tenant,label=Acme']
vtpm = ['backend=0,uuid=1a2b3c4d-5e6f-4a8b-9cad-beefcafe0001,manager=yes']
EOF
rk=0 rs=0 rinfl=0 prev=none
fails_before=$tl_fail
t0=$(now_ms)
for ((i = 1; i <= REAL_ITER; i++)); do
	out=$(hv create "$G/g.cfg" 2>&1) || { ok "round $i: create (the vTPM must start)" 1 "$out"; break; }
	wait_console cw '^start ' 30 || { ok "round $i: writer started" 1 "$(hv console cw | tail -5; hv console cw-vtpm0 | tail -5)"; break; }
	start=$(hv console cw | sed -n 's/^start //p' | tail -n 1)
	if [ "$prev" != none ]; then
		case "$start" in
		"$(printf '%08d' "$prev")") ;;
		"$(printf '%08d' $((prev + 1)))") rinfl=$((rinfl + 1)) ;;
		*) ok "round $i: no acknowledged write lost" 1 "read '$start', last ack $prev"; break ;;
		esac
	fi
	wait_console cw '^ack ' 20
	sleep_ms $((RANDOM % 400))
	if ((RANDOM % 2)); then
		hv vtpm manager stop >/dev/null 2>&1; rk=$((rk + 1)); victim=manager
	else
		hv destroy cw-vtpm0 >/dev/null 2>&1; rs=$((rs + 1)); victim=stub
	fi
	sleep_ms 50
	hv console cw >"$T/cw.out" 2>/dev/null
	a=$(grep -E '^ack [0-9]+$' "$T/cw.out" | tail -n 1 | cut -d' ' -f2)
	[ -n "$a" ] && prev=$a
	[ "$prev" = none ] && prev=0
	hv destroy cw >/dev/null 2>&1
	if [ "$victim" = manager ]; then
		out=$(hv vtpm manager start 2>&1) || { ok "round $i: manager restart" 1 "$out"; break; }
	fi
done
t1=$(now_ms)
ok "$REAL_ITER rounds of kill -9 (manager $rk, stub $rs)" $((tl_fail - fails_before)) "see above"
out=$(hv create "$G/g.cfg" 2>&1)
ok "after the last kill the vTPM starts" $? "$out"
wait_console cw '^start ' 30
start=$(hv console cw | sed -n 's/^start //p' | tail -n 1)
case "$start" in
"$(printf '%08d' "$prev")" | "$(printf '%08d' $((prev + 1)))") ok "last round: nothing acknowledged lost" 0 "" ;;
*) ok "last round: nothing acknowledged lost" 1 "read '$start', last ack $prev" ;;
esac
echo "# part 2: $REAL_ITER rounds in $((t1 - t0)) ms: manager killed $rk times, stub $rs; $rinfl with the write in flight durable"
tl_done
