#!/usr/bin/env bash
# crash.sh - crash consistency of a vTPM instance's state, the instance
# half of the manager issue's "kill -9 the manager and instances at random
# points during state writes: no instance corrupt, no acknowledged write
# lost".  tests/vtpm/crashtpm writes an NV index in a loop on the file
# store and prints "ack N" only after vtpm_tpm_process answered success;
# this script kills it with SIGKILL after a random 0-30 ms (power-on,
# Startup, the store's write, fsync, rename and directory fsync are all
# inside that window), then `crashtpm check` must load the state and find
# the last acknowledged value or the one after it (the write in flight).
#
# Every ~10th iteration also kills a writer manufacturing a TPM in a fresh
# directory: what is left is no state at all or a loadable TPM, never a
# corrupt one.  After every kill, any ".NAME.tmp" left behind must be gone
# once the next open ran, and a temporary is never taken for state (fixed
# cases below plant valid and garbage temporaries).  The checker's own
# verdicts are tested first on a corrupted copy (negative controls).
#
# CRASH_ITER iterations (default 300: 12-17 s on the 2-vCPU test VM,
# about 20 s under SAN, where power-on is slower and more kills land in
# it).  Kill -9 exercises process death, not power loss: the page cache
# survives, so this proves the atomic-replace protocol and the ack
# ordering, not that fsync reached the disk.
#
# The manager half joins later: kill_round gets a manager process to kill
# beside the writer, and crashtpm a store that goes through it.
source "$(dirname "$0")/../lib.sh"

: "${HVSEC_BUILD:=build}"
CRASH=$HVSEC_SRC/$HVSEC_BUILD/tests/vtpm/crashtpm
[ -x "$CRASH" ] || CRASH=$HVSEC_BUILD/tests/vtpm/crashtpm
if [ ! -x "$CRASH" ]; then
	echo "FAIL: missing $CRASH (make BUILD=$HVSEC_BUILD)"
	echo "0 passed, 1 failed"
	exit 1
fi
ITER=${CRASH_ITER:-300}
MANUFACTURE_EVERY=10
KILL_MAX_MS=30
MANUFACTURE_MAX_MS=16

# A sleep of MS milliseconds without forking: a read that times out on a
# FIFO nobody writes.
mkfifo "$TL_TMP/tick"
exec {TICK}<>"$TL_TMP/tick"
sleep_ms() {
	local t
	printf -v t '%d.%03d' $(($1 / 1000)) $(($1 % 1000))
	read -r -t "$t" -u "$TICK" _ || true
}

# temps DIR: the temporaries of the file store present in DIR.
temps() {
	local f out=()
	for f in "$1"/.permall.tmp "$1"/.volatilestate.tmp "$1"/.savestate.tmp; do
		[ -e "$f" ] && out+=("${f##*/}")
	done
	echo "${out[*]:-}"
}

# last_ack FILE: N of the last complete "ack N" line, or nothing.  A line
# cut by the kill (no newline yet) is not an acknowledgement.
last_ack() {
	local f=$1
	[ -s "$f" ] || return 0
	if [ "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" = '\n' ]; then
		grep -E '^ack [0-9]+$' "$f" | tail -n 1 | cut -d' ' -f2
	else
		head -n -1 "$f" | grep -E '^ack [0-9]+$' | tail -n 1 | cut -d' ' -f2
	fi
}

# kill_round DIR MS: a writer on DIR killed after MS ms.  Sets WSTATUS
# (137 when the kill found it running), WOUT, WERR.
WOUT=$TL_TMP/writer.out WERR=$TL_TMP/writer.err
kill_round() {
	local pid
	# Emptied here: a kill that lands before the child's own redirection
	# would leave the last round's lines for this one's.
	: >"$WOUT"
	: >"$WERR"
	"$CRASH" writer "$1" >"$WOUT" 2>"$WERR" &
	pid=$!
	sleep_ms "$2"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	WSTATUS=$?
}

