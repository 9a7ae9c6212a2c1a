#!/usr/bin/env bash
# demo.sh - `make demo`: the multi-tenant access-control story, step by step.
#
# Part 1 (offline) compiles policies/multi-tenant.xml and asks the engine a
# few of the questions an operator of a shared host asks.  Part 2 (live)
# starts hvsecd, the hypervisor model, loads the policy and runs tenants'
# guests as real processes (hvsec-testguest): they share an event channel
# and a page where the policy allows it and get -EACCES where it does not;
# a competitor's guest is refused by the Chinese Wall, a guest asking for
# another tenant's disk by its resource label; a policy update is refused
# with its blockers, then applied once they are gone.  Every denial is
# shown with its audit record.
#
# One line of explanation before each step; every step has an expected
# outcome, and the script exits non-zero (printing UNEXPECTED) if any
# differs, so it is also a smoke test (tests/demo/demo.sh runs it).
# hvsecd is always stopped at exit, also on failure or Ctrl-C; every wait
# is bounded.  Colours only on a terminal (and not with NO_COLOR).
#
# Env: HVSEC_BUILD    build directory (default build)
#      HVSEC_DEMO_DIR scratch directory, wiped at start (default
#                     build/demo-run); guests must be able to reach it
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
SRC=$PWD
BUILD=${HVSEC_BUILD:-build}
case $BUILD in /*) BINDIR=$BUILD/bin ;; *) BINDIR=$SRC/$BUILD/bin ;; esac
POLC=$BINDIR/hvsec-polc
HVSEC=$BINDIR/hvsec
HVSECD=$BINDIR/hvsecd
GUEST=$BINDIR/hvsec-testguest
TPMFRONT=$BINDIR/hvsec-tpmfront
POLICY=policies/multi-tenant.xml

DEMO=${HVSEC_DEMO_DIR:-build/demo-run}
case $DEMO in /*) ;; *) DEMO=$SRC/$DEMO ;; esac
# How paths are shown: relative to the checkout when inside it.
rel() { case $1 in "$SRC"/*) printf '%s' "${1#"$SRC"/}" ;; *) printf '%s' "$1" ;; esac; }
D=$(rel "$DEMO")
RUN=$D/hv # hvsecd's run directory
BIN=$D/multi-tenant.bin
V11=$D/multi-tenant-v1.1.bin
export HVSEC_RUN_DIR=$DEMO/hv

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
	B=$'\e[1m' DIM=$'\e[2m' RED=$'\e[31m' GRN=$'\e[32m' YEL=$'\e[33m' CYA=$'\e[36m' R=$'\e[0m'
else
	B='' DIM='' RED='' GRN='' YEL='' CYA='' R=''
fi

steps=0 bad=0
title() { printf '\n%s== %s ==%s\n' "$B$CYA" "$1" "$R"; }
say() { printf '%s\n' "$*"; }
show_cmd() { printf '  %s$ %s%s\n' "$DIM" "$*" "$R"; }
why() {
	steps=$((steps + 1))
	printf '\n%s%2d.%s %s\n' "$B" "$steps" "$R" "$1"
}
unexpected() {
	bad=$((bad + 1))
	printf '  %sUNEXPECTED: %s%s\n' "$B$RED" "$1" "$R"
}
# out COLOUR TEXT: TEXT indented, one colour
out() {
	local l
	while IFS= read -r l; do printf '  %s%s%s\n' "$1" "$l" "$R"; done <<<"$2"
}

die() {
	printf '%sdemo: %s%s\n' "$B$RED" "$1" "$R" >&2
	exit 1
}

# ------------------------------------------------------------ cleanup
HV_PID='' HV_RC=0
stop_daemon() {
	[ -n "$HV_PID" ] || return 0
	kill -TERM "$HV_PID" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$HV_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$HV_PID" 2>/dev/null; then
		say "  ${RED}hvsecd did not stop in 5 s: killed${R}"
		kill -KILL "$HV_PID" 2>/dev/null
	fi
	wait "$HV_PID" 2>/dev/null
	HV_RC=$?
	say "${DIM}hvsecd (pid $HV_PID) stopped, and its guests with it.${R}"
	HV_PID=
}
# What the guests must reach under their own uids (the demo directory
# may sit under one only root can enter): their scripts and the vTPMs'
# state, fresh for every run and removed at the end.
GUEST_TMP=$(mktemp -d /tmp/hvsec-demo.XXXXXX) || { echo "demo: mktemp failed" >&2; exit 1; }
chmod 0755 "$GUEST_TMP"
export HVSEC_VTPM_DIR=$GUEST_TMP/vtpm
demo_exit() {
	stop_daemon
	rm -rf "$GUEST_TMP"
}
trap demo_exit EXIT
trap 'printf "\n%sdemo: interrupted%s\n" "$RED" "$R"; exit 130' INT TERM HUP

# ------------------------------------------------------------ step kinds
# ask EXPECT "why" ARGS...: `hvsec-polc ARGS`, coloured by outcome and
# checked against EXPECT (permit|deny).
ask() {
	local want=$1 text=$2 o rc got col=$RED
	shift 2
	why "$text"
	show_cmd hvsec-polc "$@"
	o=$("$POLC" "$@" 2>&1)
	rc=$?
	case "$rc:$(head -n 1 <<<"$o")" in
	0:permit*) got=permit col=$GRN ;;
	1:deny*) got=deny col=$YEL ;;
	*) got="error (exit $rc)" ;;
	esac
	out "$col" "$o"
	[ "$got" = "$want" ] || unexpected "wanted $want, got $got"
}

# hv WANT_RC REGEX ARGS...: shows and runs `hvsec ARGS` (bounded), prints
# its output (green: success, yellow: the answer is no) and checks its
# exit status and that the output matches REGEX.  Output in $HV_OUT.
HV_OUT=
hv() {
	local want=$1 re=$2 rc col
	shift 2
	show_cmd hvsec "$@"
	HV_OUT=$(timeout 30 "$HVSEC" --timeout 20 "$@" 2>&1)
	rc=$?
	case $rc in 0) col=$GRN ;; 1) col=$YEL ;; *) col=$RED ;; esac
	[ "$rc" = "$want" ] || col=$RED
	[ -n "$HV_OUT" ] && out "$col" "$HV_OUT"
	if [ "$rc" != "$want" ]; then
		unexpected "wanted exit $want, got $rc"
	elif [ -n "$re" ] && ! grep -Eq -- "$re" <<<"$HV_OUT"; then
		unexpected "output does not match /$re/"
	fi
}

# info ARGS...: `hvsec ARGS` whose output is information, not a decision.
info() {
	local rc
	show_cmd hvsec "$@"
	HV_OUT=$(timeout 30 "$HVSEC" --timeout 20 "$@" 2>&1)
	rc=$?
	out "" "$HV_OUT"
	[ "$rc" = 0 ] || unexpected "exit $rc"
}

# console NAME REGEX...: waits (at most 15 s) until NAME's console has a
# line matching each REGEX, then shows the lines of its script's actions
# (ok in green, errors in yellow).
console() {
	local name=$1 o='' missing=
	shift
	show_cmd hvsec console "$name"
	for _ in $(seq 150); do
		o=$(timeout 10 "$HVSEC" --timeout 5 console "$name" 2>&1)
		missing=
		for re in "$@"; do grep -Eq -- "$re" <<<"$o" || { missing=$re; break; }; done
		[ -z "$missing" ] && break
		sleep 0.1
	done
	local l
	while IFS= read -r l; do
		case $l in
		start:* | hold:* | '') ;;
		*': ok'*) printf '  %s%s%s\n' "$GRN" "$l" "$R" ;;
		*': error'*) printf '  %s%s%s\n' "$YEL" "$l" "$R" ;;
		*) printf '  %s\n' "$l" ;;
		esac
	done <<<"$o"
	[ -z "$missing" ] || unexpected "the console of $name shows no line matching /$missing/ after 15 s"
}

# audit_new REGEX: the audit records since the last ones shown; at least
# one must match REGEX.
AUDIT_SEEN=0
audit_new() {
	local re=$1 rc last
	show_cmd hvsec audit --since $((AUDIT_SEEN + 1))
	HV_OUT=$(timeout 30 "$HVSEC" --timeout 20 audit --since $((AUDIT_SEEN + 1)) 2>&1)
	rc=$?
	out "$YEL" "$HV_OUT"
	last=$(grep -Eo '  #[0-9]+  ' <<<"$HV_OUT" | tr -dc '0-9\n' | tail -n 1)
	[ -n "$last" ] && AUDIT_SEEN=$last
	if [ "$rc" != 0 ]; then
		unexpected "exit $rc"
	elif ! grep -Eq -- "$re" <<<"$HV_OUT"; then
		unexpected "no audit record matches /$re/"
	fi
}

# guest_cfg NAME LABEL "ACTIONS" [DISK]: an xl-style config running the
# lab guest with the script ACTIONS; labelled with `hvsec label add`.
guest_cfg() {
	local name=$1 label=$2 actions=$3 disk=${4:-}
	{
		printf '# %s: a lab guest (its actions: hypervisor/guest/testguest.c)\n' "$name"
		printf 'name = "%s"\n' "$name"
		printf 'kernel = "%s"\n' "$GUEST"
		printf 'extra = "%s"\n' "$actions"
		printf 'memory = 32\n'
		if [ -n "$disk" ]; then printf "disk = ['file:%s,xvda,w']\n" "$DEMO/img/$disk"; fi
	} >"$DEMO/$name.cfg" || die "cannot write $DEMO/$name.cfg"
	timeout 30 "$HVSEC" --timeout 20 label add "$label" dom "$D/$name.cfg" >/dev/null 2>&1 ||
		die "hvsec label add $label dom $D/$name.cfg failed"
}

# ------------------------------------------------------------ setup
for b in "$POLC" "$HVSEC" "$HVSECD" "$GUEST" "$TPMFRONT"; do
	[ -x "$b" ] || die "$b is missing: run 'make' first"
done
# A previous run that was killed (kill -9) may have left its daemon.
if [ -r "$DEMO/hv/hvsecd.pid" ]; then
	old=$(cat "$DEMO/hv/hvsecd.pid" 2>/dev/null)
	if [ -n "$old" ] && tr '\0' ' ' <"/proc/$old/cmdline" 2>/dev/null | grep -q "hvsecd --run-dir $DEMO/hv"; then
		kill -TERM "$old" 2>/dev/null && sleep 0.5
	fi
fi
case $DEMO in / | "$SRC" | "$SRC/" | "$HOME") die "refusing to wipe $DEMO" ;; esac
{ rm -rf "$DEMO" && mkdir -p "$DEMO/img"; } || die "cannot create $DEMO"

printf '%shvsec demo%s: Chinese Wall + Simple Type Enforcement on a multi-tenant host\n' "$B" "$R"
say "Tenants Acme, Globex and Initech rent guests on one host; the provider runs a"
say "shared storage/network domain. Acme and Globex are competitors."
say "Policy: $POLICY (read its comments, or docs/policy-guide.md)."

# ============================================================ part 1
title "1. Compile the policy (offline)"
show_cmd hvsec-polc compile "$POLICY" -o "$BIN"
if ! log=$("$POLC" compile "$POLICY" -o "$BIN" 2>&1); then
	printf '%s\n' "$log"
	die "the example policy does not compile"
fi
out "$GRN" "$log"
say "  Its labels (each with its STE types) and its one conflict set:"
if dump=$("$POLC" dump "$BIN" 2>&1); then
	summary=$(awk '
		/^conflict sets/ { cs = 1; next }
		/^labels/ { cs = 0; next }
		cs && /^  / { sub(/^ +/, ""); print "  conflict set " $0; next }
		/^  row .* vm / && !/HostPoolAcme|__UNLABELED__/ {
			sub(/^  row [0-9]+ id 0x[0-9a-f]+ vm +/, ""); sub(/ chwall=.*/, ""); print "  VM label " $0; next }
	' <<<"$dump")
	out "" "${summary:-$(head -n 12 <<<"$dump")}"
