#!/usr/bin/env bash
# scripts/xen/run.sh: `make test-xen`, the real Xen tier.  Boots Debian's
# Xen 4.17 under qemu-system-x86_64 -accel tcg (KVM cannot run Xen on these
# hosts), with a dom0 that runs our vTPM backend (hvsec-vtpm-backendd, which
# spawns hvsec-vtpmd-xen per device) and a PV guest that uses it through
# Linux's xen-tpmfront and tpm2-tools.  See build-image.sh for the parts.
#
#   1. image   build-image.sh (cached in build/xen/<recipe hash>/)
#   2. share   build/xen/run/share: dom0-init.sh, config, our binaries,
#              the guest's /init (domU-init.sh) as a small cpio
#   3. boot    QEMU; every serial line is time-stamped into
#              build/xen/run/serial.log; "@@hvsec stage|result" lines from
#              dom0 are shown as they come
#   4. verdict results from share/out/results (written by dom0), plus
#              checks of the serial log; a table of stage times; exits 0
#              only when every expected result is there and PASS.
#
# Run: `make test-xen` (as root: the first run builds the image, ~1.5-4
# min depending on the mirror and the host's load; later runs reuse it and
# take ~1.5-2 min).  Or, with our binaries built: bash scripts/xen/run.sh.
# Logs: build/xen/run/ (serial.log, share/out/: results, backendd.log,
# xl-*.log, xenstored-access.log, the guests' consoles, xs-trace.log).
#
# Environment: HVSEC_BUILD (build dir holding bin/, default build),
# HVSEC_XEN_TIMEOUT (whole boot, default 480 s), HVSEC_XEN_STALL (longest
# gap between two stages, default 200 s), HVSEC_XEN_STANDIN=1 (boot with a
# shell stand-in for the backend: proves image and boot, TPM results fail).
# Two runs at once wait for each other (build/xen/.lock).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

BUILD=${HVSEC_BUILD:-build}
LIMIT=${HVSEC_XEN_TIMEOUT:-480}
STALL=${HVSEC_XEN_STALL:-200}
MODE=real
[ "${HVSEC_XEN_STANDIN:-0}" = 1 ] && MODE=standin
W=build/xen/run
SH=$W/share
LOG=$W/serial.log

T0=${EPOCHREALTIME/./}
el() { # el VAR: seconds since T0 with one decimal
	local now=${EPOCHREALTIME/./} d
	d=$(((now - T0) / 100000))
	printf -v "$1" '%d.%d' $((d / 10)) $((d % 10))
}
say() {
	local e
	el e
	printf 'xen-test: [%6ss] %s\n' "$e" "$*"
}
die() {
	printf 'xen-test: error: %s\n' "$*" >&2
	exit 1
}

# Stage bookkeeping: STAGES[i]="name|start" in seconds since T0.
STAGES=()
stage() {
	local e
	el e
	STAGES+=("$1|$e")
	say "stage: $1"
}

# ------------------------------------------------------------------ checks
mkdir -p build/xen
exec 9>build/xen/.lock
if ! flock -n 9; then
	say "another test-xen is running (build/xen/.lock); waiting for it"
	flock -w 900 9 || die "build/xen/.lock still held after 900 s"
fi
for t in qemu-system-x86_64:qemu-system-x86 cpio:cpio; do
	command -v "${t%%:*}" >/dev/null 2>&1 ||
		die "'${t%%:*}' is missing: install the Debian package ${t#*:} (as root: bash scripts/deps.sh xen)"
done
if [ $MODE = real ]; then
	for b in hvsec-vtpm-backendd hvsec-vtpmd-xen; do
		[ -x "$BUILD/bin/$b" ] ||
			die "$BUILD/bin/$b is not built (make all); HVSEC_XEN_STANDIN=1 boots with a shell stand-in instead"
	done
fi

# ------------------------------------------------------------------ image
stage "image"
img=$(bash scripts/xen/build-image.sh | tail -n 1) || die "building the Xen image failed (see above)"
[ -f "$img/ok" ] || die "build-image.sh did not produce an image ($img)"
for f in xen vmlinuz initrd.img dom0.img; do
	[ -s "$img/$f" ] || die "$img/$f is missing; remove $img and run again"
done

