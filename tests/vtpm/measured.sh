#!/usr/bin/env bash
# measured.sh - EK provisioning and measured boot end to end (docs/vtpm.md,
# docs/measured-boot.md): `hvsec create` manufactures a new vTPM with its
# EKs and CA-issued certificates, measures the guest's kernel and command
# line, the stub extends them before the guest connects, and the log is in
# XenStore.  Inside the guest, tpm2-tools read PCRs 8 and 9, the EK
# certificate (NV 0x01c00002) and the persistent EK; in dom0 the log read
# from XenStore replays (tpm2_eventlog) to the guest's PCRs, the
# certificate verifies against `hvsec vtpm ca` and certifies the EK; a
# changed `extra` changes PCR 8; a kept uuid is provisioned once.
source "$(dirname "$0")/../tools/lib-ts.sh"
source "$(dirname "$0")/lib-vtpm.sh"
TPMFRONT=$HVSEC_BIN/hvsec-tpmfront
VTPMD=$HVSEC_BIN/hvsec-vtpmd
ts_need "$HVSEC" "$HVSECD" "$POLC" "$TPMFRONT" "$VTPMD"
for t in tpm2_pcrread tpm2_nvread tpm2_readpublic tpm2_eventlog openssl xenstore-read; do
	command -v $t >/dev/null || { echo "FAIL: $t missing (scripts/deps.sh test)"; echo "0 passed, 1 failed"; exit 1; }
done

T=$TL_TMP
"$POLC" compile --quiet "$HVSEC_SRC/policies/multi-tenant.xml" -o "$T/mt.bin" ||
	{ echo "FAIL: policy"; echo "0 passed, 1 failed"; exit 1; }
# What the guests run and write must be reachable by their uids.
G=$(mktemp -d /tmp/hvsec-vtpm-mb.XXXXXX)
chmod 0755 "$G"
trap 'rm -rf "$G"; ts_cleanup' EXIT
export HVSEC_VTPM_DIR=$G/state
export HVSEC_CA=$T/ca.pem
XS="env XENSTORED_PATH=$RUN/xenstored"

ts_start --policy "$T/mt.bin" || { echo "0 passed, 1 failed"; exit 1; }

cat >"$G/guest.sh" <<'EOF'
O=$1
echo "PCRS $(tpm2_pcrread sha256:8,9 2>&1 | tr -d ' \n')"
tpm2_nvread 0x01c00002 -C o -o "$O/ek.der" >/dev/null 2>&1 && echo "STEP nvread ok"
tpm2_nvread 0x01c0000a -C o -o "$O/ekecc.der" >/dev/null 2>&1 && echo "STEP nvread-ecc ok"
echo "SUBJECT $(openssl x509 -inform DER -in "$O/ek.der" -noout -subject 2>&1)"
tpm2_readpublic -c 0x81010001 -f pem -o "$O/ekpub.pem" >/dev/null 2>&1 && echo "STEP readpublic ok"
tpm2_readpublic -c 0x81010002 -f pem -o "$O/ekeccpub.pem" >/dev/null 2>&1 && echo "STEP readpublic-ecc ok"
# Platform hierarchy: closed before the guest ran.
tpm2_nvundefine 0x01c00002 -C p >/dev/null 2>&1 && echo "STEP undefine-cert WORKED" || echo "STEP undefine-cert refused"
# Stay up: the guest's XenStore home (and the log in it) goes with it.
echo "GUEST DONE"
sleep 60
EOF
UUID=7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d
# guest_cfg FILE NAME OUTDIR [UUID]
guest_cfg() {
	{
		printf 'name = "%s"\n' "$2"
		printf 'kernel = "%s"\n' "$TPMFRONT"
		printf 'extra = "--exec /bin/sh %s %s"\n' "$G/guest.sh" "$3"
		printf "access_control = ['policy=multi-tenant,label=Acme']\n"
		printf "vtpm = ['backend=0%s']\n" "${4:+,uuid=$4}"
	} >"$1"
	mkdir -p "$3"; chmod 0777 "$3"
}
# fetch_log NAME OUT: the event log from XenStore (base64 chunks) to OUT.
fetch_log() {
	local d ev i=0
	d=$(domid_of "$1"); ev=/local/domain/$d/device/vtpm/0/event-log
	: >"$2.b64"
	while $XS xenstore-read "$ev/$i" >>"$2.b64" 2>/dev/null; do i=$((i + 1)); done
	base64 -d <"$2.b64" >"$2" 2>/dev/null
	echo "$i $($XS xenstore-read "$ev/size") $($XS xenstore-read "$ev/sha256")"
}
# replay LOG BANK PCR: the value tpm2_eventlog replays, upper-case hex.
replay() {
	tpm2_eventlog "$1" 2>/dev/null | awk -v b="$2:" -v p="$3" '
		/^pcrs:/ {in_p = 1; next}
		in_p && /^  [a-z0-9]+:$/ {bank = $1; next}
		in_p && bank == b && $1 == p {v = $3; sub(/^0x/, "", v); print toupper(v)}'
}
guest_pcr() { # NAME PCR: from the guest's "PCRS sha256:8:0x..9:0x.." line
	hv console "$1" | sed -n "s/.*PCRS sha256:.*$2:0x\([0-9A-F]\{64\}\).*/\1/p" | tail -n 1
}

