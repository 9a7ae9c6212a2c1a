#!/bin/bash
# scripts/xen/dom0-acm.sh: the dom0 test driver of the xsm=acm boot of
# `make test-xen` (run.sh's second boot: our Xen from `make xen-acm`, the
# policy tests/xen/acm-tenants.xml compiled and given as a multiboot
# module).  dom0-init.sh execs it when the share's config says XSM=acm.
# Everything here goes through Debian's unmodified xl, plus
# hvsec-xsm-probe (tests/xen/xsm_probe.c) for the hypercalls xl has no
# command for.  Results are named acm-*; see docs/xsm-acm.md.
#
#   boot         the boot policy was loaded, dom0 labelled System,
#                xl getenforce says Enforcing
#   unlabelled   xl create without seclabel is refused (the policy has no
#                __UNLABELED__)
#   acme1        seclabel="ACM:hvsec-xen-test:Acme", with a vTPM served by
#                our backend in dom0: the ring passes the STE hooks
#   list -Z      shows both labels
#   chwall       Globex (conflicts with running Acme) is refused, with the
#                Chinese-Wall denial in xl dmesg
#   ste          acme2 (Acme) and initech (Initech) start; event channels,
#                grant copies (from dom0) and grant maps (from inside the
#                guests) Acme<->Initech are refused with EACCES /
#                GNTST_permission_denied; Acme<->Acme (including acme2
#                binding acme1's port) and dom0<->anyone pass
#   loadpolicy   a policy that would cut dom0 off the running Acme domains
#                is refused (1.0 kept), a garbage one is refused, a valid
#                1.1 update applies
#   relabel      init_seclabel/seclabel (FLASK_RELABEL_DOMAIN): Initech
#                -> Acme is allowed, Initech -> Globex while Acme runs is
#                refused
#   after        with the Acme domains destroyed, Globex starts
#   hvsec        our toolstack on the xen platform (libxenctrl; results
#                acm-hvsec-*): it picks the platform by itself, reports
#                enforcing, records the boot policy after Xen confirmed it
#                (and refuses one Xen does not run), explains the refused
#                Globex create offline, lists the labels xl list -Z shows,
#                refuses a relabel and the breaking update with the
#                blockers found here, and loads a 1.2 update itself;
#                after xl loadpolicy of a 1.3 that keeps every label id it
#                finds its record stale from the identity Xen reports
#                (version, hash) and answers no label question from it
# With ACM_CASE=failclosed in the config (run.sh's third boot, a corrupted
# policy module) it checks the fail-closed behaviour instead: see
# failclosed_case.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C
S=/share
O=$S/out
mkdir -p "$O"
: >"$O/results"
# shellcheck source=scripts/xen/dom0-lib.sh
. "$S/dom0-lib.sh" || { echo "@@hvsec fatal: no $S/dom0-lib.sh"; echo o >/proc/sysrq-trigger; }

stage acm-dom0-init
# shellcheck disable=SC1091
. "$S/config" || fatal "no $S/config"
: "${MODE:=real}" "${UUID:?}" "${NONCE:?}" "${GUEST_WAIT:=180}" "${TPM_WAIT:=60}"
POL=hvsec-xen-test
P=$S/acm
PROBE=$P/hvsec-xsm-probe
HV=$P/hvsec

dom0_setup
if [ "${ACM_CASE:-main}" = failclosed ]; then
	xen_tools_start failclosed-xen-tools
else
	xen_tools_start acm-xen-tools
fi
[ -x "$PROBE" ] || fatal "no $PROBE in the share"
libs=$(ldd "$PROBE" 2>&1 | grep 'not found' | tr -s ' \t' ' ')
[ -z "$libs" ] || fatal "libraries missing in dom0 for hvsec-xsm-probe:$libs"

