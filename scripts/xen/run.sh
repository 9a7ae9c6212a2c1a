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
#              checks of the serial log
#   5. acm     a second boot, of our Xen (`make xen-acm`, scripts/xen-acm/)
#              with xsm=acm and tests/xen/acm-tenants.xml compiled as the
#              boot policy module; dom0 runs dom0-acm.sh (Chinese Wall,
#              STE, labels and xl loadpolicy through unmodified xl, and
#              the vTPM under ACM); share-acm/, serial-acm.log, results
#              acm-*; then a third boot of the same Xen with a corrupted
#              policy module: fail-closed until xl loadpolicy
#              (share-acm-failclosed/, serial-failclosed.log, results
#              failclosed-*).  HVSEC_XEN_ACM=0 skips both (a SKIP line).
#   6. summary a table of stage times and every result; exits 0 only when
#              every expected result is there and PASS.
#
# Run: `make test-xen` (as root: the first run builds the image, ~1.5-4
# min depending on the mirror and the host's load; later runs reuse it and
# take ~1.5-2 min, plus ~2 min for the xsm=acm boot and ~1 min when our
# Xen must be rebuilt).  Or, with our binaries built: bash scripts/xen/run.sh.
# Logs: build/xen/run/ (serial.log, share/out/: results, backendd.log,
# xl-*.log, xenstored-access.log, the guests' consoles, xs-trace.log).
#
# Environment: HVSEC_BUILD (build dir holding bin/, default build),
# HVSEC_XEN_ACM (1, default: also the xsm=acm boot; 0: skip it),
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
cp scripts/xen/dom0-init.sh scripts/xen/dom0-lib.sh "$SH/"
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
# qemu_boot PREFIX XEN XEN_ARGS EXTRA_MODULES SHARE LOG: one boot under
# QEMU until it powers off (or times out); sets timed_out, qrc, last_stage.
# PREFIX names its stages.  EXTRA_MODULES (",file,...") follow dom0's
# kernel and initrd as multiboot modules.
qemu_boot() {
	local pfx=$1 xen=$2 xargs=$3 mods=$4 share=$5 log=$6 line rc now e
	local rn rs rd last_mark pending
	rm -f "$W/serial.fifo"
	mkfifo "$W/serial.fifo"
	# -cpu qemu64,+svm,+npt: no SMAP (Xen's PV dom0 faults with -cpu max under
	# TCG), NPT for HAP.  virtio-rng: without entropy xl create stalls ~10 s.
	timeout --kill-after=10 $((LIMIT + 30)) qemu-system-x86_64 \
		-accel tcg -cpu qemu64,+svm,+npt -m 2048 -smp 2 \
		-nographic -monitor none -no-reboot \
		-kernel "$xen" \
		-append "dom0_mem=1024M,max:1024M console=com1 com1=115200,8n1 noreboot$xargs" \
		-initrd "$img/vmlinuz root=/dev/vda rw console=hvc0 earlyprintk=xen quiet,$img/initrd.img$mods" \
		-drive "file=$img/dom0.img,if=virtio,format=raw,snapshot=on" \
		-device virtio-rng-pci \
		-virtfs "local,path=$share,mount_tag=share,security_model=none" \
		</dev/null >"$W/serial.fifo" 2>&1 9>&- &
	QPID=$!
	trap 'kill $QPID 2>/dev/null' EXIT
	exec 3<"$W/serial.fifo"

	timed_out=
	last_stage=${STAGES[-1]%%|*}
	last_mark=$(((${EPOCHREALTIME/./} - T0) / 1000000))
	pending=
	: >"$log"
	while :; do
		if IFS= read -r -t 1 line <&3; then
			line="$pending$line"
			pending=
		else
			rc=$?
			if [ $rc -le 128 ]; then
				[ -n "$line$pending" ] && printf '%s\n' "$pending$line" >>"$log"
				break # EOF: QEMU exited
			fi
			pending="$pending$line"
			now=$(((${EPOCHREALTIME/./} - T0) / 1000000))
			if [ $((now - T_BOOT)) -ge "$LIMIT" ]; then
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
		printf '[%7s] %s\n' "$e" "$line" >>"$log"
		case $line in
		"(XEN) Freed "*"init memory"*) stage "${pfx}boot: dom0 kernel" ;;
		"@@hvsec stage "*) stage "${pfx}${line#@@hvsec stage }" ;;
		"@@hvsec result "*)
			read -r rn rs rd <<<"${line#@@hvsec result }"
			say "  $rs $rn: $rd"
			;;
		"@@hvsec fatal"* | *"(XEN) Panic on CPU"* | *"Kernel panic"*) say "$line" ;;
		"(XEN) hvsec-acm: "*) say "  ${line#(XEN) }" ;;
		"@@hvsec "*) say "  ${line#@@hvsec }" ;;
		*) continue ;;
		esac
		last_stage=${STAGES[-1]%%|*}
		last_mark=$(((${EPOCHREALTIME/./} - T0) / 1000000))
	done
	exec 3<&-
	if [ -n "$timed_out" ]; then
		stage "${pfx}timed out"
		kill "$QPID" 2>/dev/null
		wait "$QPID" 2>/dev/null
		qrc=124
	else
		wait "$QPID"
		qrc=$?
		stage "${pfx}QEMU exited (rc $qrc)"
	fi
	trap - EXIT
}

