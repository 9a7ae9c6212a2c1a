#!/usr/bin/env bash
# backendd.sh - hvsec-vtpm-backendd end to end, without Xen: hvsecd serves
# XenStore (the dispatcher needs nothing else), this script writes and
# removes devices as libxl does (one transaction each; removal = online=0
# + state=Closing, wait for Closed, then rm), and a stand-in for
# hvsec-vtpmd-xen, copied next to the dispatcher, records its command
# line, goes InitWait, writes Closed on SIGTERM, exits when its directory
# goes, or crashes or fails when told to.  hvsec-vtpmd-xen itself needs
# /dev/xen: it is tested in `make test-xen`.
source "$(dirname "$0")/../hypervisor/lib-hv.sh"

BD_BIN=$HVSEC_BIN/hvsec-vtpm-backendd
if [ ! -x "$BD_BIN" ]; then
	echo "FAIL: missing $BD_BIN (make BUILD=$HVSEC_BUILD; needs libxen-dev)"
	echo "0 passed, 1 failed"
	exit 1
fi
command -v xenstore-write >/dev/null || bash "$HVSEC_SRC/scripts/deps.sh" test >/dev/null 2>&1
ulimit -c 0 # the stand-in's crash

U1=0123abcd-4567-89ef-0123-456789abcdef
U2=fedcba98-7654-3210-fedc-ba9876543210
U3=11111111-2222-3333-4444-555555555555
U4=aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee

# ------------------------------------------------------------ command line
expect "--help" 0 'usage: hvsec-vtpm-backendd' -- "$BD_BIN" --help
expect "--help names the exit codes" 0 'Exit status: 0' -- "$BD_BIN" --help
expect "--help names the child's command line" 0 \
	'hvsec-vtpmd-xen --frontend-id G --devid N --state-dir DIR/UUID --uuid UUID' -- "$BD_BIN" --help
expect "bad --once-for" 2 '--once-for "3": not G/N' -- "$BD_BIN" --once-for 3
expect "unknown option" 2 '--frob: unknown option' -- "$BD_BIN" --frob
expect "extra argument" 2 'unexpected argument "x"' -- "$BD_BIN" x
mkdir -p "$TL_TMP/lonely"
cp "$BD_BIN" "$TL_TMP/lonely/"
expect "no hvsec-vtpmd-xen next to it" 1 'lonely/hvsec-vtpmd-xen: No such file' -- \
	"$TL_TMP/lonely/hvsec-vtpm-backendd" --state-root "$TL_TMP/nostate"

# ------------------------------------------------------------ set-up
BIN=$TL_TMP/bin
export FAKE_DIR=$TL_TMP/fake
mkdir -p "$BIN" "$FAKE_DIR"
cp "$BD_BIN" "$BIN/"
BD=$BIN/hvsec-vtpm-backendd
cat >"$BIN/hvsec-vtpmd-xen" <<'EOF'
#!/usr/bin/env bash
# The stand-in: argv is --frontend-id G --devid N --state-dir D --uuid U.
g=$2 n=$4
be=/local/domain/0/backend/vtpm/$g/$n
echo "vtpmd: stand-in for $g/$n"
echo "$*" >>"$FAKE_DIR/args.$g.$n"
mode=$(cat "$FAKE_DIR/mode.$g.$n" 2>/dev/null)
case $mode in
crash) echo "vtpmd: crashing"; kill -SEGV $$ ;;
fail) echo "vtpmd: failing"; exit 3 ;;
esac
trap 'echo "vtpmd: SIGTERM"; xenstore-write "$be/ready" 0 "$be/state" 6; exit 0' TERM
xenstore-write "$be/feature-protocol-v2" 1 "$be/state" 2
printf 'no newline at the end'
closed=
while xenstore-exists "$be" 2>/dev/null; do
	# "closes": answers online=0 itself, as the backend should.
	if [ "$mode" = closes ] && [ -z "$closed" ] &&
		[ "$(xenstore-read "$be/online" 2>/dev/null)" = 0 ]; then
		echo "vtpmd: online=0: Closed"
		xenstore-write "$be/ready" 0 "$be/state" 6
		closed=1
	fi
	sleep 0.05