# dmesg_has NAME DETAIL REGEX: PASS when Xen's console ring has a line
# matching REGEX (grep -E); the line goes into the detail.
dmesg_has() {
	local name=$1 detail=$2 line
	line=$(xl dmesg 2>/dev/null | grep -E "$3" | tail -n 1 | sed 's/^(XEN) //')
	if [ -n "$line" ]; then
		result "$name" PASS "$detail: $line"
	else
		result "$name" FAIL "$detail: no line matching /$3/ in xl dmesg"
	fi
}

# hv RESULT RC REGEX DETAIL ARGS...: runs our hvsec ARGS (the xen
# platform, chosen by itself: dom0 has Xen's privcmd and no hvsecd); PASS
# when it exits RC and its output (stdout and stderr) has a line matching
# REGEX (grep -E).  Everything goes to out/hvsec.log.
hv() {
	local name=$1 want=$2 re=$3 detail=$4 out rc
	shift 4
	out=$("$HV" "$@" 2>&1)
	rc=$?
	{ echo "\$ hvsec $* -> exit $rc"; echo "$out"; } >>"$O/hvsec.log"
	if [ $rc -eq "$want" ] && grep -qE -- "$re" <<<"$out"; then
		result "$name" PASS "$detail: hvsec $* -> exit $rc: $(grep -E -m1 -- "$re" <<<"$out")"
	else
		result "$name" FAIL "$detail: hvsec $* -> exit $rc (wanted $want and /$re/): $(tr '\n' ' ' <<<"$out" | cut -c1-400)"
	fi
}

# labels_of CMD...: "domid label" lines of an xl-style list with labels.
labels_of() {
	"$@" 2>/dev/null | awk 'NR > 1 && $2 ~ /^[0-9]+$/ { print $2, $NF }' | sort -n
}

# guest NAME LABEL ROLE [VTPM]: writes /tmp/NAME.cfg; LABEL "" for none,
# "INIT>EXEC" for libxl's two-stage labelling (built as INIT, relabelled
# EXEC through FLASK_RELABEL_DOMAIN once built).
guest() {
	local name=$1 label=$2 role=$3 vtpm=${4:-}
	{
		echo "name = \"$name\""
		echo 'type = "pv"'
		echo 'kernel = "/var/lib/hvsec-guest/vmlinux"'
		echo 'ramdisk = "/tmp/initrd.cpio"'
		echo "extra = \"console=hvc0 rdinit=/init quiet hvsec_boot=1 hvsec_role=$role hvsec_nonce=$NONCE hvsec_tpm_wait=$TPM_WAIT\""
		echo 'memory = 128'
		echo 'vcpus = 1'
		echo 'on_crash = "preserve"'
		case $label in
		"") ;;
		*'>'*) echo "init_seclabel = \"${label%%>*}\""
			echo "seclabel = \"${label#*>}\"" ;;
		*) echo "seclabel = \"$label\"" ;;
		esac
		[ -n "$vtpm" ] && echo "vtpm = [\"backend=0,uuid=$UUID\"]"
	} >"/tmp/$name.cfg"
}

# create NAME: xl create; sets CREATE_RC, CREATE_T, DOMID.
create() {
	local t
	t=$(now)
	rm -f "/var/log/xen/console/guest-$1.log"
	xl -v create "/tmp/$1.cfg" >"$O/xl-create-$1.log" 2>&1
	CREATE_RC=$?
	CREATE_T=$(since "$t")
	DOMID=$(xl domid "$1" 2>/dev/null)
}

# must_start RESULT NAME: a create that must succeed.
must_start() {
	create "$2"
	if [ $CREATE_RC -eq 0 ] && [ -n "$DOMID" ]; then
		result "$1" PASS "$2 is d$DOMID (label $(label_of "$DOMID")), xl create took ${CREATE_T}s"
		return 0
	fi
	result "$1" FAIL "xl create $2 rc=$CREATE_RC: $(grep -iE 'error|fail|denied' "$O/xl-create-$2.log" | tail -n 3 | tr '\n' ' ')"
	return 1
}

