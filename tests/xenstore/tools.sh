#!/usr/bin/env bash
# tools.sh - hvsec-xenstored driven by Debian's real xenstore-utils
# (xenstore-write/-read/-ls/-list/-exists/-rm/-chmod/-watch), through
# XENSTORED_PATH, as dom0 and as guests 5 and 6 on their own sockets.
: "${HVSEC_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
# shellcheck source=tests/lib.sh
source "$HVSEC_SRC/tests/lib.sh"

XSD=$HVSEC_BIN/hvsec-xenstored
if [ ! -x "$XSD" ]; then
	ok "hvsec-xenstored built" 1 "$XSD is missing"
	tl_done
fi
for t in xenstore-write xenstore-read xenstore-ls xenstore-rm xenstore-chmod \
	xenstore-watch xenstore-exists xenstore-list; do
	if ! command -v "$t" >/dev/null; then
		ok "$t installed" 1 "install xenstore-utils (bash scripts/deps.sh test)"
		tl_done
	fi
done

S0=$TL_TMP/xenstored
S5=$TL_TMP/d5
S6=$TL_TMP/d6
stop() {
	[ -f "$TL_TMP/pid" ] && kill "$(cat "$TL_TMP/pid")" 2>/dev/null
	rm -rf "$TL_TMP"
}
trap stop EXIT

d0() { XENSTORED_PATH=$S0 "$@"; }
g5() { XENSTORED_PATH=$S5 "$@"; }
g6() { XENSTORED_PATH=$S6 "$@"; }

# ------------------------------------------------------------- the daemon
expect "help" 0 'usage: hvsec-xenstored' -- "$XSD" --help
expect "no socket" 2 'usage' -- "$XSD"
expect "bad domain socket" 1 'bad domain id' -- "$XSD" --socket "$S0" --domain-socket 0:"$S5"
expect "bad quota" 1 'unknown quota' -- "$XSD" --socket "$S0" --quota frobs=1
expect "start (daemonizes once listening)" 0 '' -- \
	"$XSD" --socket "$S0" --domain-socket 5:"$S5" --domain-socket 6:"$S6" \
	--pid-file "$TL_TMP/pid" --quota nodes=50
expect "socket is there" 0 '' -- test -S "$S0"
expect "second server refused" 1 'already listening' -- "$XSD" --socket "$S0" --foreground

# ------------------------------------------------------------- dom0
expect "write" 0 '' -- d0 xenstore-write /vm/a hello /vm/b "two words"
expect "read" 0 '^hello$' -- d0 xenstore-read /vm/a
expect "read two" 0 'two words' -- d0 xenstore-read /vm/a /vm/b
expect "read -p (with path)" 0 '^/vm/b: two words$' -- d0 xenstore-read -p /vm/b
expect "read missing" 1 "couldn't read path /vm/none" -- d0 xenstore-read /vm/none
expect "exists" 0 '' -- d0 xenstore-exists /vm/a
expect "exists missing" 1 '' -- d0 xenstore-exists /vm/none
expect "list" 0 '^a$' -- d0 xenstore-list /vm
expect "list -p" 0 '^/vm/b$' -- d0 xenstore-list -p /vm
expect "ls" 0 'b = "two words"' -- d0 xenstore-ls /vm
expect "ls -f" 0 '^/vm/a = "hello"' -- d0 xenstore-ls -f /vm
expect "ls -p" 0 'a = "hello" .*\(n0\)' -- d0 xenstore-ls -p /vm
expect "ls /" 0 'xenstored = ""' -- d0 xenstore-ls
expect "socket-only (-s)" 0 '^hello$' -- d0 xenstore-read -s /vm/a
expect "write (escapes)" 0 '' -- d0 xenstore-write /vm/esc 'a\x41'
expect "read (unescaped)" 0 '^aA$' -- d0 xenstore-read /vm/esc
expect "write -R (raw)" 0 '' -- d0 xenstore-write -R /vm/raw 'a\x41'
expect "read -R" 0 '^a\\x41$' -- d0 xenstore-read -R /vm/raw
expect "chmod" 0 '' -- d0 xenstore-chmod /vm/a n0 r5
expect "perms shown" 0 'a = "hello" .*\(n0,r5\)' -- d0 xenstore-ls -p /vm
expect "chmod -r" 0 '' -- d0 xenstore-chmod -r /vm b0
expect "recursive" 0 'esc = "aA" .*\(b0\)' -- d0 xenstore-ls -p /vm
expect "bad path" 1 'could not write' -- d0 xenstore-write '/vm//x' 1
expect "rm" 0 '' -- d0 xenstore-rm /vm/raw
expect "rm'd" 1 '' -- d0 xenstore-exists /vm/raw
expect "rm -t (tidy empty parents)" 0 '' -- bash -c \
	"XENSTORED_PATH=$S0 xenstore-write /t1/t2/t3 x && XENSTORED_PATH=$S0 xenstore-rm -t /t1/t2/t3"
