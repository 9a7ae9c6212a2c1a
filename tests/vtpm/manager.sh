#!/usr/bin/env bash
# manager.sh - vTPM instances served by the vTPM manager domain, end to
# end (docs/vtpm.md "Manager mode"): a swtpm of the test's own as the
# platform TPM; `hvsec vtpm manager init` + `start`; a guest with
# vtpm = ['...,manager=yes']:
#   - tpm2-tools in the guest (getrandom, nvdefine/nvwrite/nvread,
#     createek, the EK certificate read with tpm2_nvread verifies with
#     openssl against `hvsec vtpm ca`, which is the manager's CA);
#   - the state files are sealed blobs (no libtpms plaintext, and they do
#     not decrypt without the manager's key: the file store refuses them);
#   - NV survives destroy + create (EXISTING, nothing manufactured);
#   - rollback: old state files put back -> create refused, the stub's
#     console and the create output name the rollback, nothing
#     manufactured again; the right files back -> it runs again;
#   - a second guest claiming the same vTPM while the first runs: refused;
#   - manager=yes without a running manager: create refused, clear words;
#   - wrong platform PCRs: manager stopped, a PCR extended in the swtpm,
#     start refused naming the PCR;
#   - admin: list/show through the manager, status --json, reset and
#     delete through the manager;
#   - NV write latency, file store vs manager mode (printed);
#   - provisioning time per create (median of MGR_CREATES creates).
# The crash half (kill -9 of the manager and of stubs while NV is written)
# is tests/vtpm/manager-crash.sh.
source "$(dirname "$0")/../tools/lib-ts.sh"
source "$(dirname "$0")/lib-vtpm.sh"
TPMFRONT=$HVSEC_BIN/hvsec-tpmfront
VTPMD=$HVSEC_BIN/hvsec-vtpmd
MGRD=$HVSEC_BIN/hvsec-vtpm-managerd
ts_need "$HVSEC" "$HVSECD" "$POLC" "$TPMFRONT" "$VTPMD" "$MGRD"
for t in swtpm tpm2_pcrextend tpm2_nvread tpm2_getrandom openssl; do
	command -v $t >/dev/null || { echo "SKIP: $t missing (scripts/deps.sh test)"; echo "0 passed, 0 failed"; exit 0; }
done
MGR_CREATES=${MGR_CREATES:-10}

T=$TL_TMP
"$POLC" compile --quiet "$HVSEC_SRC/policies/multi-tenant.xml" -o "$T/mt.bin" ||
	{ echo "FAIL: policy"; echo "0 passed, 1 failed"; exit 1; }
G=$(mktemp -d /tmp/hvsec-vtpm-mgr.XXXXXX)
chmod 0755 "$G"
SWTPM_PID=
stop_swtpm() {
	[ -n "$SWTPM_PID" ] || return 0
	kill "$SWTPM_PID" 2>/dev/null; wait "$SWTPM_PID" 2>/dev/null; SWTPM_PID=
}
trap 'hv vtpm manager stop >/dev/null 2>&1; stop_swtpm; rm -rf "$G"; ts_cleanup' EXIT
export HVSEC_VTPM_DIR=$G/state
export HVSEC_VTPM_MGR_DIR=$G/mgr
XS="env XENSTORED_PATH=$RUN/xenstored"

# The platform TPM: a swtpm on a free pair of ports, state in $G/ptpm.
start_swtpm() {
	mkdir -p "$G/ptpm"
	for _ in 1 2 3 4 5; do
		local port=$((20000 + RANDOM % 20000))
		swtpm socket --tpm2 --server type=tcp,port=$port \
			--ctrl type=tcp,port=$((port + 1)) \
			--flags not-need-init,startup-clear \
			--tpmstate dir="$G/ptpm" >>"$G/swtpm.log" 2>&1 &
		SWTPM_PID=$!
		for _ in $(seq 100); do
			if ! kill -0 "$SWTPM_PID" 2>/dev/null; then SWTPM_PID=; break; fi
			if (exec 3<>/dev/tcp/127.0.0.1/$((port + 1))) 2>/dev/null; then
				export HVSEC_VTPM_MGR_TCTI="swtpm:host=127.0.0.1,port=$port"
				return 0
			fi
			sleep 0.05
		done
		stop_swtpm
	done
	return 1
}
start_swtpm || { echo "FAIL: swtpm did not start"; cat "$G/swtpm.log"; echo "0 passed, 1 failed"; exit 1; }
ts_start --policy "$T/mt.bin" || { echo "0 passed, 1 failed"; exit 1; }

