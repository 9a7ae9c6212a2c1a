# shellcheck shell=bash
# scripts/xen/dom0-lib.sh: what the two dom0 test drivers of `make test-xen`
# share (dom0-init.sh: Debian's Xen and the vTPM; dom0-acm.sh: our Xen with
# xsm=acm).  Sourced, never run; expects S (the share) and O (its out/).
#
#   stage NAME / result NAME PASS|FAIL DETAIL / check NAME DETAIL CMD...
#   now / since T         dom0 uptime, seconds since T
#   poweroff_now / fatal  end the run (fatal records why first)
#   dom0_setup            mounts and Xen kernel modules
#   xen_tools_start NAME  /etc/init.d/xen start, result NAME
#   backend_start NAME    our vTPM backend (or MODE=standin's shell loop);
#                         sets BE_PID
#   relay_guest PREFIX GUEST DOMID KEY
#                         relays the guest's "@@hvsec result" lines as
#                         results PREFIX<name> until its "domU done" (sets
#                         RELAY_DONE=1) or GUEST_WAIT s; "@@hvsec value"
#                         lines go to out/values as "KEY name value"
#   vtpm_teardown_checks PREFIX DOMID
#                         after xl destroy: the backend wrote Closed, its
#                         XenStore directory is gone, its vtpmd exited

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

dom0_setup() {
	local m
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
}

xen_tools_start() {
	local t
	stage xen-tools
	t=$(now)
	cat >>/etc/default/xen <<'EOF'
XENCONSOLED_ARGS="--log=guest --log-dir=/var/log/xen/console"
EOF
	/etc/init.d/xen start >"$O/xen-start.log" 2>&1
	xl info >"$O/xl-info.txt" 2>&1 || fatal "xl info failed after /etc/init.d/xen start (see out/xen-start.log)"
	result "$1" PASS "xenstored+xenconsoled up in $(since "$t")s, $(grep -m1 xen_version "$O/xl-info.txt" | tr -s ' ')"
}

backend_start() {
	local name=$1 missing b libs
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
			result "$name" PASS "hvsec-vtpm-backendd pid $BE_PID"
		else
			wait "$BE_PID"
			result "$name" FAIL "hvsec-vtpm-backendd exited with $? at start: $(tail -c 300 "$O/backendd.stdout" | tr '\n' ' ')"
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
		result "$name" PASS "shell stand-in (MODE=standin), pid $BE_PID"
	fi
}

# Process creation is slow in a PV dom0 under TCG (and takes CPU from the
# guest), so the loop reads the log on one descriptor with bash builtins
# and spawns only sleep.
relay_guest() {
	local prefix=$1 name=$2 domid=$3 key=$4
	local clog=/var/log/xen/console/guest-$name.log
	local up start part='' l i=0 open=0 rn rs rd
	RELAY_DONE=0
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
				read -r rn rs rd <<<"${l#@@hvsec result }"
				result "$prefix$rn" "$rs" "$rd"
				;;
			"@@hvsec value "*) echo "$key ${l#@@hvsec value }" >>"$O/values" ;;
			"@@hvsec domU done"*) RELAY_DONE=1 ;;
			"@@hvsec "*) echo "@@hvsec ${prefix%-} ${l#@@hvsec }" ;;
			esac
		done
		[ $RELAY_DONE = 1 ] && break
		i=$((i + 1))
		if [ $((i % 5)) = 0 ] && ! xenstore-exists "/local/domain/$domid" 2>/dev/null; then
			break
		fi
		sleep 1
	done
	[ $open = 1 ] && exec 5<&-
	tr -d '\r' <"$clog" >"$O/${prefix}console.log" 2>/dev/null
}

vtpm_teardown_checks() {
	local prefix=$1 domid=$2 gone=0 procs i
	# The backend must have answered the toolstack's Closing with Closed,
	# its directory must be gone and its per-device process must have ended.
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
		result "${prefix}backend-closed" PASS "the backend wrote backend/vtpm/$domid/0/state = 6 (Closed)"
	else
		result "${prefix}backend-closed" FAIL "the backend never wrote state 6 (Closed); XenStore ops on the device (connection, op, path, value): $(grep -E "(write|rm) +/local/domain/0/backend/vtpm/$domid/0(/state)? " "$alog" 2>/dev/null |
			awk '{print $2, $3, $4, $5}' | tail -n 6 | tr '\n' ';')"
	fi
	check "${prefix}backend-removed" "backend/vtpm/$domid gone from XenStore" [ $gone = 1 ]
	if [ "$MODE" = real ]; then
		for i in $(seq 1 20); do
			procs=$(pgrep -a -f "hvsec-vtpmd-xen .*--frontend-id $domid( |$)" || true)
			[ -z "$procs" ] && break
			sleep 0.25
		done
		check "${prefix}vtpmd-exited" "no hvsec-vtpmd-xen left for domain $domid${procs:+: $procs}" [ -z "$procs" ]
	fi
}
