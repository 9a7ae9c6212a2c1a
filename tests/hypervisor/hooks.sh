#!/usr/bin/env bash
# hooks.sh - every hook of hooks/hooks.def, allowed and denied, between
# real guest processes under hvsecd (policy tests/hypervisor/hv-test.xml).
#
# Denials of hooks that STE cannot deny once the first check passed (bind,
# send, map, copy) are reached the way an operator would reach them: a
# relabel between the offer and its use (which also shows that a relabel
# drops cached permits), or a channel let through in permissive mode that
# enforcing mode then mediates.
source "$(dirname "$0")/lib-hv.sh"

"$POLC" compile --quiet "$HVSEC_SRC/tests/hypervisor/hv-test.xml" -o "$TL_TMP/hvt.bin" ||
	{ echo "FAIL: policy"; echo "0 passed, 1 failed"; exit 1; }
hv_start --policy "$TL_TMP/hvt.bin" || { echo "0 passed, 1 failed"; exit 1; }
export XENSTORED_PATH=$RUN/xenstored
xsw() { timeout 10 xenstore-write "$@"; }

# ---- domain_create (Chinese Wall), host_authorize, resource_use
expect "create BankA: allowed" 0 '^domid' -- ctl create banka "$TESTGUEST" -l BankA -- hold
expect "create BankB while BankA runs: domain_create denies" 1 'EACCES.*domain_create' \
	-- ctl create bankb "$TESTGUEST" -l BankB -- hold
expect "create Foreign: host_authorize denies" 1 'EACCES.*does not authorize' \
	-- ctl create alien "$TESTGUEST" -l Foreign -- hold
expect "unknown label: EINVAL" 1 'EINVAL.*not a VM label' \
	-- ctl create nolabel "$TESTGUEST" -l NoSuchLabel -- hold
expect "res-set red" 0 '^ok' -- ctl res-set file:/red.img RedDisk
expect "res-set blue" 0 '^ok' -- ctl res-set file:/blue.img BlueDisk
expect "res-get" 0 '^RedDisk$' -- ctl res-get file:/red.img
expect "create Red with RedDisk: resource_use allows" 0 '^domid' \
	-- ctl create reddisk "$TESTGUEST" -l Red -d file:/red.img -- hold
expect "create Red with BlueDisk: resource_use denies" 1 'EACCES.*may not use resource file:/blue.img' \
	-- ctl create bluedisk "$TESTGUEST" -l Red -d file:/blue.img -- hold
# A denied create answers with its checks as data; a check's hook is the
# hooks.def line (enum hooks_id), counted from 0.
ru=$(($(grep '^HOOK(' "$HVSEC_SRC/hooks/hooks.def" | grep -n '^HOOK(resource_use,' | cut -d: -f1) - 1))
expect "denied create: structured checks, the denial last" 1 \
	"check PERMIT: host authorizes label Red \\(Red\\) hook [0-9]+ check DENY: may not use resource file:/blue.img \\(BlueDisk\\) hook $ru verdict EACCES \$" \
	-- bash -c "set -o pipefail; $(printf '%q ' "$HVCTL" "$RUN" create bluedisk2 "$TESTGUEST" -l Red -d file:/blue.img -- hold) | grep -v '^error' | tr '\n' ' '"
expect "dry-run Foreign: xs_introduce and host_authorize deny" 1 \
	'DENY: host .*does not authorize.*DENY: XenStore may not introduce' \
	-- bash -c "set -o pipefail; $(printf '%q ' "$HVCTL" "$RUN" dry-run x "$TESTGUEST" -l Foreign) | tr '\n' ' '"
expect "dry-run Red: every check permits" 0 'PERMIT: XenStore may introduce.*verdict OK' \
	-- bash -c "$(printf '%q ' "$HVCTL" "$RUN" dry-run x "$TESTGUEST" -l Red) | tr '\n' ' '"

# ---- event channels and grants between Red (R), Purple (P), Blue (B)
n=$(next_id)
R=$(guest red -l Red -p -- offer:$((n + 2)) offer:$((n + 1)) grant:$((n + 1)) grant:$((n + 2)) \
	transfer:$((n + 1)) transfer:$((n + 2)) wait:10000 hold)
P=$(guest purple -l Purple -p -- bind:$R map:$R:ro tryrw map:$R:rw copy:$R unmap take:5000 \
	watch:data/go1:20000 send hold)
B=$(guest blue -l Blue -p -- bind:$R hold)
ok "domids in order" $([ "$P" = $((R + 1)) ] && [ "$B" = $((R + 2)) ]; echo $?) "R=$R P=$P B=$B"
ctl unpause "$R" >/dev/null; ctl unpause "$P" >/dev/null; ctl unpause "$B" >/dev/null
check "evtchn_alloc_unbound denied (Red->Blue)" "$R" "offer:$B: error -EACCES"
check "evtchn_alloc_unbound allowed (Red->Purple)" "$R" "offer:$P: ok"
check "grant_setup allowed (Red->Purple)" "$R" "grant:$P: ok"
check "grant_setup denied (Red->Blue)" "$R" "grant:$B: error -EACCES"
check "grant_transfer allowed (Red->Purple)" "$R" "transfer:$P: ok"
check "grant_transfer denied (Red->Blue)" "$R" "transfer:$B: error -EACCES"
check "evtchn_bind_interdomain allowed (Purple->Red)" "$P" "bind:$R: ok"
check "grant_map_read allowed" "$P" "map:$R:ro: ok"
check "read-only mapping cannot be made writable" "$P" "tryrw: ok write refused"
check "grant_map_write allowed" "$P" "map:$R:rw: ok"
check "grant_copy allowed" "$P" "copy:$R: ok text \"written by $P\""
check "grant_unmap" "$P" "unmap: ok"
check "transferred page arrives" "$P" "take:5000: ok from domain $R text \"gift from $R\""
check "bind refused without an offer (Blue)" "$B" "bind:$R: error"
xsw "/local/domain/$P/data/go1" 1
check "Purple notifies Red (send fd, no daemon)" "$P" "send: ok"
check "Red notified" "$R" "wait:10000: ok"

