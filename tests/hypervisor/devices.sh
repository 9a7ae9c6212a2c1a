#!/usr/bin/env bash
# devices.sh - backends' device connections (HV_OP_DEVICE_CONNECT and
# _DISCONNECT) between real guests: resource_use decided and audited at
# connect, unlabelled resources not checked, connections as resources in
# use blocking relabels (of the frontend and of the resource) and policy
# updates until disconnected, released when either domain dies, bounded.
source "$(dirname "$0")/lib-hv.sh"

src=$HVSEC_SRC/tests/hypervisor/hv-test.xml
# v1.1: RedDisk moves from type Red to type Blue, so Red may not use it.
perl -0pe 's|<Version>1.0</Version>|<Version>1.1</Version><FromPolicy><PolicyName>hv-test</PolicyName><Version>1.0</Version></FromPolicy>|; s|(<Name>RedDisk</Name>\s*<SimpleTypeEnforcementTypes>)<Type>Red</Type>|$1<Type>Blue</Type>|' \
	"$src" >"$TL_TMP/reddisk-blue.xml"
for p in hv-test:"$src" reddisk-blue:"$TL_TMP/reddisk-blue.xml"; do
	"$POLC" compile --quiet "${p#*:}" -o "$TL_TMP/${p%%:*}.bin" ||
		{ echo "FAIL: compile ${p%%:*}"; echo "0 passed, 1 failed"; exit 1; }
done
hv_start --policy "$TL_TMP/hv-test.bin" || { echo "0 passed, 1 failed"; exit 1; }
export XENSTORED_PATH=$RUN/xenstored
xsw() { timeout 10 xenstore-write "$@"; }
U=0d6f3c1e-5a7b-4c2d-9e8f-112233445566

for r in file:/red.img:RedDisk file:/blue.img:BlueDisk vlan:20:RedDisk vtpm:$U:BlueDisk; do
	expect "res-set ${r%:*}" 0 '^ok' -- ctl res-set "${r%:*}" "${r##*:}"
done

# ---- connect: allowed, denied (audited), unlabelled, malformed
n=$(next_id)
F=$(guest front -l Red -p -- hold)
B=$(guest back -l Blue -p -- \
	connect:$n:disk:file:/red.img connect:$n:disk:file:/blue.img \
	connect:$n:vif:vlan:99 connect:$n:vif:vlan:20 connect:$n:vtpm:vtpm:$U \
	connect:$n:disk:file:/red.img connect:7000:disk:file:/red.img \
	connect:$((n + 1)):disk:file:/red.img connect:$n:disk:file:/img//red.img \
	connect:$n:vif:file:/red.img connect:$n:vtpm:vtpm:${U^^} \
	disconnect:$n:disk:file:/blue.img \
	watch:data/go:30000 disconnect:$n:disk:file:/red.img \
	disconnect:$n:vif:vlan:20 disconnect:$n:vif:vlan:99 \
	disconnect:$n:disk:file:/red.img hold)
ok "frontend and backend ids" $([ "$F" = "$n" ] && [ "$B" = $((n + 1)) ]; echo $?) "F=$F B=$B n=$n"
ctl unpause "$F" >/dev/null; ctl unpause "$B" >/dev/null
check "labelled disk the frontend may use: connected" "$B" "connect:$F:disk:file:/red.img: ok disk file:/red.img to domain $F"
check "labelled disk it may not use: -EACCES" "$B" "connect:$F:disk:file:/blue.img: error -EACCES"
check "unlabelled vif: not a policy object, connected" "$B" "connect:$F:vif:vlan:99: ok"
check "labelled vif: connected" "$B" "connect:$F:vif:vlan:20: ok"
check "labelled vTPM it may not use: -EACCES" "$B" "connect:$F:vtpm:vtpm:$U: error -EACCES"
check "the same connection twice: -EEXIST" "$B" "connect:$F:disk:file:/red.img: error -EEXIST"
check "no such frontend: -ESRCH" "$B" "connect:7000:disk:file:/red.img: error -ESRCH"
check "itself as frontend: -EINVAL" "$B" "connect:$B:disk:file:/red.img: error -EINVAL"
check "a name not canonical: -EINVAL" "$B" "connect:$F:disk:file:/img//red.img: error -EINVAL"
check "a name of another class: -EINVAL" "$B" "connect:$F:vif:file:/red.img: error -EINVAL"
check "a vTPM UUID in upper case: -EINVAL" "$B" "connect:$F:vtpm:vtpm:${U^^}: error -EINVAL"
check "disconnect of a denied connect: -ENOENT" "$B" "disconnect:$F:disk:file:/blue.img: error -ENOENT"
expect "device list: the three connections" 0 \
	"dev $B -> $F disk file:/red.img label RedDisk.*dev $B -> $F vif vlan:99 label -.*dev $B -> $F vif vlan:20 label RedDisk.*devices 3 of 3" \
	-- bash -c "$(printf '%q ' "$HVCTL" "$RUN") devices | tr '\n' ' '"