else
	out "$RED" "$dump"
	die "hvsec-polc dump failed"
fi
if command -v dot >/dev/null 2>&1 &&
	"$POLC" graph "$POLICY" 2>/dev/null | dot -Tsvg -o "$DEMO/multi-tenant.svg" 2>/dev/null; then
	say "  Picture: ${B}$D/multi-tenant.svg${R}"
fi

title "2. Ask the engine (offline)"
ask permit "Acme's guest may share with the storage/network domain: its label holds Acme's type." \
	decide "$BIN" --share Acme StorageNet
ask deny "Acme and Initech share no type: no event channel, no grant between their guests." \
	decide "$BIN" --share Initech Acme
ask deny "Globex may not start while Acme runs: competitors (Chinese Wall)." \
	decide "$BIN" --create Globex --running SystemManagement,Acme --explain
ask deny "Initech's guest may not use a disk labelled AcmeDisk." \
	decide "$BIN" --resource Initech AcmeDisk

# ============================================================ part 2
title "3. Start the hypervisor model and load the policy"
say "hvsecd models Xen: domains are processes, event channels and grants are"
say "hypercalls it mediates with the policy, and it runs XenStore. hvsec is the"
say "toolstack (like xl). Commands below find hvsecd through HVSEC_RUN_DIR=$RUN."
why "Start hvsecd (it enforces a built-in DEFAULT policy until we load ours)."
# As root, hvsecd runs each guest under its own uid (base + domid); it execs
# the guest program by descriptor and serves guests XenStore from a directory
# they can reach, so the checkout's own permissions do not matter.
hv_opts=()
show_cmd hvsecd --run-dir "$RUN" "&"
uid_base=200000
for try in 1 2 3 4; do
	# Another hvsecd on this machine may hold the default guest uid range.
	"$HVSECD" --run-dir "$DEMO/hv" --uid-base "$uid_base" "${hv_opts[@]}" >"$DEMO/hvsecd.log" 2>&1 &
	HV_PID=$!
	up=
	for _ in $(seq 100); do
		[ -S "$DEMO/hv/control" ] && timeout 5 "$HVSEC" --timeout 3 stats >/dev/null 2>&1 && { up=1; break; }
		kill -0 "$HV_PID" 2>/dev/null || break
		sleep 0.05
	done
	[ -n "$up" ] && break
	stop_daemon >/dev/null
	grep -q 'another hvsecd uses guest uids' "$DEMO/hvsecd.log" || break
	uid_base=$((uid_base + 32768 * try))
