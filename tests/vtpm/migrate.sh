#!/usr/bin/env bash
# migrate.sh - a vTPM moved from one manager to another (docs/formats.md
# §8, `hvsec vtpm export|import`), end to end.  Two managers, each with
# its own directory, platform TPM (a swtpm of the test's own) and vTPM
# state base, run one at a time under one hvsecd (two hosts in turn):
#   - A: a guest whose vTPM A serves writes an NV value; `vtpm attest
#     --deep`: A's platform TPM quotes with the vTPM's EK and uuid in its
#     qualifying data, the platform AK and PCR digest pinned on first use,
#     then checked (a changed pin refused); the guest is destroyed;
#   - export to B's public key (hvsec vtpm manager pubkey on B): a file;
#     export again refused; A refuses to run the instance again (create
#     fails naming "migrated"); the file imported on A (made for B):
#     refused;
#   - B: a copy with one flipped byte refused, a copy whose bundle was
#     altered and whose digest was recomputed refused; --from with the
#     wrong source key refused; the file imported (--from A's key); the
#     same file a second time refused; a guest created against B reads
#     the NV value back and writes another; its EK certificate still
#     chains to A's CA; a deep quote works on B (the bundle carried the
#     EKs A certified), by B's platform TPM: A's pin refuses it, a pin of
#     B's own is made on first use;
#   - back to A: exported from B, imported on A, which sets aside the
#     stale state directory it kept and refuses nothing; the guest on A
#     reads the value written on B;
#   - timing: export and import end to end (printed).
source "$(dirname "$0")/../tools/lib-ts.sh"
source "$(dirname "$0")/lib-vtpm.sh"
TPMFRONT=$HVSEC_BIN/hvsec-tpmfront
VTPMD=$HVSEC_BIN/hvsec-vtpmd
MGRD=$HVSEC_BIN/hvsec-vtpm-managerd
ts_need "$HVSEC" "$HVSECD" "$POLC" "$TPMFRONT" "$VTPMD" "$MGRD"
for t in swtpm tpm2_nvread tpm2_nvwrite python3; do
	command -v $t >/dev/null || { echo "SKIP: $t missing (scripts/deps.sh test)"; echo "0 passed, 0 failed"; exit 0; }
done
# `hvsec vtpm manager pubkey` is how an operator learns the destination's
# key; without it (not wired into `vtpm manager` yet) there is nothing to
# export to.
probe=$(timeout 10 "$HVSEC" --run-dir "$TL_TMP/none" vtpm manager pubkey 2>&1)
if grep -q "unknown subcommand 'pubkey'" <<<"$probe"; then
	echo "SKIP: hvsec vtpm manager pubkey is not available"
	echo "0 passed, 0 failed"
	exit 0
fi

T=$TL_TMP
"$POLC" compile --quiet "$HVSEC_SRC/policies/multi-tenant.xml" -o "$T/mt.bin" ||
	{ echo "FAIL: policy"; echo "0 passed, 1 failed"; exit 1; }
G=$(mktemp -d /tmp/hvsec-vtpm-migr.XXXXXX)
chmod 0755 "$G"
declare -A SWTPM_PID TCTI
stop_swtpm() { # A|B
	[ -n "${SWTPM_PID[$1]:-}" ] || return 0
	kill "${SWTPM_PID[$1]}" 2>/dev/null; wait "${SWTPM_PID[$1]}" 2>/dev/null
	SWTPM_PID[$1]=
}
trap 'hv vtpm manager stop >/dev/null 2>&1; stop_swtpm A; stop_swtpm B; rm -rf "$G"; ts_cleanup' EXIT