# kill_after DIR N: a writer on DIR killed once it acknowledged N writes
# (or after 10 s).
kill_after() {
	local pid n=0
	: >"$WOUT"
	: >"$WERR"
	"$CRASH" writer "$1" >"$WOUT" 2>"$WERR" &
	pid=$!
	while [ "$(grep -c '^ack ' "$WOUT")" -lt "$2" ] && [ $((n += 1)) -le 1000 ]; do
		sleep_ms 10
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	WSTATUS=$?
}

# check DIR LAST_ACK: sets CHECK (the output) and CHECK_RC.
check() {
	CHECK=$("$CRASH" check "$1" "$2" 2>&1)
	CHECK_RC=$?
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ------------------------------------------------------ the checker itself
SD=$TL_TMP/state
mkdir -m 0700 "$SD"
expect "usage" 2 'usage: crashtpm' -- "$CRASH" check "$SD"
expect "bad LAST_ACK" 2 'usage: crashtpm' -- "$CRASH" check "$SD" -1
expect "empty dir: no state" 3 '^no state$' -- "$CRASH" check "$SD" 0
expect "empty dir, something acknowledged: lost" 1 \
	'^FAIL no state, but write 5 was acknowledged$' -- "$CRASH" check "$SD" 5
expect "check wrote nothing" 0 '^$' -- ls -A "$SD"

kill_after "$SD" 5
ack=$(last_ack "$WOUT")
ok "a writer acknowledges writes" "$([ "$WSTATUS" = 137 ] && [ "${ack:-0}" -ge 5 ]; echo $?)" \
	"status $WSTATUS, last ack '${ack}': $(head -c 500 "$WERR")"
ack=${ack:-5}
expect "check: the last ack" 0 "^ok value ($ack|$((ack + 1)))$" -- "$CRASH" check "$SD" "$ack"
expect "check: a lost write" 1 "acknowledged write $((ack + 2)) lost" -- \
	"$CRASH" check "$SD" $((ack + 2))
expect "check: a value from nowhere" 1 'more than the one write' -- \
	"$CRASH" check "$SD" $((ack - 2))

BAD=$TL_TMP/bad
mkdir -m 0700 "$BAD"
size=$(stat -c %s "$SD/permall")
cp "$SD/permall" "$BAD/permall"
byte=$(od -An -tu1 -j $((size / 2)) -N 1 "$SD/permall" | tr -d ' ')
printf "\\x$(printf %02x $((255 - byte)))" |
	dd of="$BAD/permall" bs=1 seek=$((size / 2)) conv=notrunc status=none
expect "check: a flipped byte is corrupt" 1 '^FAIL corrupt state: permall: Bad message$' -- \
	"$CRASH" check "$BAD" "$ack"
head -c $((size - 1)) "$SD/permall" >"$BAD/permall"
expect "check: a truncated file is corrupt" 1 '^FAIL corrupt state' -- \
	"$CRASH" check "$BAD" "$ack"
rm -f "$BAD/permall"

# A temporary is never state: a valid state file as the only
# ".permall.tmp" is not a TPM, and it is gone after the open.
cp "$SD/permall" "$BAD/.permall.tmp"
expect "a valid temporary alone is no state" 3 '^no state$' -- "$CRASH" check "$BAD" 0
expect "... and is removed" 0 '^$' -- ls -A "$BAD"

# ----------------------------------------------------------- the kill loop
kills=0 booting=0 midwrite=0 inflight=0 acks=0 manuf=0 manuf_none=0 manuf_state=0
prev=$(sed -n 's/^ok value //p' <<<"$("$CRASH" check "$SD" "$ack")")
prev=${prev:-$ack}
have_state=1
fails_before=$tl_fail
t0=$(now_ms)
for ((i = 1; i <= ITER; i++)); do
	ms=$((RANDOM % (KILL_MAX_MS + 1)))
	kill_round "$SD" "$ms"
	if [ "$WSTATUS" != 137 ]; then
		ok "iteration $i: writer killed" 1 \
			"exited $WSTATUS by itself after ${ms} ms: $(head -c 500 "$WERR")"
		continue
	fi
	kills=$((kills + 1))
	left=$(temps "$SD")
	[ -n "$left" ] && midwrite=$((midwrite + 1))
	start=$(sed -n 's/^start //p' "$WOUT")
	[ -z "$start" ] && booting=$((booting + 1))
	if [ -n "$start" ] && [ "$start" != "$prev" ]; then
		ok "iteration $i: writer starts from the checked state" 1 \
			"writer read $start, check had found $prev"
	fi
	ack=$(last_ack "$WOUT")
	if [ -n "$ack" ]; then
		acks=$((acks + ack - prev))
	else
		ack=$prev
	fi
	check "$SD" "$ack"
	case "$CHECK_RC:$CHECK" in
	0:"ok value $ack") ;;
	0:"ok value $((ack + 1))") inflight=$((inflight + 1)) ;;
	3:"no state") [ "$have_state" = 0 ] || CHECK_RC=1 ;;
	*) CHECK_RC=1 ;;
	esac
	if [ "$CHECK_RC" = 1 ]; then
		ok "iteration $i (kill at ${ms} ms, last ack $ack, temporaries '$left')" 1 "$CHECK"
		break # the state is broken: later iterations would only echo it
	fi
	prev=$(sed -n 's/^ok value //p' <<<"$CHECK")
	left=$(temps "$SD")
	if [ -n "$left" ]; then
		ok "iteration $i: temporaries removed by the open" 1 "left: $left"
	fi

	((i % MANUFACTURE_EVERY == 0)) || continue
	# Kill during manufacture: a fresh directory, whose first state is
	# stored 6-14 ms after the start here, so 0-15 ms straddles it.
	FD=$TL_TMP/fresh.$i
	mkdir -m 0700 "$FD"
	kill_round "$FD" $((RANDOM % MANUFACTURE_MAX_MS))
	[ "$WSTATUS" = 137 ] && kills=$((kills + 1)) manuf=$((manuf + 1))
	[ -n "$(temps "$FD")" ] && midwrite=$((midwrite + 1))
	a=$(last_ack "$WOUT")
	check "$FD" "${a:-0}"
	case "$CHECK_RC:$CHECK" in
	3:"no state") manuf_none=$((manuf_none + 1)) ;;
	0:"ok value "*) manuf_state=$((manuf_state + 1)) ;;
	*) ok "manufacture killed at iteration $i (writer status $WSTATUS)" 1 "$CHECK" ;;
	esac
	left=$(temps "$FD")
	[ -z "$left" ] || ok "manufacture $i: temporaries removed" 1 "left: $left"
	rm -rf "$FD"
done
t1=$(now_ms)
ok "$ITER kill iterations" $((tl_fail - fails_before)) "see above"

# A stale temporary holding a valid but different state is ignored: the
# state in permall wins, the temporary is removed.
cp "$SD/permall" "$TL_TMP/old.permall"
kill_after "$SD" 3
ack=$(last_ack "$WOUT")
check "$SD" "${ack:-$prev}"
now=$(sed -n 's/^ok value //p' <<<"$CHECK")
cp "$TL_TMP/old.permall" "$SD/.permall.tmp"
printf 'garbage' >"$SD/.volatilestate.tmp"
expect "a stale valid temporary is not the state" 0 "^ok value ${now:-x}$" -- \
	"$CRASH" check "$SD" "${now:-0}"
expect "... and the open removed the temporaries" 0 '^permall$' -- ls -A "$SD"

echo "# $kills kills ($booting during power-on and Startup; $manuf during" \
	"manufacture: $manuf_none left no state, $manuf_state a loadable TPM), $midwrite with a temporary left" \
	"(killed mid-write), $inflight with the unacknowledged write durable;" \
	"$acks writes acknowledged; $ITER iterations in $((t1 - t0)) ms"
tl_done