done
if [ -z "$up" ]; then
	out "$RED" "$(cat "$DEMO/hvsecd.log")"
	die "hvsecd did not start (log above)"
fi
out "$GRN" "$(grep -E 'ready' "$DEMO/hvsecd.log")"
[ "$uid_base" = 200000 ] ||
	say "  ${DIM}(another hvsecd holds the default guest uids: this one runs with --uid-base $uid_base)${R}"
say "  (pid $HV_PID; its log: $D/hvsecd.log)"

why "Load the multi-tenant policy into the running hypervisor."
before=$bad
hv 0 'Policy multi-tenant 1\.0 loaded' policy load "$BIN"
[ "$bad" -eq "$before" ] || die "the policy did not load: nothing else can work"

why "Label the tenants' disk images (resource labels live in hvsecd)."
truncate -s 1M "$DEMO/img/acme-web.img" "$DEMO/img/acme-data.img" "$DEMO/img/globex-db.img" ||
	die "cannot create disk images in $D/img"
hv 0 'labelled AcmeDisk' label add AcmeDisk res "file:$DEMO/img/acme-web.img"
hv 0 'labelled AcmeDisk' label add AcmeDisk res "file:$DEMO/img/acme-data.img"
hv 0 'labelled GlobexDisk' label add GlobexDisk res "file:$DEMO/img/globex-db.img"