# start_swtpm A|B: a platform TPM on a free pair of ports, state in $G/ptpm-X.
start_swtpm() {
	mkdir -p "$G/ptpm-$1"
	for _ in 1 2 3 4 5; do
		local port=$((20000 + RANDOM % 20000)) pid
		swtpm socket --tpm2 --server type=tcp,port=$port \
			--ctrl type=tcp,port=$((port + 1)) \
			--flags not-need-init,startup-clear \
			--tpmstate dir="$G/ptpm-$1" >>"$G/swtpm-$1.log" 2>&1 &
		pid=$!
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			if (exec 3<>/dev/tcp/127.0.0.1/$((port + 1))) 2>/dev/null; then
				SWTPM_PID[$1]=$pid
				TCTI[$1]="swtpm:host=127.0.0.1,port=$port"
				return 0
			fi
			sleep 0.05
		done
		kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	done
	return 1
}
# use A|B: the manager, platform TPM and vTPM state base of that host.
use() {
	export HVSEC_VTPM_MGR_DIR=$G/mgr-$1 HVSEC_VTPM_DIR=$G/state-$1
	export HVSEC_VTPM_MGR_TCTI=${TCTI[$1]}
}
for h in A B; do
	start_swtpm $h || { echo "FAIL: swtpm $h did not start"; cat "$G/swtpm-$h.log"; echo "0 passed, 1 failed"; exit 1; }
done
ts_start --policy "$T/mt.bin" || { echo "0 passed, 1 failed"; exit 1; }

# ---- both managers made; B's public key for A's operator, and A's for B's
for h in B A; do
	use $h
	expect "manager $h: init" 0 'initialised' -- hv vtpm manager init
	expect "manager $h: start" 0 'vTPM manager running' -- hv vtpm manager start
	expect "manager $h: pubkey (PEM)" 0 'sha256:[0-9a-f]{64}' -- hv vtpm manager pubkey -o "$G/$h.pub"
	expect "manager $h: the key is a P-256 key" 0 'prime256v1|P-256' -- openssl pkey -pubin -in "$G/$h.pub" -noout -text
	hv vtpm ca >"$G/$h-ca.pem"
	[ $h = B ] && expect "manager B: stop" 0 'stopped' -- hv vtpm manager stop
done
openssl pkey -pubin -in "$G/A.pub" -outform DER -out "$G/A.der" 2>/dev/null

# ---- on A: a guest writes NV
cat >"$G/guest.sh" <<'EOF'
if tpm2_nvreadpublic 0x1500017 >/dev/null 2>&1; then
	echo "NVOLD $(tpm2_nvread 0x1500017 -C o -s 8 2>/dev/null | od -An -c | tr -d ' \n')"
	printf '%s' "$1" | tpm2_nvwrite 0x1500017 -C o -i - >/dev/null 2>&1 && echo "STEP nvwrite2 ok"
else
	tpm2_nvdefine 0x1500017 -C o -s 8 -a "ownerread|ownerwrite|authread|authwrite" >/dev/null 2>&1 &&
		printf '%s' "$1" | tpm2_nvwrite 0x1500017 -C o -i - >/dev/null 2>&1 && echo "STEP nvwrite ok"
