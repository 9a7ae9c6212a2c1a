#!/usr/bin/env bash
# backend.sh - hvsec-vtpmd end to end under hvsecd: the stub domain runs
# the real backend, dom0 (this script) writes the XenStore directories as
# the toolstack would (docs/vtpm.md), and tests/vtpm/ringguest, a frontend
# written out by hand, drives the ring: connect, TPM2 GetRandom, a guest's
# Startup refused, hostile headers answered with error responses, CANCEL,
# Closed -> InitWait -> reconnect, a bad ring-ref reported in `error`, a
# closed event channel, the frontend directory removed (exit 0), a guest
# crash, SIGTERM, a toolstack that disagrees with the command line, a
# state directory the stub cannot use, and the policy's resource_use at
# connect (a vTPM labelled for someone else is refused, audited; an
# unlabelled one connects and counts as in use until the frontend closes).
source "$(dirname "$0")/../hypervisor/lib-hv.sh"

VTPMD=$HVSEC_BIN/hvsec-vtpmd
RING=$HV_BUILD_DIR/tests/vtpm/ringguest
for b in "$VTPMD" "$RING"; do
	if [ ! -x "$b" ]; then
		echo "FAIL: missing $b (make BUILD=$HVSEC_BUILD)"
		echo "0 passed, 1 failed"
		exit 1
	fi
done
command -v xenstore-write >/dev/null || bash "$HVSEC_SRC/scripts/deps.sh" test >/dev/null 2>&1

UUID=0123abcd-4567-89ef-0123-456789abcdef
REQ=(--frontend-id 3 --devid 0 --state-dir /nonexistent --uuid "$UUID")

# ------------------------------------------------------------ command line
expect "--help" 0 'usage: hvsec-vtpmd --frontend-id G' -- "$VTPMD" --help
expect "--help names the exit codes" 0 'Exit status: 0' -- "$VTPMD" --help
expect "missing option is named" 2 '--devid is required' -- \
	"$VTPMD" --frontend-id 3 --state-dir /s --uuid "$UUID"
expect "bad frontend-id is named" 2 '--frontend-id "0x3": not a decimal' -- \
	"$VTPMD" --frontend-id 0x3 --devid 0 --state-dir /s --uuid "$UUID"
expect "reserved domid refused" 2 '--frontend-id "32752": out of range' -- \
	"$VTPMD" --frontend-id 32752 --devid 0 --state-dir /s --uuid "$UUID"
expect "bad uuid is named" 2 '--uuid "nope": not a UUID' -- \
	"$VTPMD" --frontend-id 3 --devid 0 --state-dir /s --uuid nope
expect "bad locality is named" 2 '--locality "0,7"' -- "$VTPMD" "${REQ[@]}" --locality 0,7
expect "spin bounded" 2 '--spin-us "20000": out of range' -- "$VTPMD" "${REQ[@]}" --spin-us 20000
expect "unknown option" 2 '--frobnicate: unknown option' -- "$VTPMD" "${REQ[@]}" --frobnicate
expect "outside hvsecd: exit 1, names the channel" 1 'HVSEC_HC_FD' -- \
	env -u HVSEC_HC_FD "$VTPMD" "${REQ[@]}"

# ------------------------------------------------------------ helpers
hv_start || { echo "0 passed, 1 failed"; exit 1; }
export XENSTORED_PATH=$RUN/xenstored
xs() { timeout 10 "$@"; }

# State directories must be reachable by the stub's uid: not under
# $TL_TMP (0700, root's).
SD_BASE=$(mktemp -d /tmp/hvsec-vtpm-test.XXXXXX)
chmod 0711 "$SD_BASE"
trap 'hv_cleanup; rm -rf "$SD_BASE"' EXIT