# The guests' scripts.  Domain ids are handed out in order: storagenet 1,
# acme-web 2, initech-app 3.
guest_cfg storagenet StorageNet "whoami bind:2 map:2 send hold"
guest_cfg acme-web Acme "whoami offer:1 grant:1 wait:15000 hold" acme-web.img
guest_cfg initech-app Initech "whoami offer:2 grant:2 hold"
guest_cfg globex-db Globex "whoami hold" globex-db.img
guest_cfg initech-batch Initech "whoami hold" acme-data.img

title "4. Tenants' guests: sharing allowed, sharing denied (STE)"
say "A guest is an xl-style config whose kernel is the lab guest program; its"
say "'extra' is a script of actions. Acme's web server, labelled with"
say "'hvsec label add Acme dom $D/acme-web.cfg':"
out "$DIM" "$(grep -v '^#' "$DEMO/acme-web.cfg")"

why "Start the provider's storage/network domain; it waits for Acme's event channel."
hv 0 'Started domain storagenet \(id=1\)' create "$D/storagenet.cfg"
why "Start Acme's guest: it offers an event channel and grants its ring page to domain 1."
hv 0 'Started domain acme-web \(id=2\)' create "$D/acme-web.cfg"
why "Both share the type Acme: the storage domain binds, maps the page, notifies Acme."
console storagenet '^bind:2: ok' '^map:2: ok.*page of 2' '^send: ok'
console acme-web '^offer:1: ok' '^grant:1: ok' '^wait:15000: ok'