done
echo
echo "vtpmd: directory gone"
exit 0
EOF
chmod 0755 "$BIN/hvsec-vtpmd-xen"

hv_start || { echo "0 passed, 1 failed"; exit 1; }
export XENSTORED_PATH=$RUN/xenstored
xs() { timeout 10 "$@"; }
ROOT=$TL_TMP/state
LOG=$TL_TMP/bd.log
BE=/local/domain/0/backend/vtpm

# wait_for SECONDS CMD...: until CMD succeeds.
wait_for() {
	local n=$(($1 * 20))
	shift
	for _ in $(seq "$n"); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}
state_is() { [ "$(xs xenstore-read "$BE/$1/state" 2>/dev/null)" = "$2" ]; }
log_has() { grep -qF -- "$1" "$LOG"; }

# dev G N UUID [BACKEND_UUID] [FRONTEND_ID] [STATE]: what libxl writes,
# in one transaction (xenstore-write is one).
dev() {
	local g=$1 n=$2 u=$3 bu=${4:-$3} fid=${5:-$1} st=${6:-1}
	local fe=/local/domain/$g/device/vtpm/$n be=$BE/$g/$n lx=/libxl/$g/device/vtpm/$n
	xs xenstore-write "$fe/backend" "$be" "$fe/backend-id" 0 "$fe/handle" "$n" \
		"$fe/state" 1 "$be/frontend" "$fe" "$be/frontend-id" "$fid" \
		"$be/online" 1 "$be/state" "$st" "$be/handle" "$n" "$be/uuid" "$bu" \
		"$be/resume" False "$lx/frontend" "$fe" "$lx/backend" "$be" \
		"$lx/frontend-id" "$fid" "$lx/online" 1 "$lx/state" 1 "$lx/uuid" "$u"
}
# gone G N: libxl__device_destroy.
gone() {
	xs xenstore-rm "/local/domain/$1/device/vtpm/$2" "$BE/$1/$2" "/libxl/$1/device/vtpm/$2" 2>/dev/null
}
# remove G N: libxl's removal: online=0, Closing, wait for Closed, rm.
remove() {
	xs xenstore-write "$BE/$1/$2/online" 0 "$BE/$1/$2/state" 5
	wait_for 5 state_is "$1/$2" 6
	local rc=$?
	gone "$1" "$2"
	return $rc
}
runs() { [ -f "$FAKE_DIR/args.$1.$2" ] && wc -l <"$FAKE_DIR/args.$1.$2" || echo 0; }

# ------------------------------------------------------------ our domid
xs xenstore-rm /local/domain/0/domid 2>/dev/null
expect "no domid, not dom0: exit 1" 1 "reading XenStore's domid" -- \
	timeout 10 "$BD" --state-root "$ROOT"
xs xenstore-write /local/domain/0/domid 0

# ------------------------------------------------------------ the daemon
"$BD" --state-root "$ROOT" --log "$LOG" &
BD_PID=$!
wait_for 5 log_has "watching $BE"
ok "starts, watches $BE" $? "$(cat "$LOG")"
expect "state root 0700" 0 '^700$' -- stat -c %a "$ROOT"
expect "a second dispatcher on the same root" 1 'another hvsec-vtpm-backendd serves it' -- \
	timeout 10 "$BD" --state-root "$ROOT"

# A device as libxl makes it: served with the /libxl uuid.
dev 3 0 "$U1"
wait_for 5 state_is 3/0 2
ok "3/0: InitWait (the backend runs)" $? "$(tail -5 "$LOG")"
expect "3/0: the backend's command line" 0 \
	"^--frontend-id 3 --devid 0 --state-dir $ROOT/$U1 --uuid $U1\$" -- cat "$FAKE_DIR/args.3.0"
expect "3/0: state directory 0700" 0 '^700$' -- stat -c %a "$ROOT/$U1"
wait_for 5 log_has "[3/0] vtpmd: stand-in for 3/0"
ok "3/0: its output, prefixed" $? "$(tail -5 "$LOG")"
touch "$ROOT/$U1/permall"