fi
echo "GUEST DONE"
sleep 60
EOF
UUID=7c2e4a10-1d2b-4c3d-9e4f-5a6b7c8d9e0f
DOMUUID=0f9e8d7c-6b5a-4f4e-8d3c-2b1a0f9e8d7c
guest_cfg() { # FILE NVVALUE
	{
		printf 'name = "mig"\n'
		printf 'uuid = "%s"\n' "$DOMUUID"
		printf 'kernel = "%s"\n' "$TPMFRONT"
		printf 'extra = "--exec /bin/sh %s %s"\n' "$G/guest.sh" "$2"
		printf "access_control = ['policy=multi-tenant,label=Acme']\n"
		printf "vtpm = ['backend=0,uuid=%s,manager=yes']\n" "$UUID"
	} >"$1"
}
guest_done() { # CHECKNAME
	if wait_console mig 'GUEST DONE' 60; then ok "$1" 0 ""; else
		ok "$1" 1 "$(hv console mig | tail -n 20; hv console mig-vtpm0 | tail -n 10)"; fi
}
guest_cfg "$T/g.cfg" migr001
expect "A: create" 0 '' -- hv create "$T/g.cfg"
guest_done "A: guest ran"
console_ok mig "A: NV written" 'STEP nvwrite ok'
# The deep quote: A's platform TPM vouches for this vTPM (EK + uuid).
hv vtpm golden mig -o "$G/golden" >/dev/null 2>&1
ATT=(hv vtpm attest mig --golden "$G/golden" --ca "$G/A-ca.pem" --deep --platform-ak "$G/pin")
expect "A: attest --deep, first use: AK and PCR digest pinned" 0 'deep quote +OK .*trust on first use' -- "${ATT[@]}"
expect "A: attest --deep again: the pin holds" 0 'deep quote +OK .*match the pin' -- "${ATT[@]}"
cp "$G/pin" "$G/pin.good"
cp "$G/pin" "$G/pin-A" # A's real pin, for the deep quote on B
sed -i 's/^pcr-digest .*/pcr-digest 0000000000000000000000000000000000000000000000000000000000000000/' "$G/pin"
expect "A: attest --deep against another platform state: refused" 1 'deep quote +FAIL .*booted something else' -- "${ATT[@]}"
sed -i 's/^ak-name .*/ak-name 000b0000000000000000000000000000000000000000000000000000000000000000/' "$G/pin.good"
cp "$G/pin.good" "$G/pin"
expect "A: attest --deep with another platform AK pinned: refused" 1 'deep quote +FAIL .*not the pinned' -- "${ATT[@]}"
expect "A: export while the guest runs: refused" 1 'running|attached|busy|BUSY' -- \
	hv vtpm export mig --to "$G/B.pub" -o "$G/early.hvmx" --yes
ok "A: nothing written by the refused export" "$( [ ! -e "$G/early.hvmx" ]; echo $?)" ""
expect "A: destroy" 0 '' -- hv destroy mig

# ---- export
t0=$(date +%s%N)
expect "A: export to B" 0 "exported to .*sha256:" -- \
	hv vtpm export "$UUID" --to "$G/B.pub" -o "$G/x.hvmx" --yes
t1=$(date +%s%N)
ok "export file starts with HVMX" "$(head -c 4 "$G/x.hvmx" | grep -q HVMX; echo $?)" ""
ok "A: the state directory stays" "$( [ -s "$HVSEC_VTPM_DIR/$UUID/permall" ]; echo $?)" ""
expect "A: export again: refused (migrated)" 1 'migrated|exported already' -- \
	hv vtpm export "$UUID" --to "$G/B.pub" -o "$G/y.hvmx" --yes
expect "A: export over an existing file refused" 2 'exists' -- \
	hv vtpm export "$UUID" --to "$G/B.pub" -o "$G/x.hvmx" --yes
expect "A: the guest does not run here again" 1 'migrated' -- hv create "$T/g.cfg"
hv destroy mig >/dev/null 2>&1
expect "A: importing a file made for B: refused" 1 'for the manager with key' -- hv vtpm import "$G/x.hvmx"
expect "A: list says migrated" 0 "$UUID.*migrated" -- hv vtpm list
expect "A: stop" 0 'stopped' -- hv vtpm manager stop