why "Start Initech's guest: Initech competes with nobody, so it may run next to Acme ..."
hv 0 'Started domain initech-app \(id=3\)' create "$D/initech-app.cfg"
why "... but when it offers Acme's guest (domain 2) an event channel and a page, the hypervisor says no."
console initech-app '^offer:2: error -EACCES' '^grant:2: error -EACCES'
why "Each denial is an audit record: who, to whom, which hook, why."
audit_new 'DENY +evtchn_alloc_unbound +dom 3 \(Initech\) -> dom 2 \(Acme\)'

why "Every running domain with its security label."
hv 0 'acme-web +2 .*ACM:multi-tenant:Acme$' list --label

title "5. A competitor may not run next to Acme (Chinese Wall)"
why "Globex's database tries to start while Acme's guest runs."
hv 1 'Chinese Wall: type Globex conflicts with type Acme of running domain acme-web' create "$D/globex-db.cfg"
audit_new 'DENY +domain_create +dom [0-9]+ \(Globex\): Chinese Wall'

title "6. A disk labelled for another tenant (resource labels)"
why "Initech's batch job is configured with Acme's data disk. Would it start? Each check:"
hv 1 'DENY +resource_use +AcmeDisk' dry-run "$D/initech-batch.cfg"
why "Creating it is refused at the first failing check."
hv 1 'create initech-batch denied: label Initech may not use resource' create "$D/initech-batch.cfg"
show_cmd hvsec audit -n 1
HV_OUT=$(timeout 30 "$HVSEC" --timeout 20 audit -n 1 2>&1)
out "$YEL" "$HV_OUT"
grep -Eq 'DENY +resource_use +dom [0-9]+ \(Initech\) -> disk .*acme-data.img \(AcmeDisk\)' <<<"$HV_OUT" ||
	unexpected "no audit record of the resource denial"
AUDIT_SEEN=$(grep -Eo '  #[0-9]+  ' <<<"$HV_OUT" | tr -dc '0-9' || echo "$AUDIT_SEEN")

title "7. A live policy update: refused, then applied"
say "Globex bought Initech: Initech becomes Acme's competitor too. Version 1.1 of"
say "the policy adds the conflict set AcmeVsInitech. An update never revokes"
say "anything: it is refused while anything running contradicts it."
sed -e 's|<Version>1.0</Version>|<Version>1.1</Version><FromPolicy><PolicyName>multi-tenant</PolicyName><Version>1.0</Version></FromPolicy>|' \
	-e 's|</ConflictSets>|<Conflict name="AcmeVsInitech"><Type>Acme</Type><Type>Initech</Type></Conflict></ConflictSets>|' \
	"$POLICY" >"$DEMO/multi-tenant-v1.1.xml" || die "cannot write $D/multi-tenant-v1.1.xml"