# must_fail RESULT NAME WHY: a create that must be refused.
must_fail() {
	create "$2"
	if [ $CREATE_RC -ne 0 ] && [ -z "$DOMID" ]; then
		result "$1" PASS "$3: xl create rc=$CREATE_RC: $(grep -m1 'domain creation fail' "$O/xl-create-$2.log" | sed 's/.*libxl__domain_make: //')"
	else
		result "$1" FAIL "$3: but xl create $2 rc=$CREATE_RC, domid '${DOMID}'"
		[ -n "$DOMID" ] && xl destroy "$2" >/dev/null 2>&1
	fi
}

label_of() { # xl list -Z's label column for a domid
	xl list -Z 2>/dev/null | awk -v d="$1" '$2 == d { print $NF }'
}

# probe RESULT WANT DETAIL ARGS...: runs hvsec-xsm-probe ARGS; PASS when
# its output starts with WANT.
probe() {
	local name=$1 want=$2 detail=$3 out
	shift 3
	out=$("$PROBE" "$@" 2>&1)
	echo "probe $* -> $out" >>"$O/probe.log"
	case $out in
	"$want"*) result "$name" PASS "$detail: hvsec-xsm-probe $* -> $out" ;;
	*) result "$name" FAIL "$detail: hvsec-xsm-probe $* -> '$out', wanted '$want...'" ;;
	esac
}

# gprobe RESULT WANT DETAIL GUEST DOMID ARGS...: the same probe run inside
# guest GUEST (d DOMID): dom0 types "hvsec-probe ID ARGS" on the guest's
# console (its pty, from XenStore) and waits for "@@hvsec probe ID ..." in
# the console log; the hypercalls are the guest's own.
GPROBE_N=0
gprobe() {
	local name=$1 want=$2 detail=$3 g=$4 domid=$5 tty out='' i
	local clog=/var/log/xen/console/guest-$g.log
	shift 5
	GPROBE_N=$((GPROBE_N + 1))
	for i in $(seq 1 60); do
		grep -q '@@hvsec probe ready' "$clog" 2>/dev/null && break
		sleep 0.5
	done
	tty=$(xenstore-read "/local/domain/$domid/console/tty" 2>/dev/null)
	if [ -n "$tty" ] && [ -c "$tty" ]; then
		printf 'hvsec-probe %s %s\n' "$GPROBE_N" "$*" >"$tty"
		for i in $(seq 1 40); do
			out=$(tr -d '\r' <"$clog" | sed -n "s/^@@hvsec probe $GPROBE_N //p" | head -n 1)
			[ -n "$out" ] && break
			sleep 0.5
		done
	fi
	echo "gprobe $g $* -> ${out:-(no answer; tty $tty)}" >>"$O/probe.log"
	case $out in
	"$want"*) result "$name" PASS "$detail: in $g, hvsec-xsm-probe $* -> $out" ;;
	*) result "$name" FAIL "$detail: in $g, hvsec-xsm-probe $* -> '${out:-no answer}', wanted '$want...'" ;;
	esac
}