# ---- the manager
printf 'name = "nomgr"\nkernel = "%s"\nextra = "--exec /bin/true"\naccess_control = ["policy=multi-tenant,label=Acme"]\nvtpm = ["backend=0,manager=yes"]\n' \
	"$TPMFRONT" >"$T/nomgr.cfg"
expect "manager=yes with no manager running: create refused" 1 'manager=yes but no vTPM manager is running' \
	-- hv create "$T/nomgr.cfg"
expect "... and nothing left running" 1 '' -- bash -c "'$HVSEC' --run-dir '$RUN' list | grep -q nomgr"
expect "manager status: not running" 1 'not running' -- hv vtpm manager status
expect "manager init" 0 'initialised' -- hv vtpm manager init
ok "manager dir 0700" "$( [ "$(stat -c %a "$HVSEC_VTPM_MGR_DIR")" = 700 ]; echo $?)" "$(stat -c %a "$HVSEC_VTPM_MGR_DIR" 2>&1)"
expect "manager init twice refused" 3 '' -- hv vtpm manager init
expect "manager start" 0 'vTPM manager running: domain [0-9]+' -- hv vtpm manager start
expect "manager start twice refused" 1 'already running' -- hv vtpm manager start
expect "manager status" 0 'Root record +generation [0-9]+' -- hv vtpm manager status
json_ok "manager status --json" hv --json vtpm manager status
MGRID=$($XS xenstore-read /hvsec/vtpm-manager/domid 2>/dev/null)
expect "registration is dom0's alone" 0 '\(n0\)' -- $XS xenstore-ls -p /hvsec/vtpm-manager

# ---- a guest whose vTPM the manager seals
cat >"$G/guest.sh" <<'EOF'
O=$1
tpm2_getrandom 8 --hex >/dev/null 2>&1 && echo "STEP getrandom ok"
if tpm2_nvreadpublic 0x1500016 >/dev/null 2>&1; then
	echo "NVOLD $(tpm2_nvread 0x1500016 -C o -s 8 2>/dev/null | od -An -c | tr -d ' \n')"
else
	tpm2_nvdefine 0x1500016 -C o -s 8 -a "ownerread|ownerwrite|authread|authwrite" >/dev/null 2>&1 && echo "STEP nvdefine ok"
fi
printf '%s' "$2" | tpm2_nvwrite 0x1500016 -C o -i - >/dev/null 2>&1 && echo "STEP nvwrite ok"
echo "NVNOW $(tpm2_nvread 0x1500016 -C o -s 8 2>/dev/null | od -An -c | tr -d ' \n')"
tpm2_createek -c "$O/ek.ctx" -G rsa -u "$O/ek.pub" >/dev/null 2>&1 && echo "STEP createek ok"
tpm2_nvread 0x01c00002 -C o -o "$O/ek.der" >/dev/null 2>&1 && echo "STEP nvread-cert ok"
tpm2_nvread 0x01c0000a -C o -o "$O/ekecc.der" >/dev/null 2>&1 && echo "STEP nvread-cert-ecc ok"
tpm2_readpublic -c 0x81010001 -f pem -o "$O/ekpub.pem" >/dev/null 2>&1 && echo "STEP readpublic ok"
echo "GUEST DONE"
sleep 60
EOF
UUID=5b1e2f3a-4c5d-4e6f-8a7b-9c0d1e2f3a4b
# guest_cfg FILE NAME OUTDIR NVVALUE [VTPM SPEC [DOMAIN UUID]]: the vTPM is
# bound to the guest's domain uuid (a guest with a kept vTPM keeps its
# uuid, as in Xen configs).
GUUID=0f1e2d3c-4b5a-4697-8877-665544332211
guest_cfg() {
	{
		printf 'name = "%s"\n' "$2"
		printf 'uuid = "%s"\n' "${6:-$GUUID}"
		printf 'kernel = "%s"\n' "$TPMFRONT"
		printf 'extra = "--exec /bin/sh %s %s %s"\n' "$G/guest.sh" "$3" "$4"
		printf "access_control = ['policy=multi-tenant,label=Acme']\n"
		printf "vtpm = ['%s']\n" "${5:-backend=0,uuid=$UUID,manager=yes}"
	} >"$1"
	mkdir -p "$3"; chmod 0777 "$3"
}
guest_done() { # NAME CHECKNAME
	if wait_console "$1" 'GUEST DONE' 60; then ok "$2" 0 ""; else
		ok "$2" 1 "$(hv console "$1" | tail -n 20; hv console "$1-vtpm0" | tail -n 10)"; fi
}