expect "device list by frontend" 0 'devices 3 of 3' -- ctl devices "$F"
expect "device list by backend" 0 'devices 3 of 3' -- ctl devices "$B"
expect "device list of a domain without any" 0 'devices 0 of 0' -- ctl devices 0
expect "device list of no such domain: ESRCH" 1 'ESRCH' -- ctl devices 7000

audit=$(ctl audit)
grep '"resource_use"' <<<"$audit" | grep -q 'file:/blue.img'
ok "the denied disk connect is audited" $? "$(grep resource_use <<<"$audit" | head -3)"
grep '"resource_use"' <<<"$audit" | grep 'vtpm:' | grep -q '"class":"vtpm"'
ok "the denied vTPM connect is audited as a vtpm" $? "$(grep resource_use <<<"$audit" | head -3)"
! grep -q 'vlan:99' <<<"$audit"
ok "the unlabelled vif left no record" $? "$(grep vlan:99 <<<"$audit")"
d=$(ctl stats | awk '$1 == "hook" && $2 == "resource_use" {print $8}')
[ "${d:-0}" -ge 2 ]; ok "stats: resource_use denied >= 2" $? "denied=$d"

# ---- connections block what would cut the frontend off
expect "relabel frontend Red -> Blue: blocked by both labelled connections" 1 'EBUSY.*blockers 2 ' \
	-- bash -c "set -o pipefail; $(printf '%q ' "$HVCTL" "$RUN") relabel $F Blue | tr '\n' ' '"
expect "the blockers name the frontend, the label, the resource and the backend" 1 \
	"blocker 7: domain $F .*'RedDisk': file:/red.img via backend $B.*blocker 7: domain $F .*'RedDisk': vlan:20 via backend $B" \
	-- bash -c "$(printf '%q ' "$HVCTL" "$RUN") relabel $F Blue --dry-run | tr '\n' ' '; exit \${PIPESTATUS[0]}"
expect "--revoke does not revoke a connection" 1 'EBUSY' -- ctl relabel "$F" Blue --revoke
expect "relabel to a label that may still use them: applies" 0 'applied 1' -- ctl relabel "$F" Purple
expect "and back" 0 'applied 1' -- ctl relabel "$F" Red
expect "update moving RedDisk away from Red: blocked" 1 'EBUSY.*blockers 2 ' \
	-- bash -c "set -o pipefail; $(printf '%q ' "$HVCTL" "$RUN") policy-load $(printf '%q' "$TL_TMP/reddisk-blue.bin") | tr '\n' ' '"
expect "the update's blocker names the resource" 1 "blocker 7: .*file:/red.img via backend $B" \
	-- ctl policy-load "$TL_TMP/reddisk-blue.bin" --dry-run
expect "still version 1.0" 0 'hv-test 1.0 ' -- ctl policy-get
expect "res-set of a connected disk to a label the frontend may not use: blocked" 1 \
	"EBUSY.*file:/red.img is in use.*domain $F \\(label Red\\) via backend $B" -- ctl res-set file:/red.img BlueDisk
expect "the store kept the label" 0 '^RedDisk$' -- ctl res-get file:/red.img
expect "res-set to the same label: fine" 0 '^ok' -- ctl res-set file:/red.img RedDisk
expect "res-rm of a connected resource: blocked" 1 'EBUSY.*may not lose its label' -- ctl res-rm vlan:20
expect "labelling a connected unlabelled vif BlueDisk: blocked" 1 'EBUSY' -- ctl res-set vlan:99 BlueDisk
expect "labelling it RedDisk: fine" 0 '^ok' -- ctl res-set vlan:99 RedDisk
expect "now it is a labelled connection" 0 "dev $B -> $F vif vlan:99 label RedDisk" -- ctl devices
expect "and a third blocker" 1 'blockers 3 ' -- ctl relabel "$F" Blue --dry-run

