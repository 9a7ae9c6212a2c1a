#!/usr/bin/env bash
# e2e.sh - a guest's vTPM end to end: `hvsec create` of a config with
# vtpm = ["backend=0,uuid=..."] starts the stub domain (hvsec-vtpmd), the
# guest runs hvsec-tpmfront, and unmodified tpm2-tools *inside the guest*
# (its own uid, through the mssim TCTI on the ring) do getrandom, pcrread,
# pcrextend, createprimary, createek, createak, quote + checkquote and
# nvdefine/nvwrite/nvread.  Then: state survives a destroy and create of
# the guest (NV kept, PCRs reset), dom0 reaches a guest's vTPM with
# `hvsec tcti`, a guest whose label shares no type with its vTPM domain
# cannot connect (audited denial), a vTPM labelled for another tenant
# after create is refused at connect (resource_use, audited) and connects
# once unlabelled, and destroy leaves nothing behind.
source "$(dirname "$0")/../tools/lib-ts.sh"
source "$(dirname "$0")/lib-vtpm.sh"
TPMFRONT=$HVSEC_BIN/hvsec-tpmfront
VTPMD=$HVSEC_BIN/hvsec-vtpmd
ts_need "$HVSEC" "$HVSECD" "$POLC" "$TPMFRONT" "$VTPMD"
for t in tpm2_getrandom tpm2_checkquote; do
	command -v $t >/dev/null || { echo "FAIL: $t missing (scripts/deps.sh test)"; echo "0 passed, 1 failed"; exit 1; }
done

T=$TL_TMP
"$POLC" compile --quiet "$HVSEC_SRC/policies/multi-tenant.xml" -o "$T/mt.bin" ||
	{ echo "FAIL: policy"; echo "0 passed, 1 failed"; exit 1; }
# Scripts the guests run must be readable by their uids: not under the
# 0700 $TL_TMP.
G=$(mktemp -d /tmp/hvsec-vtpm-e2e.XXXXXX)
chmod 0755 "$G"
trap 'rm -rf "$G"; ts_cleanup' EXIT
# State directories: where the stub domains' uids can reach them.
export HVSEC_VTPM_DIR=$G/state

ts_start --policy "$T/mt.bin" || { echo "0 passed, 1 failed"; exit 1; }

UUID=5f0c6a4e-2b1d-4c3e-9a8f-7d6e5c4b3a21
# guest_cfg FILE NAME LABEL VTPMSPEC SCRIPT|-
guest_cfg() {
	local extra="--exec /bin/sh $5"
	[ "$5" = - ] && extra=""
	{
		printf 'name = "%s"\n' "$2"
		printf 'kernel = "%s"\n' "$TPMFRONT"
		printf 'extra = "%s"\n' "$extra"
		printf "access_control = ['policy=multi-tenant,label=%s']\n" "$3"
		printf "vtpm = ['%s']\n" "$4"
	} >"$1"
}