guest_cfg "$T/g1.cfg" mg1 "$G/out1" value001
expect "create (manager mode)" 0 '' -- hv create "$T/g1.cfg"
guest_done mg1 "guest script ran"
for s in getrandom nvdefine nvwrite createek nvread-cert nvread-cert-ecc readpublic; do
	console_ok mg1 "in the guest: $s" "STEP $s ok"
done
console_ok mg1 "NV reads back" 'NVNOW value001'
console_ok mg1-vtpm0 "the stub: NEW, manufactured and certified by the manager" \
	'instance .* NEW: manufactured, EKs certified by the manager, committed'
D1=$(domid_of mg1); S1=$(domid_of mg1-vtpm0)
expect "/libxl record names the manager" 0 "^$MGRID\$" -- $XS xenstore-read "/libxl/$D1/device/vtpm/0/manager"

hv vtpm ca >"$T/mgr-ca.pem"
expect "vtpm ca is the manager's CA" 0 'manager' -- openssl x509 -in "$T/mgr-ca.pem" -noout -subject
openssl x509 -inform DER -in "$G/out1/ek.der" -out "$T/ek.pem" 2>/dev/null
openssl x509 -inform DER -in "$G/out1/ekecc.der" -out "$T/ekecc.pem" 2>/dev/null
expect "RSA EK certificate (tpm2_nvread) verifies against vtpm ca" 0 ': OK' -- openssl verify -CAfile "$T/mgr-ca.pem" "$T/ek.pem"
expect "ECC EK certificate verifies against vtpm ca" 0 ': OK' -- openssl verify -CAfile "$T/mgr-ca.pem" "$T/ekecc.pem"
expect "the certificate certifies the guest's EK" 0 '' -- bash -c \
	"[ \"\$(openssl x509 -in '$T/ek.pem' -noout -pubkey)\" = \"\$(cat '$G/out1/ekpub.pem')\" ]"

SD=$HVSEC_VTPM_DIR/$UUID
ok "permall is a sealed blob (HVSB), no libtpms plaintext" "$(
	head -c 4 "$SD/permall" | grep -q HVSB && ! grep -qa 'value001' "$SD/permall"; echo $?)" \
	"$(head -c 16 "$SD/permall" | od -c | head -2)"
# Without the manager's key the state is noise: neither the file store
# (crashtpm check opens it as libtpms' own files) nor anything else reads it.
CRASHTPM=$HVSEC_SRC/${HVSEC_BUILD:-build}/tests/vtpm/crashtpm
if [ -x "$CRASHTPM" ]; then
	mkdir -m 0700 "$T/copy"; cp "$SD/permall" "$T/copy/permall"
	expect "the sealed permall is no TPM state without its key" 1 'corrupt state: permall' \
		-- env -u CRASHTPM_MGR "$CRASHTPM" check "$T/copy" 0
fi
expect "vtpm list shows it sealed by the manager" 0 "$UUID +running .*sealed" -- hv vtpm list
expect "vtpm show: generations from the manager" 0 'generations +permall [1-9]' -- hv vtpm show "$UUID"
json_ok "vtpm list --json" hv --json vtpm list

