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

# shellcheck source=scripts/xen/dom0-lib.sh
. "$S/dom0-lib.sh" || { echo "@@hvsec fatal: no $S/dom0-lib.sh"; echo o >/proc/sysrq-trigger; }

stage dom0-init
# shellcheck disable=SC1091
. "$S/config" || fatal "no $S/config"
: "${MODE:=real}" "${UUID:?}" "${NONCE:?}" "${GUEST_WAIT:=180}" "${TPM_WAIT:=60}"

# Our Xen with xsm=acm (run.sh's second boot) has a driver of its own.
if [ "${XSM:-}" = acm ]; then
	exec bash "$S/dom0-acm.sh"
fi

dom0_setup
xen_tools_start dom0-xen-tools

# --------------------------------------------------------------- backend
backend_start backend-start

# --------------------------------------------------------------- guests
# Linux unpacks concatenated newc archives in order: base, then /init.
cat /var/lib/hvsec-guest/domU-base.cpio "$S/domU/init.cpio" >/tmp/initrd.cpio ||
	fatal "cannot assemble the guest initramfs"

# guest_boot N: one boot of the guest, its tests, xl destroy and checks.
guest_boot() {
	local b=$1 cfg=/tmp/guest.cfg t rc domid
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
	stage "domU$b-tests"
	t=$(now)
	relay_guest "domU$b-" "$name" "$domid" "$b"
	if [ "$RELAY_DONE" = 1 ]; then
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
	vtpm_teardown_checks "domU$b-" "$domid"
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
