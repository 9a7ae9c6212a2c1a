#!/usr/bin/env bash
# bench/hypervisor.sh - the hypervisor model against plain Linux, measured
# side by side in one run (bench/hypervisor_bench.c says what each number
# is).  Two daemons: one with the built-in DEFAULT policy, one with a
# 1000-label policy from genpolicy, so the hook's cost is measured with a
# small and a large policy.
#
# Output: human lines, then lines of exactly the form
#   VALUE <name> <value>      RATIO <name> <value>
# Environment: HVSEC_BUILD (build dir), BENCH_HV_N (hypercalls per loop,
# 20000), BENCH_HV_CYCLES (create+destroy per loop, 20).
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
build=${HVSEC_BUILD:-build}
bin=$build/bin
bench=$build/bench/bin/hypervisor_bench
genpolicy=$build/bench/bin/genpolicy
n=${BENCH_HV_N:-20000}
cycles=${BENCH_HV_CYCLES:-20}

for t in "$bin/hvsecd" "$bench" "$bin/hvsec-polc"; do
	[ -x "$t" ] || { echo "bench: $t is missing (make BUILD=$build bench-hypervisor)" >&2; exit 2; }
done
work=$(mktemp -d)
chmod 755 "$work"   # guests run as other uids
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# Everything on one CPU (the daemon, the guests it forks, their plain-Linux
# peers): on a virtual machine a wakeup across vCPUs can cost tens of
# microseconds when the other vCPU is halted, which would measure the host's
# scheduler, not the model.  BENCH_CPU picks the CPU (default: the last one
# we may use, as bench/run.sh does); BENCH_CPU=none disables pinning.
cpu=${BENCH_CPU:-$(awk '/^Cpus_allowed_list/ {print $2}' /proc/self/status |
	tr ',' '\n' | tail -n 1 | sed 's/.*-//')}
pin=()
[ "$cpu" != none ] && command -v taskset >/dev/null && pin=(taskset -c "$cpu")

start() { # run-dir, hvsecd args...
	local dir=$1; shift
	"${pin[@]}" "$bin/hvsecd" --run-dir "$dir" --uid-base $((2000000 + ($$ % 20000) * 32768)) "$@" \
		>"$work/hvsecd.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do [ -S "$dir/control" ] && return 0; sleep 0.05; done
	cat "$work/hvsecd.log" >&2; return 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }
key() { awk -v k="$2" '$1 == k {print $2; exit}' "$1"; }
div() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.4g", a / b; else print "nan"}'; }

echo "[bench] hypervisor model: $n hypercalls per loop, $cycles create+destroy per loop," \
	"pinned to cpu $cpu of $(nproc)"
start "$work/run1"
"${pin[@]}" "$bench" driver "$work/run1" "$n" "" "$cycles" >"$work/default.txt"
stop
cat "$work/default.txt" | sed 's/^/[default policy] /'

big=
if [ -x "$genpolicy" ]; then
	mkdir -p "$work/gen"
	"$genpolicy" 1000 12345 "$work/gen" 1 >/dev/null
	"$bin/hvsec-polc" compile --quiet "$work/gen/policy.xml" -o "$work/big.bin"
	start "$work/run2" --policy "$work/big.bin"
	"${pin[@]}" "$bench" driver "$work/run2" "$n" d1 "$cycles" >"$work/big.txt"
	stop
	sed 's/^/[1000-label policy] /' "$work/big.txt"
	big=1
fi

rtt=$(key "$work/default.txt" status_ns)
unix=$(key "$work/default.txt" unix_pingpong_ns)
send=$(key "$work/default.txt" send_mediated_ns)
ev=$(key "$work/default.txt" evtchn_oneway_ns)
efd=$(key "$work/default.txt" eventfd_oneway_ns)
cd_s=$(key "$work/default.txt" create_destroy_per_s)
echo
echo "hypercall round trip (EVTCHN_STATUS): $rtt ns vs SEQPACKET ping-pong $unix ns"
hook=$(key "$work/default.txt" hook_overhead_ns)
echo "hooked hypercall (mediated EVTCHN_SEND): $send ns; the hook + one eventfd write: $hook ns"
echo "event-channel notify, one way: $ev ns vs eventfd ping-pong $efd ns"
echo "domain create+destroy: $cd_s per second"
echo "VALUE hypercall_rtt_ns $rtt"
echo "VALUE unix_seqpacket_pingpong_ns $unix"
echo "RATIO hypercall_rtt_vs_unix_pingpong $(div "$rtt" "$unix")"
echo "VALUE hooked_hypercall_ns $send"
echo "VALUE hook_overhead_ns $hook"
echo "RATIO hooked_vs_unhooked_hypercall $(div "$send" "$rtt")"
echo "VALUE evtchn_notify_oneway_ns $ev"
echo "VALUE eventfd_oneway_ns $efd"
echo "RATIO evtchn_notify_vs_eventfd $(div "$ev" "$efd")"
echo "VALUE domain_create_destroy_per_s $cd_s"
if [ -n "$big" ]; then
	send2=$(key "$work/big.txt" send_mediated_ns)
	echo "VALUE hooked_hypercall_ns_policy1000 $send2"
	echo "VALUE hook_overhead_ns_policy1000 $(key "$work/big.txt" hook_overhead_ns)"
	echo "RATIO hooked_hypercall_policy1000_vs_default $(div "$send2" "$send")"
	echo "VALUE domain_create_destroy_per_s_policy1000 $(key "$work/big.txt" create_destroy_per_s)"
fi
