#!/usr/bin/env bash
# lifecycle.sh - domains as processes: create, pause, shutdown, crash,
# destroy; what a dying guest holds (channels, grants, mappings) is
# released, a mapping outlives its granter until unmapped, and nothing
# leaks in the daemon (fds, pages, channels).
source "$(dirname "$0")/lib-hv.sh"

hv_start || { echo "0 passed, 1 failed"; exit 1; }
export XENSTORED_PATH=$RUN/xenstored
fds0=$(nfds)

# ---- states
A=$(guest a -- whoami exit:0)
expect "exit 0 is a shutdown" 0 '' -- ctl wait-state "$A" shutdown
B=$(guest b -- exit:3)
expect "exit 3 is a crash" 0 '' -- ctl wait-state "$B" crashed
expect "crash status recorded" 0 "crashed .* exit=3 " -- ctl info "$B"
C=$(guest c -- crash)
expect "SIGSEGV is a crash" 0 '' -- ctl wait-state "$C" crashed
# (ASan catches SIGSEGV itself and exits 1)
expect "signal recorded as -11" 0 "exit=(-11|1) " -- ctl info "$C"
D=$(guest d -- shutdown:reboot)
expect "SCHEDOP_shutdown stops the domain" 0 '' -- ctl wait-state "$D" shutdown
E=$(guest e -- shutdown:crash)
expect "shutdown(crash) is a crash" 0 '' -- ctl wait-state "$E" crashed
F=$(guest f -- garbage:20 hold)
expect "protocol violations: treated as crashed" 0 '' -- ctl wait-state "$F" crashed
grep -q "protocol violations" "$TL_TMP/hvsecd.log"; ok "daemon says why" $? "no log line"
expect "daemon still serves" 0 'hypercalls' -- ctl stats
expect "missing kernel refused" 1 'ENOENT' -- ctl create k /nonexistent/guest
expect "duplicate live name refused" 0 '' -- ctl wait-state "$A" shutdown
G=$(guest g -p -- hold)
expect "created paused" 0 " paused " -- ctl info "$G"
expect "duplicate name of a live domain: EEXIST" 1 'EEXIST' -- ctl create g "$TESTGUEST"
expect "unpause" 0 '^ok' -- ctl unpause "$G"
check "runs after unpause" "$G" "hold: ok"
expect "pause" 0 '^ok' -- ctl pause "$G"
expect "state paused" 0 " paused " -- ctl info "$G"
expect "unpause again" 0 '^ok' -- ctl unpause "$G"
expect "dom0 cannot be destroyed" 1 'EPERM' -- ctl destroy 0
expect "unknown domain: ESRCH" 1 'ESRCH' -- ctl destroy 4000
for x in $A $B $C $D $E $F $G; do ctl destroy "$x" >/dev/null; done
expect "records gone after destroy" 0 '^0 Domain-0' -- bash -c "$(printf '%q ' "$HVCTL" "$RUN") list | tr -d '\n'"

# ---- crash releases channels and grants; the mapping outlives the granter
n=$(next_id)
X=$(guest x -p -- offer:$((n + 1)) grant:$((n + 1)) watch:data/die:20000 crash)
Y=$(guest y -p -- bind:$X map:$X:rw watch:data/check:20000 status wait:3000 hold)
ctl unpause "$X" >/dev/null; ctl unpause "$Y" >/dev/null
check "bound" "$Y" "bind:$X: ok"
check "mapped" "$Y" "map:$X:rw: ok"
expect "grant table: who maps what" 0 "map $X:8 by $Y handle 0 flags 0$" -- ctl gnt
expect "stats: one channel, one page" 0 'pages 1 channels 1 ' -- ctl stats
timeout 10 xenstore-write "/local/domain/$X/data/die" 1
expect "granter crashed" 0 '' -- ctl wait-state "$X" crashed
expect "channel released with it" 0 'channels 0 ' -- ctl stats
expect "mapping orphaned, page kept" 0 "map $X:8 by $Y handle 0 flags 0x100 orphaned" -- ctl gnt
expect "page still alive while mapped" 0 'pages 1 ' -- ctl stats
timeout 10 xenstore-write "/local/domain/$Y/data/check" 1
check "peer port unbound after the crash (Xen semantics)" "$Y" "status: ok port 1 unbound remote $X"
check "peer's wait ends: channel closed" "$Y" "wait:3000: error -ENOTCONN"
ctl destroy "$X" >/dev/null
expect "destroy the mapper: page released" 0 'pages 0 channels 0 ' -- bash -c \
	"$(printf '%q ' "$HVCTL" "$RUN") destroy $Y >/dev/null; $(printf '%q ' "$HVCTL" "$RUN") stats"
expect "grant table empty" 0 '^$' -- ctl gnt

# ---- destroy while mapped (the mapper is destroyed first this time)
n=$(next_id)
X=$(guest x2 -p -- grant:$((n + 1)) hold)
Y=$(guest y2 -p -- map:$X:ro hold)
ctl unpause "$X" >/dev/null; ctl unpause "$Y" >/dev/null
check "mapped read-only" "$Y" "map:$X:ro: ok"
expect "end access refused while mapped" 0 '' -- true
ctl destroy "$Y" >/dev/null
expect "mapper gone: grant has no maps" 0 "grant $X:8 to $Y flags 0 maps 0" -- ctl gnt
ctl destroy "$X" >/dev/null
expect "nothing left" 0 'pages 0 channels 0 ' -- ctl stats

# ---- many cycles do not leak daemon fds
for i in $(seq 10); do
	n=$(next_id)
	X=$(guest lx$i -p -- offer:$((n + 1)) grant:$((n + 1)) hold)
	Y=$(guest ly$i -p -- bind:$X map:$X:rw hold)
	ctl unpause "$X" >/dev/null; ctl unpause "$Y" >/dev/null
	console_has "$Y" "map:$X:rw: ok" 10000
	if [ $((i % 2)) = 0 ]; then ctl destroy "$X" >/dev/null; ctl destroy "$Y" >/dev/null
	else ctl destroy "$Y" >/dev/null; ctl destroy "$X" >/dev/null; fi
done
expect "after 10 cycles: no pages, channels" 0 'domains 1 pages 0 channels 0 ' -- ctl stats
fds1=$(nfds)
[ "$fds1" -le "$((fds0 + 2))" ]; ok "daemon fds back to $fds0 (now $fds1)" $? "leak: $fds0 -> $fds1"
[ -z "$(ls "$RUN/guests")" ]; ok "guest directories removed" $? "$(ls "$RUN/guests")"
u=$((HV_UID_BASE + 1)),$((HV_UID_BASE + 2)),$((HV_UID_BASE + 8))
[ -z "$(ps -o pid= -u "$u" 2>/dev/null)" ]; ok "no guest process left" $? "$(ps -u "$u")"
hv_done