# ------------------------------------------------------------------ share
stage "share"
rm -rf "$W"
mkdir -p "$SH/bin" "$SH/domU" "$SH/out"
cp scripts/xen/dom0-init.sh "$SH/"
if [ $MODE = real ]; then
	cp "$BUILD/bin/hvsec-vtpm-backendd" "$BUILD/bin/hvsec-vtpmd-xen" "$SH/bin/"
fi
# The guest's /init; dom0 appends it to the image's domU-base.cpio.
mkdir -p "$W/initfs"
cp scripts/xen/domU-init.sh "$W/initfs/init"
chmod 755 "$W/initfs/init"
(cd "$W/initfs" && echo init | cpio -o -H newc --quiet) >"$SH/domU/init.cpio"
UUID=$(cat /proc/sys/kernel/random/uuid)
NONCE=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
TPM_WAIT=60
[ $MODE = standin ] && TPM_WAIT=5
cat >"$SH/config" <<EOF
MODE=$MODE
UUID=$UUID
NONCE=$NONCE
GUEST_WAIT=180
TPM_WAIT=$TPM_WAIT
EOF
say "vTPM uuid $UUID, nonce $NONCE, backend: $MODE"

# ------------------------------------------------------------------ boot
stage "boot: Xen hypervisor"
mkfifo "$W/serial.fifo"
# -cpu qemu64,+svm,+npt: no SMAP (Xen's PV dom0 faults with -cpu max under
# TCG), NPT for HAP.  virtio-rng: without entropy xl create stalls ~10 s.
timeout --kill-after=10 $((LIMIT + 30)) qemu-system-x86_64 \
	-accel tcg -cpu qemu64,+svm,+npt -m 2048 -smp 2 \
	-nographic -monitor none -no-reboot \
	-kernel "$img/xen" \
	-append "dom0_mem=1024M,max:1024M console=com1 com1=115200,8n1 noreboot" \
	-initrd "$img/vmlinuz root=/dev/vda rw console=hvc0 earlyprintk=xen quiet,$img/initrd.img" \
	-drive "file=$img/dom0.img,if=virtio,format=raw,snapshot=on" \
	-device virtio-rng-pci \
	-virtfs "local,path=$SH,mount_tag=share,security_model=none" \
	</dev/null >"$W/serial.fifo" 2>&1 9>&- &
QPID=$!
trap 'kill $QPID 2>/dev/null' EXIT
exec 3<"$W/serial.fifo"

timed_out=
last_stage=${STAGES[-1]%%|*}
last_mark=$(((${EPOCHREALTIME/./} - T0) / 1000000))
pending=
: >"$LOG"
while :; do
	if IFS= read -r -t 1 line <&3; then
		line="$pending$line"
		pending=
	else
		rc=$?
		if [ $rc -le 128 ]; then
			[ -n "$line$pending" ] && printf '%s\n' "$pending$line" >>"$LOG"
			break # EOF: QEMU exited
		fi
		pending="$pending$line"
		now=$(((${EPOCHREALTIME/./} - T0) / 1000000))
		if [ "$now" -ge "$LIMIT" ]; then
			timed_out="the whole boot took more than ${LIMIT}s"
			break
		fi
		if [ $((now - last_mark)) -ge "$STALL" ]; then
			timed_out="no progress for ${STALL}s"
			break
		fi
		continue
	fi
	line=${line//$'\r'/}
	el e
	printf '[%7s] %s\n' "$e" "$line" >>"$LOG"
	case $line in
	"(XEN) Freed "*"init memory"*) stage "boot: dom0 kernel" ;;
	"@@hvsec stage "*) stage "${line#@@hvsec stage }" ;;
	"@@hvsec result "*)
		read -r rn rs rd <<<"${line#@@hvsec result }"
		say "  $rs $rn: $rd"
		;;
	"@@hvsec fatal"* | *"(XEN) Panic on CPU"* | *"Kernel panic"*) say "$line" ;;
	"@@hvsec "*) say "  ${line#@@hvsec }" ;;
	*) continue ;;
	esac
	last_stage=${STAGES[-1]%%|*}
	last_mark=$(((${EPOCHREALTIME/./} - T0) / 1000000))
done
exec 3<&-
if [ -n "$timed_out" ]; then
	stage "timed out"
	kill "$QPID" 2>/dev/null
	wait "$QPID" 2>/dev/null
	qrc=124
