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
# shown with its audit record.  Part 3 (live) is the guests' TPMs: a swtpm
# plays the platform TPM, the vTPM manager domain (docs/vtpm-manager.md)
# seals every vTPM's state and certifies its EKs; a guest runs tpm2-tools,
# another is attested (measured boot, deep quote), and an old copy of its
# state is refused as a rollback.
#
# One line of explanation before each step; every step has an expected
# outcome, and the script exits non-zero (printing UNEXPECTED) if any
# differs, so it is also a smoke test (tests/demo/demo.sh runs it).
# hvsecd (with the manager and every guest) and the swtpm are always
# stopped at exit, also on failure or Ctrl-C; every wait is bounded.
# Colours only on a terminal (and not with NO_COLOR).
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
VTPMD=$BINDIR/hvsec-vtpmd
MGRD=$BINDIR/hvsec-vtpm-managerd
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
# The vTPM manager's directory: its domain's uid must own it.
export HVSEC_VTPM_MGR_DIR=$GUEST_TMP/manager
# The platform TPM: a swtpm of the demo's own (state in $DEMO/ptpm),
# stopped after hvsecd, whose manager domain talks to it.
SWTPM_PID=''
stop_swtpm() {
	[ -n "$SWTPM_PID" ] || return 0
	kill -TERM "$SWTPM_PID" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$SWTPM_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$SWTPM_PID" 2>/dev/null && kill -KILL "$SWTPM_PID" 2>/dev/null
	wait "$SWTPM_PID" 2>/dev/null
	say "${DIM}swtpm (pid $SWTPM_PID) stopped.${R}"
	SWTPM_PID=
}
demo_exit() {
	stop_daemon
	stop_swtpm
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
	local want=$1 re=$2
	shift 2
	show_cmd hvsec "$@"
	HV_OUT=$(timeout 30 "$HVSEC" --timeout 20 "$@" 2>&1)
	outcome $? "$want" "$re"
}
# outcome RC WANT_RC REGEX: prints $HV_OUT coloured by RC (green: 0,
# yellow: a refusal the step expects, red: not what it wants) and checks
# the exit status and that the output matches REGEX.
outcome() {
	local rc=$1 want=$2 re=$3 col
	case $rc in 0) col=$GRN ;; 1 | 3) col=$YEL ;; *) col=$RED ;; esac
	[ "$rc" = "$want" ] || col=$RED
	[ -n "$HV_OUT" ] && out "$col" "$HV_OUT"
	if [ "$rc" != "$want" ]; then
		unexpected "wanted exit $want, got $rc"
	elif [ -n "$re" ] && ! grep -Eq -- "$re" <<<"$HV_OUT"; then
		unexpected "output does not match /$re/"
	fi
}

