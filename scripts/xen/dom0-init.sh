#!/bin/bash
# scripts/xen/dom0-init.sh: the dom0 test driver of `make test-xen`.  The
# dom0 image's PID 1 stub (/sbin/hvsec-init, see build-image.sh) mounts the
# 9p share and execs this copy from it, so editing this file never forces an
# image rebuild.
#
# From /share it reads: config (NONCE, UUID, MODE=real|standin, timeouts),
# bin/ (hvsec-vtpm-backendd, hvsec-vtpmd-xen), domU/init.cpio (the guest's
# /init, appended to the image's /var/lib/hvsec-guest/domU-base.cpio).
# It writes to /share/out: results (one "NAME PASS|FAIL detail" per line),
# logs of every step, and done (last).  On the console (Xen's serial line)
# it prints "@@hvsec stage NAME" when a stage starts and every result, which
# run.sh times and shows as progress.
#
# Sequence: mounts and Xen modules, /etc/init.d/xen start (oxenstored,
# xenconsoled with guest logs), our vTPM backend (or in MODE=standin a shell
# loop that only acknowledges InitWait/Closed), then the same PV guest twice
# with vtpm=["backend=0,uuid=UUID"]: xl create, wait for the guest's
# "done" line, xl destroy, check the teardown.  Finally it compares what the
# two boots saw (EK, NV, PCR) and powers the machine off.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C
S=/share
O=$S/out
mkdir -p "$O"
: >"$O/results"