else
	wait "$QPID"
	qrc=$?
	stage "QEMU exited (rc $qrc)"
fi
trap - EXIT

# ------------------------------------------------------------------ verdict
R=$SH/out/results
touch "$R"
if [ -n "$timed_out" ]; then
	echo "qemu FAIL boot timed out at stage '$last_stage': $timed_out" >>"$R"
elif [ "$(cat "$SH/out/done" 2>/dev/null)" = complete ]; then
	echo "qemu PASS dom0 finished its script and powered off, QEMU rc $qrc" >>"$R"
else
	echo "qemu FAIL QEMU exited (rc $qrc) at stage '$last_stage' before dom0 finished: $(cat "$SH/out/done" 2>/dev/null)" >>"$R"
fi
bad=$(grep -E '\(XEN\) Panic|Kernel panic|BUG: |Oops|general protection|Call Trace' "$LOG" | head -n 3)
if [ -z "$bad" ]; then
	echo "serial-clean PASS no panic, BUG, oops or call trace from Xen or dom0" >>"$R"
else
	echo "serial-clean FAIL $(echo "$bad" | tr '\n' ' ')" >>"$R"
fi
bad=$(cat "$SH"/out/domU*-console.log 2>/dev/null | grep -E 'Kernel panic|BUG: |Oops|Call Trace|WARNING:' | head -n 3)
if [ -z "$bad" ]; then
	echo "domU-consoles-clean PASS no panic, BUG, oops or warning in the guests' kernel logs" >>"$R"
else
	echo "domU-consoles-clean FAIL $(echo "$bad" | tr '\n' ' ')" >>"$R"
fi

want="dom0-xen-tools backend-start"
for b in 1 2; do
	want="$want domU$b-create domU$b-tpm-device domU$b-getrandom"
	if [ $b = 1 ]; then
		want="$want domU1-pcrread domU1-pcrextend domU1-nvwrite"
	else
		want="$want domU2-pcr-reset domU2-persist-nv"
	fi
	want="$want domU$b-quote domU$b-tests-finished domU$b-destroy domU$b-backend-closed domU$b-backend-removed"
	[ $MODE = real ] && want="$want domU$b-vtpmd-exited"
done
want="$want persist-ek backend-alive xl-logs-clean qemu serial-clean domU-consoles-clean"
[ $MODE = real ] && want="$want backend-stop"
for n in $want; do
	grep -q "^$n " "$R" || echo "$n FAIL never reported (the run stopped before this check)" >>"$R"
done

if [ -n "$timed_out" ]; then
	echo
	echo "xen-test: boot timed out at stage '$last_stage' ($timed_out); last serial lines:"
	tail -n 30 "$LOG" | sed 's/^/    /'
elif ! grep -q '^qemu PASS' "$R"; then
	echo
	echo "xen-test: dom0 did not finish; last serial lines:"
	tail -n 30 "$LOG" | sed 's/^/    /'
fi

# summary: the table of stage times and the results, "N passed, N failed" last.
summary() {
	echo "== test-xen stages (seconds since start; TCG, $(nproc) host cores)"
	printf '  %-28s %8s %8s\n' stage start took
	end=
	el end
	for i in "${!STAGES[@]}"; do
		n=${STAGES[i]%%|*}
		s=${STAGES[i]#*|}
		if [ $((i + 1)) -lt ${#STAGES[@]} ]; then nx=${STAGES[i + 1]#*|}; else nx=$end; fi
		[ $((i + 1)) -eq ${#STAGES[@]} ] && [ "$n" != "timed out" ] && continue
		printf '  %-28s %8s %8s\n' "$n" "$s" "$(awk -v a="$s" -v b="$nx" 'BEGIN { printf "%.1f", b - a }')"
	done
	printf '  %-28s %8s %8s\n' total "" "$end"
	echo
	echo "== test-xen results ($MODE backend; logs: $W, serial: $LOG)"
	pass=0
	fail=0
	while read -r n st detail; do
		[ -n "$n" ] || continue
		printf '  %-4s %-26s %s\n' "$st" "$n" "$detail"
		if [ "$st" = PASS ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
	done <"$R"
	echo "$pass passed, $fail failed"
}
echo
summary >"$W/summary.txt"
cat "$W/summary.txt"
tail -n 1 "$W/summary.txt" | grep -q '^[1-9][0-9]* passed, 0 failed$'