if ! log=$("$POLC" compile --quiet "$D/multi-tenant-v1.1.xml" -o "$V11" 2>&1); then
	printf '%s\n' "$log"
	die "version 1.1 does not compile"
fi
say "  ${DIM}(compiled to $V11 from $D/multi-tenant-v1.1.xml)${R}"
why "Dry run while Acme's and Initech's guests run side by side: blocked, with its blockers."
hv 1 'chinese wall conflict: acme-web \(2\) and initech-app \(3\)' policy update --dry-run "$V11"
why "Initech's guest migrates to another host (here: it is destroyed)."
hv 0 'initech-app \(id=3\) destroyed' destroy initech-app
why "Nothing blocks the update now: apply it. Acme's channel to the storage domain stays legal."
hv 0 'Policy multi-tenant 1\.1 updated' policy update "$V11"
why "From now on Initech's guest may not come back while Acme runs."
hv 1 'conflict set AcmeVsInitech' create "$D/initech-app.cfg"

title "8. A TPM of the guest's own"
say "vtpm = ['backend=0'] in a config gives the guest a virtual TPM 2.0: hvsec"
say "starts a stub domain (hvsec-vtpmd, libtpms) with the guest's label, and the"
say "two talk over the Xen tpmif ring: a granted page and an event channel, both"
say "mediated by the STE hooks like any other sharing. Inside the guest,"
say "hvsec-tpmfront serves it to unmodified tpm2-tools."
# The script the guest runs, where its uid can read it.
GSCRIPT_DIR=$GUEST_TMP
cat >"$GSCRIPT_DIR/tpm-tour.sh" <<'GUEST_EOF'
set -e
echo "random: $(tpm2_getrandom 8 --hex)"
tpm2_pcrextend 16:sha256=abababababababababababababababababababababababababababababababab
tpm2_pcrread sha256:16
tpm2_createek -c ek.ctx -G rsa -u ek.pub >/dev/null && tpm2_flushcontext -t
tpm2_createak -C ek.ctx -c ak.ctx -G ecc -g sha256 -s ecdsa -u ak.pub >/dev/null
tpm2_flushcontext -t && tpm2_flushcontext -s
tpm2_quote -c ak.ctx -l sha256:16 -q c0ffee -m q.msg -s q.sig -o q.pcrs -g sha256 >/dev/null
tpm2_checkquote -u ak.pub -m q.msg -s q.sig -f q.pcrs -g sha256 -q c0ffee >/dev/null
echo "quote over PCR 16 verified"
GUEST_EOF
chmod 0644 "$GSCRIPT_DIR/tpm-tour.sh"
{
	printf '# acme-tpm: a guest with its own vTPM (docs/vtpm.md)\n'
	printf 'name = "acme-tpm"\n'
	printf 'kernel = "%s"\n' "$TPMFRONT"
	# --exec: the rest of the line is a shell command run inside the guest.
	printf 'extra = "--exec /bin/sh %s"\n' "$GSCRIPT_DIR/tpm-tour.sh"
	printf 'memory = 32\n'
	printf "vtpm = ['backend=0']\n"
} >"$DEMO/acme-tpm.cfg" || die "cannot write $DEMO/acme-tpm.cfg"
timeout 30 "$HVSEC" --timeout 20 label add Acme dom "$D/acme-tpm.cfg" >/dev/null 2>&1 ||
	die "hvsec label add Acme dom $D/acme-tpm.cfg failed"
why "Start it: the guest is created paused, its vTPM stub domain connected, then it runs."
hv 0 'Started domain acme-tpm' create "$D/acme-tpm.cfg"
info list --label
why "tpm2-tools inside the guest: random bytes, a PCR extended and read, an EK and an AK, a quote checked."
console acme-tpm 'verified|exec exited'
grep -q 'quote over PCR 16 verified' <<<"$(timeout 10 "$HVSEC" --timeout 5 console acme-tpm 2>&1)" ||
	unexpected "the quote was not verified inside the guest"