# ---- first boot: manufactured, measured
guest_cfg "$T/m1.cfg" mb1 "$G/out1" "$UUID"
expect "create (verbose: manufacture time)" 0 'manufactured with EKs and certificates in [0-9.]+ ms' \
	-- hv create --verbose "$T/m1.cfg"
D1=$(domid_of mb1)
expect "provision-us recorded" 0 '^[0-9]+$' -- $XS xenstore-read "/libxl/$D1/device/vtpm/0/provision-us"
ok "CA made, 0600" "$( [ "$(stat -c %a "$HVSEC_CA")" = 600 ]; echo $?)" "$(stat -c %a "$HVSEC_CA" 2>&1)"
ok "boot-log root's, 0644" "$( [ "$(stat -c '%a %u' "$HVSEC_VTPM_DIR/$UUID/boot-log")" = "644 $(id -u)" ]; echo $?)" \
	"$(stat -c '%a %u' "$HVSEC_VTPM_DIR/$UUID/boot-log" 2>&1)"
if wait_console mb1 'GUEST DONE' 60; then ok "guest script ran" 0 ""; else
	ok "guest script ran" 1 "$(hv console mb1 | tail -n 20)"; fi
for s in nvread nvread-ecc readpublic readpublic-ecc; do
	console_ok mb1 "in the guest: $s" "STEP $s ok"
done
console_ok mb1 "the guest cannot replace its EK certificate (platform closed)" 'STEP undefine-cert refused'
console_ok mb1 "openssl reads the EK certificate in the guest" '^SUBJECT subject='
expect "the stub extended the log before InitWait" 0 'measured boot: [0-9]+ events of boot-log extended' -- hv console mb1-vtpm0

read -r n1 size1 sha1 <<<"$(fetch_log mb1 "$T/log1")"
ok "event-log in XenStore (chunks $n1)" "$( [ "$n1" -ge 1 ] && [ -s "$T/log1" ]; echo $?)" "no chunks"
ok "event-log size" "$( [ "$size1" = "$(stat -c %s "$T/log1")" ]; echo $?)" "$size1 vs $(stat -c %s "$T/log1")"
ok "event-log sha256" "$( [ "$sha1" = "$(sha256sum <"$T/log1" | cut -d' ' -f1)" ]; echo $?)" "$sha1"
ok "event-log chunks <= 2048 characters" "$(awk 'length > 2048 {bad = 1} END {exit bad}' \
	< <(for i in $(seq 0 $((n1 - 1))); do $XS xenstore-read "/local/domain/$D1/device/vtpm/0/event-log/$i"; echo; done); echo $?)" ""
expect "event-log is dom0's, the guest may only read" 0 "event-log.*\\(n0,r$D1" \
	-- $XS xenstore-ls -p "/local/domain/$D1/device/vtpm/0"
expect "tpm2_eventlog: no warnings" 0 '^$' -- bash -c "tpm2_eventlog '$T/log1' 2>&1 >/dev/null"
expect "the log has all four banks" 0 'sha1.*sha256.*sha384.*sha512' -- bash -c "tpm2_eventlog '$T/log1' | sed -n '/^pcrs:/,\$p' | tr '\n' ' '"
for p in 8 9; do
	r=$(replay "$T/log1" sha256 $p); g=$(guest_pcr mb1 $p)
	ok "PCR $p (sha256) equals the log's replay" "$( [ -n "$r" ] && [ "$r" = "$g" ]; echo $?)" "replay '$r' guest '$g'"
done
P8_1=$(guest_pcr mb1 8)

# EK certificate against the CA
expect "hvsec vtpm ca" 0 'BEGIN CERTIFICATE' -- hv vtpm ca
hv vtpm ca --out "$T/ca-cert.pem"
expect "vtpm ca --out: the same certificate" 0 '' -- bash -c "hv() { :; }; [ \"\$(cat '$T/ca-cert.pem')\" = \"\$('$HVSEC' --run-dir '$RUN' vtpm ca)\" ]"
openssl x509 -inform DER -in "$G/out1/ek.der" -out "$T/ek.pem" 2>/dev/null
openssl x509 -inform DER -in "$G/out1/ekecc.der" -out "$T/ekecc.pem" 2>/dev/null
expect "RSA EK certificate verifies against the CA" 0 ': OK' -- openssl verify -CAfile "$T/ca-cert.pem" "$T/ek.pem"
expect "ECC EK certificate verifies against the CA" 0 ': OK' -- openssl verify -CAfile "$T/ca-cert.pem" "$T/ekecc.pem"
ok "RSA certificate certifies the persistent EK" "$( [ -s "$G/out1/ekpub.pem" ] && [ "$(openssl x509 -in "$T/ek.pem" -noout -pubkey)" = "$(openssl pkey -pubin -in "$G/out1/ekpub.pem")" ]; echo $?)" ""
ok "ECC certificate certifies the persistent EK" "$( [ -s "$G/out1/ekeccpub.pem" ] && [ "$(openssl x509 -in "$T/ekecc.pem" -noout -pubkey)" = "$(openssl pkey -pubin -in "$G/out1/ekeccpub.pem")" ]; echo $?)" ""
expect "destroy" 0 'destroyed' -- hv destroy mb1

