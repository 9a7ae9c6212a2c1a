#!/bin/sh
# scripts/xen/domU-init.sh: /init of the test guest of `make test-xen`
# (busybox sh; dom0 appends it to the cached domU-base.cpio).  Loads
# xen-tpmfront, then drives the vTPM with tpm2-tools straight on /dev/tpm0:
# Linux registers xen-tpmfront as a TPM 1.2 chip, so there is no tpmrm0 and
# no resource manager; the raw device passes TPM2 bytes, and
# `tpm2_flushcontext -t` frees transient objects between steps.
#
# Kernel parameters (from dom0's guest config) arrive in the environment:
# hvsec_boot=1|2, hvsec_nonce (32 hex chars), hvsec_tpm_wait (seconds),
# hvsec_role: "tpm" (the default: everything below), "quick" (tpm-device
# and getrandom only) or "idle" (no TPM: says done and waits; the xsm=acm
# stage's domains that only need to exist).  Guests of that stage also
# answer probes from dom0 once done (serve_probes).
# Boot 1: getrandom, pcrread (PCR 23 is zero), pcrextend (exact new value),
# NV define + write of the nonce, EK/AK (ECC) quote + checkquote.  Boot 2
# (same vTPM uuid): getrandom, PCR 23 back to zero, NV read = nonce, quote.
# Prints "@@hvsec result NAME PASS|FAIL detail", "@@hvsec value NAME V"
# and finally "@@hvsec domU done" on its console; dom0 reads them from the
# xenconsoled log and destroys the guest.
export PATH=/bin:/sbin
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu
export TPM2TOOLS_TCTI=device:/dev/tpm0
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /tmp
mount -t tmpfs tmp /tmp

boot=${hvsec_boot:-1}
nonce=${hvsec_nonce:-00000000000000000000000000000000}
wait_s=${hvsec_tpm_wait:-60}
role=${hvsec_role:-tpm}
NV=0x01500016
PCR=23

up() { cut -d' ' -f1 /proc/uptime; }
dt() { awk -v a="$1" -v b="$(up)" 'BEGIN { printf "%.2f", b - a }'; }
say() { echo "@@hvsec $*"; }
res() { say "result $*"; }
fin() {
	say "domU done boot=$boot"
	[ -x /bin/hvsec-xsm-probe ] && serve_probes
	while :; do sleep 3600; done
}
# The xsm=acm stage adds hvsec-xsm-probe and xen-privcmd.ko to the guests:
# dom0 writes "hvsec-probe ID ARGS..." lines to the guest's console, the
# guest runs the probe (its hypercalls go out as this domain's) and answers
# "@@hvsec probe ID <output>".
serve_probes() {
	# A domU's privcmd only passes hypercalls for a domain it is device
	# model of, unless told otherwise (kernel not locked down here).
	insmod /modules/xen-privcmd.ko unrestricted=1 2>/dev/null
	say "probe ready"
	while read -r tag id args; do
		[ "$tag" = hvsec-probe ] || continue
		# shellcheck disable=SC2086 # the probe's arguments
		say "probe $id $(/bin/hvsec-xsm-probe $args 2>&1 | head -n 1)"
	done
}
# tpm NAME CMD...: runs one tpm2 tool; on failure reports NAME FAIL with
# its last output and returns 1.  Output is left in /tmp/out.
tpm() {
	name=$1
	shift
	tt=$(up)
	timeout 150 "$@" >/tmp/out 2>&1
	rc=$?
	last_dt=$(dt "$tt")
	if [ $rc -ne 0 ]; then
		res "$name FAIL $* -> rc=$rc after ${last_dt}s: $(tail -c 300 /tmp/out | tr '\n' ' ')"
		return 1
	fi
	return 0
}
flush() { tpm2_flushcontext -t >/dev/null 2>&1; }
pcr23() { # sets PCRV to PCR 23 (sha256) in lower-case hex
	PCRV=
	tpm "$1" tpm2_pcrread sha256:$PCR || return 1
	PCRV=$(sed -n "s/^ *$PCR *: *0x\([0-9A-Fa-f]*\).*/\1/p" /tmp/out | tr 'A-F' 'a-f')
	[ -n "$PCRV" ] || res "$1 FAIL no PCR $PCR in: $(head -c 200 /tmp/out | tr '\n' ' ')"
}
# shellcheck disable=SC2059 # the format is the \xHH escapes themselves
hex2bin() { printf "$(echo "$1" | sed 's/../\\x&/g')"; }
ZERO=0000000000000000000000000000000000000000000000000000000000000000

say "domU up boot=$boot role=$role uptime=$(up)"
[ "$role" = idle ] && fin
t=$(up)
insmod /modules/xen-tpmfront.ko &
i=0
while [ ! -c /dev/tpm0 ] && [ $i -lt $((wait_s * 4)) ]; do
	sleep 0.25
	i=$((i + 1))
