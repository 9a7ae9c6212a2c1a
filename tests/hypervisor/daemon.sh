#!/usr/bin/env bash
# daemon.sh - hvsecd's start-up contract: built-in DEFAULT policy without
# --policy, fail-closed with a policy it cannot load (and why), socket
# permissions, a second daemon on the same run dir, the control socket
# refusing other uids, a malformed control message, --daemon.
source "$(dirname "$0")/lib-hv.sh"

expect "--help" 0 'usage: hvsecd' -- "$HVSECD" --help
expect "no run dir: usage" 2 'usage' -- "$HVSECD"

hv_start || { echo "0 passed, 1 failed"; exit 1; }
grep -q 'built-in DEFAULT policy' "$TL_TMP/hvsecd.log"; ok "says it uses the DEFAULT policy" $? "$(cat "$TL_TMP/hvsecd.log")"
expect "policy-get: builtin" 0 'policy DEFAULT .* builtin' -- ctl policy-get
expect "control socket 0600" 0 '^srw-------' -- ls -l "$RUN/control"
expect "unlabeled guest starts" 0 '^domid' -- ctl create u "$TESTGUEST" -- whoami hold
check "guest sees itself" 1 "whoami: ok domid 1 name u label __UNLABELED__"
if id nobody >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	expect "other uid refused on the control socket" 2 'connect|transport' -- \
		setpriv --reuid=nobody --regid=nogroup --clear-groups "$HVCTL" "$RUN" stats
fi
expect "garbage on the control socket: daemon survives" 0 'hypercalls' -- bash -c \
	"python3 -c 'import socket; s=socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.connect(\"$RUN/control\"); s.send(b\"\\x00\"*40); print(len(s.recv(100)))' >/dev/null; $(printf '%q ' "$HVCTL" "$RUN") stats"
hv_stop

echo garbage >"$TL_TMP/bad.bin"
hv_start --policy "$TL_TMP/bad.bin" || { echo "0 passed, 1 failed"; exit 1; }
grep -q 'fail-closed' "$TL_TMP/hvsecd.log"; ok "says fail-closed" $? "$(cat "$TL_TMP/hvsecd.log")"
expect "policy-get: fail-closed, with the reason" 0 'fail-closed' -- ctl policy-get
expect "no guest starts" 1 'EACCES' -- ctl create u "$TESTGUEST" -- hold
"$POLC" compile --quiet "$HVSEC_SRC/tests/hypervisor/hv-test.xml" -o "$TL_TMP/hvt.bin"
expect "loading a valid policy leaves fail-closed" 0 'applied 1' -- ctl policy-load "$TL_TMP/hvt.bin"
expect "then guests start" 0 '^domid' -- ctl create u "$TESTGUEST" -l Red -- hold
hv_stop

hv_start --policy "$TL_TMP/missing.bin" || { echo "0 passed, 1 failed"; exit 1; }
grep -q 'cannot open' "$TL_TMP/hvsecd.log"; ok "missing policy: says why" $? "$(cat "$TL_TMP/hvsecd.log")"
expect "missing policy: no guest starts" 1 'EACCES' -- ctl create u "$TESTGUEST" -- hold
hv_stop

hv_start --permissive --policy "$TL_TMP/hvt.bin" || { echo "0 passed, 1 failed"; exit 1; }
expect "permissive: Foreign allowed (logged)" 0 '^domid' -- ctl create f "$TESTGUEST" -l Foreign -- hold
expect "permissive flag in policy-get" 0 'permissive' -- ctl policy-get
hv_stop

rm -rf "$RUN"
# Output to a file: a detached daemon must not hold the caller's pipes,
# but if it did, this test must not hang on it.
timeout 10 "$HVSECD" --run-dir "$RUN" --uid-base "$HV_UID_BASE" --daemon >"$TL_TMP/d.out" 2>&1
ok "--daemon returns 0 once ready" $? "$(cat "$TL_TMP/d.out")"
pid=$(cat "$RUN/hvsecd.pid" 2>/dev/null)
expect "daemon answers" 0 'hypercalls' -- ctl stats
expect "daemon logs to DIR/hvsecd.log" 0 'ready' -- cat "$RUN/hvsecd.log"
[ -n "$pid" ] && kill "$pid"
for _ in $(seq 50); do [ -S "$RUN/control" ] || break; sleep 0.1; done
[ ! -e "$RUN/control" ]; ok "sockets removed on SIGTERM" $? "still there"
hv_start --no-isolation || { echo "0 passed, 1 failed"; exit 1; }
grep -q 'same-uid (weak)' "$TL_TMP/hvsecd.log"; ok "same-uid mode says it is weak" $? "$(cat "$TL_TMP/hvsecd.log")"
n=$(next_id)
A=$(guest a -p -- offer:$((n + 1)) write:data/s=1 hold)
B=$(guest b -p -- bind:$A read:/local/domain/$A/data/s write:data/t=2 hold)
ctl unpause "$A" >/dev/null; ctl unpause "$B" >/dev/null
check "same-uid: XenStore knows the guest by its pid" "$A" "write:data/s=1: ok /local/domain/$A/data/s"
check "same-uid: permissions between guests still apply" "$B" "read:/local/domain/$A/data/s: error -EACCES"
check "same-uid: binding works" "$B" "bind:$A: ok"
expect "same-uid: the guest wrote as itself" 0 "^2\$" -- bash -c "XENSTORED_PATH=$RUN/xenstored timeout 10 xenstore-read /local/domain/$B/data/t"
hv_stop

if [ "$(id -u)" = 0 ]; then
	hv_start || { echo "0 passed, 1 failed"; exit 1; }
	expect "a second daemon on the same uid range refuses to start" 1 'another hvsecd uses guest uids' -- \
		timeout 10 "$HVSECD" --run-dir "$TL_TMP/run2" --uid-base "$HV_UID_BASE"
fi
hv_done
