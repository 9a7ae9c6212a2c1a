#!/usr/bin/env bash
# update.sh - live policy update and relabel against running guests:
# blockers listed (live channel, label in use), dry runs change nothing,
# an applied update or relabel drops stale decisions at once.
source "$(dirname "$0")/lib-hv.sh"

src=$HVSEC_SRC/tests/hypervisor/hv-test.xml
hdr='s|<Version>1.0</Version>|<Version>1.1</Version><FromPolicy><PolicyName>hv-test</PolicyName><Version>1.0</Version></FromPolicy>|'
# v1.1 compatible: adds a label Green (its own type).
perl -0pe "$hdr;"'s|<Type>Unl</Type>\n    </SimpleTypeEnforcementTypes>|<Type>Unl</Type><Type>Green</Type>\n    </SimpleTypeEnforcementTypes>|; s|(<Name>SystemManagement</Name>\s*<SimpleTypeEnforcementTypes>)|$1<Type>Green</Type>|; s|(<VirtualMachineLabel>\s*<Name>Red</Name>)|<VirtualMachineLabel><Name>Green</Name><SimpleTypeEnforcementTypes><Type>Green</Type></SimpleTypeEnforcementTypes></VirtualMachineLabel>\n$1|' \
	"$src" >"$TL_TMP/v11.xml"
# v1.1 narrowing: Purple loses the Red type.
perl -0pe "$hdr;"'s|(<Name>Purple</Name>\s*<SimpleTypeEnforcementTypes>\s*)<Type>Red</Type>|$1|' "$src" >"$TL_TMP/narrow.xml"
# v1.1 dropping the Red label.
perl -0pe "$hdr;"'s|<VirtualMachineLabel>\s*<Name>Red</Name>.*?</VirtualMachineLabel>||s' "$src" >"$TL_TMP/drop.xml"
# v1.2 from v1.1: Purple loses the Red type (for an update with --revoke).
perl -0pe 's|<Version>1.1</Version><FromPolicy><PolicyName>hv-test</PolicyName><Version>1.0</Version>|<Version>1.2</Version><FromPolicy><PolicyName>hv-test</PolicyName><Version>1.1</Version>|; s|(<Name>Purple</Name>\s*<SimpleTypeEnforcementTypes>\s*)<Type>Red</Type>|$1|' \
	"$TL_TMP/v11.xml" >"$TL_TMP/v12.xml"
for p in v12:"$TL_TMP/v12.xml" hv-test:"$src" v11:"$TL_TMP/v11.xml" narrow:"$TL_TMP/narrow.xml" drop:"$TL_TMP/drop.xml"; do
	"$POLC" compile --quiet "${p#*:}" -o "$TL_TMP/${p%%:*}.bin" ||
		{ echo "FAIL: compile ${p%%:*}"; echo "0 passed, 1 failed"; exit 1; }
done

hv_start --policy "$TL_TMP/hv-test.bin" || { echo "0 passed, 1 failed"; exit 1; }
export XENSTORED_PATH=$RUN/xenstored
expect "policy-get" 0 'policy hv-test 1.0 labels 10 generation 1 blob-fd 1' -- ctl policy-get

n=$(next_id)
R=$(guest red -l Red -p -- offer:$((n + 1)) grant:$((n + 1)) watch:data/again:20000 \
	offer:$((n + 1)) status hold)
P=$(guest purple -l Purple -p -- bind:$R map:$R:ro watch:data/after:20000 status hold)
ctl unpause "$R" >/dev/null; ctl unpause "$P" >/dev/null
check "Red and Purple bound" "$P" "bind:$R: ok"

expect "relabel Purple -> Blue blocked by the live channel" 1 'EBUSY.*blocker [0-9]+: .*' -- \
	bash -c "set -o pipefail; $(printf '%q ' "$HVCTL" "$RUN") relabel $P Blue | tr '\n' ' '"
expect "relabel dry run lists the same blockers (channel, mapping)" 1 "blockers 2" -- ctl relabel "$P" Blue --dry-run
expect "relabel to an unknown label" 1 'EINVAL' -- ctl relabel "$P" NoSuch
expect "update narrowing Purple: blocked" 1 'EBUSY' -- ctl policy-load "$TL_TMP/narrow.bin"
expect "update dropping a label in use: blocked" 1 'blockers [1-9]' -- ctl policy-load "$TL_TMP/drop.bin"
expect "update dry run: would apply, applies nothing" 0 'applied 0 generation 1 blockers 0' -- ctl policy-load "$TL_TMP/v11.bin" --dry-run
expect "still version 1.0" 0 'hv-test 1.0 ' -- ctl policy-get
expect "a blob that is not a policy: EINVAL" 1 'EINVAL' -- ctl policy-load "$src"
expect "compatible update applies" 0 'applied 1 generation 2 blockers 0' -- ctl policy-load "$TL_TMP/v11.bin"
expect "now version 1.1" 0 'hv-test 1.1 labels 11 generation 2' -- ctl policy-get
expect "running domains keep their labels" 0 " Purple " -- ctl info "$P"
expect "the new label can start" 0 '^domid' -- ctl create green "$TESTGUEST" -l Green -- hold
expect "the channel still works after the update" 0 'channels 1 ' -- ctl stats

check "Purple mapped Red's page" "$P" "map:$R:ro: ok"
expect "relabel dry run with --revoke revokes nothing" 1 'revoked 0' -- ctl relabel "$P" Blue --dry-run --revoke
expect "channels still live" 0 'pages 1 channels 1 ' -- ctl stats
expect "relabel Purple -> Blue with --revoke applies" 0 'applied 1 .* revoked [1-9]' -- \
	bash -c "$(printf '%q ' "$HVCTL" "$RUN") relabel $P Blue --revoke | tr '\n' ' '"
expect "the channel is gone" 0 'channels 0 ' -- ctl stats
expect "the grant is gone; Purple's mapping is orphaned, the page lives" 0 "map $R:8 by $P handle 0 flags 0x101 orphaned" -- ctl gnt
timeout 10 xenstore-write "/local/domain/$P/data/after" 1
check "Purple's port: closed" "$P" "status: ok port 1 closed"
timeout 10 xenstore-write "/local/domain/$R/data/again" 1
check "Red to (now Blue) Purple: offer denied at once" "$R" "offer:$P: error -EACCES"
check "Red's port: closed, not left offered" "$R" "status: ok port 1 closed"
n=$(next_id)
R2=$(guest red2 -l Red -p -- offer:$((n + 1)) hold)
P2=$(guest purple2 -l Purple -p -- bind:$R2 hold)
ctl unpause "$R2" >/dev/null; ctl unpause "$P2" >/dev/null
check "Red2 and Purple2 bound" "$P2" "bind:$R2: ok"
expect "update 1.2 (Purple loses Red): blocked" 1 'EBUSY' -- ctl policy-load "$TL_TMP/v12.bin"
expect "update 1.2 with --revoke: applied, channel revoked" 0 'applied 1 generation [0-9]+ blockers 0 revoked 1' \
	-- ctl policy-load "$TL_TMP/v12.bin" --revoke
expect "no channel left" 0 'channels 0 ' -- ctl stats
expect "relabel dom0 to a label that covers nothing" 1 'EBUSY' -- ctl relabel 0 Red
expect "audit names the relabelled subject" 0 '"evtchn_alloc_unbound"' -- ctl audit
hv_done