done
if [ ! -c /dev/tpm0 ]; then
	res "tpm-device FAIL no /dev/tpm0 ${wait_s}s after insmod xen-tpmfront: $(dmesg | grep -iE 'tpm|vtpm' | tail -n 4 | tr '\n' ' ')"
	fin
fi
res "tpm-device PASS /dev/tpm0 after $(dt "$t")s"
# For the log: what the kernel said (xen-tpmfront registers a TPM 1.2 chip,
# so its own TPM 1.2 commands, e.g. the hwrng's GetRandom, get TPM2 errors).
dmesg | grep -iE 'tpm' | tail -n 3 | while IFS= read -r l; do say "kernel: $l"; done
flush

# getrandom: 16 bytes of hex.
if tpm getrandom tpm2_getrandom --hex 16; then
	r=$(cat /tmp/out)
	if echo "$r" | grep -Eq '^[0-9a-f]{32}$'; then
		res "getrandom PASS 16 bytes in ${last_dt}s: $r"
	else
		res "getrandom FAIL unexpected output: $(head -c 200 /tmp/out)"
	fi
fi
[ "$role" = quick ] && fin

# PCR 23 starts at zero on every boot (the vTPM restarts with the guest).
name=pcrread
[ "$boot" = 2 ] && name=pcr-reset
pcr23 $name
v=$PCRV
if [ "$v" = "$ZERO" ]; then
	res "$name PASS PCR $PCR is zero at boot $boot (${last_dt}s)"
elif [ -n "$v" ]; then
	res "$name FAIL PCR $PCR at boot $boot is $v, expected zero"
fi

if [ "$boot" = 1 ]; then
	# Extend with sha256("hvsec"): new value = sha256(old || digest).
	D=$(printf hvsec | sha256sum | cut -d' ' -f1)
	want=$( (hex2bin "$ZERO" && hex2bin "$D") | sha256sum | cut -d' ' -f1)
	if tpm pcrextend tpm2_pcrextend "$PCR:sha256=$D"; then
		pcr23 pcrextend
		v=$PCRV
		if [ "$v" = "$want" ]; then
			res "pcrextend PASS PCR $PCR = sha256(0^32 || sha256('hvsec')) = $(echo "$v" | cut -c1-16)..."
		elif [ -n "$v" ]; then
			res "pcrextend FAIL PCR $PCR is '$v', expected $want"
		fi
	fi

	# NV: an owner index holding the run's nonce, read back on boot 2.
	printf %s "$nonce" >/tmp/nv.in
	if tpm nvdefine tpm2_nvdefine $NV -C o -s 32 -a "ownerread|ownerwrite" &&
		tpm nvwrite tpm2_nvwrite $NV -C o -i /tmp/nv.in &&
		tpm nvread tpm2_nvread $NV -C o -s 32 -o /tmp/nv.out; then
		if cmp -s /tmp/nv.in /tmp/nv.out; then
			res "nvwrite PASS NV $NV holds the nonce $nonce"
		else
			res "nvwrite FAIL NV $NV read back '$(cat /tmp/nv.out)', wrote '$nonce'"
		fi
	fi
else
	if tpm nvread tpm2_nvread $NV -C o -s 32 -o /tmp/nv.out; then
		got=$(cat /tmp/nv.out)
		if [ "$got" = "$nonce" ]; then
			res "persist-nv PASS NV $NV written on boot 1 reads back on boot 2: $got"
		else
			res "persist-nv FAIL NV $NV reads '$got', boot 1 wrote '$nonce'"
		fi
	fi
fi

# Quote: ECC EK, ECC AK under it, quote PCRs 0 and 23 over a nonce, verify.
quote() {
	q=$(echo "$nonce" | cut -c1-32)
	flush
	tpm quote tpm2_createek -c /tmp/ek.ctx -G ecc -u /tmp/ek.pub || return 1
	say "value ek-sha256 $(sha256sum /tmp/ek.pub | cut -d' ' -f1)"
	flush
	tpm quote tpm2_createak -C /tmp/ek.ctx -c /tmp/ak.ctx -G ecc -g sha256 -s ecdsa \
		-u /tmp/ak.pem -f pem -n /tmp/ak.name || return 1
	flush
	tpm quote tpm2_quote -c /tmp/ak.ctx -l sha256:0,$PCR -q "$q" -m /tmp/q.msg \
		-s /tmp/q.sig -o /tmp/q.pcrs -g sha256 || return 1
	flush
	tpm quote tpm2_checkquote -u /tmp/ak.pem -m /tmp/q.msg -s /tmp/q.sig \
		-f /tmp/q.pcrs -g sha256 -q "$q" || return 1
	return 0
}
t=$(up)
if quote; then
	res "quote PASS createek/createak (ECC) + quote sha256:0,$PCR + checkquote in $(dt "$t")s"
fi
flush
fin
