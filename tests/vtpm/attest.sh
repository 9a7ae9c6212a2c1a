#!/usr/bin/env bash
# attest.sh - measured boot + attestation end to end: a guest with a vTPM
# (kept uuid) serving it with hvsec-tpmfront; `hvsec vtpm golden` takes the
# golden values from the published event log, `hvsec vtpm attest` checks
# EK certificate, AK-EK binding, quote, nonce, replay and golden values
# (every line OK, exit 0), tpm2_checkquote accepts the saved quote; then
# a changed command line, a changed kernel and a PCR 9 extended after boot
# each fail attestation (exit 1), naming what changed.
source "$(dirname "$0")/../tools/lib-ts.sh"
source "$(dirname "$0")/lib-vtpm.sh"
TPMFRONT=$HVSEC_BIN/hvsec-tpmfront
VTPMD=$HVSEC_BIN/hvsec-vtpmd
ts_need "$HVSEC" "$HVSECD" "$POLC" "$TPMFRONT" "$VTPMD"
for t in tpm2_checkquote tpm2_pcrextend; do
	command -v $t >/dev/null || { echo "FAIL: $t missing (scripts/deps.sh test)"; echo "0 passed, 1 failed"; exit 1; }
done

T=$TL_TMP
"$POLC" compile --quiet "$HVSEC_SRC/policies/multi-tenant.xml" -o "$T/mt.bin" ||
	{ echo "FAIL: policy"; echo "0 passed, 1 failed"; exit 1; }
# Kernels the guests run must be readable by their uids: not under the
# 0700 $TL_TMP.
G=$(mktemp -d /tmp/hvsec-attest.XXXXXX)
chmod 0755 "$G"
trap 'rm -rf "$G"; ts_cleanup' EXIT
export HVSEC_VTPM_DIR=$G/state
export HVSEC_CA=$T/ca.pem

ts_start --policy "$T/mt.bin" || { echo "0 passed, 1 failed"; exit 1; }

UUID=3c1e9a70-5b2d-4e8f-a1c3-0d9e8f7a6b54
# guest_cfg FILE KERNEL EXTRA
guest_cfg() {
	{
		printf 'name = "att"\n'
		printf 'kernel = "%s"\n' "$2"
		printf 'extra = "%s"\n' "$3"
		printf "access_control = ['policy=multi-tenant,label=Acme']\n"
		printf "vtpm = ['backend=0,uuid=%s']\n" "$UUID"
	} >"$1"
}
boot() { # CFG: create, wait until tpmfront serves
	hv destroy att >/dev/null 2>&1
	expect "create ($(basename "$1"))" 0 'Started domain att' -- hv create "$1" &&
		{ wait_console att 'tpmfront: ready' 60 ||
			ok "tpmfront serves" 1 "$(hv console att | tail -n 10)"; }
}
XS="env XENSTORED_PATH=$RUN/xenstored"

guest_cfg "$T/good.cfg" "$TPMFRONT" "--timeout-ms 10000"
boot "$T/good.cfg"

# The other half (EKs + certificates at create, the event log) may not be
# there: say so, and check what can be checked.
DOMID=$(hv list att | awk '$1 == "att" {print $2}')
if ! $XS xenstore-read "/local/domain/$DOMID/device/vtpm/0/event-log/size" >/dev/null 2>&1; then
	echo "SKIP: no measured-boot event log published for the guest (toolstack part not in this tree)"
	printf 'hvsec-golden 1\ncmdline "--timeout-ms 10000"\n' >"$T/golden"
	expect "attest without a log: exit 1" 1 'event log replay +FAIL' -- \
		hv vtpm attest att --golden "$T/golden"
	hv destroy att >/dev/null 2>&1
	tl_done
	exit
fi

expect "vtpm golden" 0 'golden values of att written' -- hv vtpm golden att --out "$T/golden"
expect "golden names kernel, cmdline, PCRs 8/9" 0 '' -- bash -c "grep -q '^kernel sha256 ' '$T/golden' && grep -q '^cmdline \"--timeout-ms 10000\"' '$T/golden' && grep -q '^pcr 9 sha256 ' '$T/golden' && grep -q '^pcr 8 sha256 ' '$T/golden'"
expect "attest: exit 0" 0 'attestation of att: OK' -- hv vtpm attest att --golden "$T/golden" --save "$T/q"
OUT=$(hv vtpm attest att --golden "$T/golden" 2>&1)
for c in "EK certificate" "AK bound to EK" "quote signature" "nonce" "event log replay" \
	"golden kernel" "golden initrd" "golden cmdline" "golden PCRs"; do
	if grep -Eq "^$c +OK" <<<"$OUT"; then ok "attest: $c OK" 0 ""; else
		ok "attest: $c OK" 1 "$OUT"; fi
