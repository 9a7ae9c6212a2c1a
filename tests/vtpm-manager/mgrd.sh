#!/usr/bin/env bash
# mgrd.sh - hvsec-vtpm-managerd end to end: a swtpm this script starts is
# the platform TPM; --init makes a manager directory; the manager runs as a
# domain of hvsecd; tests/vtpm-manager/mgrctl drives its control socket
# and tests/vtpm-manager/mgrguest, an instance stand-in, its ring.
#
#   command line (usage errors, exit 2), --init (what it makes, twice
#   refused: exit 5, an NV index in use, --force-new-counter), serving:
#   STATUS, ATTACH create / verify / binding mismatch, LIST; a stub
#   that OPENs (NEW), COMMITs, is refused a stale generation and a
#   second OPEN; OPEN from an unattached domain refused; the ring closed
#   and the domain gone (detached); group commits from several stubs at
#   once; kill -9 of the manager during commits, restart: the root record
#   recovers, no acknowledged commit lost; a root record that no longer
#   matches the NV counter: exit 4; a changed platform PCR: exit 3, the PCR
#   named, nothing served.
source "$(dirname "$0")/../hypervisor/lib-hv.sh"

MGRD=$HVSEC_BIN/hvsec-vtpm-managerd
MGRCTL=$HV_BUILD_DIR/tests/vtpm-manager/mgrctl
MGUEST=$HV_BUILD_DIR/tests/vtpm-manager/mgrguest
for b in "$MGRD" "$MGRCTL" "$MGUEST"; do
	if [ ! -x "$b" ]; then
		echo "FAIL: missing $b (make BUILD=$HVSEC_BUILD)"
		echo "0 passed, 1 failed"
		exit 1
	fi
done
if ! command -v swtpm >/dev/null; then
	echo "SKIP: swtpm is not installed"
	echo "0 passed, 0 failed"
	exit 0
fi
command -v xenstore-write >/dev/null || bash "$HVSEC_SRC/scripts/deps.sh" test >/dev/null 2>&1

# ------------------------------------------------------------ command line
expect "--help names the exit codes" 0 '3 the root key does not unseal' -- "$MGRD" --help
expect "no --dir" 2 '--dir is required' -- "$MGRD" --init --tcti x
expect "serving needs --control" 2 '--control is required' -- "$MGRD" --dir /d --tcti x
expect "--pcrs is an --init option" 2 '--pcrs is an --init option' -- \
	"$MGRD" --dir /d --tcti x --control /s --pcrs 0
expect "bad --pcrs named" 2 '--pcrs "0,24"' -- "$MGRD" --init --dir /d --tcti x --pcrs 0,24
expect "--pcrs twice a PCR" 2 '--pcrs "1,1"' -- "$MGRD" --init --dir /d --tcti x --pcrs 1,1
expect "--nv-index outside the owner range" 2 '--nv-index "0x01c00002"' -- \
	"$MGRD" --init --dir /d --tcti x --nv-index 0x01c00002
expect "--commit-window-us bounded" 2 '--commit-window-us "200000": out of range' -- \
	"$MGRD" --dir /d --tcti x --control /s --commit-window-us 200000
expect "unknown option" 2 '--frob: unknown option' -- "$MGRD" --frob

# ------------------------------------------------------------ the platform TPM
BASE=$(mktemp -d /tmp/hvsec-mgrd-test.XXXXXX)
chmod 0711 "$BASE"
SWTPM_PID=
cleanup() {
	[ -n "$SWTPM_PID" ] && kill "$SWTPM_PID" 2>/dev/null
	hv_cleanup
	rm -rf "$BASE"
}
trap cleanup EXIT

start_swtpm() {
	mkdir -p "$BASE/swtpm"
	for _ in 1 2 3 4 5; do
		P=$((20000 + RANDOM % 30000))
		swtpm socket --tpm2 --server type=tcp,port=$P --ctrl type=tcp,port=$((P + 1)) \
			--flags not-need-init,startup-clear --tpmstate dir="$BASE/swtpm" \
			>>"$BASE/swtpm.log" 2>&1 &
		SWTPM_PID=$!
		for _ in $(seq 100); do
			if timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$((P + 1))" 2>/dev/null; then
				TCTI="swtpm:host=127.0.0.1,port=$P"
				return 0
			fi
			kill -0 "$SWTPM_PID" 2>/dev/null || break
			sleep 0.05
		done
		kill "$SWTPM_PID" 2>/dev/null
		wait "$SWTPM_PID" 2>/dev/null
		SWTPM_PID=
	done
	return 1
}
stop_swtpm() {
	kill "$SWTPM_PID" 2>/dev/null
	wait "$SWTPM_PID" 2>/dev/null
	SWTPM_PID=
}
start_swtpm || { echo "FAIL: swtpm did not start"; cat "$BASE/swtpm.log"; echo "0 passed, 1 failed"; exit 1; }