main_case() {
# ------------------------------------------------------------------ boot
stage acm-boot
dmesg_has acm-boot-policy "the multiboot policy module was loaded" \
	"hvsec-acm: boot policy '$POL' 1\.0"
dmesg_has acm-dom0-label "dom0 got the policy's bootstrap label" \
	"hvsec-acm: d0 label 'System'"
enf=$(xl getenforce 2>&1)
check acm-getenforce "xl getenforce says '$enf'" [ "$enf" = Enforcing ]
check acm-list-dom0 "xl list -Z shows dom0 as '$(label_of 0)'" \
	[ "$(label_of 0)" = "ACM:$POL:System" ]

stage acm-hvsec
hv acm-hvsec-status 0 '^Platform +xen \(auto: .*no hvsecd socket' \
	"hvsec picks the xen platform by itself in dom0" status
hv acm-hvsec-mode 0 '^enforcing$' "hvsec mode asks Xen (FLASK_GETENFORCE)" mode
hv acm-hvsec-record-refused 1 "not the policy Xen runs: label 'Hooli'" \
	"hvsec will not record a policy Xen does not run" \
	policy load --record "$P/acm-tenants-update.bin"
hv acm-hvsec-record 0 'recorded in /var/lib/hvsec/xen/policy\.bin' \
	"hvsec records the boot policy once Xen confirmed its name and label ids" \
	policy load --record "$P/acm-tenants.bin"
hv acm-hvsec-show 0 '^Recorded .*: agrees' "hvsec policy show" policy show

cat /var/lib/hvsec-guest/domU-base.cpio "$S/domU/init.cpio" >/tmp/initrd.cpio ||
	fatal "cannot assemble the guest initramfs"

stage acm-unlabelled
guest nolabel "" idle
must_fail acm-unlabelled-refused nolabel "a domU without seclabel under a policy without __UNLABELED__"
dmesg_has acm-unlabelled-logged "Xen said why" \
	"DENY domain_create d[0-9]+ ssidref 0xc .*unlabeled"

backend_start acm-backend-start

# ------------------------------------------------------------------ tenants
stage acm-acme1
guest acme1 "ACM:$POL:Acme" quick vtpm
if must_start acm-create-acme "acme1"; then
	ACME1=$DOMID
	stage acm-acme1-vtpm
	relay_guest "acm-acme1-" acme1 "$ACME1" acme1
	check acm-acme1-finished "acme1 reached its vTPM tests' end" [ "$RELAY_DONE" = 1 ]
else
	ACME1=
fi
check acm-list-acme "xl list -Z shows acme1 as '$(label_of "${ACME1:-none}")'" \
	[ "$(label_of "${ACME1:-none}")" = "ACM:$POL:Acme" ]

stage acm-chwall
guest globex "Globex" idle
must_fail acm-chwall-refused globex "Globex conflicts with the running Acme domain"
dmesg_has acm-chwall-logged "Xen logged the Chinese-Wall denial" \
	"DENY domain_create d[0-9]+ ssidref 0x[0-9a-f]+ 'Globex': .*AcmeVsGlobex"
guest globexf "ACM:$POL:Globex" idle
hv acm-hvsec-explain 1 'type Globex conflicts with type Acme of running domain acme1' \
	"hvsec explains the refused create offline (the recorded policy, Xen's domains)" \
	dry-run /tmp/globexf.cfg

stage acm-ste
guest acme2 "ACM:$POL:Acme" idle
guest initech "ACM:$POL:Initech" idle
must_start acm-create-acme2 acme2 && ACME2=$DOMID || ACME2=
must_start acm-create-initech initech && INITECH=$DOMID || INITECH=
if [ -n "$ACME1" ] && [ -n "$ACME2" ] && [ -n "$INITECH" ]; then
	probe acm-evtchn-deny "ERR 13" "Acme -> Initech event channel refused (no common STE type)" \
		unbound "$ACME1" "$INITECH"
	probe acm-evtchn-deny-rev "ERR 13" "Initech -> Acme event channel refused" \
		unbound "$INITECH" "$ACME1"
	out=$("$PROBE" unbound "$ACME1" "$ACME2" 2>&1)
	port=$(echo "$out" | sed -n 's/^OK port \([0-9]*\) .*/\1/p')
	check acm-evtchn-share "Acme -> Acme event channel allowed (common type Acme): hvsec-xsm-probe unbound $ACME1 $ACME2 -> $out" \
		[ -n "$port" ]
	probe acm-evtchn-dom0 "OK" "dom0 -> Initech event channel allowed (System holds Initech)" \
		unbound 0 "$INITECH"
	probe acm-evtchn-to-dom0 "OK" "Initech -> dom0 event channel allowed" \
		unbound "$INITECH" 0
	probe acm-gntcopy-deny "GNTST -8 permission_denied" \
		"grant copy Acme -> Initech refused before the grant refs are looked at" \
		copy "$ACME1" "$INITECH"
	probe acm-gntcopy-share "GNTST -3 bad_gntref" \
		"grant copy Acme -> Acme passes the hook (then fails on the probe's invalid ref)" \
		copy "$ACME1" "$ACME2"
	probe acm-gntcopy-dom0 "GNTST -3 bad_gntref" "grant copy Initech -> dom0 passes the hook" \
		copy "$INITECH" 0
	# From inside the guests: their own hypercalls.
	gprobe acm-guest-map-deny "GNTST -8 permission_denied" \
		"Acme maps an Initech grant: refused" acme1 "$ACME1" map "$INITECH"
	gprobe acm-guest-map-share "GNTST -3 bad_gntref" \
		"Acme maps an Acme grant: passes the hook (then fails on the probe's invalid ref)" \
		acme1 "$ACME1" map "$ACME2"
	gprobe acm-guest-map-dom0 "GNTST -3 bad_gntref" \
		"Initech maps a dom0 grant: passes the hook" initech "$INITECH" map 0
	gprobe acm-guest-evtchn-deny "ERR 13" \
		"Initech offers an event channel to Acme: refused" initech "$INITECH" unbound self "$ACME1"
	if [ -n "$port" ]; then
		gprobe acm-guest-bind-share "OK local port" \
			"acme2 binds the port acme1 holds for it (evtchn_interdomain, common type Acme)" \
			acme2 "$ACME2" bind "$ACME1" "$port"
	else
		result acm-guest-bind-share FAIL "no port from acm-evtchn-share to bind"
	fi
	dmesg_has acm-guest-map-logged "Xen logged the grant map denial" \
		"DENY grant_map_read d$ACME1 'Acme' <-> d$INITECH 'Initech'"
	dmesg_has acm-ste-logged "Xen logged the STE denial with both labels" \
		"DENY evtchn_unbound d$ACME1 'Acme' <-> d$INITECH 'Initech'"
else
	result acm-ste-domains FAIL "acme1/acme2/initech did not all start: '$ACME1' '$ACME2' '$INITECH'"
fi
hvl=$(labels_of "$HV" list --label)
xll=$(labels_of xl list -Z)
echo "hvsec list --label: $hvl / xl list -Z: $xll" >>"$O/hvsec.log"
same_labels() { [ -n "$hvl" ] && [ "$hvl" = "$xll" ] && [ "$(wc -l <<<"$hvl")" -ge 4 ]; }
check acm-hvsec-list "hvsec list --label shows what xl list -Z shows: $(tr '\n' ',' <<<"$hvl")" \
	same_labels
probe acm-c2s "OK ssidref" "label -> ssidref through FLASK_CONTEXT_TO_SID" c2s "ACM:$POL:Initech"
probe acm-c2s-bad "ERR 22" "an unknown label is refused" c2s "ACM:$POL:Nobody"

# ------------------------------------------------------------------ relabel
stage acm-relabel
hv acm-hvsec-relabel-refused 1 'chinese wall conflict: .*AcmeVsGlobex' \
	"hvsec relabel of initech to Globex while Acme runs: refused with the blockers" \
	relabel initech Globex
guest relab "ACM:$POL:Initech>ACM:$POL:Acme" idle
if must_start acm-relabel-ok relab; then
	check acm-relabel-label "built as Initech, relabelled Acme: xl list -Z says '$(label_of "$DOMID")'" \
		[ "$(label_of "$DOMID")" = "ACM:$POL:Acme" ]
	xl destroy relab >/dev/null 2>&1
fi
guest relabg "ACM:$POL:Initech>ACM:$POL:Globex" idle
must_fail acm-relabel-refused relabg "a relabel to Globex while Acme runs (libxl then destroys the domain)"
dmesg_has acm-relabel-logged "Xen said why" "relabel of d[0-9]+ to 'Globex' refused"
xl destroy relabg >/dev/null 2>&1

# ------------------------------------------------------------------ loadpolicy
stage acm-loadpolicy
hv acm-hvsec-dryrun-break 1 'sharing would break: .*\(0\)' \
	"hvsec checks the breaking 1.1 here (live event channels read with EVTCHNOP_status)" \
	policy update --dry-run "$P/acm-tenants-break.bin"
xl loadpolicy "$P/acm-tenants-break.bin" >"$O/xl-loadpolicy-break.log" 2>&1
rc=$?
check acm-loadpolicy-break-refused "xl loadpolicy of a 1.1 taking Acme from dom0 while Acme domains run: rc=$rc" [ $rc -ne 0 ]
dmesg_has acm-loadpolicy-break-logged "Xen said why" \
	"update blocked: sharing .*'System' -> 'System'|policy '$POL' 1\.1 refused, '$POL' 1\.0 kept"
head -c 300 "$P/acm-tenants-update.bin" >/tmp/garbage.bin
xl loadpolicy /tmp/garbage.bin >"$O/xl-loadpolicy-garbage.log" 2>&1
rc=$?
check acm-loadpolicy-garbage-refused "xl loadpolicy of a truncated policy: rc=$rc" [ $rc -ne 0 ]
dmesg_has acm-loadpolicy-garbage-logged "Xen said why" "xl loadpolicy refused \(.*\); the running policy is kept"
probe acm-still-1.0 "ERR 22" "the refused 1.1 did not apply: no label Hooli yet" c2s "ACM:$POL:Hooli"
xl loadpolicy "$P/acm-tenants-update.bin" >"$O/xl-loadpolicy-update.log" 2>&1
rc=$?
check acm-loadpolicy-update "xl loadpolicy of a valid 1.1 (adds tenant Hooli): rc=$rc" [ $rc -eq 0 ]
dmesg_has acm-loadpolicy-update-logged "Xen switched policies" "updated to policy '$POL' 1\.1"
probe acm-update-label "OK ssidref" "the new label Hooli exists" c2s "ACM:$POL:Hooli"
check acm-list-after-update "xl list -Z still shows acme1 as '$(label_of "${ACME1:-none}")'" \
	[ "$(label_of "${ACME1:-none}")" = "ACM:$POL:Acme" ]
hv acm-hvsec-record-1.1 0 'recorded in' \
	"after xl loadpolicy, hvsec records what Xen runs now" \
	policy load --record "$P/acm-tenants-update.bin"
hv acm-hvsec-update 0 'updated on Xen \(checked here first\)' \
	"hvsec loads 1.2 itself (xc_flask_load)" \
	policy update "$P/acm-tenants-update2.bin"
dmesg_has acm-hvsec-update-logged "Xen switched to hvsec's 1.2" "updated to policy '$POL' 1\.2"
hv acm-hvsec-show-1.2 0 '^  Policy +hvsec-xen-test 1\.2' \
	"hvsec policy show: the recorded 1.2 agrees with Xen" policy show
# Xen's identity (FLASK_GETBOOL of boolean 0: version and hashes): an
# xl loadpolicy that keeps every label id is noticed by it alone.
hv acm-hvsec-identity 0 '^Policy +hvsec-xen-test 1\.2, trailer sha256 [0-9a-f]{64}$' \
	"hvsec status prints the policy identity Xen reports" status
xl loadpolicy "$P/acm-tenants-update3.bin" >"$O/xl-loadpolicy-update3.log" 2>&1
rc=$?
check acm-loadpolicy-same-ids "xl loadpolicy of a 1.3 that keeps every label id (Initech also gets type Hooli): rc=$rc" [ $rc -eq 0 ]
hv acm-hvsec-stale-identity 0 "stale: Xen runs 'hvsec-xen-test' 1\.3 .* but this is 'hvsec-xen-test' 1\.2 .*same name and label ids" \
	"hvsec notices its recorded 1.2 is stale although name and label ids agree" status
hv acm-hvsec-stale-refuses 2 'is not the one Xen runs \(Xen runs .* 1\.3' \
	"hvsec answers no label question from the stale record" labels
hv acm-hvsec-record-1.3 0 'version, hash and [0-9]+ VM label ids agree' \
	"hvsec records the 1.3 once Xen's identity confirms it" \
	policy load --record "$P/acm-tenants-update3.bin"

# ------------------------------------------------------------------ after
stage acm-destroy-acme
if [ -n "$ACME1" ]; then
	xl -v destroy acme1 >"$O/xl-destroy-acme1.log" 2>&1
	check acm-destroy-acme1 "xl destroy acme1 (vTPM guest)" [ $? -eq 0 ]
	vtpm_teardown_checks "acm-acme1-" "$ACME1"
fi
[ -n "$ACME2" ] && xl destroy acme2 >"$O/xl-destroy-acme2.log" 2>&1
# free_security_domain runs once the last reference is gone (an RCU
# callback): Acme stops counting a moment after xl destroy returns.
stage acm-chwall-after
for i in 1 2 3 4 5 6; do
	xl list acme1 >/dev/null 2>&1 || xl list acme2 >/dev/null 2>&1 || break
	sleep 0.5
done
must_start acm-chwall-after-destroy globex
[ -n "$DOMID" ] && xl destroy globex >/dev/null 2>&1
[ -n "$INITECH" ] && xl destroy initech >/dev/null 2>&1

if [ -n "$BE_PID" ]; then
	check acm-backend-alive "the vTPM backend is still running" kill -0 "$BE_PID"
	kill "$BE_PID" 2>/dev/null
fi
}