# libxl's removal: online=0.  This backend does not answer it by itself:
# after the grace it is stopped, and writes Closed on SIGTERM.
remove 3 0
ok "3/0: removal reaches Closed" $? "$(tail -5 "$LOG")"
wait_for 5 log_has "3/0: backend exited with status 0"
ok "3/0: backend exited 0" $? "$(tail -5 "$LOG")"
expect "3/0: stopped after the grace" 0 '3/0: not Closed 2000 ms after online=0: stopping pid' -- cat "$LOG"
expect "3/0: the partial line was logged" 0 'no newline at the end' -- cat "$LOG"

# A backend that answers online=0 itself is not signalled.
echo closes >"$FAKE_DIR/mode.15.0"
dev 15 0 "$U4"
wait_for 5 state_is 15/0 2
remove 15 0
ok "15/0: removal reaches Closed" $? "$(tail -5 "$LOG")"
wait_for 5 log_has "15/0: backend exited with status 0"
ok "15/0: backend exited 0" $? "$(tail -5 "$LOG")"
expect "15/0: closed by itself, not stopped" 1 '' -- \
	grep -E '15/0: not Closed|\[15/0\] vtpmd: SIGTERM' "$LOG"

# The same uuid again (the guest's second boot): the same state.
dev 11 0 "$U1"
wait_for 5 state_is 11/0 2
ok "11/0: served" $? "$(tail -5 "$LOG")"
expect "11/0: same state directory, state kept" 0 "$ROOT/$U1" -- \
	bash -c "grep -o -- '--state-dir [^ ]*' '$FAKE_DIR/args.11.0' && test -f '$ROOT/$U1/permall' && echo '$ROOT/$U1'"
# xl destroy (forced): frontend gone with online=0 in one go; here the
# backend's own exit on a removed directory.
gone 11 0
wait_for 5 log_has "11/0: backend exited with status 0"
ok "11/0: directory removed: the backend exits by itself" $? "$(tail -5 "$LOG")"

# Upper-case uuid: normalized.
U1UP=$(tr a-f A-F <<<"$U2")
dev 5 0 "$U1UP" "$U1UP"
wait_for 5 state_is 5/0 2
expect "5/0: upper-case uuid, lower-case directory" 0 "--uuid $U2\$" -- cat "$FAKE_DIR/args.5.0"
gone 5 0

# Refusals: `error` + Closing, nothing started.
dev 4 0 "$U1" "$U2"
wait_for 5 state_is 4/0 5
ok "4/0: uuid mismatch: Closing" $? "$(tail -5 "$LOG")"
expect "4/0: error names the mismatch" 0 "uuid $U1 in /libxl differs from $U2" -- \
	xs xenstore-read "$BE/4/0/error"
expect "4/0: nothing started" 0 '^0$' -- runs 4 0
remove 4 0
ok "4/0: refused device: removal reaches Closed" $? "$(tail -5 "$LOG")"

dev 9 0 "$U3" "$U3" 10
wait_for 5 state_is 9/0 5
expect "9/0: frontend-id of another domain refused" 0 'frontend-id is "10", but the directory is domain 9' -- \
	xs xenstore-read "$BE/9/0/error"
gone 9 0

dev 12 0 "00000000-0000-0000-0000-000000000000"
wait_for 5 state_is 12/0 5
expect "12/0: nil uuid refused" 0 'nil UUID' -- xs xenstore-read "$BE/12/0/error"
gone 12 0

# One uuid, one backend.
dev 6 0 "$U3"
wait_for 5 state_is 6/0 2
dev 7 0 "$U3"
wait_for 5 state_is 7/0 5
expect "7/0: uuid in use by 6/0: refused" 0 "uuid $U3 is in use by domain 6 device 0" -- \
	xs xenstore-read "$BE/7/0/error"
expect "7/0: nothing started" 0 '^0$' -- runs 7 0
gone 7 0