# A second guest claiming the same vTPM while the first runs.
guest_cfg "$T/g2.cfg" mg2 "$G/out2" value002
expect "the same vTPM for a second guest: refused" 1 'vTPM manager refused' -- hv create "$T/g2.cfg"
expect "the refused guest is gone" 1 '' -- bash -c "'$HVSEC' --run-dir '$RUN' list | grep -q '^mg2 '"

# ---- NV across destroy + create
expect "destroy" 0 '' -- hv destroy mg1
cp -p "$SD"/permall "$T/permall.v1"
guest_cfg "$T/g1.cfg" mg1 "$G/out1" value002
expect "create again" 0 '' -- hv create "$T/g1.cfg"
guest_done mg1 "guest script ran again"
console_ok mg1 "NV survived destroy + create" 'NVOLD value001'
console_ok mg1 "NV written again" 'NVNOW value002'
console_ok mg1-vtpm0 "the stub: EXISTING" 'EXISTING: committed state loaded'
expect "destroy" 0 '' -- hv destroy mg1

# ---- rollback: the old files put back
cp -p "$SD/permall" "$T/permall.v2"
cp -p "$T/permall.v1" "$SD/permall"
expect "rollback: create refused" 3 'rollback|older' -- hv create "$T/g1.cfg"
expect "rollback: the audit log says why" 0 'rollback|older' -- hv vtpm audit -n 3
ok "rollback: nothing manufactured again (old file kept, no new TPM)" "$(cmp -s "$T/permall.v1" "$SD/permall"; echo $?)" \
	"permall changed"
cp -p "$T/permall.v2" "$SD/permall"
guest_cfg "$T/g1.cfg" mg1 "$G/out1" value003
expect "the committed files back: create works" 0 '' -- hv create "$T/g1.cfg"
guest_done mg1 "guest script ran after the rollback attempt"
console_ok mg1 "NV is the committed one" 'NVOLD value002'

# ---- admin through the manager: reset (states forgotten: the next start
# is a new TPM) and delete (the manager forgets the key, the files go)
expect "vtpm reset of a running managed vTPM: refused" 1 'in use' -- hv vtpm reset "$UUID"
expect "destroy" 0 '' -- hv destroy mg1
expect "vtpm reset through the manager" 0 'reset by the vTPM manager' -- hv vtpm reset "$UUID"
ok "reset: the sealed blobs are gone" "$( [ ! -e "$SD/permall" ]; echo $?)" "$(ls "$SD")"
expect "vtpm show after reset: empty, generations kept (old blobs stay refused)" 0 'state +empty' -- hv vtpm show "$UUID"
expect "vtpm delete through the manager" 0 'deleted' -- hv vtpm delete --yes "$UUID"
expect "the manager forgot it" 1 '' -- bash -c "'$HVSEC' --run-dir '$RUN' vtpm list | grep '$UUID'"
expect "the vTPM audit log has both" 0 'reset.*ok.*manager RESET' -- hv vtpm audit -n 4


# ---- provisioning time: ephemeral vTPMs, NEW at every create
: >"$T/times"
for i in $(seq "$MGR_CREATES"); do
	guest_cfg "$T/e.cfg" me "$G/oute" x "backend=0,manager=yes" "$(cat /proc/sys/kernel/random/uuid)"
	hv create "$T/e.cfg" >"$T/e.out" 2>&1 || { echo "create $i failed: $(cat "$T/e.out")"; hv console me-vtpm0 | tail -5; continue; }
	wait_console me-vtpm0 'provisioning took' 20
	hv console me-vtpm0 | sed -n 's/.*provisioning took \([0-9.]*\) ms.*/\1/p' | tail -n 1 >>"$T/times"
	hv destroy me >/dev/null 2>&1
done
n=$(grep -c . "$T/times")
med=$(sort -n "$T/times" | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]}')
echo "provisioning in manager mode: median ${med:-?} ms over $n creates (min $(sort -n "$T/times" | head -1), max $(sort -n "$T/times" | tail -1))"
ok "provisioning measured over $MGR_CREATES creates" "$( [ "$n" -eq "$MGR_CREATES" ]; echo $?)" "$n of $MGR_CREATES"
expect "ephemeral instances are forgotten by the manager at destroy" 0 'Instances +0 ' -- hv vtpm manager status