# ------------------------------------------------------------ --init
D=$BASE/mgr
out=$("$MGRD" --init --dir "$D" --tcti "$TCTI" 2>&1)
ok "--init makes a manager (exit 0)" $? "$out"
ok "--init says what it made" $(grep -Eq 'initialised .*manager [0-9a-f-]{36}' <<<"$out" &&
	grep -q 'sealed to SHA-256 PCRs 0,2,4,7' <<<"$out" &&
	grep -Eq 'NV counter +0x01800a70 = [0-9]+' <<<"$out"; echo $?) "$out"
expect "--init made its files" 0 'ca.pem.*identity.*root.*sealed-key' -- \
	bash -c "ls '$D' | tr '\n' ' '"
expect "directory is 0700" 0 '^700$' -- stat -c %a "$D"
expect "--init twice: exit 5" 5 'initialised already' -- \
	"$MGRD" --init --dir "$D" --tcti "$TCTI"
expect "--init on an NV index in use: named" 1 'NV counter 0x01800a70.*--force-new-counter' -- \
	"$MGRD" --init --dir "$BASE/other" --tcti "$TCTI"
expect "... and nothing was written" 0 '^$' -- ls "$BASE/other"
expect "--init with its own index" 0 'NV counter +0x01800a71' -- \
	"$MGRD" --init --dir "$BASE/m2" --tcti "$TCTI" --nv-index 0x01800a71 --pcrs 7
expect "--force-new-counter replaces that index" 0 'undefined and defined again' -- \
	"$MGRD" --init --dir "$BASE/m3" --tcti "$TCTI" --nv-index 0x01800a71 --force-new-counter
# m2's record is bound to a counter that is gone: refused, never re-made.
expect "root record without its counter: exit 4" 4 'REFUSING TO SERVE: root record' -- \
	"$MGRD" --dir "$BASE/m2" --tcti "$TCTI" --control "$BASE/m2.sock"
expect "... and no control socket was made" 1 '' -- test -e "$BASE/m2.sock"