info_field() { ctl info "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# stub NAME G STATE_DIR [ARGS]: a paused hvsec-vtpmd for frontend G,
# device 0 (labelled $STUB_LABEL if set); its state directory handed to
# its uid; prints the domid.
stub() {
	local name=$1 g=$2 dir=$3
	shift 3
	local out id uid lab=()
	[ -n "${STUB_LABEL:-}" ] && lab=(-l "$STUB_LABEL")
	out=$(ctl create "$name" "$VTPMD" ${lab[@]+"${lab[@]}"} -p -- \
		--frontend-id "$g" --devid 0 --state-dir "$dir" --uuid "$UUID" \
		"$@") || { echo "$out" >&2; return 1; }
	id=$(sed -n 's/^domid //p' <<<"$out")
	echo "$id" >"$TL_TMP/last_id"
	uid=$(info_field "$id" uid)
	if [ "$(id -u)" = 0 ] && [ -n "$uid" ] && [ "$uid" != 0 ]; then
		chown -R "$uid:$uid" "$dir" && chmod 0700 "$dir"
	fi
	echo "$id"
}

# dirs G B [FRONTEND_ID] [UUID]: both directories and /libxl, as the
# toolstack writes them (docs/vtpm.md); the last two only to lie.
dirs() {
	local g=$1 b=$2 fid=${3:-$1} uuid=${4:-$UUID}
	local fe=/local/domain/$g/device/vtpm/0 be=/local/domain/$b/backend/vtpm/$g/0
	local lx=/libxl/$g/device/vtpm/0
	xs xenstore-write "$fe/backend" "$be" "$fe/backend-id" "$b" \
		"$fe/handle" 0 "$fe/state" 1 &&
	xs xenstore-chmod -r "$fe" "n$g" "r$b" &&
	xs xenstore-write "$be/frontend" "$fe" "$be/frontend-id" "$fid" \
		"$be/handle" 0 "$be/online" 1 "$be/state" 1 "$be/uuid" "$uuid" \
		"$be/resume" False &&
	xs xenstore-chmod -r "$be" "n$b" "r$g" &&
	xs xenstore-write "$lx/backend" "$be" "$lx/backend-id" "$b" \
		"$lx/frontend" "$fe" "$lx/uuid" "$uuid" "$lx/state-dir" "$SD_BASE" \
		"$lx/ephemeral" 0 &&
	xs xenstore-chmod -r "$lx" n0
}

# be_state_is NAME B G WANT [MS]: the backend's state node becomes WANT.
be_state_is() {
	local name=$1 path=/local/domain/$2/backend/vtpm/$3/0/state want=$4
	local ms=${5:-5000} v=
	for _ in $(seq $((ms / 20))); do
		v=$(xs xenstore-read "$path" 2>/dev/null)
		[ "$v" = "$want" ] && { ok "$name" 0 ""; return 0; }
		sleep 0.02
	done
	ok "$name" 1 "$path is \"$v\", wanted $want"
	return 1
}

# exited NAME DOMID: the domain ended by itself with status 0.
exited() {
	ctl wait-state "$2" shutdown 10000 >/dev/null 2>&1
	local st
	st=$(ctl info "$2")
	grep -Eq " shutdown .*exit=0 " <<<"$st"
	ok "$1" $? "$st; console: $(ctl console "$2" | tail -n 4 | tr '\n' '|')"
}

# ------------------------------------------------------------ 1: a session
SD1=$SD_BASE/one
mkdir "$SD1"
G=$(ctl create fe1 "$RING" -p -- connect random startup \
	hostile:len hostile:zero hostile:short hostile:size hostile:locality \
	hostile:extra cancel random bench:2000 close connect random \
	badnode:ring-ref=0x8 badnode:ring-ref=999 badnode:event-channel=0 \
	badnode:event-channel=131072 badnode:feature-protocol-v2=0 \
	connect closechan connect random hold |
	sed -n 's/^domid //p')
echo "$G" >"$TL_TMP/last_id"
B=$(stub vtpm1 "$G" "$SD1")
ok "frontend and stub domains created" $([ -n "$G" ] && [ -n "$B" ]; echo $?) "G=$G B=$B"
dirs "$G" "$B"; ok "toolstack wrote both directories" $? ""
ctl unpause "$B" >/dev/null
be_state_is "backend reaches InitWait" "$B" "$G" 2
expect "backend wrote feature-protocol-v2=1" 0 '^1$' -- \
	xs xenstore-read "/local/domain/$B/backend/vtpm/$G/0/feature-protocol-v2"
check "stub powered the TPM on" "$B" "vtpmd: TPM 2.0 powered on"
check "stub logged InitWait" "$B" "state Unknown -> InitWait"
ctl unpause "$G" >/dev/null
check "frontend connects (Connected, ready=1)" "$G" "connect: ok backend $B"
check "TPM2 GetRandom answered" "$G" "random: ok rc 0x0, 16 random bytes"
check "guest Startup refused: TPM_RC_INITIALIZE" "$G" "startup: ok rc 0x100"
for k in len zero short size extra; do
	check "hostile $k: TPM_RC_COMMAND_SIZE response" "$G" "hostile:$k: ok error response rc 0x142"
done
check "hostile locality: TPM_RC_LOCALITY response" "$G" "hostile:locality: ok error response rc 0x907"
check "CANCEL while idle: IDLE" "$G" "cancel: ok state 0"
check "round trips" "$G" "bench:2000: ok"
check "Closed -> InitWait" "$G" "close: ok backend back to InitWait"
check "stub logged the disconnect with counts" "$B" "disconnected from domain $G (frontend closed): 2003 commands, 6 refused, 1 cancelled"
check "reconnect after Closed" "$G" "random: ok" 
check "non-decimal ring-ref: error names field and errno" "$G" \
	"badnode:ring-ref=0x8: ok error \"ring-ref of domain $G is \"0x8\", not a decimal number in 0..4294967294: EINVAL"
check "unmappable ring-ref: error with the map's errno" "$G" \
	"badnode:ring-ref=999: ok error \"mapping ring-ref 999 of domain $G: ENOENT"
check "event-channel 0 refused" "$G" \
	"badnode:event-channel=0: ok error \"event-channel of domain $G is \"0\", not a decimal number in 1..131071: EINVAL"
check "event-channel out of range refused" "$G" \
	"badnode:event-channel=131072: ok error \"event-channel of domain $G is \"131072\""
check "no feature-protocol-v2: refused" "$G" \
	"badnode:feature-protocol-v2=0: ok error \"frontend of domain $G: feature-protocol-v2 is \"0\", not 1: EOPNOTSUPP"
check "closed channel: backend InitWait" "$G" "closechan: ok backend state 2"
check "stub logged the closed channel" "$B" "domain $G closed the channel"
check "reconnect after a closed channel" "$G" "hold: ok"
check "hostile requests logged" "$B" "refused a request of domain $G: locality 3 not allowed"
conn=$(ctl console "$B" | sed -n 's/.*connected to domain.* in \([0-9]*\) us$/\1/p' | head -n 1)
bench=$(ctl console "$G" | sed -n 's/.*bench:2000: ok 2000 GetRandom round trips, //p')
echo "measured: connect (FE Initialised -> BE Connected) ${conn:-?} us; GetRandom round trip (default spin): ${bench:-?}"

# The toolstack removes the frontend directory: the backend removes its
# own, powers the TPM off and exits 0.
xs xenstore-rm "/local/domain/$G/device/vtpm/0"
exited "frontend dir removed: stub exits 0" "$B"
check "stub said why" "$B" "frontend directory gone: backend directory removed"
check "stub powered the TPM off" "$B" "TPM powered off:"
expect "backend directory removed" 1 '' -- xs xenstore-exists "/local/domain/$B/backend/vtpm/$G/0"
expect "NV state written in the state dir" 0 'permall' -- ls "$SD1"
ctl destroy "$G" >/dev/null

# ------------------------------------------------------------ 2: a crash
# The same state again (an existing TPM, not a new one), no spinning.
G=$(ctl create fe2 "$RING" -p -- connect random bench:2000 crash | sed -n 's/^domid //p')
echo "$G" >"$TL_TMP/last_id"
B=$(stub vtpm2 "$G" "$SD1" --spin-us 0)
dirs "$G" "$B"
ctl unpause "$B" >/dev/null
be_state_is "second instance reaches InitWait" "$B" "$G" 2
ctl unpause "$G" >/dev/null
check "existing state: GetRandom" "$G" "random: ok rc 0x0"
check "no-spin round trips" "$G" "bench:2000: ok"
bench0=$(ctl console "$G" | sed -n 's/.*bench:2000: ok 2000 GetRandom round trips, //p')
echo "measured: GetRandom round trip with --spin-us 0: ${bench0:-?}"
exited "guest crash: stub exits 0" "$B"
expect "after the crash: backend directory removed" 1 '' -- \
	xs xenstore-exists "/local/domain/$B/backend/vtpm/$G/0"

# ------------------------------------------------------------ 3: SIGTERM
G=$(ctl create fe3 "$RING" -p -- connect random:3 begone hold | sed -n 's/^domid //p')
echo "$G" >"$TL_TMP/last_id"
B=$(stub vtpm3 "$G" "$SD1" --locality 0,3)
dirs "$G" "$B"
ctl unpause "$B" >/dev/null
be_state_is "third instance reaches InitWait" "$B" "$G" 2
ctl unpause "$G" >/dev/null
check "--locality 0,3: locality 3 allowed" "$G" "random:3: ok rc 0x0"
pid=$(info_field "$B" pid)
if [ -n "$pid" ] && [ "$pid" -gt 1 ]; then kill -TERM "$pid"; fi
exited "SIGTERM: stub exits 0" "$B"
check "SIGTERM: backend wrote Closed" "$B" "state Connected -> Closed (powering off)"
check "SIGTERM: frontend sees the backend go" "$G" "begone: ok"
check "SIGTERM: TPM powered off" "$B" "TPM powered off:"
ctl destroy "$G" >/dev/null

# ------------------------------------------------------------ 4: TPM 1.2
SD12=$SD_BASE/tpm12
mkdir "$SD12"
G=$(ctl create fe4 "$RING" -p -- connect random12 hold | sed -n 's/^domid //p')
echo "$G" >"$TL_TMP/last_id"
B=$(stub vtpm12 "$G" "$SD12" --tpm12)
dirs "$G" "$B"
ctl unpause "$B" >/dev/null
be_state_is "TPM 1.2 instance reaches InitWait" "$B" "$G" 2
ctl unpause "$G" >/dev/null
check "TPM 1.2 powered on" "$B" "vtpmd: TPM 1.2 powered on"
check "TPM 1.2 GetRandom answered" "$G" "random12: ok TPM 1.2 rc 0x0"
xs xenstore-rm "/local/domain/$G/device/vtpm/0"
exited "TPM 1.2: frontend dir removed, exit 0" "$B"
ctl destroy "$G" >/dev/null

# ------------------------------------------------------------ 5: mediated
# Every notify a hypercall (the evtchn_send hook): the peer's close may
# then arrive inside one, not on the channel's fd.
ctl mode +mediate >/dev/null
G=$(ctl create fe5 "$RING" -p -- connect random bench:200 closechan connect \
	random hold | sed -n 's/^domid //p')
echo "$G" >"$TL_TMP/last_id"
B=$(stub vtpm6 "$G" "$SD1")
dirs "$G" "$B"
ctl unpause "$B" >/dev/null
be_state_is "mediated sends: InitWait" "$B" "$G" 2
ctl unpause "$G" >/dev/null
check "mediated sends: round trips" "$G" "bench:200: ok"
check "mediated sends: closed channel seen" "$G" "closechan: ok backend state 2"
check "mediated sends: reconnected" "$G" "hold: ok"
benchm=$(ctl console "$G" | sed -n 's/.*bench:200: ok 200 GetRandom round trips, //p')
echo "measured: GetRandom round trip with mediated sends: ${benchm:-?}"
xs xenstore-rm "/local/domain/$G/device/vtpm/0"
exited "mediated sends: frontend dir removed, exit 0" "$B"
ctl destroy "$G" >/dev/null
ctl mode -mediate >/dev/null

# ------------------------------------------------------------ 6: lies
# The toolstack's nodes disagree with the command line: error, Closing.
B=$(stub vtpm4 "$G" "$SD1")
dirs "$G" "$B" 999
ctl unpause "$B" >/dev/null
be_state_is "frontend-id mismatch: Closing" "$B" "$G" 5
expect "frontend-id mismatch: error names both" 0 \
	"frontend-id is \"999\", but --frontend-id is $G: EINVAL" -- \
	xs xenstore-read "/local/domain/$B/backend/vtpm/$G/0/error"
xs xenstore-rm "/local/domain/$B/backend/vtpm/$G/0"
ctl wait-state "$B" crashed 10000 >/dev/null 2>&1
expect "refused directory removed: stub exits 1" 0 ' crashed .*exit=1 ' -- ctl info "$B"
ctl destroy "$B" >/dev/null
B=$(stub vtpm5 "$G" "$SD1")
dirs "$G" "$B" "$G" 11111111-2222-3333-4444-555555555555
ctl unpause "$B" >/dev/null
be_state_is "uuid mismatch: Closing" "$B" "$G" 5
expect "uuid mismatch: error names both" 0 \
	"uuid is \"11111111-2222-3333-4444-555555555555\", but --uuid is $UUID" -- \
	xs xenstore-read "/local/domain/$B/backend/vtpm/$G/0/error"
ctl destroy "$B" >/dev/null

# A state directory the stub cannot use: the error is in XenStore for the
# toolstack, and the stub fails (exit 1).
if [ "$(id -u)" = 0 ]; then
	SD6=$SD_BASE/root-only
	mkdir -m 0700 "$SD6"
	out=$(ctl create vtpm6 "$VTPMD" -p -- --frontend-id "$G" --devid 0 \
		--state-dir "$SD6" --uuid "$UUID")
	B=$(sed -n 's/^domid //p' <<<"$out")
	echo "$B" >"$TL_TMP/last_id"
	dirs "$G" "$B"
	ctl unpause "$B" >/dev/null
	be_state_is "unusable state dir: Closing" "$B" "$G" 5
	expect "unusable state dir: error for the toolstack" 0 "state directory $SD6: " -- \
		xs xenstore-read "/local/domain/$B/backend/vtpm/$G/0/error"
	pid=$(info_field "$B" pid)
	if [ -n "$pid" ] && [ "$pid" -gt 1 ]; then kill -TERM "$pid"; fi
	ctl wait-state "$B" crashed 10000 >/dev/null 2>&1
	expect "unusable state dir: stub fails with exit 1" 0 ' crashed .*exit=1 ' -- ctl info "$B"
	ctl destroy "$B" >/dev/null
fi

# ------------------------------------------------------------ 7: resource_use
# The vTPM is a resource of the policy, vtpm:UUID: at connect the backend
# tells the hypervisor, whose resource_use decides (when the resource has
# a label) whether the frontend may use it.  Under hv-test: frontend and
# stub Red, the vTPM first labelled BlueDisk (Red may not use it).
hv_stop
"$POLC" compile --quiet "$HVSEC_SRC/tests/hypervisor/hv-test.xml" -o "$TL_TMP/hv-test.bin" &&
	hv_start --policy "$TL_TMP/hv-test.bin"
ok "hvsecd restarted with the hv-test policy" $? ""
export XENSTORED_PATH=$RUN/xenstored
STUB_LABEL=Red
expect "vTPM resource labelled BlueDisk" 0 '^ok' -- ctl res-set "vtpm:$UUID" BlueDisk

# libvtpmfront as the frontend: it reads the backend's `error` node when
# the backend goes Closing instead of Connected.
G=$(ctl create fe7 "$HVSEC_BIN/hvsec-tpmfront" -l Red -p -- --port 0 | sed -n 's/^domid //p')
echo "$G" >"$TL_TMP/last_id"
B=$(stub vtpm7 "$G" "$SD1")
dirs "$G" "$B"
ctl unpause "$B" >/dev/null
be_state_is "labelled vTPM: InitWait" "$B" "$G" 2
ctl unpause "$G" >/dev/null
check "labelled for another: connect refused, error node names the resource" "$G" \
	"tpmfront: connect failed: backend domain $B closed: resource vtpm:$UUID: EACCES"
check "labelled for another: the stub said so" "$B" "error: resource vtpm:$UUID: EACCES"
audit=$(ctl audit)
grep '"resource_use"' <<<"$audit" | grep "vtpm:$UUID" | grep -q '"class":"vtpm"'
ok "the refused connect is an audited resource_use denial" $? \
	"$(grep resource_use <<<"$audit" | tail -n 3)"
check "refused: back to InitWait when the frontend closed" "$B" "state Closing -> InitWait"
expect "refused: no connection left" 0 'devices 0 of 0' -- ctl devices "$B"
# tpmfront exits after a failed connect; its domain's directory goes.
exited "refused: frontend gone, stub exits 0" "$B"
ctl destroy "$G" >/dev/null
ctl destroy "$B" >/dev/null

expect "vTPM resource label removed" 0 '^ok' -- ctl res-rm "vtpm:$UUID"
G=$(ctl create fe8 "$RING" -l Red -p -- connect random hold | sed -n 's/^domid //p')
echo "$G" >"$TL_TMP/last_id"
B=$(stub vtpm8 "$G" "$SD1")
dirs "$G" "$B"
ctl unpause "$B" >/dev/null
be_state_is "unlabelled vTPM: InitWait" "$B" "$G" 2
ctl unpause "$G" >/dev/null
check "unlabelled vTPM: connects" "$G" "connect: ok backend $B"
check "unlabelled vTPM: GetRandom" "$G" "random: ok rc 0x0"
expect "the connection counts as a device in use" 0 "dev $B -> $G vtpm vtpm:$UUID label -" \
	-- ctl devices "$B"
expect "in use: labelling it for another is blocked" 1 'EBUSY' -- ctl res-set "vtpm:$UUID" BlueDisk
# The frontend says Closed (dom0 writes it for the holding guest): the
# backend disconnects, resource included.
xs xenstore-write "/local/domain/$G/device/vtpm/0/state" 6
be_state_is "frontend Closed: backend InitWait" "$B" "$G" 2
expect "frontend Closed: the resource is released" 0 'devices 0 of 0' -- ctl devices "$B"
expect "no longer in use: labelling it is allowed" 0 '^ok' -- ctl res-set "vtpm:$UUID" BlueDisk
xs xenstore-rm "/local/domain/$G/device/vtpm/0"
exited "resource_use: frontend dir removed, exit 0" "$B"
ctl destroy "$G" >/dev/null
unset STUB_LABEL
ctl res-rm "vtpm:$UUID" >/dev/null

# ------------------------------------------------------------ 8: libxl removal
# libxl takes a device away by writing online=0 and state=5 with the
# frontend's removal, waits for Closed and removes the backend directory
# itself: the backend must say Closed and leave its directory alone.
G=$(ctl create fe9 "$RING" -l Red -p -- connect random hold | sed -n 's/^domid //p')
echo "$G" >"$TL_TMP/last_id"
B=$(STUB_LABEL=Red stub vtpm9 "$G" "$SD1")
dirs "$G" "$B"
ctl unpause "$B" >/dev/null
be_state_is "libxl removal: InitWait" "$B" "$G" 2
ctl unpause "$G" >/dev/null
check "libxl removal: connects" "$G" "random: ok rc 0x0"
BE9=/local/domain/$B/backend/vtpm/$G/0
# (libxl does both in one transaction; here online=0 comes first.)
xs xenstore-write "$BE9/online" 0 "$BE9/state" 5
xs xenstore-rm "/local/domain/$G/device/vtpm/0"
exited "online=0: the backend powers off, exit 0" "$B"
check "online=0: Closed, not removed" "$B" "state Connected -> Closed (online=0)"
check "online=0: said why" "$B" "device offline, powering off"
# Here the directory then goes with the stub domain's XenStore home; in a
# dom0 backend it stays for libxl, so the backend must not remove it.
expect "online=0: the backend did not remove its directory" 1 '' -- \
	bash -c "$(printf '%q ' "$HVCTL" "$RUN") console $B | grep -q 'backend directory removed'"
ctl destroy "$G" >/dev/null

hv_done