# ---- NV write latency, file store vs manager mode: NV_Write in the guest,
# end to end (guest -> ring -> stub -> store [-> manager] -> answer);
# NV_Read beside it is the same path without a store.
cat >"$G/bench.sh" <<'EOF'
# NV_Write of 8 bytes straight over hvsec-tpmfront's mssim socket (no
# tpm2-tools process per write): N writes timed, then N NV_Reads.  Each
# write changes the value: libtpms stores NV only when it changed.
I=0x1500018
tpm2_nvdefine $I -C o -s 8 -a "ownerread|ownerwrite|authread|authwrite" >/dev/null 2>&1
port=${TPM2TOOLS_TCTI##*port=}
n=${1:-50}
exec 3<>/dev/tcp/127.0.0.1/$port
# mssim TPM_SEND_COMMAND (8), locality 0, length, command; answer: length,
# response, 0.  NV_Write: 43 bytes, answer 19; NV_Read: 35 bytes, answer 29.
W='\x00\x00\x00\x08\x00\x00\x00\x00\x2b\x80\x02\x00\x00\x00\x2b\x00\x00\x01\x37\x40\x00\x00\x01\x01\x50\x00\x18\x00\x00\x00\x09\x40\x00\x00\x09\x00\x00\x00\x00\x00\x00\x08%08d\x00\x00'
R='\x00\x00\x00\x08\x00\x00\x00\x00\x23\x80\x02\x00\x00\x00\x23\x00\x00\x01\x4e\x40\x00\x00\x01\x01\x50\x00\x18\x00\x00\x00\x09\x40\x00\x00\x09\x00\x00\x00\x00\x00\x00\x08\x00\x00'
t0=$(date +%s%N)
for ((i = 0; i < n; i++)); do printf "$W" $i >&3; head -c 27 <&3 | od -An -tx1 -j 10 -N 4 | grep -q '00 00 00 00' || echo "write $i failed"; done
t1=$(date +%s%N)
for ((i = 0; i < n; i++)); do printf "$R" >&3; head -c 37 <&3 >/dev/null; done
t2=$(date +%s%N)
echo "BENCH nvwrite_us $(( (t1 - t0) / (n * 1000) )) nvread_us $(( (t2 - t1) / (n * 1000) ))"
sleep 60
EOF
for mode in no yes; do
	{
		printf 'name = "mb%s"\nuuid = "%s"\nkernel = "%s"\n' $mode "$(cat /proc/sys/kernel/random/uuid)" "$TPMFRONT"
		printf 'extra = "--exec /bin/bash %s %s"\n' "$G/bench.sh" "${MGR_BENCH_N:-50}"
		printf "access_control = ['policy=multi-tenant,label=Acme']\n"
		printf "vtpm = ['backend=0,manager=%s']\n" $mode
	} >"$T/b$mode.cfg"
	hv create "$T/b$mode.cfg" >/dev/null 2>&1
	wait_console "mb$mode" '^BENCH' 60
	line=$(hv console "mb$mode" | grep '^BENCH' | tail -n 1)
	ok "NV write latency measured (manager=$mode)" "$( [ -n "$line" ]; echo $?)" "$(hv console "mb$mode" | tail -n 5)"
	echo "NV latency, manager=$mode: $line"
	hv destroy "mb$mode" >/dev/null 2>&1
done

# ---- wrong platform PCRs
expect "manager stop" 0 'stopped' -- hv vtpm manager stop
expect "extend platform PCR 7" 0 '' -- env TPM2TOOLS_TCTI="$HVSEC_VTPM_MGR_TCTI" tpm2_pcrextend \
	7:sha256=0000000000000000000000000000000000000000000000000000000000000001
expect "wrong PCRs: start refused" 3 'exited' -- hv vtpm manager start
# (its last console lines may still be on their way to the log)
wait_console vtpm-manager 'PCR.*7' 5
expect "wrong PCRs: the manager names PCR 7" 0 'PCR.*7' -- hv console vtpm-manager
expect "manager stop (the refused one)" 0 '' -- hv vtpm manager stop

tl_done
