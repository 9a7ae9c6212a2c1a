#!/usr/bin/env bash
# demo.sh - `make demo`: the multi-tenant access-control story, step by step.
#
# Compiles policies/multi-tenant.xml, summarises it, draws it (when Graphviz
# is installed) and asks the engine the questions an operator of a shared
# host asks, printing a one-line explanation before each.  Every step has an
# expected outcome: the script exits non-zero if any differs, so it is also a
# smoke test.  Env: HVSEC_BUILD (build directory, default build).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
BUILD=${HVSEC_BUILD:-build}
POLC=$BUILD/bin/hvsec-polc
OUT=$BUILD/demo
POLICY=policies/multi-tenant.xml
BIN=$OUT/multi-tenant.bin

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
	B=$'\e[1m' DIM=$'\e[2m' RED=$'\e[31m' GRN=$'\e[32m' YEL=$'\e[33m' CYA=$'\e[36m' R=$'\e[0m'
else
	B='' DIM='' RED='' GRN='' YEL='' CYA='' R=''
fi

steps=0 bad=0
title() { printf '\n%s== %s ==%s\n' "$B$CYA" "$1" "$R"; }
say() { printf '%s\n' "$*"; }
show_cmd() { printf '  %s$ hvsec-polc %s%s\n' "$DIM" "$*" "$R"; }

die() {
	printf '%sdemo: %s%s\n' "$RED" "$1" "$R" >&2
	exit 1
}

# step EXPECT "why" ARGS...: runs `hvsec-polc ARGS`, prints its first line
# (and any --explain lines) coloured by outcome, and checks it against
# EXPECT (permit|deny|ok|blocked).
step() {
	local want=$1 why=$2 out rc first got
	shift 2
	steps=$((steps + 1))
	printf '\n%s%2d.%s %s\n' "$B" "$steps" "$R" "$why"
	show_cmd "$@"
	out=$("$POLC" "$@" 2>&1)
	rc=$?
	first=$(head -n 1 <<<"$out")
	case "$rc:$first" in
	0:permit*) got=permit ;;
	1:deny*) got=deny ;;
	0:ok*) got=ok ;;
	1:blocked*) got=blocked ;;
	*) got="error (exit $rc)" ;;
	esac
	local col=$RED
	case "$got" in permit | ok) col=$GRN ;; deny | blocked) col=$YEL ;; esac
	# An update's full label map is long: show only what it renames or removes.
	[ "$got" = ok ] && out=$(grep -Ev '^(label map|  [a-z]+ +.* -> [^ (][^ ]*$)' <<<"$out")
	while IFS= read -r l; do
		printf '  %s%s%s\n' "$col" "$l" "$R"
	done <<<"$out"
	if [ "$got" != "$want" ]; then
		bad=$((bad + 1))
		printf '  %sUNEXPECTED: wanted %s, got %s%s\n' "$B$RED" "$want" "$got" "$R"
	fi
}

[ -x "$POLC" ] || die "$POLC is missing: run 'make' first"
mkdir -p "$OUT" || die "cannot create $OUT"

printf '%shvsec demo%s: Chinese Wall + Simple Type Enforcement on a multi-tenant host\n' "$B" "$R"
say "Tenants Acme, Globex and Initech rent guests on one host. Acme and Globex are"
say "competitors. Policy: $POLICY (read its comments, or docs/policy-guide.md)."

# --------------------------------------------------------------- compile
title "1. Compile the policy"
show_cmd compile "$POLICY" -o "$BIN"
if ! log=$("$POLC" compile "$POLICY" -o "$BIN" 2>&1); then
	printf '%s\n' "$log"
	die "the example policy does not compile"
fi
[ -n "$log" ] && printf '  %s\n' "$log"
say "  ${GRN}compiled${R}: $(wc -c <"$BIN") bytes, checked and hashed"