# ---- first boot: every tool inside the guest
cat >"$G/boot1.sh" <<'EOF'
set -u
step() { name=$1; shift; if out=$("$@" 2>&1); then echo "STEP $name ok"; else echo "STEP $name FAILED: $out"; fi; }
step getrandom tpm2_getrandom 16 --hex
step pcrread tpm2_pcrread sha256:16
step pcrextend tpm2_pcrextend 16:sha256=0000000000000000000000000000000000000000000000000000000000000001
echo "PCR16 $(tpm2_pcrread sha256:16 2>&1 | tr -d ' \n')"
step createprimary tpm2_createprimary -C o -g sha256 -G ecc -c prim.ctx
tpm2_flushcontext -t >/dev/null 2>&1
step createek tpm2_createek -c ek.ctx -G rsa -u ek.pub
tpm2_flushcontext -t >/dev/null 2>&1
step createak tpm2_createak -C ek.ctx -c ak.ctx -G ecc -g sha256 -s ecdsa -u ak.pub -n ak.name
tpm2_flushcontext -t >/dev/null 2>&1; tpm2_flushcontext -s >/dev/null 2>&1
step quote tpm2_quote -c ak.ctx -l sha256:0,16 -q 0badc0de -m q.msg -s q.sig -o q.pcrs -g sha256
step checkquote tpm2_checkquote -u ak.pub -m q.msg -s q.sig -f q.pcrs -g sha256 -q 0badc0de
step nvdefine tpm2_nvdefine 0x1500016 -C o -s 32 -a "ownerread|ownerwrite|authread|authwrite"
echo -n "survives-a-restart" >nv.in
step nvwrite tpm2_nvwrite 0x1500016 -C o -i nv.in
echo "NVREAD $(tpm2_nvread 0x1500016 -C o -s 18 2>&1)"
# tpm2_startup takes TPM_RC_INITIALIZE as success: look at the raw answer.
echo "STARTUP $(printf '\200\001\000\000\000\014\000\000\001\104\000\000' | tpm2_send 2>/dev/null | od -An -tx1 | tr -d ' \n')"
EOF
guest_cfg "$T/g1.cfg" tpm1 Acme "backend=0,uuid=$UUID" "$G/boot1.sh"
expect "create with a vTPM" 0 'Started domain tpm1' -- hv create "$T/g1.cfg"
expect "the stub domain runs beside it" 0 'tpm1-vtpm0 .*:Acme$' -- hv list --label
if wait_console tpm1 'tpmfront: exec exited' 120; then ok "guest script ran" 0 ""; else
	ok "guest script ran" 1 "$(hv console tpm1 | tail -n 20)"; fi
for s in getrandom pcrread pcrextend createprimary createek createak quote checkquote nvdefine nvwrite; do
	console_ok tpm1 "in the guest: tpm2 $s" "STEP $s ok"
done
console_ok tpm1 "PCR16 extended" 'PCR16 sha256:16:0x[0-9A-F]{64}'
if hv console tpm1 | grep -q 'PCR16.*16:0x0000000000000000000000000000000000000000000000000000000000000000'; then
	ok "PCR16 is no longer zero" 1 "still zero"; else ok "PCR16 is no longer zero" 0 ""; fi
console_ok tpm1 "NV read back" 'NVREAD survives-a-restart'
console_ok tpm1 "a guest's Startup is refused (TPM_RC_INITIALIZE)" 'STARTUP 80010000000a00000100'
expect "the backend connected over the ring" 0 'Connected|connected' -- hv console tpm1-vtpm0

# ---- destroy: the stub domain goes with the guest, the state stays
expect "destroy the guest" 0 'destroyed' -- hv destroy tpm1
sleep 0.2
expect "no stub domain left" 1 '' -- bash -c "$(printf '%q ' "$HVSEC" --run-dir "$RUN") list | grep -q tpm1-vtpm0"
ok "state kept for a configured uuid" "$( [ -s "$HVSEC_VTPM_DIR/$UUID/permall" ]; echo $?)" "$(ls -la "$HVSEC_VTPM_DIR/$UUID" 2>&1)"
ok "state handed back to root" "$( [ "$(stat -c %u "$HVSEC_VTPM_DIR/$UUID")" = "$(id -u)" ]; echo $?)" "$(stat -c %u "$HVSEC_VTPM_DIR/$UUID")"
XS="env XENSTORED_PATH=$RUN/xenstored"
expect "no /libxl record left" 1 '' -- $XS xenstore-ls /libxl/1

# ---- second boot of the same guest: NV survives, PCRs reset
cat >"$G/boot2.sh" <<'EOF'
echo "NVREAD $(tpm2_nvread 0x1500016 -C o -s 18 2>&1)"
echo "PCR16 $(tpm2_pcrread sha256:16 2>&1 | tr -d ' \n')"
EOF
guest_cfg "$T/g2.cfg" tpm1 Acme "backend=0,uuid=$UUID" "$G/boot2.sh"
expect "create again" 0 'Started domain tpm1' -- hv create "$T/g2.cfg"
wait_console tpm1 'tpmfront: exec exited' 60
console_ok tpm1 "NV survived the restart" 'NVREAD survives-a-restart'
console_ok tpm1 "PCR16 reset with the guest" 'PCR16 sha256:16:0x0{64}'
expect "destroy" 0 'destroyed' -- hv destroy tpm1

