#!/usr/bin/env bash
# paths.sh - hvsecd works wherever the checkout and the run dir are: the
# guest program and the run dir under a 0700 directory (a clone under
# `mktemp -d`, /root) must not stop guests of other uids from starting and
# reaching XenStore.  Also: creates that cannot work fail, with the reason
# (a kernel guests may not execute, a guest that dies before its first
# hypercall, no directory guests can reach), and start-up messages.
source "$(dirname "$0")/lib-hv.sh"

expect "testguest --help: usage" 0 'usage: hvsec-testguest' -- "$TESTGUEST" --help
expect "run dir with a missing parent: says which" 1 "parent $TL_TMP/nope does not exist" -- \
	timeout 10 "$HVSECD" --run-dir "$TL_TMP/nope/run" --uid-base "$HV_UID_BASE"

# Everything below a directory only root may traverse.
LOCKED=$TL_TMP/locked
mkdir -p "$LOCKED/bin"
chmod 700 "$LOCKED"
cp "$TESTGUEST" "$LOCKED/bin/guest"
chmod 755 "$LOCKED/bin" "$LOCKED/bin/guest"
TESTGUEST=$LOCKED/bin/guest
RUN=$LOCKED/run

hv_start || { echo "0 passed, 1 failed"; exit 1; }
gdir=$(sed -n 's|^hvsecd: guests reach XenStore at \(.*\)/xenstored$|\1|p' "$TL_TMP/hvsecd.log")
[ -n "$gdir" ] && [ -S "$gdir/xenstored" ]
ok "the guests' XenStore socket exists" $? "$(cat "$TL_TMP/hvsecd.log")"
case $gdir in "$LOCKED"/*) false ;; esac
ok "and is outside the run dir" $? "$gdir"
expect "guest dir 0711: traversable, not listable" 0 '^drwx--x--x' -- ls -ld "$gdir"
expect "guest socket 0666 (identity is SO_PEERCRED)" 0 '^srw-rw-rw-' -- ls -l "$gdir/xenstored"

A=$(guest a -- whoami write:data/x=1 read:data/x hold)
ok "guest under a 0700 directory starts" $? "$A"
check "it runs" "$A" "start: ok domain $A"
check "it reaches XenStore (write)" "$A" "write:data/x=1: ok"
check "it reaches XenStore (read)" "$A" "read:data/x: ok /local/domain/$A/data/x = \"1\""
if [ "$(id -u)" = 0 ]; then
	expect "it runs as its own uid" 0 "uid=$((HV_UID_BASE + A))" -- ctl info "$A"
	expect "a stranger's uid is still refused by XenStore" 1 '' -- \
		setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env XENSTORED_PATH="$gdir/xenstored" timeout 10 xenstore-read /local/domain/$A/data/x
fi

cp /bin/true "$LOCKED/bin/noexec"
chmod 644 "$LOCKED/bin/noexec"
expect "a kernel guests may not execute: create fails, says why" 1 \
	'EACCES.*not a regular file every uid may execute' -- ctl create nx "$LOCKED/bin/noexec"
expect "a directory as kernel: create fails" 1 'EACCES.*not a regular file' -- ctl create nd "$LOCKED/bin"
printf '#!/bin/sh\necho "cannot find my disk"\nexit 3\n' >"$LOCKED/bin/early"
chmod 755 "$LOCKED/bin/early"
expect "a guest dying before its first hypercall: create fails with its last word" 1 \
	'ESRCH.*died during start-up, exit status 3: console: cannot find my disk' -- ctl create early "$LOCKED/bin/early"
expect "a crashing program: create fails" 1 'ESRCH.*died during start-up' -- ctl create f /bin/false
expect "a program that just ends cleanly: created" 0 '^domid' -- ctl create t /bin/true
expect "paused create does not wait" 0 '^domid' -- ctl create p "$TESTGUEST" -p -- whoami
hv_stop
[ ! -e "$gdir" ]; ok "guest dir removed at exit" $? "$(ls -la "$gdir" 2>&1)"

# No directory guests can reach: hvsecd says so and starts no guest.
mkdir -p "$TL_TMP/closed/g"
chmod 700 "$TL_TMP/closed"
if [ "$(id -u)" = 0 ]; then
	hv_start --guest-dir "$TL_TMP/closed/g" || { echo "0 passed, 1 failed"; exit 1; }
	grep -q 'warning: no guest can be started: .*closed is not searchable by other uids' "$TL_TMP/hvsecd.log"
	ok "unreachable guest dir: said at start-up" $? "$(cat "$TL_TMP/hvsecd.log")"
	expect "unreachable guest dir: create refused, says why" 1 \
		'ENOTCONN.*cannot start guests: no directory guests can reach' -- ctl create u "$TESTGUEST" -- hold
	expect "dom0 tools still work" 0 'hypercalls' -- ctl stats
	hv_stop
	[ -z "$(ls -A "$TL_TMP/closed/g")" ]; ok "nothing left in the refused guest dir" $? "$(ls -A "$TL_TMP/closed/g")"
fi
hv_done
