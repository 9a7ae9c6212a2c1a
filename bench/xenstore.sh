#!/usr/bin/env bash
# bench/xenstore.sh: XenStore operations per second through Debian's real
# libxenstore against hvsec-xenstored (`make bench-xenstore`).
#
# For each operation (read, write, directory, txn, watch) and each client
# count (XS_BENCH_CLIENTS, default "1 4"), xenstore_bench runs a warm-up
# and three timed rounds of XS_BENCH_SECONDS (default 1) and reports the
# median rate.
#
# The server is pinned to one CPU (BENCH_CPU, default the last one we may
# use), and so is a single client: one client is a ping-pong of round
# trips, and across two CPUs it measures how fast an idle CPU wakes up
# (here 8x slower than on one CPU, and varying run to run) rather than the
# server.  Several clients run unpinned, beside the server.
#
# The peer: Debian's own servers (xen-utils-4.17: cxenstored, oxenstored)
# do not run outside a Xen host: cxenstored needs /dev/xen/evtchn and
# privcmd, and with --no-domain-init it crashes on the first request;
# oxenstored needs the event channel device too, and raises RLIMIT_NOFILE
# past what an unprivileged container allows.  So by default only our
# absolute VALUEs are printed.  On a host where a real xenstored runs,
# point XS_PEER_SOCKET at its socket (e.g. /var/run/xenstored/socket) and
# the same workload runs against it, and a RATIO (ours / peer) follows
# each VALUE.  The benchmark writes only below /bench.
#
# Output: human lines, then lines of exactly the form
#   VALUE xenstore_<op>_c<clients> <ops per second>
#   RATIO xenstore_<op>_c<clients> <ours / peer>        (with a peer)
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."

build=${HVSEC_BUILD:-build}
xsd=${XSD:-$build/bin/hvsec-xenstored}
bench=${XS_BENCH:-$build/bench/bin/xenstore_bench}
secs=${XS_BENCH_SECONDS:-1}
clients=${XS_BENCH_CLIENTS:-1 4}
ops=${XS_BENCH_OPS:-read write directory txn watch}
peer=${XS_PEER_SOCKET:-}

for tool in "$xsd" "$bench"; do
	[ -x "$tool" ] || { echo "bench: $tool is missing (make bench-xenstore)" >&2; exit 2; }
done

cpu=${BENCH_CPU:-$(awk '/^Cpus_allowed_list/ {print $2}' /proc/self/status |
	tr ',' '\n' | tail -n 1 | sed 's/.*-//')}
pin=()
command -v taskset >/dev/null && pin=(taskset -c "$cpu")

work=$(mktemp -d)
pidfile=$work/pid
cleanup() {
	[ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
"${pin[@]}" "$xsd" --socket "$work/xenstored" --pid-file "$pidfile" --quota nodes=0

run() { # socket op clients -> rate
	local p=()
	[ "$3" = 1 ] && p=("${pin[@]}")
	XENSTORED_PATH=$1 "${p[@]}" "$bench" "$2" "$secs" "$3" | awk '{print $3}'
}

declare -A ours theirs
echo "XenStore through libxenstore: hvsec-xenstored${peer:+ vs the server at $peer}"
echo "($secs s rounds, median of 3; $(nproc) CPUs; server${pin:+ and single clients} on CPU $cpu)"
for op in $ops; do
	for c in $clients; do
		ours[$op.$c]=$(run "$work/xenstored" "$op" "$c")
		line=$(printf '  %-10s %2d client(s)  %10.0f ops/s' "$op" "$c" "${ours[$op.$c]}")
		if [ -n "$peer" ]; then
			theirs[$op.$c]=$(run "$peer" "$op" "$c")
			line+=$(printf '   peer %10.0f ops/s' "${theirs[$op.$c]}")
		fi
		echo "$line"
	done
done
[ -z "$peer" ] && echo "  (no peer: set XS_PEER_SOCKET to a running xenstored's socket; see the top of this script)"
for op in $ops; do
	for c in $clients; do
		echo "VALUE xenstore_${op}_c$c ${ours[$op.$c]}"
		if [ -n "$peer" ]; then
			awk -v a="${ours[$op.$c]}" -v b="${theirs[$op.$c]}" -v n="xenstore_${op}_c$c" \
				'BEGIN {if (b > 0) printf "RATIO %s %.3g\n", n, a / b}'
		fi
	done
done