# ---- relabel between offer and use: bind, map and copy are denied after
n=$(next_id)
R2=$(guest red2 -l Red -p -- offer:$((n + 1)) grant:$((n + 1)) hold)
P2=$(guest purple2 -l Purple -p -- watch:data/go:20000 bind:$R2 map:$R2:ro map:$R2:rw copy:$R2 hold)
ctl unpause "$R2" >/dev/null; ctl unpause "$P2" >/dev/null
check "offer to Purple2 allowed" "$R2" "grant:$P2: ok"
expect "relabel Purple2 -> Blue (no live sharing yet)" 0 'ok:' -- ctl relabel "$P2" Blue
expect "info shows the new label" 0 " Blue " -- ctl info "$P2"
xsw "/local/domain/$P2/data/go" 1
check "evtchn_bind_interdomain denied after relabel" "$P2" "bind:$R2: error -EACCES"
check "grant_map_read denied after relabel" "$P2" "map:$R2:ro: error -EACCES"
check "grant_map_write denied after relabel" "$P2" "map:$R2:rw: error -EACCES"
check "grant_copy denied after relabel" "$P2" "copy:$R2: error -EACCES"

# ---- evtchn_send: mediated sends pass the hook on every send
expect "mode +mediate" 0 'mediated' -- ctl mode +mediate
expect "mode +permissive" 0 'permissive' -- ctl mode +permissive
n=$(next_id)
R3=$(guest red3 -l Red -p -- offer:$((n + 1)) watch:data/go:20000 send hold)
B3=$(guest blue3 -l Blue -p -- bind:$R3 hold)
ctl unpause "$R3" >/dev/null; ctl unpause "$B3" >/dev/null
check "permissive: Red->Blue offer let through" "$R3" "offer:$B3: ok"
check "permissive: Blue binds" "$B3" "bind:$R3: ok"
expect "mode -permissive" 0 'enforcing' -- ctl mode -permissive
xsw "/local/domain/$R3/data/go" 1
check "evtchn_send denied (mediated, enforcing)" "$R3" "send: error -EACCES"
expect "evtchn list shows the mediated flag" 0 "dom $R3 port [0-9]+ status 2 remote $B3 port [0-9]+ flags 1" -- ctl evtchn "$R3"

# ---- audit follow: a denial arrives as a notice
timeout 20 "$HVCTL" "$RUN" audit-follow 1 10000 >"$TL_TMP/follow.txt" 2>&1 &
fpid=$!
for _ in $(seq 100); do grep -q following "$TL_TMP/follow.txt" && break; sleep 0.05; done
ctl create bankb2 "$TESTGUEST" -l BankB -- hold >/dev/null
wait "$fpid"; ok "audit-follow exits after one record" $? "$(cat "$TL_TMP/follow.txt")"
grep -q '"domain_create"' "$TL_TMP/follow.txt"; ok "the followed record is the denial" $? "$(cat "$TL_TMP/follow.txt")"

# ---- audit and statistics: every denied hook was recorded.  Not
# xs_introduce: it judges dom0's label as host_authorize does, so a real
# create is refused by host_authorize first; only the dry run above asked
# it, and a dry run leaves neither record nor count.
audit=$(ctl audit)
! grep -q '"xs_introduce"' <<<"$audit"
ok "dry run left no audit record" $? "$(grep xs_introduce <<<"$audit")"
n=$(ctl stats | awk '$1 == "hook" && $2 == "xs_introduce" {print $8}')
[ "${n:-0}" -eq 0 ]; ok "dry run left no denial count" $? "denied=$n"
for h in domain_create host_authorize resource_use evtchn_alloc_unbound \
	evtchn_bind_interdomain evtchn_send grant_setup grant_map_read \
	grant_map_write grant_copy grant_transfer; do
	grep -q "\"$h\"" <<<"$audit"
	ok "audit has a record of $h" $? "no $h record"
	n=$(ctl stats | awk -v h="$h" '$1 == "hook" && $2 == h {print $8}')
	[ "${n:-0}" -gt 0 ]
	ok "stats: $h denied > 0" $? "denied=$n"
done
n=$(ctl stats | awk '$1 == "hook" && $2 == "grant_unmap" {print $4}')
[ "${n:-0}" -gt 0 ]; ok "stats: grant_unmap called (never denies)" $? "calls=$n"
expect "destroy red" 0 '^ok' -- ctl destroy "$R"
n=$(ctl stats | awk '$1 == "hook" && $2 == "domain_destroy" {print $4}')
[ "${n:-0}" -gt 0 ]; ok "stats: domain_destroy called" $? "calls=$n"
expect "BankB may start once BankA is gone" 0 '^domid' -- bash -c \
	"$(printf '%q ' "$HVCTL" "$RUN" destroy 1) >/dev/null; $(printf '%q ' "$HVCTL" "$RUN" create bankb "$TESTGUEST" -l BankB -- hold)"
hv_done