# ------------------------------------------------------------ serving
hv_start || { echo "0 passed, 1 failed"; exit 1; }
export XENSTORED_PATH=$RUN/xenstored
xs() { timeout 10 "$@"; }
info_field() { ctl info "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
SOCKD=$BASE/run
mkdir -p "$SOCKD"
SOCK=$SOCKD/mgr.sock
mc() { timeout 30 "$MGRCTL" "$SOCK" "$@"; }

# manager [ARGS]: the manager as a paused domain, its directory and run
# directory handed to its uid, unpaused; prints the domid.
manager() {
	local out id uid
	out=$(ctl create vtpmmgr$RANDOM "$MGRD" -p -- --dir "$D" --tcti "$TCTI" \
		--control "$SOCK" "$@") || { echo "$out" >&2; return 1; }
	id=$(sed -n 's/^domid //p' <<<"$out")
	echo "$id" >"$TL_TMP/last_id"
	uid=$(info_field "$id" uid)
	if [ "$(id -u)" = 0 ] && [ -n "$uid" ] && [ "$uid" != 0 ]; then
		chown -R "$uid:$uid" "$D" "$SOCKD"
	fi
	ctl unpause "$id" >/dev/null
	echo "$id"
}

# san_clean M: no sanitizer report on the manager's console (SAN=1).
san_clean() {
	local c
	c=$(ctl console "$1" 2>/dev/null)
	! grep -qE 'ERROR: [A-Za-z]+Sanitizer|runtime error:' <<<"$c"
	ok "manager $1: no sanitizer report" $? "$(grep -A15 -E 'Sanitizer|runtime error' <<<"$c" | head -20)"
}

# ring G M: the toolstack's directories for stub G as frontend of the
# manager M (docs/vtpm-manager.md).
ring() {
	local g=$1 m=$2
	local fe=/local/domain/$g/device/vtpm/0 be=/local/domain/$m/backend/vtpm/$g/0
	xs xenstore-write "$fe/backend" "$be" "$fe/backend-id" "$m" \
		"$fe/handle" 0 "$fe/state" 1 &&
	xs xenstore-chmod -r "$fe" "n$g" "r$m" &&
	xs xenstore-write "$be/frontend" "$fe" "$be/frontend-id" "$g" \
		"$be/handle" 0 "$be/online" 1 "$be/state" 1 &&
	xs xenstore-chmod -r "$be" "n$m" "r$g"
}

# stub NAME ACTIONS...: an instance stand-in, paused; prints its domid.
stub() {
	local name=$1 out
	shift
	out=$(ctl create "$name" "$MGUEST" -p -- "$@") || { echo "$out" >&2; return 1; }
	sed -n 's/^domid //p' <<<"$out" | tee "$TL_TMP/last_id"
}

M=$(manager)
ok "manager domain created" $([ -n "$M" ]; echo $?) "$M"
check "key holder unsealed and recovered" "$M" "mgrd[kh]: key holder ready: manager"
check "front serving" "$M" "mgrd: serving: domain $M"
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
expect "STATUS" 0 'instances=0 attached=0 open=0 commits=0 .*pcr_mask=0x000095|pcr_mask=0x000095.*instances=0' -- mc status
expect "IDENTITY" 0 'pubkey=91 ca_cert=[0-9]+' -- mc identity

U1=11111111-2222-4333-8444-555555555555
U2=21111111-2222-4333-8444-555555555555
DOM1=aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee
DOM2=baaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee

G1=$(stub inst1 connect "open:$U1" provision commit:permall:1 commit:volatilestate:1 \
	refuse:commit:permall:1:9 refuse:open:$U1:7 commit:permall:2 close "open:$U1" hold)
expect "ATTACH unknown, create=0" 1 'rc=4 .*create=0' -- mc attach "$U1" "$DOM1" guest_1 "$G1"
expect "ATTACH create" 0 'created=1' -- mc attach "$U1" "$DOM1" guest_1 "$G1" create
expect "ATTACH again verifies: not created" 0 'created=0' -- mc attach "$U1" "$DOM1" guest_1 "$G1" create
expect "ATTACH with another domain uuid: BINDING names it" 1 'rc=6 .*domain uuid baaaaaaa' -- \
	mc attach "$U1" "$DOM2" guest_1 "$G1"
expect "ATTACH with another label: BINDING names it" 1 'rc=6 .*label "guest_x"' -- \
	mc attach "$U1" "$DOM1" guest_x "$G1"
expect "LIST" 0 "uuid=$U1 domain=$DOM1 label=guest_1 flags=0x0 stub=$G1 open=0 gen=0,0,0" -- mc list
ring "$G1" "$M"; ok "ring directories written" $? ""
ctl unpause "$G1" >/dev/null
check "stub connects to the manager" "$G1" "connect: ok"
check "OPEN: NEW" "$G1" "open:$U1: ok NEW gens=0,0,0"
check "COMMIT permall 1" "$G1" "commit:permall:1: ok"
check "stale generation refused" "$G1" "refuse:commit:permall:1:9: ok refused: COMMIT permall: generation 1, committed 1"
check "second OPEN refused (BUSY)" "$G1" "refuse:open:$U1:7: ok refused"
check "OPEN after CLOSE: EXISTING with the refs" "$G1" "open:$U1: ok EXISTING gens=2,1,0"
check "manager logged the OPEN with the peer" "$M" "domain $G1 OPEN $U1: NEW"
check "PROVISION: two EK certificates" "$G1" "provision: ok 2 certs"
hex=$(ctl console "$G1" | sed -n 's/.*ekpub=\([0-9a-f]*\).*/\1/p' | head -n 1)
printf '%b' "$(sed 's/../\\x&/g' <<<"$hex")" >"$BASE/ek.pub"
expect "DEEP_QUOTE of the certified EK: a platform quote" 0 'attest=[0-9]+ sig=[0-9]+ ak_public=[0-9]+' -- \
	mc deep-quote "$U1" "$BASE/ek.pub" 00112233 0x95
head -c 40 "$BASE/ek.pub" >"$BASE/ek.bad"; cat "$BASE/ek.pub" | tail -c +41 | tr '\000-\377' '\001-\377\000' >>"$BASE/ek.bad"
expect "DEEP_QUOTE of another EK: refused" 1 'rc=3 .*not an EK this manager certified' -- \
	mc deep-quote "$U1" "$BASE/ek.bad" 00 0x95
expect "DEEP_QUOTE for another instance: refused" 1 'rc=4 ' -- \
	mc deep-quote "$U2" "$BASE/ek.pub" 00 0x95
expect "LIST: open, generations" 0 "stub=$G1 open=1 gen=2,1,0" -- mc list
expect "STATUS: commits counted" 0 'attached=1 open=1 commits=3 ' -- mc status
expect "DELETE while attached: BUSY" 1 'rc=7 ' -- mc delete "$U1"

# Another domain claims the instance: refused, whatever it says.
G2=$(stub intruder connect "refuse:open:$U1:3" "refuse:commit:permall:3:3" hold)
ring "$G2" "$M"
ctl unpause "$G2" >/dev/null
check "OPEN from an unattached domain refused" "$G2" "refuse:open:$U1:3: ok refused: domain $G2 is not attached"
check "COMMIT from it refused" "$G2" "refuse:commit:permall:3:3: ok refused: domain $G2 has no instance open"

# The stub dies: the ring closes, the domain is gone: detached.
ctl destroy "$G1" >/dev/null
xs xenstore-rm "/local/domain/$G1/device/vtpm/0" 2>/dev/null
check "domain gone: instance detached" "$M" "domain $G1 is gone: instance $U1 detached"
expect "LIST: not attached" 0 "stub=-1 open=0 gen=2,1,0" -- mc list
expect "RESET" 0 'ok' -- mc reset "$U1"
expect "LIST after RESET: generations kept" 0 "gen=2,1,0" -- mc list

# One stub alone: every COMMIT is one root commit (one NV increment).
U0=01111111-2222-4333-8444-555555555555
G0=$(stub single connect "open:$U0" commits:40 hold)
mc attach "$U0" "$DOM1" single_1 "$G0" create >/dev/null
ring "$G0" "$M"
ctl unpause "$G0" >/dev/null
check "one stub: 40 commits" "$G0" "commits:40: ok 40 commits" 30000
echo "measured: one stub alone: $(ctl console "$G0" | grep -o 'commits:40: ok.*')"

# Several stubs committing at once share root commits.
# group TAG N: N stubs (uuids 3TAG1..) of 40 commits each, all at once.
group() {
	local tag=$1 n=$2 ids=() g u before after t0 t1
	for i in $(seq "$n"); do
		u=3${tag}$(printf '%06d' "$i")-2222-4333-8444-555555555555
		g=$(stub grp$tag$i connect "open:$u" commits:40 hold)
		mc attach "$u" "$DOM1" "grp_$tag$i" "$g" create >/dev/null
		ring "$g" "$M"
		ids+=("$g")
	done
	before=$(mc status | sed -n 's/.*commit_batches=\([0-9]*\).*/\1/p')
	t0=$(date +%s%N)
	for g in "${ids[@]}"; do ctl unpause "$g" >/dev/null; done
	for g in "${ids[@]}"; do
		check "group $tag: stub $g: 40 commits" "$g" "commits:40: ok 40 commits" 30000
	done
	t1=$(date +%s%N)
	after=$(mc status | sed -n 's/.*commit_batches=\([0-9]*\).*/\1/p')
	for g in "${ids[@]}"; do
		echo "measured: group $tag: stub $g: $(ctl console "$g" | grep -o 'commits:40: ok.*')"
		GROUP_IDS+=("$g")
	done
	echo "measured: group $tag: $n stubs x 40 commits: $((after - before)) root commits, about $(((t1 - t0) / 1000000)) ms in all (with domain start)"
	ok "group $tag: fewer root commits than commits ($((after - before)) < $((n * 40)))" \
		$([ -n "$after" ] && [ $((after - before)) -lt $((n * 40)) ]; echo $?) "before=$before after=$after"
}
GROUP_IDS=()
group 1 4

# ------------------------------------------------------------ kill -9
U9=91111111-2222-4333-8444-555555555555
G9=$(stub crash connect "open:$U9" commits:100000 hold)
mc attach "$U9" "$DOM1" crash_1 "$G9" create >/dev/null
ring "$G9" "$M"
ctl unpause "$G9" >/dev/null
sleep 1.5
mpids=$(ps -eo pid=,args= | awk -v d="$D" '$0 ~ /hvsec-vtpm-managerd/ && $0 ~ d {print $1}')
kill -9 $mpids 2>/dev/null
check "stub saw the manager die mid-commit" "$G9" "commits:100000: FAIL at" 10000
acked=$(ctl console "$G9" | sed -n 's/.*commits:100000: FAIL at \([0-9]*\).*/\1/p')
san_clean "$M"
ctl destroy "$M" >/dev/null 2>&1
ctl destroy "$G9" >/dev/null 2>&1
for g in "${GROUP_IDS[@]}" "$G2" "$G0"; do ctl destroy "$g" >/dev/null 2>&1; done
xs xenstore-rm "/local/domain/$M/backend" 2>/dev/null
# A killed manager leaves its transient objects in a TPM without a
# resource manager (swtpm; /dev/tpmrm0 flushes them); the next one
# flushes them at start (mgr_ptpm_config.flush_stale), so the same swtpm
# keeps serving without a restart.
rm -f "$SOCK"
M=$(manager)
check "restarted manager recovers" "$M" "key holder ready: manager"
for _ in $(seq 100); do mc status >/dev/null 2>&1 && break; sleep 0.05; done
gen=$(mc list | sed -n "s/^uuid=$U9 .*gen=\([0-9]*\),.*/\1/p")
echo "measured: kill -9 after $acked acknowledged commits; recovered generation $gen"
ok "no acknowledged commit lost ($acked acknowledged, $gen recovered)" \
	$([ -n "$gen" ] && [ -n "$acked" ] && [ "$gen" -ge "$acked" ] && [ "$gen" -le $((acked + 1)) ]; echo $?) \
	"acked=$acked gen=$gen"
expect "STATUS after recovery: root generation = counter" 0 'root_generation=([0-9]+) counter=\1 ' -- mc status

# The same 4 stubs with a commit window: the key holder waits up to 5 ms
# for more COMMITs once a batch holds one.
stop_manager() {
	local p
	for p in $(ps -eo pid=,args= | awk -v d="$D" '$0 ~ /hvsec-vtpm-managerd/ && $0 ~ d {print $1}'); do
		kill -TERM "$p" 2>/dev/null
	done
	ctl wait-state "$1" shutdown 10000 >/dev/null 2>&1
}
stop_manager "$M"
san_clean "$M"
ctl destroy "$M" >/dev/null
rm -f "$SOCK"
M=$(manager --commit-window-us 5000 --toolstack-uid 4242)
check "manager with a commit window" "$M" "commit window 5000 us"
for _ in $(seq 100); do mc status >/dev/null 2>&1 && break; sleep 0.05; done
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	expect "--toolstack-uid may use the control socket" 0 'instances=' -- \
		setpriv --reuid 4242 --regid 4242 --clear-groups "$MGRCTL" "$SOCK" status
	expect "another uid may not" 3 'closed the connection|Broken pipe|reset by peer' -- \
		setpriv --reuid 4243 --regid 4243 --clear-groups "$MGRCTL" "$SOCK" status
	check "the refusal is logged with the uid" "$M" "control connection of uid 4243"
fi
group 2 4
group 3 8

# ------------------------------------------------------------ wrong PCRs
# SIGTERM: the front closes, the key holder flushes what it loaded.
stop_manager "$M"
check "SIGTERM: the manager stops cleanly" "$M" "mgrd: stopped (exit 0)"
check "the key holder said what it did" "$M" "key holder stops: "
san_clean "$M"
ctl destroy "$M" >/dev/null
for g in "${GROUP_IDS[@]}"; do ctl destroy "$g" >/dev/null 2>&1; done
TPM2TOOLS_TCTI=$TCTI timeout 10 tpm2_pcrextend 4:sha256=$(printf '%064d' 7) >/dev/null 2>&1
ok "platform PCR 4 extended" $? ""
M=$(manager)
ctl wait-state "$M" shutdown 10000 >/dev/null 2>&1
st=$(ctl info "$M")
ok "changed PCR: the manager domain exits 3" $(grep -Eq "exit=3" <<<"$st"; echo $?) "$st"
check "the console names the PCR" "$M" "PCRs that changed since sealing: 4"
check "the front said it does not serve" "$M" "mgrd: NOT SERVING (exit 3)"
expect "no control socket" 1 '' -- test -S "$SOCK"
san_clean "$M"
chown -R 0:0 "$D"
expect "in dom0 too: exit 3" 3 'REFUSING TO SERVE: the root key does not unseal.*: 4' -- \
	"$MGRD" --dir "$D" --tcti "$TCTI" --control "$BASE/x.sock"

hv_done