# verdict PREFIX SHARE LOG: the run-level results of one boot, appended to
# SHARE/out/results (named PREFIX qemu, serial-clean, domU-consoles-clean).
verdict() {
	local pfx=$1 share=$2 log=$3 r=$2/out/results bad
	touch "$r"
	if [ -n "$timed_out" ]; then
		echo "${pfx}qemu FAIL boot timed out at stage '$last_stage': $timed_out" >>"$r"
	elif [ "$(cat "$share/out/done" 2>/dev/null)" = complete ]; then
		echo "${pfx}qemu PASS dom0 finished its script and powered off, QEMU rc $qrc" >>"$r"
	else
		echo "${pfx}qemu FAIL QEMU exited (rc $qrc) at stage '$last_stage' before dom0 finished: $(cat "$share/out/done" 2>/dev/null)" >>"$r"
	fi
	bad=$(grep -E '\(XEN\) Panic|Kernel panic|BUG: |Oops|general protection|Call Trace' "$log" | head -n 3)
	if [ -z "$bad" ]; then
		echo "${pfx}serial-clean PASS no panic, BUG, oops or call trace from Xen or dom0" >>"$r"
	else
		echo "${pfx}serial-clean FAIL $(echo "$bad" | tr '\n' ' ')" >>"$r"
	fi
	bad=$(cat "$share"/out/*console.log 2>/dev/null | grep -E 'Kernel panic|BUG: |Oops|Call Trace|WARNING:' | head -n 3)
	if [ -z "$bad" ]; then
		echo "${pfx}domU-consoles-clean PASS no panic, BUG, oops or warning in the guests' kernel logs" >>"$r"
	else
		echo "${pfx}domU-consoles-clean FAIL $(echo "$bad" | tr '\n' ' ')" >>"$r"
	fi
	if [ -n "$timed_out" ]; then
		echo
		echo "xen-test: boot timed out at stage '$last_stage' ($timed_out); last serial lines:"
		tail -n 30 "$log" | sed 's/^/    /'
	elif ! grep -q "^${pfx}qemu PASS" "$r"; then
		echo
		echo "xen-test: dom0 did not finish; last serial lines:"
		tail -n 30 "$log" | sed 's/^/    /'
	fi
}

# missing RESULTS NAME...: a FAIL line for every expected name not there.
missing() {
	local r=$1 n
	shift
	for n in "$@"; do
		grep -q "^$n " "$r" || echo "$n FAIL never reported (the run stopped before this check)" >>"$r"
	done
}

# acm_boot: builds (or takes from the cache) our Xen and the test
# policies, then boots them; results in $R2 (the host's checks, then
# dom0's from share-acm/out/results).
acm_boot() {
	local polc=$BUILD/bin/hvsec-polc f want
	stage "acm: build"
	rm -rf "$SH2"
	mkdir -p "$SH2/acm" "$SH2/out" "$SH2/bin"
	: >"$R2"
	if ! bash scripts/xen-acm/build.sh >"$W/xen-acm-build.log" 2>&1; then
		echo "acm-build FAIL make xen-acm failed: $(tail -n 3 "$W/xen-acm-build.log" | tr '\n' ' ')" >>"$R2"
		return
	fi
	for f in acm-tenants acm-tenants-update acm-tenants-break acm-tenants-update2 \
		acm-tenants-update3; do
		if ! "$polc" compile "tests/xen/$f.xml" -o "$SH2/acm/$f.bin" --quiet >>"$W/xen-acm-build.log" 2>&1; then
			echo "acm-build FAIL hvsec-polc compile tests/xen/$f.xml failed (see $W/xen-acm-build.log)" >>"$R2"
			return
		fi
	done
	# dom0 has no compiler: the probe is built here, against the host's
	# libxen-dev (the same 4.17 libraries as dom0's).
	if ! ${CC:-cc} -std=c11 -D_GNU_SOURCE -D__XEN_TOOLS__ -O2 -Wall -Wextra -Werror \
		-o "$SH2/acm/hvsec-xsm-probe" tests/xen/xsm_probe.c -lxencall >>"$W/xen-acm-build.log" 2>&1; then
		echo "acm-build FAIL cannot build tests/xen/xsm_probe.c (libxen-dev installed?): $(tail -n 2 "$W/xen-acm-build.log" | tr '\n' ' ')" >>"$R2"
		return
	fi
	# The guests' probe: static (the guests have no libraries), with the
	# dom0 image's xen-privcmd.ko (the guests run the same kernel) for its
	# hypercalls; appended to the guests' /init archive.
	local kver g=$W/initfs-acm
	rm -rf "$g"
	mkdir -p "$g/bin" "$g/modules"
	kver=$(debugfs -R "ls /lib/modules" "$img/dom0.img" 2>/dev/null | tr -s ' ' '\n' | grep -m1 -- '-amd64$')
	if ! ${CC:-cc} -std=c11 -D_GNU_SOURCE -D__XEN_TOOLS__ -O2 -Wall -Wextra -Werror -static -s \
		-o "$g/bin/hvsec-xsm-probe" tests/xen/xsm_probe.c -lxencall -lxentoolcore -lxentoollog >>"$W/xen-acm-build.log" 2>&1 ||
		! debugfs -R "dump /lib/modules/$kver/kernel/drivers/xen/xen-privcmd.ko $g/modules/xen-privcmd.ko" "$img/dom0.img" >>"$W/xen-acm-build.log" 2>&1 ||
		[ ! -s "$g/modules/xen-privcmd.ko" ]; then
		echo "acm-build FAIL cannot make the guests' probe (static libxencall, xen-privcmd.ko of kernel '$kver'; see $W/xen-acm-build.log)" >>"$R2"
		return
	fi
	echo "acm-build PASS $(grep -oE '(cached: |built )build/xen-acm/xen.gz \([0-9a-f]+\)' "$W/xen-acm-build.log" | tail -n 1), 4 policies compiled, probe built" >>"$R2"
	# Our toolstack on the xen platform (libxenctrl): dom0 runs it from
	# the share, as it does the probe (checks acm-hvsec-*).
	cp "$BUILD/bin/hvsec" "$SH2/acm/hvsec"
	cp scripts/xen/dom0-init.sh scripts/xen/dom0-lib.sh scripts/xen/dom0-acm.sh "$SH2/"
	mkdir -p "$SH2/domU"
	{
		cat "$SH/domU/init.cpio"
		(cd "$g" && find bin modules -type f | cpio -o -H newc --quiet)
	} >"$SH2/domU/init.cpio"
	[ $MODE = real ] && cp "$BUILD/bin/hvsec-vtpm-backendd" "$BUILD/bin/hvsec-vtpmd-xen" "$SH2/bin/"
	sed 's/^MODE=.*/&\nXSM=acm/' "$SH/config" >"$SH2/config"

	stage "acm: boot: Xen hypervisor"
	T_BOOT=$(((${EPOCHREALTIME/./} - T0) / 1000000))
	qemu_boot "acm: " build/xen-acm/xen " xsm=acm" ",$SH2/acm/acm-tenants.bin" "$SH2" "$W/serial-acm.log"
	verdict acm- "$SH2" "$W/serial-acm.log"
	cat "$SH2/out/results" >>"$R2"
	want="acm-build acm-xen-tools acm-boot-policy acm-dom0-label acm-getenforce acm-list-dom0
		acm-unlabelled-refused acm-unlabelled-logged acm-backend-start acm-create-acme
		acm-acme1-tpm-device acm-acme1-getrandom acm-acme1-finished acm-list-acme
		acm-chwall-refused acm-chwall-logged acm-create-acme2 acm-create-initech
		acm-evtchn-deny acm-evtchn-deny-rev acm-evtchn-share acm-evtchn-dom0 acm-evtchn-to-dom0
		acm-gntcopy-deny acm-gntcopy-share acm-gntcopy-dom0 acm-guest-map-deny acm-guest-map-share
		acm-guest-map-dom0 acm-guest-evtchn-deny acm-guest-bind-share acm-guest-map-logged
		acm-ste-logged acm-c2s acm-c2s-bad
		acm-loadpolicy-break-refused acm-loadpolicy-break-logged acm-loadpolicy-garbage-refused
		acm-loadpolicy-garbage-logged acm-still-1.0 acm-loadpolicy-update acm-loadpolicy-update-logged
		acm-relabel-ok acm-relabel-label acm-relabel-refused acm-relabel-logged
		acm-update-label acm-list-after-update
		acm-hvsec-status acm-hvsec-mode acm-hvsec-record-refused acm-hvsec-record acm-hvsec-show
		acm-hvsec-explain acm-hvsec-list acm-hvsec-relabel-refused acm-hvsec-dryrun-break
		acm-hvsec-record-1.1 acm-hvsec-update acm-hvsec-update-logged acm-hvsec-show-1.2
		acm-hvsec-identity acm-loadpolicy-same-ids acm-hvsec-stale-identity
		acm-hvsec-stale-refuses acm-hvsec-record-1.3
		acm-destroy-acme1 acm-acme1-backend-closed
		acm-acme1-backend-removed acm-chwall-after-destroy acm-backend-alive
		acm-qemu acm-serial-clean acm-domU-consoles-clean"
	[ $MODE = real ] && want="$want acm-acme1-vtpmd-exited"

	# The third boot: the same Xen with a corrupted policy module, which
	# must leave it fail-closed until xl loadpolicy.
	local sh3=$W/share-acm-failclosed
	rm -rf "$sh3"
	mkdir -p "$sh3/out"
	cp -r "$SH2/acm" "$SH2/domU" "$SH2"/*.sh "$sh3/"
	sed 's/^XSM=acm$/&\nACM_CASE=failclosed/' "$SH2/config" >"$sh3/config"
	cp "$SH2/acm/acm-tenants.bin" "$sh3/acm/acm-tenants-corrupt.bin"
	printf '\377' | dd of="$sh3/acm/acm-tenants-corrupt.bin" bs=1 seek=200 conv=notrunc status=none
	stage "fail-closed: boot: Xen hypervisor"
	T_BOOT=$(((${EPOCHREALTIME/./} - T0) / 1000000))
	qemu_boot "fail-closed: " build/xen-acm/xen " xsm=acm" ",$sh3/acm/acm-tenants-corrupt.bin" "$sh3" "$W/serial-failclosed.log"
	verdict failclosed- "$sh3" "$W/serial-failclosed.log"
	cat "$sh3/out/results" >>"$R2"
	want="$want failclosed-xen-tools failclosed-no-policy failclosed-getenforce
		failclosed-dom0-unlabelled failclosed-unlabelled-refused failclosed-logged
		failclosed-labelled-refused failclosed-loadpolicy failclosed-loaded
		failclosed-dom0-labelled failclosed-create-after-load failclosed-hvsec-none
		failclosed-qemu failclosed-serial-clean failclosed-domU-consoles-clean"
	# shellcheck disable=SC2086 # a list of names
	missing "$R2" $want
}

stage "boot: Xen hypervisor"
T_BOOT=$(((${EPOCHREALTIME/./} - T0) / 1000000))
qemu_boot "" "$img/xen" "" "" "$SH" "$LOG"

# ------------------------------------------------------------------ verdict
R=$SH/out/results
verdict "" "$SH" "$LOG"
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
# shellcheck disable=SC2086 # a list of names
missing "$R" $want

# ------------------------------------------------------------------ acm
# The second boot: our Xen with xsm=acm.  Its results join the first's.
SH2=$W/share-acm
R2=$W/acm-results
if [ "${HVSEC_XEN_ACM:-1}" = 0 ]; then
	echo "acm-boot SKIP HVSEC_XEN_ACM=0: the xsm=acm boot was not run" >>"$R"
else
	acm_boot
	cat "$R2" >>"$R"
fi

# summary: the table of stage times and the results, "N passed, N failed" last.
summary() {
	echo "== test-xen stages (seconds since start; TCG, $(nproc) host cores)"
	printf '  %-36s %8s %8s\n' stage start took
	end=
	el end
	for i in "${!STAGES[@]}"; do
		n=${STAGES[i]%%|*}
		s=${STAGES[i]#*|}
		if [ $((i + 1)) -lt ${#STAGES[@]} ]; then nx=${STAGES[i + 1]#*|}; else nx=$end; fi
		[ $((i + 1)) -eq ${#STAGES[@]} ] && [ "$n" != "timed out" ] && continue
		printf '  %-36s %8s %8s\n' "$n" "$s" "$(awk -v a="$s" -v b="$nx" 'BEGIN { printf "%.1f", b - a }')"
	done
	printf '  %-36s %8s %8s\n' total "" "$end"
	echo
	echo "== test-xen results ($MODE backend; logs: $W, serial: $LOG)"
	pass=0
	fail=0
	skip=0
	while read -r n st detail; do
		[ -n "$n" ] || continue
		printf '  %-4s %-26s %s\n' "$st" "$n" "$detail"
		case $st in
		PASS) pass=$((pass + 1)) ;;
		SKIP) skip=$((skip + 1)) ;;
		*) fail=$((fail + 1)) ;;
		esac
	done <"$R"
	if [ $skip -gt 0 ]; then
		echo "$pass passed, $fail failed, $skip skipped"
	else
		echo "$pass passed, $fail failed"
	fi
}
echo
summary >"$W/summary.txt"
cat "$W/summary.txt"
tail -n 1 "$W/summary.txt" | grep -qE '^[1-9][0-9]* passed, 0 failed(, [0-9]+ skipped)?$'