# ---- after disconnect nothing blocks
xsw "/local/domain/$B/data/go" 1
check "disconnect the disk" "$B" "disconnect:$F:disk:file:/red.img: ok disk file:/red.img from domain $F"
check "disconnect the vifs" "$B" "disconnect:$F:vif:vlan:99: ok"
check "disconnect again: -ENOENT" "$B" "disconnect:$F:disk:file:/red.img: error -ENOENT"
expect "no connection left" 0 'devices 0 of 0' -- ctl devices
expect "update dry run: would apply" 0 'applied 0 generation [0-9]+ blockers 0' -- ctl policy-load "$TL_TMP/reddisk-blue.bin" --dry-run
expect "relabel frontend -> Blue: applies" 0 'applied 1' -- ctl relabel "$F" Blue
expect "res-rm of a resource no longer in use" 0 '^ok' -- ctl res-rm vlan:99

# ---- a dying backend releases its connections
n=$(next_id)
F2=$(guest front2 -l Red -p -- hold)
B2=$(guest back2 -l Blue -p -- connect:$n:disk:file:/red.img watch:data/crash:30000 crash)
ctl unpause "$F2" >/dev/null; ctl unpause "$B2" >/dev/null
check "backend 2 connected" "$B2" "connect:$F2:disk:file:/red.img: ok"
expect "relabel of frontend 2: blocked" 1 'blockers 1 ' -- ctl relabel "$F2" Blue --dry-run
xsw "/local/domain/$B2/data/crash" 1
expect "backend 2 crashed" 0 '' -- ctl wait-state "$B2" crashed
expect "its connection went with it" 0 'devices 0 of 0' -- ctl devices "$F2"
expect "relabel of frontend 2: applies" 0 'applied 1' -- ctl relabel "$F2" Blue

# ---- a dying frontend releases what was connected to it
n=$(next_id)
F3=$(guest front3 -l Red -p -- watch:data/crash:30000 crash)
B3=$(guest back3 -l Blue -p -- connect:$n:disk:file:/red.img watch:data/after:30000 \
	disconnect:$n:disk:file:/red.img connect:$n:disk:file:/red.img hold)
ctl unpause "$F3" >/dev/null; ctl unpause "$B3" >/dev/null
check "backend 3 connected" "$B3" "connect:$F3:disk:file:/red.img: ok"
expect "the backend holds it" 0 'devices 1 of 1' -- ctl devices "$B3"
xsw "/local/domain/$F3/data/crash" 1
expect "frontend 3 crashed" 0 '' -- ctl wait-state "$F3" crashed
expect "the backend holds nothing now" 0 'devices 0 of 0' -- ctl devices "$B3"
xsw "/local/domain/$B3/data/after" 1
check "disconnect from a dead frontend: -ESRCH" "$B3" "disconnect:$F3:disk:file:/red.img: error -ESRCH"
check "connect to a dead frontend: -ESRCH" "$B3" "connect:$F3:disk:file:/red.img: error -ESRCH"
expect "destroy backend 3 (running)" 0 '^ok' -- ctl destroy "$B3"

# ---- bounds: HV_DEV_PER_DOM (64) per backend and per frontend (vlans
# 200.. have no label: not checked, only counted)
n=$(next_id)
F4=$(guest front4 -p -- hold)
F5=$(guest front5 -p -- hold)
B4=$(guest back4 -p -- connect-vlans:$n:200:40 connect-vlans:$((n + 1)):200:24 \
	connect:$((n + 1)):vif:vlan:224 hold)
B5=$(guest back5 -p -- connect-vlans:$n:300:24 connect:$n:vif:vlan:324 hold)
for x in "$F4" "$F5" "$B4"; do ctl unpause "$x" >/dev/null; done
check "64 connections of one backend" "$B4" "connect-vlans:$F5:200:24: ok 24 connected"
check "its 65th: -ENOSPC" "$B4" "connect:$F5:vif:vlan:224: error -ENOSPC"
ctl unpause "$B5" >/dev/null
check "another backend fills the frontend to 64" "$B5" "connect-vlans:$F4:300:24: ok 24 connected"
check "the frontend's 65th: -ENOSPC" "$B5" "connect:$F4:vif:vlan:324: error -ENOSPC"
expect "64 listed for the frontend" 0 'devices 64 of 64' -- ctl devices "$F4"
expect "destroy the frontend" 0 '^ok' -- ctl destroy "$F4"
expect "its connections released: the first backend keeps the other 24" 0 'devices 24 of 24' -- ctl devices "$B4"
expect "the second backend holds nothing" 0 'devices 0 of 0' -- ctl devices "$B5"
expect "the other frontend keeps its 24" 0 'devices 24 of 24' -- ctl devices "$F5"
hv_done