# The fail-closed case (run.sh's third boot: the policy module is a
# corrupted copy): no policy, so nothing but dom0 may start, until a good
# policy is loaded with xl loadpolicy.
failclosed_case() {
	stage failclosed-boot
	dmesg_has failclosed-no-policy "Xen refused the corrupted boot policy and runs without one" \
		"hvsec-acm: NO POLICY \(boot policy refused: .*\)"
	enf=$(xl getenforce 2>&1)
	check failclosed-getenforce "xl getenforce says '$enf' (there is no permissive mode)" [ "$enf" = Enforcing ]
	check failclosed-dom0-unlabelled "xl list -Z shows no label for dom0 ('$(label_of 0)')" \
		[ -z "$(xl list -Z 2>/dev/null | grep 'ACM:')" ]
	hv failclosed-hvsec-none 0 '^Policy +none \(fail-closed\)' \
		"hvsec status: Xen runs no policy" status
	cat /var/lib/hvsec-guest/domU-base.cpio "$S/domU/init.cpio" >/tmp/initrd.cpio ||
		fatal "cannot assemble the guest initramfs"
	guest nolabel "" idle
	must_fail failclosed-unlabelled-refused nolabel "no policy: an unlabelled domU"
	dmesg_has failclosed-logged "Xen said why" "DENY domain_create d[0-9]+ ssidref 0xc: no policy"
	guest acme1 "ACM:$POL:Acme" idle
	must_fail failclosed-labelled-refused acme1 "no policy: a labelled domU (libxl cannot even map its label)"
	xl loadpolicy "$P/acm-tenants.bin" >"$O/xl-loadpolicy.log" 2>&1
	rc=$?
	check failclosed-loadpolicy "xl loadpolicy of a valid policy: rc=$rc" [ $rc -eq 0 ]
	dmesg_has failclosed-loaded "Xen loaded it" "hvsec-acm: loaded policy '$POL' 1\.0"
	check failclosed-dom0-labelled "dom0 took the bootstrap label: xl list -Z says '$(label_of 0)'" \
		[ "$(label_of 0)" = "ACM:$POL:System" ]
	must_start failclosed-create-after-load acme1 && xl destroy acme1 >/dev/null 2>&1
}

if [ "${ACM_CASE:-main}" = failclosed ]; then
	failclosed_case
else
	main_case
fi

xl dmesg >"$O/xl-dmesg.txt" 2>&1
cp /var/log/xen/*.log "$O/" 2>/dev/null
stage dom0-done
echo complete >"$O/done"
poweroff_now