# run WANT_RC REGEX SHOWN CMD...: like hv for any command: shows SHOWN
# (the command as one would type it), runs CMD (bounded: 30 s).
run() {
	local want=$1 re=$2 shown=$3
	shift 3
	show_cmd "$shown"
	HV_OUT=$(timeout 30 "$@" 2>&1)
	outcome $? "$want" "$re"
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
for b in "$POLC" "$HVSEC" "$HVSECD" "$GUEST" "$TPMFRONT" "$VTPMD" "$MGRD"; do
	[ -x "$b" ] || die "$b is missing: run 'make' first"
done
for t in swtpm tpm2_createek tpm2_nvread openssl; do
	command -v "$t" >/dev/null 2>&1 || die "$t is missing: 'make demo' installs it (scripts/deps.sh demo)"
done
# A previous run that was killed (kill -9) may have left its daemon and
# its swtpm.
if [ -r "$DEMO/hv/hvsecd.pid" ]; then
	old=$(cat "$DEMO/hv/hvsecd.pid" 2>/dev/null)
	if [ -n "$old" ] && tr '\0' ' ' <"/proc/$old/cmdline" 2>/dev/null | grep -q "hvsecd --run-dir $DEMO/hv"; then
		kill -TERM "$old" 2>/dev/null && sleep 0.5
	fi
fi
if [ -r "$DEMO/swtpm.pid" ]; then
	old=$(cat "$DEMO/swtpm.pid" 2>/dev/null)
	if [ -n "$old" ] && tr '\0' ' ' <"/proc/$old/cmdline" 2>/dev/null | grep -q "dir=$DEMO/ptpm"; then
		kill -TERM "$old" 2>/dev/null && sleep 0.2
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

title "8. The vTPM manager"
say "A vTPM's state is the guest's keys. Kept in plain files, whoever reads the"
say "stub's disk has them, and whoever writes it can put back an old copy. The"
say "vTPM manager (docs/vtpm-manager.md), a domain of its own as Xen's vtpmmgr,"
say "holds a root key only the host's platform TPM unseals: each vTPM seals its"
say "state with a key the manager gives it and commits every write to the"
say "manager's root record, which a monotonic NV counter of the platform TPM pins."
why "This host's platform TPM is a software TPM (swtpm); on a server it is /dev/tpmrm0."
mkdir -p "$DEMO/ptpm" || die "cannot create $D/ptpm"
ptpm_up=
for _ in 1 2 3 4 5; do
	# A free pair of ports: another swtpm may hold the one we try.
	port=$((20000 + RANDOM % 20000))
	swtpm socket --tpm2 --server type=tcp,port=$port --ctrl type=tcp,port=$((port + 1)) \
		--flags not-need-init,startup-clear --tpmstate dir="$DEMO/ptpm" >>"$DEMO/swtpm.log" 2>&1 &
	SWTPM_PID=$!
	echo "$SWTPM_PID" >"$DEMO/swtpm.pid"
	for _ in $(seq 100); do
		kill -0 "$SWTPM_PID" 2>/dev/null || break
		if (exec 3<>"/dev/tcp/127.0.0.1/$((port + 1))") 2>/dev/null; then ptpm_up=1; break; fi
		sleep 0.05
	done
	[ -n "$ptpm_up" ] && break
	stop_swtpm >/dev/null
done
if [ -z "$ptpm_up" ]; then
	out "$RED" "$(cat "$DEMO/swtpm.log" 2>/dev/null)"
	die "swtpm did not start (log above)"
fi
export HVSEC_VTPM_MGR_TCTI="swtpm:host=127.0.0.1,port=$port"
show_cmd swtpm socket --tpm2 --server type=tcp,port=$port --ctrl type=tcp,port=$((port + 1)) \
	--flags not-need-init,startup-clear --tpmstate dir="$D/ptpm" "&"
out "$GRN" "swtpm running (pid $SWTPM_PID); the toolstack reaches it through HVSEC_VTPM_MGR_TCTI=$HVSEC_VTPM_MGR_TCTI"
why "Set it up once, in dom0: a root key sealed to PCRs 0,2,4,7, an NV counter, an EK CA, an identity."
hv 0 'vTPM manager initialised' vtpm manager init
why "Start it as a domain (bootstrap label: it shares a type with every stub); it unseals its root key."
hv 0 'vTPM manager running: domain [0-9]+' vtpm manager start
why "Its status: the root record's generation and the platform TPM's NV counter it is bound to."
hv 0 'Root record +generation [0-9]+, NV counter' vtpm manager status

title "9. A TPM of the guest's own"
say "vtpm = ['backend=0,manager=yes'] in a config gives the guest a virtual TPM 2.0:"
say "hvsec starts a stub domain (hvsec-vtpmd, libtpms) with the guest's label, and"
say "the two talk over the Xen tpmif ring: a granted page and an event channel,"
say "both mediated by the STE hooks like any other sharing. The stub is in turn a"
say "frontend of the manager. Inside the guest, hvsec-tpmfront serves the TPM to"
say "unmodified tpm2-tools."
# The script the guest runs, where its uid can read it, and a directory
# its uid may write (the EK certificate it reads).
GSCRIPT_DIR=$GUEST_TMP
GOUT=$GUEST_TMP/out
mkdir -p "$GOUT" && chmod 0777 "$GOUT" || die "cannot create $GOUT"
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
tpm2_nvread 0x01c00002 -C o -o "$1/ek-cert.der" >/dev/null 2>&1
echo "EK certificate read from NV index 0x01c00002 ($(wc -c <"$1/ek-cert.der") bytes)"
GUEST_EOF
chmod 0644 "$GSCRIPT_DIR/tpm-tour.sh"
{
	printf '# acme-tpm: a guest with its own vTPM (docs/vtpm.md)\n'
	printf 'name = "acme-tpm"\n'
	printf 'kernel = "%s"\n' "$TPMFRONT"
	# --exec: the rest of the line is a shell command run inside the guest.
	printf 'extra = "--exec /bin/sh %s %s"\n' "$GSCRIPT_DIR/tpm-tour.sh" "$GOUT"
	printf 'memory = 32\n'
	printf "vtpm = ['backend=0,manager=yes']\n"
} >"$DEMO/acme-tpm.cfg" || die "cannot write $DEMO/acme-tpm.cfg"
timeout 30 "$HVSEC" --timeout 20 label add Acme dom "$D/acme-tpm.cfg" >/dev/null 2>&1 ||
	die "hvsec label add Acme dom $D/acme-tpm.cfg failed"
why "Start it: the guest is created paused, its vTPM stub domain connected, then it runs."
hv 0 'Started domain acme-tpm' create "$D/acme-tpm.cfg"
info list --label
why "tpm2-tools inside the guest: random bytes, a PCR extended and read, an EK and an AK, a quote checked."
console acme-tpm 'verified|exec exited' 'EK certificate read|exec exited'
grep -q 'quote over PCR 16 verified' <<<"$(timeout 10 "$HVSEC" --timeout 5 console acme-tpm 2>&1)" ||
	unexpected "the quote was not verified inside the guest"
why "The stub's side: the manager said NEW, the stub manufactured the TPM, the manager certified its EKs."
console acme-tpm-vtpm0 'NEW: manufactured, EKs certified by the manager' 'Connected'
why "The EK certificate the guest read chains to the manager's CA (hvsec vtpm ca)."
timeout 30 "$HVSEC" --timeout 20 vtpm ca >"$DEMO/vtpm-ca.pem" 2>"$DEMO/vtpm-ca.err" ||
	unexpected "hvsec vtpm ca: $(cat "$DEMO/vtpm-ca.err")"
show_cmd hvsec vtpm ca ">$D/vtpm-ca.pem"
out "" "$(openssl x509 -in "$DEMO/vtpm-ca.pem" -noout -subject 2>&1)"
cp "$GOUT/ek-cert.der" "$DEMO/acme-tpm-ek.der" 2>/dev/null
openssl x509 -inform DER -in "$DEMO/acme-tpm-ek.der" -out "$DEMO/acme-tpm-ek.pem" >/dev/null 2>&1
run 0 ': OK$' "openssl verify -CAfile $D/vtpm-ca.pem $D/acme-tpm-ek.pem" \
	openssl verify -CAfile "$D/vtpm-ca.pem" "$D/acme-tpm-ek.pem"
why "On disk the state is a sealed blob (AES-256-GCM): the certificate is in it, but nothing readable."
tour_dir=$(find "$HVSEC_VTPM_DIR" -mindepth 2 -maxdepth 2 -name permall -printf '%h\n' 2>/dev/null | head -n 1)
if [ -z "$tour_dir" ]; then
	unexpected "no permall under $HVSEC_VTPM_DIR"
else
	show_cmd "head -c 64 $tour_dir/permall | od -A d -t x1z"
	HV_OUT=$(head -c 64 "$tour_dir/permall" | od -A d -t x1z 2>&1)
	out "" "$HV_OUT"
	grep -q '>HVSB' <<<"$HV_OUT" || unexpected "permall does not start with the sealed-blob magic HVSB"
	run 0 'permall:0$' "grep -c 'vTPM manager CA' $D/acme-tpm-ek.der $tour_dir/permall" \
		grep -c 'vTPM manager CA' "$D/acme-tpm-ek.der" "$tour_dir/permall"
	grep -q 'acme-tpm-ek.der:1$' <<<"$HV_OUT" || unexpected "the certificate itself does not name its issuer"
fi
why "Destroy the guest: its stub goes too; no uuid, so the manager forgets its key, the state is gone."
hv 0 'acme-tpm \(id=[0-9]+\) destroyed' destroy acme-tpm
[ -z "$tour_dir" ] || [ ! -e "$tour_dir" ] || unexpected "$tour_dir is still there"

title "10. Measured boot and attestation"
say "hvsec create measured the guest's kernel (its program), initrd and command"
say "line into its vTPM before it ran, and published the event log in XenStore."
say "A verifier takes golden values from a known-good boot, then attests: the EK"
say "certificate chains to the manager's CA (asked from the manager), a fresh AK"
say "is bound to the EK, a quote over a fresh nonce matches the replayed log, and"
say "the log matches the golden. With --deep the manager has the platform TPM quote"
say "the host's PCRs with this vTPM's EK and uuid in the signed data; the platform's"
say "AK and PCR digest are pinned on first use, then must match. This vTPM has a"
say "uuid, so it is kept across boots; no manager= in its line: the registered"
say "manager serves it."
ADB_UUID=6a1c0e52-93f4-4d7b-8e21-0c5d9b7f4a10
attest_cfg() { # NAME EXTRA
	{
		printf '# %s: a guest serving its vTPM (docs/measured-boot.md)\n' "$1"
		printf 'name = "%s"\n' "$1"
		# A kept vTPM is bound to its guest's domain uuid (as on Xen).
		printf 'uuid = "3e0b6c8d-1f2a-4b5c-9d6e-7f8091a2b3c4"\n'
		printf 'kernel = "%s"\n' "$TPMFRONT"
		printf 'extra = "%s"\n' "$2"
		printf 'memory = 32\n'
		printf "vtpm = ['backend=0,uuid=%s']\n" "$ADB_UUID"
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
why "Attest it, --deep: the platform TPM quotes too, bound to this vTPM's EK; its AK pinned on first use."
hv 0 'deep quote +OK .*trust on first use' vtpm attest acme-db --golden "$D/acme-db.golden" --deep
why "Someone reboots it with another command line (a debug option, say)."
hv 0 'acme-db \(id=[0-9]+\) destroyed' destroy acme-db
attest_cfg acme-db "--timeout-ms 10000 --devid 0"
hv 0 'Started domain acme-db' create "$D/acme-db.cfg"
console acme-db 'tpmfront: ready'
why "Attest again against the same golden values: refused, naming what changed (the platform pin holds)."
hv 1 'golden cmdline +FAIL cmdline changed' vtpm attest acme-db --golden "$D/acme-db.golden" --deep
grep -Eq 'deep quote +OK .*match the pin' <<<"$HV_OUT" || unexpected "the deep quote does not match its pin"
hv 0 'acme-db \(id=[0-9]+\) destroyed' destroy acme-db

title "11. An old copy of a vTPM's state is refused"
say "Whoever writes the stub's disk can put back yesterday's files (a restored"
say "snapshot) to bring back a key the guest has since replaced or a counter it"
say "has advanced. The manager knows which generation of each blob it committed."
ADB_DIR=$HVSEC_VTPM_DIR/$ADB_UUID
why "Keep a copy of acme-db's sealed state as it is now; the manager's view of it:"
run 0 '' "cp -a $ADB_DIR $D/acme-db-state.old" cp -a "$ADB_DIR" "$DEMO/acme-db-state.old"
hv 0 'generations +permall [0-9]+' vtpm show "$ADB_UUID"
attest_cfg acme-db "--timeout-ms 10000"
why "Boot it, write an NV index from dom0: each write is committed to the manager before the TPM answers."
hv 0 'Started domain acme-db' create "$D/acme-db.cfg"
console acme-db 'tpmfront: ready'
ADB_TCTI=$(timeout 10 "$HVSEC" --timeout 5 tcti acme-db 2>/dev/null)
run 0 '' "TPM2TOOLS_TCTI=\$(hvsec tcti acme-db) tpm2_nvdefine 0x1500016 -C o -s 8" \
	env TPM2TOOLS_TCTI="$ADB_TCTI" tpm2_nvdefine 0x1500016 -C o -s 8 -a 'ownerread|ownerwrite'
run 0 '' "echo -n 'acme-v2!' | TPM2TOOLS_TCTI=\$(hvsec tcti acme-db) tpm2_nvwrite 0x1500016 -C o -i -" \
	bash -c "printf 'acme-v2!' | TPM2TOOLS_TCTI='$ADB_TCTI' tpm2_nvwrite 0x1500016 -C o -i -"
hv 0 'acme-db \(id=[0-9]+\) destroyed' destroy acme-db
why "Put the old files back, as a snapshot restore would."
run 0 '' "mv $ADB_DIR $D/acme-db-state.now && cp -a $D/acme-db-state.old $ADB_DIR" \
	bash -c "mv '$ADB_DIR' '$DEMO/acme-db-state.now' && cp -a '$DEMO/acme-db-state.old' '$ADB_DIR'"
why "Boot it: refused, naming the rollback; nothing is manufactured again in its place."
hv 3 'rollback' create "$D/acme-db.cfg"
cmp -s "$DEMO/acme-db-state.old/permall" "$ADB_DIR/permall" ||
	unexpected "the refused state was changed (manufactured again?)"
hv 0 'create .*failed.*rollback' vtpm audit -n 2
why "The current files back: it boots, and the value written is there."
run 0 '' "rm -r $ADB_DIR && mv $D/acme-db-state.now $ADB_DIR" \
	bash -c "rm -r '$ADB_DIR' && mv '$DEMO/acme-db-state.now' '$ADB_DIR'"
hv 0 'Started domain acme-db' create "$D/acme-db.cfg"
console acme-db 'tpmfront: ready'
ADB_TCTI=$(timeout 10 "$HVSEC" --timeout 5 tcti acme-db 2>/dev/null)
run 0 'acme-v2!' "TPM2TOOLS_TCTI=\$(hvsec tcti acme-db) tpm2_nvread 0x1500016 -C o -s 8" \
	env TPM2TOOLS_TCTI="$ADB_TCTI" tpm2_nvread 0x1500016 -C o -s 8
hv 0 'acme-db \(id=[0-9]+\) destroyed' destroy acme-db
why "The manager's tally: each root record it wrote took one step of the NV counter (generation = counter)."
hv 0 'Commits +[0-9]+ instance state writes; [0-9]+ root record commits' vtpm manager status
gen=$(sed -nE 's/^Root record +generation ([0-9]+), NV counter 0x[0-9a-f]+ = ([0-9]+)$/\1 \2/p' <<<"$HV_OUT")
[ -n "$gen" ] && [ "${gen% *}" = "${gen#* }" ] || unexpected "the root generation is not the counter's value ($gen)"

title "12. What the hypervisor counted"
why "Per-hook decisions, denials and cache hits since hvsecd started."
info stats

# ------------------------------------------------------------ summary
printf '\n'
stop_daemon
[ "$HV_RC" = 0 ] || unexpected "hvsecd exited with status $HV_RC (its log: $D/hvsecd.log)"
stop_swtpm
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
  - The vTPM manager (sections 8-11: sealed state, EK certificates from its CA,
    deep quotes, rollback refused): docs/vtpm-manager.md, and docs/vtpm.md
    "Manager mode"; moving a vTPM to another host: hvsec vtpm export|import
EOF
[ "$bad" -eq 0 ]
