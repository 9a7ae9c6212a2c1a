#!/usr/bin/env bash
# admin.sh - `hvsec vtpm list|show|reset|delete|audit` (docs/toolstack.md
# "vTPM administration"): a guest with a kept vTPM is listed as running
# via its stub, `show` gives the EK certificates the guest itself reads
# from NV (same serial, same key fingerprint) without starting the TPM;
# delete and reset refuse while the guest runs (exit 1, naming it); after
# destroy the instance is stored, reset clears its volatile state, delete
# needs --yes off a terminal, removes the state and says the EK identity
# is gone; an ephemeral vTPM is listed as such; every action and refusal
# is in the audit log (JSON Lines).
source "$(dirname "$0")/../tools/lib-ts.sh"
source "$(dirname "$0")/lib-vtpm.sh"
TPMFRONT=$HVSEC_BIN/hvsec-tpmfront
VTPMD=$HVSEC_BIN/hvsec-vtpmd
ts_need "$HVSEC" "$HVSECD" "$POLC" "$TPMFRONT" "$VTPMD"
for t in tpm2_nvread openssl; do
	command -v $t >/dev/null || { echo "FAIL: $t missing (scripts/deps.sh test)"; echo "0 passed, 1 failed"; exit 1; }
done

T=$TL_TMP
"$POLC" compile --quiet "$HVSEC_SRC/policies/multi-tenant.xml" -o "$T/mt.bin" ||
	{ echo "FAIL: policy"; echo "0 passed, 1 failed"; exit 1; }
# What the guests run and write must be reachable by their uids.
G=$(mktemp -d /tmp/hvsec-vtpm-admin.XXXXXX)
chmod 0755 "$G"
trap 'rm -rf "$G"; ts_cleanup' EXIT
export HVSEC_VTPM_DIR=$G/state
export HVSEC_CA=$T/ca.pem
AUDIT=$HVSEC_VTPM_DIR/audit.log

ts_start --policy "$T/mt.bin" || { echo "0 passed, 1 failed"; exit 1; }

cat >"$G/guest.sh" <<'EOF'
O=$1
tpm2_nvread 0x01c00002 -C o -o "$O/ek.der" >/dev/null 2>&1 && echo "STEP nvread ok"
tpm2_nvread 0x01c0000a -C o -o "$O/ekecc.der" >/dev/null 2>&1 && echo "STEP nvread-ecc ok"
echo "GUEST DONE"
sleep 60
EOF
UUID=5d4c3b2a-1f0e-4d9c-8b7a-695847362514
guest_cfg() { # FILE NAME OUTDIR [UUID]
	{
		printf 'name = "%s"\n' "$2"
		printf 'kernel = "%s"\n' "$TPMFRONT"
		printf 'extra = "--exec /bin/sh %s %s"\n' "$G/guest.sh" "$3"
		printf "access_control = ['policy=multi-tenant,label=Acme']\n"
		printf "vtpm = ['backend=0%s']\n" "${4:+,uuid=$4}"
	} >"$1"
	mkdir -p "$3"; chmod 0777 "$3"
}
# The fields of `openssl x509` the way show prints them.
serial_of() { openssl x509 -inform DER -in "$1" -noout -serial | sed 's/^serial=//'; }
fpr_of() { openssl x509 -inform DER -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1; }

# ---- nothing yet
expect "list: no instances" 0 '^UUID +State' -- hv vtpm list
expect "list --json: []" 0 '^\[\]$' -- hv vtpm list --json
expect "audit: empty" 0 '^$' -- hv vtpm audit
expect "usage: delete needs a UUID" 2 'not a vTPM UUID' -- hv vtpm delete ../etc --yes
expect "usage: unknown UUID" 2 'no vTPM 00000000-' -- hv vtpm show 00000000-0000-4000-8000-000000000000