# A backend that ran already (state not 1): left alone.
dev 10 0 "$U4" "$U4" 10 4
wait_for 5 log_has "10/0: left alone: state is \"4\""
ok "10/0: served already: left alone" $? "$(tail -5 "$LOG")"
expect "10/0: nothing started" 0 '^0$' -- runs 10 0
gone 10 0

# A crash: logged, `error` + Closing, not restarted; removal then gets
# Closed from the dispatcher.
echo crash >"$FAKE_DIR/mode.8.0"
dev 8 0 "$U4"
wait_for 5 state_is 8/0 5
ok "8/0: crash: Closing" $? "$(tail -5 "$LOG")"
expect "8/0: error says how it ended" 0 'hvsec-vtpmd-xen killed by signal 11 .*not restarted' -- \
	xs xenstore-read "$BE/8/0/error"
expect "8/0: logged" 0 '8/0: backend killed by signal 11' -- cat "$LOG"
xs xenstore-write "$BE/8/0/frontend-id" 8 # any event: a rescan
sleep 0.3
expect "8/0: not restarted" 0 '^1$' -- runs 8 0
remove 8 0
ok "8/0: crashed device: removal reaches Closed" $? "$(tail -5 "$LOG")"

# Names that no toolstack writes are ignored.
xs xenstore-write "$BE/abc/0/online" 1 "$BE/13/x1/online" 1
wait_for 5 log_has "$BE/abc: not a number"
ok "a non-numeric domain entry is ignored" $? "$(tail -5 "$LOG")"
wait_for 5 log_has "$BE/13/x1: not a number"
ok "a non-numeric device entry is ignored" $? "$(tail -5 "$LOG")"
xs xenstore-rm "$BE/abc" "$BE/13"

# Waiting for a toolstack that writes node by node.
fe=/local/domain/14/device/vtpm/0
xs xenstore-write "$BE/14/0/online" 1 "$BE/14/0/state" 1 "$BE/14/0/frontend-id" 14
wait_for 5 log_has "14/0: waiting: no uuid yet"
ok "14/0: incomplete: waits" $? "$(tail -5 "$LOG")"
xs xenstore-write "/libxl/14/device/vtpm/0/uuid" "$U2"
wait_for 5 state_is 14/0 2
ok "14/0: served once the uuid is there" $? "$(tail -5 "$LOG")"

# SIGTERM: every backend told (6/0, 14/0 write Closed), then exit 0.
kill -TERM "$BD_PID"
wait "$BD_PID"
rc=$?
ok "SIGTERM: exit 0" $rc "exit $rc"
expect "SIGTERM: 6/0 Closed" 0 '^6$' -- xs xenstore-read "$BE/6/0/state"
expect "SIGTERM: 14/0 Closed" 0 '^6$' -- xs xenstore-read "$BE/14/0/state"
gone 6 0
gone 14 0

# ------------------------------------------------------------ --once-for
LOG=$TL_TMP/once.log
"$BD" --state-root "$ROOT" --log "$LOG" --once-for 20/1 &
ONCE=$!
wait_for 5 log_has "only"
dev 21 1 "$U2" # not ours
dev 20 1 "$U4"
wait_for 5 state_is 20/1 2
ok "--once-for 20/1: served" $? "$(tail -5 "$LOG")"
expect "--once-for: other devices untouched" 0 '^0$' -- runs 21 1
gone 20 1
wait "$ONCE"
rc=$?
ok "--once-for: exit 0 when its backend exits 0" $rc "exit $rc"
gone 21 1

echo fail >"$FAKE_DIR/mode.22.0"
dev 22 0 "$U4"
expect "--once-for: a failed backend: exit 1" 1 '22/0: backend exited with status 3' -- \
	timeout 20 "$BD" --state-root "$ROOT" --once-for 22/0
expect "--once-for: the failure in error" 0 'hvsec-vtpmd-xen exited with status 3' -- \
	xs xenstore-read "$BE/22/0/error"
gone 22 0

dev 23 0 "$U1" "$U2"
expect "--once-for: a refused device: exit 1" 1 '23/0: refused: uuid' -- \
	timeout 20 "$BD" --state-root "$ROOT" --once-for 23/0
gone 23 0

tl_done