# ---- second boot, same uuid, another command line: not provisioned
# again (same EK), PCR 8 differs and still matches its log
guest_cfg "$T/m2.cfg" mb1 "$G/out2" "$UUID"
expect "create again (no manufacture)" 0 '^Started domain mb1' -- hv create --verbose "$T/m2.cfg"
D2=$(domid_of mb1)
expect "no provision-us the second time" 1 '' -- $XS xenstore-read "/libxl/$D2/device/vtpm/0/provision-us"
wait_console mb1 'GUEST DONE' 60
ok "same EK across boots" "$( [ -s "$G/out2/ekpub.pem" ] && cmp -s "$G/out1/ekpub.pem" "$G/out2/ekpub.pem"; echo $?)" ""
ok "same EK certificate across boots" "$(cmp -s "$G/out1/ek.der" "$G/out2/ek.der"; echo $?)" ""
fetch_log mb1 "$T/log2" >/dev/null
P8_2=$(guest_pcr mb1 8)
ok "changed extra: another PCR 8" "$( [ -n "$P8_2" ] && [ "$P8_1" != "$P8_2" ]; echo $?)" "$P8_1 = $P8_2"
ok "PCR 8 equals the new log's replay" "$( [ "$(replay "$T/log2" sha256 8)" = "$P8_2" ]; echo $?)" ""
ok "PCR 9 (same kernel) unchanged" "$( [ "$(guest_pcr mb1 9)" = "$(replay "$T/log1" sha256 9)" ]; echo $?)" ""
expect "destroy" 0 'destroyed' -- hv destroy mb1

# ---- a malformed boot-log: the stub refuses to serve (error node, exit 1).
# The stub is started by hand here (as the toolstack would, but with a log
# that is not one), in a manufactured state directory.
BADUUID=1b2c3d4e-5f60-4172-8394-a5b6c7d8e9f0
BAD=$HVSEC_VTPM_DIR/$BADUUID
cp -a "$HVSEC_VTPM_DIR/$UUID" "$BAD"
{
	printf 'name = "badstub"\nkernel = "%s"\n' "$VTPMD"
	printf 'extra = "--frontend-id 77 --devid 0 --state-dir %s --uuid %s"\n' "$BAD" "$BADUUID"
	printf "access_control = ['policy=multi-tenant,label=Acme']\n"
} >"$T/bad.cfg"
expect "start a stub by hand, paused" 0 'Created domain badstub' -- hv create --paused "$T/bad.cfg"
BID=$(domid_of badstub)
BPID=$(hv list --json badstub | sed -n 's/.*"pid":\([0-9]*\).*/\1/p')
BUID=$(stat -c %u "/proc/$BPID" 2>/dev/null)
[ -n "$BUID" ] && chown -R "$BUID:$BUID" "$BAD"
printf 'not an event log at all' >"$BAD/boot-log"
chown 0:0 "$BAD/boot-log"; chmod 0644 "$BAD/boot-log"
BE=/local/domain/$BID/backend/vtpm/77/0
$XS xenstore-write "$BE/frontend" /local/domain/77/device/vtpm/0 "$BE/frontend-id" 77 \
	"$BE/handle" 0 "$BE/online" 1 "$BE/state" 1 "$BE/uuid" "$BADUUID"
$XS xenstore-chmod -r "$BE" "n$BID"
hv unpause badstub >/dev/null
for _ in $(seq 100); do $XS xenstore-read "$BE/error" >/dev/null 2>&1 && break; sleep 0.05; done
expect "malformed boot-log: error for the toolstack" 0 '^measured boot: boot-log: offset 0' -- $XS xenstore-read "$BE/error"
expect "malformed boot-log: Closing" 0 '^5$' -- $XS xenstore-read "$BE/state"
$XS xenstore-rm "$BE"
for _ in $(seq 100); do hv list badstub 2>/dev/null | grep -q ' -\+s\|--s\|c-' && break; sleep 0.05; done
expect "malformed boot-log: named on the stub's console" 0 'measured boot: boot-log' -- hv console badstub
hv destroy badstub >/dev/null 2>&1
tl_done