why "The backend's side: the ring connected, requests served (its console)."
console acme-tpm-vtpm0 'Connected'
why "Destroy the guest: its vTPM stub domain goes with it (no uuid: its state too)."
hv 0 'acme-tpm \(id=[0-9]+\) destroyed' destroy acme-tpm

title "9. Measured boot and attestation"
say "hvsec create measured the guest's kernel (its program), initrd and command"
say "line into its vTPM before it ran, and published the event log in XenStore."
say "A verifier takes golden values from a known-good boot, then attests: the EK"
say "certificate chains to this host's CA, a fresh AK is bound to the EK, a quote"
say "over a fresh nonce matches the replayed log, and the log matches the golden."
attest_cfg() { # NAME EXTRA
	{
		printf '# %s: a guest serving its vTPM (docs/measured-boot.md)\n' "$1"
		printf 'name = "%s"\n' "$1"
		printf 'kernel = "%s"\n' "$TPMFRONT"
		printf 'extra = "%s"\n' "$2"
		printf 'memory = 32\n'
		printf "vtpm = ['backend=0,uuid=6a1c0e52-93f4-4d7b-8e21-0c5d9b7f4a10']\n"
	} >"$DEMO/acme-db.cfg" || die "cannot write $DEMO/acme-db.cfg"
	timeout 30 "$HVSEC" --timeout 20 label add Acme dom "$D/acme-db.cfg" >/dev/null 2>&1 ||
		die "hvsec label add Acme dom $D/acme-db.cfg failed"
}
attest_cfg acme-db "--timeout-ms 10000"
why "Boot Acme's database guest; it serves its vTPM to dom0 (hvsec tcti)."
hv 0 'Started domain acme-db' create "$D/acme-db.cfg"
console acme-db 'tpmfront: ready'
why "Golden values from this known-good boot."
hv 0 'written to' vtpm golden acme-db --out "$D/acme-db.golden"
out "" "$(grep -E '^(kernel sha256|initrd|cmdline|pcr [89] sha256)' "$DEMO/acme-db.golden")"
say "  ${DIM}(and the same for the sha1, sha384 and sha512 banks)${R}"
why "Attest it: every check holds."
hv 0 '' vtpm attest acme-db --golden "$D/acme-db.golden"
why "Someone reboots it with another command line (a debug option, say)."
hv 0 'acme-db \(id=[0-9]+\) destroyed' destroy acme-db
attest_cfg acme-db "--timeout-ms 10000 --devid 0"
hv 0 'Started domain acme-db' create "$D/acme-db.cfg"
console acme-db 'tpmfront: ready'
why "Attest again against the same golden values: refused, naming what changed."
hv 1 'cmdline' vtpm attest acme-db --golden "$D/acme-db.golden"
hv 0 'acme-db \(id=[0-9]+\) destroyed' destroy acme-db

title "10. What the hypervisor counted"
why "Per-hook decisions, denials and cache hits since hvsecd started."
info stats

# ------------------------------------------------------------ summary
printf '\n'
stop_daemon
[ "$HV_RC" = 0 ] || unexpected "hvsecd exited with status $HV_RC (its log: $D/hvsecd.log)"
printf '\n'
if [ "$bad" -eq 0 ]; then
	printf '%sAll %d steps came out as expected.%s\n' "$B$GRN" "$steps" "$R"
else
	printf '%s%d of %d steps were not as expected.%s\n' "$B$RED" "$bad" "$steps" "$R"
fi
cat <<EOF

${B}What next${R}
  - Try it yourself: docs/labs/lab5-live-guests.md (this scenario, typed by hand)
  - The toolstack, command by command: docs/toolstack.md
  - Write your own policy: docs/policy-guide.md; labs: docs/labs/README.md
  - Virtual TPMs: docs/vtpm.md; from dom0: TPM2TOOLS_TCTI=\$(hvsec tcti NAME)
  - Measured boot and attestation: docs/measured-boot.md
  - Coming in a later issue: the vTPM manager daemon (vtpm-manager/): sealed,
    rollback-proof state, migration.
EOF
[ "$bad" -eq 0 ]