# ---- on B
use B
expect "B: start" 0 'vTPM manager running' -- hv vtpm manager start
cp "$G/x.hvmx" "$G/flip.hvmx"
python3 - "$G/flip.hvmx" <<'EOF'
import sys
p = sys.argv[1]; b = bytearray(open(p, 'rb').read())
b[len(b) // 2] ^= 0x10
open(p, 'wb').write(b)
EOF
expect "B: one flipped byte: refused" 1 'SHA-256 does not match' -- hv vtpm import "$G/flip.hvmx"
# An attacker who also recomputes the digest: the bundle's signature.
python3 - "$G/x.hvmx" "$G/forged.hvmx" <<'EOF'
import hashlib, sys
b = bytearray(open(sys.argv[1], 'rb').read())
b[32 + 300] ^= 0x01            # inside the bundle's ciphertext
b[-32:] = hashlib.sha256(bytes(b[:-32])).digest()
open(sys.argv[2], 'wb').write(b)
EOF
expect "B: bundle altered, digest recomputed: refused" 1 'signature does not verify' -- hv vtpm import "$G/forged.hvmx"
expect "B: --from another manager's key: refused" 1 'not by the expected source' -- \
	hv vtpm import "$G/x.hvmx" --from "$G/B.pub"
ok "B: nothing left behind by the refusals" "$( [ ! -e "$HVSEC_VTPM_DIR/$UUID/permall" ]; echo $?)" \
	"$(ls -la "$HVSEC_VTPM_DIR/$UUID" 2>&1)"
t2=$(date +%s%N)
expect "B: import (--from A, DER)" 0 "imported from .*--from" -- hv vtpm import "$G/x.hvmx" --from "$G/A.der"
t3=$(date +%s%N)
expect "B: the same file again: refused" 1 'already|exists|here' -- hv vtpm import "$G/x.hvmx"
guest_cfg "$T/g.cfg" migr002
expect "B: create" 0 '' -- hv create "$T/g.cfg"
guest_done "B: guest ran"
console_ok mig "B: the NV value written on A reads back" 'NVOLD migr001'
console_ok mig-vtpm0 "B: the stub loaded the committed state" 'EXISTING'
# After the move the vTPM's EK certificate is still the one A's CA issued.
hv vtpm golden mig -o "$G/golden-B" >/dev/null 2>&1
expect "B: attest with A's CA: OK" 0 'attestation of mig: OK' -- \
	hv vtpm attest mig --golden "$G/golden-B" --ca "$G/A-ca.pem"
expect "B: the EK certificate does not chain to B's CA" 1 'EK certificate +FAIL' -- \
	hv vtpm attest mig --golden "$G/golden-B" --ca "$G/B-ca.pem"
DEEPB=(hv vtpm attest mig --golden "$G/golden-B" --ca "$G/A-ca.pem" --deep)
expect "B: attest --deep: the EKs A certified came along, B's platform quotes" 0 \
	'deep quote +OK .*trust on first use' -- "${DEEPB[@]}" --platform-ak "$G/pin-B"
expect "B: attest --deep again: B's pin holds" 0 'deep quote +OK .*match the pin' -- \
	"${DEEPB[@]}" --platform-ak "$G/pin-B"
expect "B: attest --deep against A's platform pin: refused (another platform)" 1 \
	'deep quote +FAIL .*not the pinned' -- "${DEEPB[@]}" --platform-ak "$G/pin-A"
console_ok mig "B: NV written on B" 'STEP nvwrite2 ok'
expect "B: destroy" 0 '' -- hv destroy mig
expect "audit: import recorded" 0 '"op": *"import".*"result": *"done"' -- hv --json vtpm audit -n 20

# ---- and back to A: the stale state A kept is set aside, not reused
expect "B: export back to A" 0 "exported to" -- \
	hv vtpm export "$UUID" --to "$G/A.pub" -o "$G/back.hvmx" --yes
expect "B: stop" 0 'stopped' -- hv vtpm manager stop
use A
expect "A: start" 0 'vTPM manager running' -- hv vtpm manager start
expect "A: import the instance coming back" 0 'comes back: .*migrated-away' -- \
	hv vtpm import "$G/back.hvmx" --from "$G/B.pub"
ok "A: the stale state is kept aside" "$( [ -s "$HVSEC_VTPM_DIR/$UUID.migrated-away/permall" ]; echo $?)" \
	"$(ls -la "$HVSEC_VTPM_DIR")"
guest_cfg "$T/g.cfg" migr003
expect "A: create after coming back" 0 '' -- hv create "$T/g.cfg"
guest_done "A: guest ran again"
console_ok mig "A: the NV value written on B reads back" 'NVOLD migr002'
expect "A: destroy" 0 '' -- hv destroy mig
expect "A: stop" 0 'stopped' -- hv vtpm manager stop
echo "migration: export $(( (t1 - t0) / 1000000 )) ms, import $(( (t3 - t2) / 1000000 )) ms end to end ($(stat -c %s "$G/x.hvmx") bytes)"

tl_done