# ---- a vTPM that cannot be set up: the guest does not start, and why is audited
guest_cfg "$T/f.cfg" nobe "$G/outf"
sed -i "s/^vtpm = .*/vtpm = ['backend=no-such-domain']/" "$T/f.cfg"
expect "create with a missing backend: refused" 2 'backend domain no-such-domain is not running' -- hv create "$T/f.cfg"
expect "audit: create failed, with the reason" 0 "create +[0-9a-f-]+ +nobe +failed +vTPM 0: backend domain no-such-domain is not running" -- hv vtpm audit

# ---- a running guest with a kept vTPM
guest_cfg "$T/a.cfg" adm "$G/out" "$UUID"
expect "create" 0 '^Started domain adm' -- hv create "$T/a.cfg"
GID=$(domid_of adm); SID=$(domid_of adm-vtpm0)
expect "audit: create, its stub, manufactured now" 0 "create +$UUID +adm +ok +vTPM 0: stub adm-vtpm0 \\($SID\\), manufactured now\$" -- hv vtpm audit
if wait_console adm 'GUEST DONE' 60; then ok "guest read its EK certificates" 0 ""; else
	ok "guest read its EK certificates" 1 "$(hv console adm | tail -n 20)"; fi
expect "list: running via the stub" 0 "^$UUID +running +adm \\($GID\\) +adm-vtpm0 \\($SID\\) +[0-9]+ +[0-9TZ:-]+ +rsa,ecc +20[0-9TZ:-]+ +$HVSEC_VTPM_DIR/$UUID\$" \
	-- hv vtpm list
json_ok "list --json" hv vtpm list --json
expect "list --json: state, guest, stub, EKs" 0 "\"uuid\":\"$UUID\",\"state\":\"running\".*\"guest\":\\{\"name\":\"adm\",\"domid\":$GID.*\"stub\":\\{\"name\":\"adm-vtpm0\",\"domid\":$SID.*\"ek_rsa\":true,\"ek_ecc\":true,\"provisioned\":\"20" \
	-- hv vtpm list --json
