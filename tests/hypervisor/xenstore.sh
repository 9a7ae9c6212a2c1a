#!/usr/bin/env bash
# xenstore.sh - the embedded XenStore through the real libxenstore and
# xenstore-* tools: identities fixed by the daemon, node permissions
# between guests, watches (@introduceDomain/@releaseDomain too) and
# transactions.
source "$(dirname "$0")/lib-hv.sh"

command -v xenstore-write >/dev/null || bash "$HVSEC_SRC/scripts/deps.sh" test >/dev/null 2>&1
hv_start || { echo "0 passed, 1 failed"; exit 1; }
export XENSTORED_PATH=$RUN/xenstored
xs() { timeout 10 "$@"; }

expect "socket is open to all (identity from SO_PEERCRED)" 0 '^srw-rw-rw-' -- ls -l "$RUN/xenstored"
expect "control socket is root only" 0 '^srw-------' -- ls -l "$RUN/control"
expect "dom0: xenstore-write" 0 '' -- xs xenstore-write /tool/hvsec/test hello
expect "dom0: xenstore-read" 0 '^hello$' -- xs xenstore-read /tool/hvsec/test

# watch @introduceDomain / @releaseDomain from dom0 while a guest comes and goes
xs xenstore-watch -n 3 @releaseDomain >"$TL_TMP/rel.txt" 2>&1 &
wpid=$!
sleep 0.3
n=$(next_id)
A=$(guest a -p -- whoami write:data/public=pub write:data/secret=s3cret \
	read:/local/domain/$((n + 1))/data/public read:data/public \
	watch:data/fromdom0:10000 txn:data/t1=committed hold)
B=$(guest b -p -- read:/local/domain/$A/data/secret write:/local/domain/$A/data/x=1 \
	read:/local/domain/$A/name read:name write:name=evil write:/tool/hvsec/test=evil \
	read:/tool/hvsec/test write:data/public=bpub hold)
ctl unpause "$A" >/dev/null; ctl unpause "$B" >/dev/null
check "guest writes under its home" "$A" "write:data/secret=s3cret: ok /local/domain/$A/data/secret"
check "guest reads its own node" "$A" "read:data/public: ok /local/domain/$A/data/public = \"pub\""
check "other guest's secret: EACCES" "$B" "read:/local/domain/$A/data/secret: error -EACCES"
check "other guest's home not writable" "$B" "write:/local/domain/$A/data/x=1: error -EACCES"
check "other guest's name not readable" "$B" "read:/local/domain/$A/name: error -EACCES"
check "own name readable" "$B" "read:name: ok /local/domain/$B/name = \"b\""
check "own name not writable (toolstack's)" "$B" "write:name=evil: error -EACCES"
check "dom0's nodes not writable" "$B" "write:/tool/hvsec/test=evil: error -EACCES"
expect "dom0 reads a guest's node" 0 '^s3cret$' -- xs xenstore-read "/local/domain/$A/data/secret"
expect "dom0 sees perms (owner = the guest)" 0 "n$A" -- xs xenstore-ls -p "/local/domain/$A"
xs xenstore-write "/local/domain/$A/data/fromdom0" hi
check "watch fires on dom0's write" "$A" "watch:data/fromdom0:10000: ok"
check "transaction commits" "$A" "txn:data/t1=committed: ok"
expect "committed value visible" 0 '^committed$' -- xs xenstore-read "/local/domain/$A/data/t1"
xs xenstore-chmod "/local/domain/$B/data/public" "n$B" "r$A"
C=$(guest c -- read:/local/domain/$B/data/public hold)
check "chmod by dom0 does not open to a third guest" "$C" "read:/local/domain/$B/data/public: error -EACCES"
expect "guest identities are fixed: list shows three homes" 0 "^$A\$" -- bash -c "XENSTORED_PATH=$RUN/xenstored timeout 10 xenstore-list /local/domain | head -1"

ctl destroy "$A" >/dev/null
wait "$wpid" 2>/dev/null
grep -q '@releaseDomain' "$TL_TMP/rel.txt"; ok "@releaseDomain fired on destroy" $? "$(cat "$TL_TMP/rel.txt")"
expect "released domain's home is gone" 1 '' -- xs xenstore-read "/local/domain/$A/data/secret"
C2=$(guest c2 -- crash)
ctl wait-state "$C2" crashed >/dev/null
expect "crashed domain's home is gone" 1 '' -- xs xenstore-exists "/local/domain/$C2"
hv_done