done
json_ok "attest --json" hv vtpm attest att --golden "$T/golden" --json
expect "attest --json says ok" 0 '"ok":true' -- hv vtpm attest att --golden "$T/golden" --json
expect "tpm2_checkquote accepts the saved quote" 0 'pcrs' -- \
	tpm2_checkquote -u "$T/q/ak.pub" -m "$T/q/quote.msg" -s "$T/q/quote.sig" \
	-f "$T/q/quote.pcrs" -g sha256 -q "$(cat "$T/q/nonce.hex")"
expect "tpm2_checkquote refuses another nonce" 1 '' -- \
	tpm2_checkquote -u "$T/q/ak.pub" -m "$T/q/quote.msg" -s "$T/q/quote.sig" \
	-f "$T/q/quote.pcrs" -g sha256 -q 00
expect "another CA: the EK certificate fails" 1 'EK certificate +FAIL.*does not chain' -- \
	hv vtpm attest att --golden "$T/golden" --ca /etc/ssl/certs/ca-certificates.crt
expect "the ECC EK: bound too (KDFe + ECDH MakeCredential)" 0 'EK certificate +OK +ECC EK 0x81010002.*AK bound to EK +OK' -- \
	bash -c "$(printf '%q ' "$HVSEC" --run-dir "$RUN") vtpm attest att --golden '$T/golden' --ek ecc | tr '\n' ' '"
expect "usage: --golden required" 2 'golden' -- hv vtpm attest att
printf 'hvsec-golden 2\n' >"$T/bad-golden"
expect "usage: a malformed golden file" 2 'bad-golden' -- hv vtpm attest att --golden "$T/bad-golden"
expect "the stub does not serve a vTPM: exit 3" 3 'not serving' -- hv vtpm attest att-vtpm0 --golden "$T/golden"

TCTI=$(hv tcti att)
expect "attest leaves no transient object" 0 '' -- bash -c \
	"[ -z \"\$(TPM2TOOLS_TCTI='$TCTI' timeout 30 tpm2_getcap handles-transient)\" ]"
expect "attest leaves no session" 0 '' -- bash -c \
	"[ -z \"\$(TPM2TOOLS_TCTI='$TCTI' timeout 30 tpm2_getcap handles-loaded-session)\" ]"

# ---- PCR 9 extended after boot: the log no longer explains the TPM
expect "extend PCR 9 from dom0" 0 '' -- timeout 30 env TPM2TOOLS_TCTI="$TCTI" \
	tpm2_pcrextend 9:sha256=0000000000000000000000000000000000000000000000000000000000000009
expect "attest after an extra extend: exit 1" 1 'event log replay +FAIL +replay does not match.*PCR 9' -- \
	hv vtpm attest att --golden "$T/golden"

# ---- a changed command line
guest_cfg "$T/cmdline.cfg" "$TPMFRONT" "--timeout-ms 9000"
boot "$T/cmdline.cfg"
expect "changed cmdline: exit 1, names cmdline" 1 'golden cmdline +FAIL +cmdline changed: "--timeout-ms 9000" expected "--timeout-ms 10000"' -- \
	hv vtpm attest att --golden "$T/golden"
expect "changed cmdline: the quote itself verifies" 1 'event log replay +OK' -- \
	hv vtpm attest att --golden "$T/golden"

# ---- a changed kernel: one byte more
mkdir -p "$G/k" && chmod 0755 "$G/k"
cp "$TPMFRONT" "$G/k/tpmfront" && printf 'x' >>"$G/k/tpmfront" && chmod 0755 "$G/k/tpmfront"
guest_cfg "$T/kernel.cfg" "$G/k/tpmfront" "--timeout-ms 10000"
boot "$T/kernel.cfg"
expect "changed kernel: exit 1, names kernel" 1 'golden kernel +FAIL .*kernel: sha256 [0-9a-f]+\.\.\. expected' -- \
	hv vtpm attest att --golden "$T/golden"

expect "destroy" 0 'destroyed' -- hv destroy att
tl_done