expect "list --json: provision time recorded by create" 0 '"provision_us":[0-9]+' -- hv vtpm list --json
OUT=$(hv vtpm show "$UUID")
CA_SUBJ=$(hv vtpm ca | openssl x509 -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
for k in "ek.der:EK RSA" "ekecc.der:EK ECC"; do
	f=${k%%:*}; w=${k#*:}
	sec=$(awk -v w="$w" 'index($0, "  " w) == 1 {on = 1; next} on && /^  [A-Z]/ {on = 0} on' <<<"$OUT")
	if [ -s "$G/out/$f" ]; then
		ok "show $w: serial as the guest reads it" "$(grep -Eqi "serial +$(serial_of "$G/out/$f")\$" <<<"$sec"; echo $?)" "$sec"
		ok "show $w: key fingerprint as the guest's certificate" "$(grep -Eq "key sha256 +$(fpr_of "$G/out/$f")\$" <<<"$sec"; echo $?)" "$sec"
		ok "show $w: issued by the host CA" "$(grep -qF "issuer      $CA_SUBJ" <<<"$sec"; echo $?)" "$CA_SUBJ vs $sec"
	else
		ok "guest wrote $f" 1 "$(hv console adm | tail -n 10)"
	fi
done
expect "show: running for the guest via its stub" 0 "state +running for guest adm \\($GID\\), device 0, via stub domain adm-vtpm0 \\($SID\\)" -- hv vtpm show "$UUID"
expect "show: validity" 0 'valid +20[0-9-]+T[0-9:]+Z to 9999-12-31T23:59:59Z' -- hv vtpm show "$UUID"
expect "show GUEST: the same instance" 0 "^vTPM $UUID" -- hv vtpm show adm
json_ok "show --json" hv vtpm show adm --json
expect "show --json: both certificates" 0 '"ek_rsa_cert":\{"key":"RSA-2048".*"ek_ecc_cert":\{"key":"ECC P-256"' -- hv vtpm show "$UUID" --json
expect "show of a guest without vTPM: exit 1" 1 'has no vTPM' -- hv vtpm show adm-vtpm0
expect "delete while in use: refused, names the guest" 1 "in use by guest adm \\($GID\\)" -- hv vtpm delete "$UUID" --yes
expect "delete --force while in use: still refused" 1 "in use by guest adm" -- hv vtpm delete "$UUID" --yes --force
expect "reset of a running guest: refused, resets with the guest" 1 'resets with the guest' -- hv vtpm reset adm
ok "state directory still there" "$( [ -s "$HVSEC_VTPM_DIR/$UUID/permall" ]; echo $?)" ""
PERM_SUM=$(sha256sum <"$HVSEC_VTPM_DIR/$UUID/permall")
expect "destroy" 0 'destroyed' -- hv destroy adm
expect "audit: destroy, state kept" 0 "destroy +$UUID +adm +ok +vTPM 0 of domain $GID: stub $SID destroyed, state kept in $HVSEC_VTPM_DIR/$UUID\$" -- hv vtpm audit

# ---- stored
expect "list: stored" 0 "^$UUID +stored +- +- " -- hv vtpm list
expect "show: stored, the same EK" 0 "serial +$(serial_of "$G/out/ek.der")" -- hv vtpm show "$UUID"
expect "show: stored, valid state" 0 'header and CRC valid' -- hv vtpm show "$UUID"
# Something the TPM keeps between boots besides permall, as a stub that
# saved its volatile state would leave it.
cp "$HVSEC_VTPM_DIR/$UUID/permall" "$HVSEC_VTPM_DIR/$UUID/volatilestate"
expect "reset a stored vTPM" 0 "vTPM $UUID reset: volatile state removed" -- hv vtpm reset "$UUID"
ok "reset: volatilestate gone, permall kept" "$( [ ! -e "$HVSEC_VTPM_DIR/$UUID/volatilestate" ] && [ "$(sha256sum <"$HVSEC_VTPM_DIR/$UUID/permall")" = "$PERM_SUM" ]; echo $?)" ""
ok "show and list changed nothing" "$( [ "$(sha256sum <"$HVSEC_VTPM_DIR/$UUID/permall")" = "$PERM_SUM" ]; echo $?)" ""
expect "reset again: nothing to remove" 0 'no volatile state was kept' -- hv vtpm reset "$UUID"
# A copy, kept to the end (a stored instance when hvsecd is gone).
KEEP=9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a
cp -a "$HVSEC_VTPM_DIR/$UUID" "$HVSEC_VTPM_DIR/$KEEP"
expect "delete without --yes off a terminal: usage" 2 '\-\-yes is required' -- bash -c "$(printf '%q ' "$HVSEC" --run-dir "$RUN") vtpm delete $UUID </dev/null"
ok "not deleted without --yes" "$( [ -d "$HVSEC_VTPM_DIR/$UUID" ]; echo $?)" ""
expect "delete" 0 "vTPM $UUID deleted: .*endorsement identity .* gone for good" -- hv vtpm delete "$UUID" --yes
ok "state directory removed" "$( [ ! -e "$HVSEC_VTPM_DIR/$UUID" ] && ! ls -a "$HVSEC_VTPM_DIR" | grep -q deleting; echo $?)" "$(ls -a "$HVSEC_VTPM_DIR")"
expect "list: gone" 1 '' -- bash -c "$(printf '%q ' "$HVSEC" --run-dir "$RUN") vtpm list | grep $UUID"
expect "delete again: no such vTPM" 2 'no vTPM state directory' -- hv vtpm delete "$UUID" --yes

# ---- a directory holding something that is not vTPM state
ODD=0e0d0c0b-0a09-4807-8605-040302010000
mkdir -p "$HVSEC_VTPM_DIR/$ODD" && echo x >"$HVSEC_VTPM_DIR/$ODD/notes.txt"
expect "list: an empty instance" 0 "^$ODD +empty " -- hv vtpm list
expect "delete: refuses a file that is not state" 1 "holds 'notes.txt'" -- hv vtpm delete "$ODD" --yes
expect "delete --force" 0 "vTPM $ODD deleted" -- hv vtpm delete "$ODD" --yes --force
ok "forced delete removed it" "$( [ ! -e "$HVSEC_VTPM_DIR/$ODD" ]; echo $?)" ""

# ---- an ephemeral vTPM (no uuid)
guest_cfg "$T/e.cfg" eph "$G/oute"
expect "create (ephemeral vTPM)" 0 '^Started domain eph' -- hv create "$T/e.cfg"
expect "list: ephemeral-running" 0 ' ephemeral-running +eph \([0-9]+\) +eph-vtpm0 ' -- hv vtpm list
EUUID=$(hv vtpm list --json | sed -n 's/.*"uuid":"\([0-9a-f-]*\)","state":"ephemeral-running".*/\1/p')
expect "delete an ephemeral in use: refused" 1 'in use by guest eph' -- hv vtpm delete "$EUUID" --yes
expect "audit: create (ephemeral)" 0 "create +$EUUID +eph +ok +vTPM 0: stub eph-vtpm0 \\([0-9]+\\), manufactured now, ephemeral\$" -- hv vtpm audit
expect "destroy (ephemeral)" 0 'destroyed' -- hv destroy eph
expect "audit: destroy, ephemeral state deleted" 0 "destroy +$EUUID +eph +ok +vTPM 0 of domain [0-9]+: stub [0-9]+ destroyed, ephemeral state deleted\$" -- hv vtpm audit
expect "ephemeral: gone with its guest" 1 '' -- bash -c "$(printf '%q ' "$HVSEC" --run-dir "$RUN") vtpm list | grep -q ephemeral"

# ---- the audit log
expect "audit: refusal names the guest" 0 "delete +$UUID +adm +refused +in use by guest adm" -- hv vtpm audit
expect "audit: reset refused" 0 "reset +$UUID +adm +refused" -- hv vtpm audit
expect "audit: reset ok" 0 "reset +$UUID +- +ok +volatilestate" -- hv vtpm audit
expect "audit: delete ok" 0 "delete +$UUID +- +ok " -- hv vtpm audit
expect "audit: forced delete" 0 "delete +$ODD +- +ok" -- hv vtpm audit
json_ok "audit --json (JSON Lines)" hv vtpm audit --json
expect "audit --json fields" 0 '^\{"time":"20[0-9-]+T[0-9:]+Z","op":"(create|destroy|delete)","uuid":"[0-9a-f-]+","guest":(null|"[^"]*"),"result":"(ok|refused|failed)"' -- hv vtpm audit --json
expect "audit -n 1: the last record" 0 "^[^ ]+ +destroy +$EUUID +eph +ok" -- hv vtpm audit -n 1
ok "audit -n 1: one line" "$( [ "$(hv vtpm audit -n 1 | wc -l)" = 1 ]; echo $?)" ""
ok "audit log 0600" "$( [ "$(stat -c %a "$AUDIT")" = 600 ]; echo $?)" "$(stat -c %a "$AUDIT" 2>&1)"

# ---- without hvsecd: list shows the files, says why, exit 3
ts_stop
expect "list without hvsecd: exit 3" 3 'showing the state directories only' -- hv vtpm list
expect "list --json without hvsecd: state unknown" 3 "\"uuid\":\"$KEEP\",\"state\":\"unknown\"" -- hv vtpm list --json
expect "show UUID without hvsecd: the files, exit 3" 3 'state +unknown.*' -- hv vtpm show "$KEEP"
expect "show UUID without hvsecd: the EK certificate" 3 'EK RSA +RSA-2048' -- hv vtpm show "$KEEP"
expect "delete without hvsecd: refused (use unknown), exit 3" 3 'cannot tell which guests' -- hv vtpm delete "$KEEP" --yes
ok "nothing deleted without hvsecd" "$( [ -s "$HVSEC_VTPM_DIR/$KEEP/permall" ]; echo $?)" ""
tl_done