expect "tidied" 1 '' -- d0 xenstore-exists /t1

# ------------------------------------------------------------- watches
watch_out=$TL_TMP/watch.out
( d0 timeout 10 xenstore-watch -n 6 /wt >"$watch_out" 2>&1 ) &
wpid=$!
for _ in $(seq 50); do
	[ -s "$watch_out" ] && break
	sleep 0.05
done
d0 xenstore-write /wt/x 1
d0 xenstore-write /other 1
d0 xenstore-write /wt/y 2
d0 xenstore-rm /wt
wait "$wpid"
ok "watch exits after 6 events" $? "xenstore-watch did not get its events"
# xenstore-rm removes in a transaction: its commit fires for every node
# it removed (as Xen's does), in no promised order.
expect "watch events" 0 '' -- diff -u <(printf '/wt\n/wt/x\n/wt/y\n') <(head -n 3 "$watch_out")
expect "rm events" 0 '' -- diff -u <(printf '/wt\n/wt/x\n/wt/y\n') <(tail -n 3 "$watch_out" | sort)

# A guest's watch: relative path, and only what it may read.
g5_out=$TL_TMP/g5.out
( g5 timeout 10 xenstore-watch -n 3 device >"$g5_out" 2>&1 ) &
wpid=$!
for _ in $(seq 50); do
	[ -s "$g5_out" ] && break
	sleep 0.05
done
d0 xenstore-write /local/domain/5/device/vif/0 up
d0 xenstore-write /local/domain/5/device/secret s
d0 xenstore-chmod /local/domain/5/device/secret n0
d0 xenstore-write /local/domain/5/device/secret t
d0 xenstore-write /local/domain/5/device/vbd 1
wait "$wpid"
ok "guest watch exits after 3 events" $? "guest xenstore-watch did not get its events"
expect "guest events: relative, secret ones filtered" 0 '' -- \
	diff -u <(printf 'device\ndevice/vif/0\ndevice/secret\n') "$g5_out"
# (The third event is the creation of "secret", owned by 5 then; after
# the chmod to n0, 5 no longer sees it being written.)

# ------------------------------------------------------------- guests
expect "guest relative write" 0 '' -- g5 xenstore-write data/x five
expect "in its home" 0 '^five$' -- d0 xenstore-read /local/domain/5/data/x
expect "owned by the guest" 0 'x = "five" .*\(n5\)' -- d0 xenstore-ls -p /local/domain/5/data
expect "guest reads /tool" 1 "couldn't read path /tool" -- g5 xenstore-read /tool
expect "guest writes /" 1 'could not write' -- g5 xenstore-write /mine 1
expect "6 cannot read 5's" 1 "couldn't read" -- g6 xenstore-read /local/domain/5/data/x
expect "6 cannot list 5's" 1 '' -- g6 xenstore-list /local/domain/5
expect "5 shares with 6" 0 '' -- g5 xenstore-chmod data/x n5 r6
expect "6 reads it" 0 '^five$' -- g6 xenstore-read /local/domain/5/data/x
expect "6 cannot write it" 1 'could not write' -- g6 xenstore-write /local/domain/5/data/x six
expect "5 cannot give it away" 1 '' -- g5 xenstore-chmod data/x n6
expect "guest cannot rm another's" 1 '' -- g6 xenstore-rm /local/domain/5/data/x
# Quota (--quota nodes=50): the guest owns its home, data, data/x.
expect "guest node quota" 1 'could not write' -- bash -c '
	for i in $(seq 60); do XENSTORED_PATH='"$S5"' xenstore-write q$i x || exit 1; done'
expect "dom0 unlimited" 0 '' -- bash -c '
	for i in $(seq 60); do XENSTORED_PATH='"$S0"' xenstore-write /q/$i x || exit 1; done'

# ------------------------------------------------------------- shutdown
pid=$(cat "$TL_TMP/pid")
kill "$pid"
for _ in $(seq 100); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.02
done
ok "stops on SIGTERM" "$(kill -0 "$pid" 2>/dev/null && echo 1 || echo 0)" "still running"
expect "socket removed" 1 '' -- test -e "$S0"
tl_done