# ---- dom0 reaches a serving guest's vTPM with `hvsec tcti`
guest_cfg "$T/g3.cfg" served Initech "backend=0" -
expect "create a serving guest" 0 'Started domain served' -- hv create "$T/g3.cfg"
wait_console served 'tpmfront: ready' 30
expect "hvsec tcti" 0 '^mssim:host=127\.0\.0\.1,port=[0-9]+$' -- hv tcti served
TCTI=$(hv tcti served)
expect "tpm2_getrandom from dom0 via mssim" 0 '' -- timeout 30 env TPM2TOOLS_TCTI="$TCTI" tpm2_getrandom 8 --hex
STCTI=$(hv tcti served --swtpm)
expect "tpm2_pcrread from dom0 via swtpm" 0 'sha256' -- timeout 30 env TPM2TOOLS_TCTI="$STCTI" tpm2_pcrread sha256:0
expect "tcti of a guest without tpmfront" 1 'not serving its vTPM' -- hv tcti served-vtpm0
expect "devices: the vTPM connection" 0 'served-vtpm0 \([0-9]+\) +served \([0-9]+\) +vtpm +vtpm:[0-9a-f-]{36} +-' -- hv devices served
json_ok "devices --json" hv devices --json
expect "devices --json fields" 0 '"backend_name":"served-vtpm0".*"class":"vtpm".*"label":null' -- hv devices --json
STUBDIR=$(ls -d "$HVSEC_VTPM_DIR"/*-* 2>/dev/null | grep -v "$UUID" | head -n 1)
expect "destroy the serving guest" 0 'destroyed' -- hv destroy served
ok "ephemeral state removed with it" "$( [ -z "$STUBDIR" ] || [ ! -e "$STUBDIR" ]; echo $?)" "$STUBDIR remains"

# ---- ACM: no shared STE type between the guest and its vTPM domain
guest_cfg "$T/g4.cfg" lonely Acme "backend=0,backend_label=Initech" -
hv create "$T/g4.cfg" >/dev/null 2>&1
if wait_console lonely 'EACCES' 30; then ok "guest cannot connect (EACCES)" 0 ""; else
	ok "guest cannot connect (EACCES)" 1 "$(hv console lonely | tail -n 10)"; fi
expect "audited denial between the guest and its vTPM domain" 0 'DENY.*(grant|evtchn).*(Acme.*Initech|Initech.*Acme)' -- hv audit
hv destroy lonely >/dev/null 2>&1

# ---- resource_use at connect: the vTPM labelled for another tenant while
# the guest is paused (create would have refused the label): the backend's
# connect is refused and says why; without the label it connects.
UUID2=0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
guest_cfg "$T/g5.cfg" fenced Acme "backend=0,uuid=$UUID2" -
expect "create a guest paused" 0 'Created domain fenced .*paused' -- hv create "$T/g5.cfg" --paused
expect "label its vTPM for another tenant" 0 "vtpm:$UUID2 labelled GlobexDisk" \
	-- hv label add GlobexDisk res "vtpm:$UUID2"
hv unpause fenced >/dev/null 2>&1
if wait_console fenced 'connect failed' 30; then ok "labelled vTPM: connect refused" 0 ""; else
	ok "labelled vTPM: connect refused" 1 "$(hv console fenced | tail -n 10)"; fi
console_ok fenced "the backend's error names the resource" "closed: resource vtpm:$UUID2: EACCES"
expect "audited resource_use denial of the vTPM" 0 "DENY.*resource_use.*vtpm:$UUID2" -- hv audit
hv destroy fenced >/dev/null 2>&1
expect "remove the label" 0 'label removed' -- hv label rm res "vtpm:$UUID2"
expect "create it again" 0 'Started domain fenced' -- hv create "$T/g5.cfg"
if wait_console fenced 'tpmfront: ready' 30; then ok "unlabelled vTPM: connects" 0 ""; else
	ok "unlabelled vTPM: connects" 1 "$(hv console fenced | tail -n 10)"; fi
hv destroy fenced >/dev/null 2>&1

expect "nothing left running" 0 '' -- bash -c "! $(printf '%q ' "$HVSEC" --run-dir "$RUN") list | grep -Eq 'tpm1|served|lonely|fenced'"
tl_done