title "2. What is in it"
show_cmd dump "$BIN"
if dump=$("$POLC" dump "$BIN" 2>&1); then
	# The parts that matter here: conflict sets, VM labels with their type
	# sets, resource labels by name, dom0's label.
	summary=$(awk '
		/^conflict sets/ { cs = 1; print; next }
		/^labels/ { cs = 0; next }
		cs && /^  / { print; next }
		/^  row .* vm / { sub(/^  row [0-9]+ id 0x[0-9a-f]+ vm +/, "VM label "); print; next }
		/^  row .* resource / { sub(/^  row [0-9]+ id 0x[0-9a-f]+ resource +/, ""); sub(/ .*/, ""); res = res (res ? ", " : "") $0; next }
		/^(bootstrap|unlabeled):/ { tail = tail $0 "\n"; next }
		END { if (res) print "resource labels: " res; printf "%s", tail }
	' <<<"$dump")
	[ -n "$summary" ] || summary=$(head -n 20 <<<"$dump")
	while IFS= read -r l; do printf '  %s\n' "$l"; done <<<"$summary"
	say "  ${DIM}(everything, with rows, stable ids and hashes: hvsec-polc dump $BIN)${R}"
else
	printf '%s\n' "$dump"
	die "dump failed"
fi

if command -v dot >/dev/null 2>&1; then
	if "$POLC" graph "$POLICY" >"$OUT/multi-tenant.dot" 2>"$OUT/graph.err" &&
		dot -Tsvg "$OUT/multi-tenant.dot" -o "$OUT/multi-tenant.svg" 2>>"$OUT/graph.err"; then
		say "  picture: ${B}$OUT/multi-tenant.svg${R} (labels, types, conflict sets)"
	else
		bad=$((bad + 1))
		say "  ${RED}could not draw the policy graph:${R} $(head -c 300 "$OUT/graph.err")"
	fi
else
	say "  ${DIM}(install Graphviz for a picture of the policy: sudo bash scripts/deps.sh demo)${R}"
fi

# --------------------------------------------------------------- STE
title "3. Who may share memory and events with whom (STE)"
step permit "Acme's guest connects its disk and network frontends to dom0's backends." \
	decide "$BIN" --share Acme SystemManagement
step permit "Globex's guest does the same: dom0 holds every tenant's type." \
	decide "$BIN" --share Globex SystemManagement
step permit "Acme reaches the shared storage/network domain, whose label holds Acme's type." \
	decide "$BIN" --share Acme StorageNet
step deny "Acme tries to open an event channel to a Globex guest: no common type." \
	decide "$BIN" --share Acme Globex --explain

# --------------------------------------------------------------- Chinese Wall
title "4. Who may run on this host at the same time (Chinese Wall)"
step permit "Initech's guest starts while Acme runs: Initech competes with nobody." \
	decide "$BIN" --create Initech --running SystemManagement,Acme
step deny "Globex's guest tries to start while an Acme guest runs: competitors." \
	decide "$BIN" --create Globex --running SystemManagement,Acme,Initech --explain
step permit "Acme's guest is stopped (no history: the wall moves with what runs); Globex starts." \
	decide "$BIN" --create Globex --running SystemManagement,Initech

# --------------------------------------------------------------- resources
title "5. Which disks a guest may use (resource labels)"
step permit "Acme's guest attaches a disk labelled AcmeDisk." \
	decide "$BIN" --resource Acme AcmeDisk
step deny "Acme's guest tries to attach Globex's disk." \
	decide "$BIN" --resource Acme GlobexDisk
step deny "Even dom0 may not open a quarantined disk (__INACCESSIBLE__)." \
	decide "$BIN" --resource SystemManagement __INACCESSIBLE__

# --------------------------------------------------------------- hosts
title "6. Which hosts may run a workload (host authorization)"
step permit "A standard host (dom0 = SystemManagement) authorizes Globex guests." \
	decide "$BIN" --authorize SystemManagement Globex
step deny "A host of the Acme pool (dom0 = HostPoolAcme) does not: dom0 lacks Globex's type." \
	decide "$BIN" --authorize HostPoolAcme Globex --explain

# --------------------------------------------------------------- unlabeled
title "7. A guest nobody labelled"
step permit "It may start: the policy has an __UNLABELED__ label." \
	decide "$BIN" --create __UNLABELED__ --running SystemManagement,Acme
step permit "It is served by dom0 ..." \
	decide "$BIN" --share __UNLABELED__ SystemManagement
step deny "... but cannot reach any tenant ..." \
	decide "$BIN" --share __UNLABELED__ Acme
step deny "... nor any tenant's disk." \
	decide "$BIN" --resource __UNLABELED__ AcmeDisk

# --------------------------------------------------------------- update
title "8. A live policy update, dry run"
say "Globex bought Initech: Initech becomes Acme's competitor too. Version 1.1 of the"
say "policy adds the conflict set AcmeVsInitech; would it be safe to load right now?"
V2=$OUT/multi-tenant-v1.1.xml
V2BIN=$OUT/multi-tenant-v1.1.bin
sed -e 's|<Version>1.0</Version>|<Version>1.1</Version><FromPolicy><PolicyName>multi-tenant</PolicyName><Version>1.0</Version></FromPolicy>|' \
	-e 's|</ConflictSets>|<Conflict name="AcmeVsInitech"><Type>Acme</Type><Type>Initech</Type></Conflict></ConflictSets>|' \
	"$POLICY" >"$V2" || die "cannot write $V2"
if ! log=$("$POLC" compile "$V2" -o "$V2BIN" 2>&1); then
	printf '%s\n' "$log"
	die "version 1.1 does not compile"
fi
step blocked "Acme (domain 1) and Initech (domain 2) run side by side: the update must wait." \
	update-check "$BIN" "$V2BIN" --running SystemManagement@0,Acme@1,Initech@2 --share 0:1,0:2
step ok "Initech's guest has migrated to another host: the update is safe." \
	update-check "$BIN" "$V2BIN" --running SystemManagement@0,Acme@1 --share 0:1

# --------------------------------------------------------------- summary
printf '\n'
if [ "$bad" -eq 0 ]; then
	printf '%sAll %d decisions came out as expected.%s\n' "$B$GRN" "$steps" "$R"
else
	printf '%s%d of %d decisions were not as expected.%s\n' "$B$RED" "$bad" "$steps" "$R"
fi
cat <<EOF

${B}What next${R}
  - Write your own policy: docs/policy-guide.md
  - Labs with questions and answers: docs/labs/README.md (policies/labs/)
  - Every decision of this policy, as a table: tests/acm/matrix/multi-tenant.cases
  - Coming in later issues: the hypervisor model (hvsecd) enforcing these
    decisions on real event channels and grants, with audit records, and a
    virtual TPM per guest with measured boot and attestation.
EOF
[ "$bad" -eq 0 ]