stage() { echo "@@hvsec stage $1"; }
# result NAME PASS|FAIL [detail]
result() {
	local name=$1 st=$2
	shift 2
	echo "$name $st $*" >>"$O/results"
	echo "@@hvsec result $name $st $*"
}
check() { # check NAME DETAIL CMD...: PASS when CMD succeeds
	local name=$1 detail=$2
	shift 2
	if "$@"; then result "$name" PASS "$detail"; else result "$name" FAIL "$detail"; fi
}
now() { cut -d' ' -f1 /proc/uptime; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
poweroff_now() {
	sync
	echo "@@hvsec dom0 poweroff"
	echo o >/proc/sysrq-trigger
	sleep 30
}
fatal() {
	echo "@@hvsec fatal $*"
	result dom0-fatal FAIL "$*"
	echo "fatal: $*" >"$O/done"
	poweroff_now
}

stage dom0-init
# shellcheck disable=SC1091
. "$S/config" || fatal "no $S/config"
: "${MODE:=real}" "${UUID:?}" "${NONCE:?}" "${GUEST_WAIT:=180}" "${TPM_WAIT:=60}"

mount -t devpts devpts /dev/pts 2>/dev/null || { mkdir -p /dev/pts && mount -t devpts devpts /dev/pts; }
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mkdir -p /run/lock /var/log/xen/console
hostname dom0
ln -sf /proc/self/fd /dev/fd 2>/dev/null
echo 1 >/proc/sys/kernel/sysrq
for m in virtio_rng xenfs xen-evtchn xen-gntdev xen-gntalloc xen-privcmd; do
	modprobe "$m" 2>>"$O/modprobe.log" || echo "modprobe $m failed" >>"$O/modprobe.log"
done
mountpoint -q /proc/xen || mount -t xenfs xenfs /proc/xen

stage xen-tools
t=$(now)
cat >>/etc/default/xen <<'EOF'
XENCONSOLED_ARGS="--log=guest --log-dir=/var/log/xen/console"
EOF
/etc/init.d/xen start >"$O/xen-start.log" 2>&1
xl info >"$O/xl-info.txt" 2>&1 || fatal "xl info failed after /etc/init.d/xen start (see out/xen-start.log)"
result dom0-xen-tools PASS "xenstored+xenconsoled up in $(since "$t")s, $(grep -m1 xen_version "$O/xl-info.txt" | tr -s ' ')"

# --------------------------------------------------------------- backend
stage backend-start
BE_PID=
mkdir -p /var/lib/hvsec-vtpm
xenstore-watch /local/domain/0/backend/vtpm 2>/dev/null | while IFS= read -r p; do
	case $p in
	*/state) echo "$(now) $p = $(xenstore-read "$p" 2>/dev/null || echo '(removed)')" ;;
	*/backend/vtpm/*/*) xenstore-exists "$p" 2>/dev/null || echo "$(now) $p (removed)" ;;
	esac
done >>"$O/xs-trace.log" &
if [ "$MODE" = real ]; then
	missing=
	for b in hvsec-vtpm-backendd hvsec-vtpmd-xen; do
		if [ -x "$S/bin/$b" ]; then cp "$S/bin/$b" /usr/local/bin/; else missing="$missing $b"; fi
	done
	[ -z "$missing" ] || fatal "not in the share's bin/:$missing"
	libs=$(ldd /usr/local/bin/hvsec-vtpm-backendd /usr/local/bin/hvsec-vtpmd-xen 2>&1 | grep 'not found' | sort -u | tr -s ' \t' ' ')
	[ -z "$libs" ] || fatal "libraries missing in dom0 for our binaries:$libs"
	hvsec-vtpm-backendd --state-root /var/lib/hvsec-vtpm --log "$O/backendd.log" \
		>"$O/backendd.stdout" 2>&1 &
	BE_PID=$!
	sleep 1
	if kill -0 "$BE_PID" 2>/dev/null; then
		result backend-start PASS "hvsec-vtpm-backendd pid $BE_PID"
	else
		wait "$BE_PID"
		result backend-start FAIL "hvsec-vtpm-backendd exited with $? at start: $(tail -c 300 "$O/backendd.stdout" | tr '\n' ' ')"
	fi
else
	# Development stand-in: acknowledges a new device with InitWait and a
	# toolstack Closing with Closed; no ring, so the guest gets no TPM.
	(
		while :; do
			for g in $(xenstore-list /local/domain/0/backend/vtpm 2>/dev/null); do
				for d in $(xenstore-list "/local/domain/0/backend/vtpm/$g" 2>/dev/null); do
					p=/local/domain/0/backend/vtpm/$g/$d
					case $(xenstore-read "$p/state" 2>/dev/null) in
					1) xenstore-write "$p/feature-protocol-v2" 1 "$p/state" 2 ;;
					5) xenstore-write "$p/state" 6 ;;
					esac
				done
			done
			sleep 0.5
		done
	) >"$O/backendd.log" 2>&1 &
	BE_PID=$!
	result backend-start PASS "shell stand-in (MODE=standin), pid $BE_PID"
fi

# --------------------------------------------------------------- guests
# Linux unpacks concatenated newc archives in order: base, then /init.
cat /var/lib/hvsec-guest/domU-base.cpio "$S/domU/init.cpio" >/tmp/initrd.cpio ||
	fatal "cannot assemble the guest initramfs"

# guest_boot N: one boot of the guest, its tests, xl destroy and checks.
guest_boot() {
	local b=$1 cfg=/tmp/guest.cfg t rc domid clog
	local name=hvsec-guest
	cat >"$cfg" <<EOF
name = "$name"
type = "pv"
kernel = "/var/lib/hvsec-guest/vmlinux"
ramdisk = "/tmp/initrd.cpio"
extra = "console=hvc0 rdinit=/init quiet hvsec_boot=$b hvsec_nonce=$NONCE hvsec_tpm_wait=$TPM_WAIT"
memory = 256
vcpus = 1
on_crash = "preserve"
vtpm = ["backend=0,uuid=$UUID"]
EOF
	stage "domU$b-create"
	t=$(now)
	rm -f "/var/log/xen/console/guest-$name.log"
	xl -v create "$cfg" >"$O/xl-create-$b.log" 2>&1
	rc=$?
	domid=$(xl domid "$name" 2>/dev/null)
	if [ $rc -ne 0 ] || [ -z "$domid" ]; then
		result "domU$b-create" FAIL "xl create rc=$rc after $(since "$t")s: $(grep -iE 'error|fail' "$O/xl-create-$b.log" | tail -n 3 | tr '\n' ' ')"
		return 1
	fi
	result "domU$b-create" PASS "domid $domid, xl create took $(since "$t")s"
	xenstore-ls -f "/local/domain/0/backend/vtpm/$domid" >"$O/xs-backend-$b.txt" 2>&1

	# Relay the guest's @@hvsec lines as they come; stop at its "done".
	# Process creation is slow in a PV dom0 under TCG (and takes CPU from
	# the guest), so the loop reads the log on one descriptor with bash
	# builtins and spawns only sleep.
	stage "domU$b-tests"
	t=$(now)
	clog=/var/log/xen/console/guest-$name.log
	local up start done=0 part='' l i=0 open=0
	read -r up _ </proc/uptime
	start=${up%.*}
	while :; do
		read -r up _ </proc/uptime
		[ $((${up%.*} - start)) -lt "$GUEST_WAIT" ] || break
		if [ $open = 0 ] && [ -f "$clog" ]; then
			exec 5<"$clog"
			open=1
		fi
		while [ $open = 1 ] && { IFS= read -r l <&5 || { part="$part$l"; false; }; }; do
			l="$part$l"
			part=
			l=${l//$'\r'/}
			case $l in
			"@@hvsec result "*)
				local rn rs rd
				read -r rn rs rd <<<"${l#@@hvsec result }"
				result "domU$b-$rn" "$rs" "$rd"
				;;
			"@@hvsec value "*) echo "$b ${l#@@hvsec value }" >>"$O/values" ;;
			"@@hvsec domU done"*) done=1 ;;
			"@@hvsec "*) echo "@@hvsec domU$b ${l#@@hvsec }" ;;
			esac
		done
		[ $done = 1 ] && break
		i=$((i + 1))
		if [ $((i % 5)) = 0 ] && ! xenstore-exists "/local/domain/$domid" 2>/dev/null; then
			break
		fi
		sleep 1
	done
	[ $open = 1 ] && exec 5<&-
	tr -d '\r' <"$clog" >"$O/domU$b-console.log" 2>/dev/null
	if [ $done = 1 ]; then
		result "domU$b-tests-finished" PASS "guest ran its tests in $(since "$t")s"
	else
		result "domU$b-tests-finished" FAIL "no 'domU done' from the guest within ${GUEST_WAIT}s (state: $(xl list "$name" 2>&1 | tail -n 1 | tr -s ' '))"
	fi
	xenstore-ls -f "/local/domain/$domid/device/vtpm" >"$O/xs-frontend-$b.txt" 2>&1
	xenstore-ls -f "/local/domain/0/backend/vtpm/$domid" >>"$O/xs-backend-$b.txt" 2>&1

	stage "domU$b-destroy"
	t=$(now)
	xl -v destroy "$name" >"$O/xl-destroy-$b.log" 2>&1
	rc=$?
	local took
	took=$(since "$t")
	if [ $rc -eq 0 ] && ! grep -qi 'unable to remove' "$O/xl-destroy-$b.log"; then
		result "domU$b-destroy" PASS "xl destroy rc=0 in ${took}s, no 'unable to remove device'"
	else
		result "domU$b-destroy" FAIL "xl destroy rc=$rc in ${took}s: $(grep -iE 'unable|error|fail' "$O/xl-destroy-$b.log" | head -n 3 | tr '\n' ' ')"
	fi
	# The backend must have answered the toolstack's Closing with Closed,
	# its directory must be gone and its per-device process must have ended.
	local gone=0 procs
	for i in $(seq 1 40); do
		if ! xenstore-exists "/local/domain/0/backend/vtpm/$domid" 2>/dev/null; then
			gone=1
			break
		fi
		sleep 0.25
	done
	sleep 0.5
	# oxenstored's access log has every write with its connection: the
	# backend must have written Closed itself (libxl writes Closing and
	# waits for Closed; a backend that removes the directory instead makes
	# libxl report "unable to remove device").  The watcher's trace is
	# racy (it reads each value after the event) and only a fallback.
	local alog=/var/log/xen/xenstored-access.log
	if grep -qE "write +/local/domain/0/backend/vtpm/$domid/0/state 6\b" "$alog" 2>/dev/null ||
		grep -q "/backend/vtpm/$domid/0/state = 6" "$O/xs-trace.log"; then
		result "domU$b-backend-closed" PASS "the backend wrote backend/vtpm/$domid/0/state = 6 (Closed)"
	else
		result "domU$b-backend-closed" FAIL "the backend never wrote state 6 (Closed); XenStore ops on the device (connection, op, path, value): $(grep -E "(write|rm) +/local/domain/0/backend/vtpm/$domid/0(/state)? " "$alog" 2>/dev/null |
			awk '{print $2, $3, $4, $5}' | tail -n 6 | tr '\n' ';')"
	fi
	check "domU$b-backend-removed" "backend/vtpm/$domid gone from XenStore" [ $gone = 1 ]
	if [ "$MODE" = real ]; then
		for i in $(seq 1 20); do
			procs=$(pgrep -a -f "hvsec-vtpmd-xen .*--frontend-id $domid( |$)" || true)
			[ -z "$procs" ] && break
			sleep 0.25
		done
		check "domU$b-vtpmd-exited" "no hvsec-vtpmd-xen left for domain $domid${procs:+: $procs}" [ -z "$procs" ]
	fi
}

guest_boot 1
guest_boot 2

# --------------------------------------------------------------- across boots
stage checks
v1=$(awk '$1 == 1 && $2 == "ek-sha256" {print $3}' "$O/values" 2>/dev/null)
v2=$(awk '$1 == 2 && $2 == "ek-sha256" {print $3}' "$O/values" 2>/dev/null)
if [ -n "$v1" ] && [ "$v1" = "$v2" ]; then
	result persist-ek PASS "same EK public key on both boots (${v1:0:16}...)"
else
	result persist-ek FAIL "EK differs or missing: boot1=${v1:-none} boot2=${v2:-none}"
fi
if [ -n "$BE_PID" ]; then
	check backend-alive "the backend served both boots and is still running" kill -0 "$BE_PID"
	kill "$BE_PID" 2>/dev/null
	for i in $(seq 1 20); do kill -0 "$BE_PID" 2>/dev/null || break; sleep 0.25; done
	if [ "$MODE" = real ]; then
		if kill -0 "$BE_PID" 2>/dev/null; then
			result backend-stop FAIL "hvsec-vtpm-backendd still running 5 s after SIGTERM"
		else
			wait "$BE_PID"
			rc=$?
			check backend-stop "hvsec-vtpm-backendd exited with status $rc on SIGTERM (0 wanted)" [ $rc -eq 0 ]
		fi
	fi
fi
grep -hiE 'unable to remove device' /var/log/xen/*.log >"$O/xl-log-unable.txt" 2>/dev/null
check xl-logs-clean "no 'unable to remove device' in /var/log/xen/*.log" [ ! -s "$O/xl-log-unable.txt" ]
cp /var/log/xen/*.log "$O/" 2>/dev/null
ls -laR /var/lib/hvsec-vtpm >"$O/state-root.txt" 2>&1
ps -eo pid,args >"$O/ps-end.txt"
stage dom0-done
echo complete >"$O/done"
poweroff_now
