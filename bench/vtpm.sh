#!/usr/bin/env bash
# bench/vtpm.sh - vTPM commands per second through the full ring path,
# against libtpms called in-process and swtpm over one persistent socket,
# measured side by side in one run, with the two ends on one CPU and on
# two (bench/README.md, "vTPM").
#
# The ring path: a guest (bench/vtpm_guest.c) created by `hvsec create`
# with vtpm = ['backend=0'] connects its vTPM with libvtpmfront and sends
# GetRandom(32) and PCR_Extend(sha256, password session) through the
# shared page and the event channel to its stub domain (hvsec-vtpmd,
# libtpms).  The guest is created paused, it and the stub domain are
# pinned with taskset, then it is unpaused.  The peers (bench/vtpm_bench.c)
# send byte-identical commands: in-process to libtpms (the TPM's own cost,
# the client's CPU), and to `swtpm socket` over one connection (client on
# the guest's CPU, swtpm on the stub domain's).
#
# Each run measures ring, in-process, swtpm back to back for one placement;
# every ratio is the median over runs of the ratio within a run, so a noisy
# neighbour slows both sides of a ratio.
#
# Output: human lines, then lines of exactly the form
#   RATIO <name> <value>      VALUE <name> <value>
# Targets (>= 0.5x in-process libtpms, >= 3x swtpm) print PASS or MISS and
# never fail the run; a failing TPM or ring does (status 1).
#
# Before each run it waits for the machine to be quiet: less than
# BENCH_VTPM_QUIET_PCT (25) % busy over half a second, with at most
# BENCH_VTPM_QUIET_WAIT (60) seconds of waiting in the whole benchmark.  Spinning on a CPU that another job also wants measures
# the scheduler, not the ring.
#
# Environment: HVSEC_BUILD (build dir), BENCH_VTPM_RUNS (3),
# BENCH_VTPM_LOOPS (5) and BENCH_VTPM_LOOP_MS (200) per measurement,
# BENCH_VTPM_CPUS ("A B": guest/client CPU and the other one; default the
# first two we may use), BENCH_VTPM_PLACEMENTS ("same cross"),
# BENCH_VTPM_SPIN ("": extra ring runs with hvsec-vtpmd --spin-us V for
# each V listed, reported as VALUE lines only).
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
src=$PWD
build=${HVSEC_BUILD:-build}
bin=$build/bin
bbin=$build/bench/bin
runs=${BENCH_VTPM_RUNS:-3}
loops=${BENCH_VTPM_LOOPS:-5}
loop_ms=${BENCH_VTPM_LOOP_MS:-200}
placements=${BENCH_VTPM_PLACEMENTS:-same cross}
spins=${BENCH_VTPM_SPIN:-}
quiet_wait=${BENCH_VTPM_QUIET_WAIT:-60}
quiet_pct=${BENCH_VTPM_QUIET_PCT:-25}

target_inproc=0.5 # ring ops/s over in-process libtpms ops/s, at least
target_swtpm=3    # ring ops/s over swtpm ops/s, at least

vb=$bbin/vtpm_bench
guest=$bbin/vtpm_guest
for t in "$vb"; do
	[ -x "$t" ] || { echo "bench: $t is missing (make BUILD=$build bench-vtpm)" >&2; exit 2; }
done
for t in swtpm swtpm_ioctl taskset; do
	command -v $t >/dev/null || { echo "bench: $t is missing (bash scripts/deps.sh bench)" >&2; exit 2; }
done
ring=1
for t in "$bin/hvsecd" "$bin/hvsec" "$bin/hvsec-vtpmd" "$guest"; do
	[ -x "$t" ] || { ring=; echo "[bench] vtpm: $t is not built: measuring the peers only"; }
done

# CPUs: the first two we may use, unless told.
allowed=$(awk '/^Cpus_allowed_list/ {print $2}' /proc/self/status | tr ',' '\n' |
	awk -F- '{e = NF > 1 ? $2 : $1; for (i = $1; i <= e; i++) print i}')
read -r cpu_a cpu_b <<<"${BENCH_VTPM_CPUS:-$(echo $allowed | awk '{print $1, $2}')}"
if [ -z "${cpu_b:-}" ]; then
	echo "[bench] vtpm: only cpu $cpu_a is usable: no cross-CPU placement"
	placements=${placements//cross/}
fi

work=$(mktemp -d)
chmod 755 "$work" # guests run as other uids
hvpid= swpid=
cleanup() {
	[ -n "$swpid" ] && kill "$swpid" 2>/dev/null
	[ -n "$hvpid" ] && kill "$hvpid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

key() { awk -v k="$2" '$1 == k {print $2; exit}' "$1"; }
median() { sort -g | awk '{v[NR] = $1} END {
	if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2];
	else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.4g", a / b; else print "nan"}'; }
fmt() { awk -v a="$1" 'BEGIN {printf "%.3g", a}'; }
# A number, not "nan" or empty (awks disagree on what "nan" + 0 is).
isnum='function isnum(x) { return x ~ /^[-+]?[0-9]*[.]?[0-9]+([eE][-+]?[0-9]+)?$/ }'
kops() { awk -v a="$1" "$isnum"'BEGIN {if (isnum(a)) printf "%.1fk/s", a / 1e3; else print "n/a"}'; }
us() { awk -v a="$1" "$isnum"'BEGIN {if (isnum(a)) printf "%.2f us", a / 1e3; else print "n/a"}'; }
verdict() { awk -v v="$1" -v t="$2" "$isnum"'BEGIN {print (isnum(v) && v >= t) ? "PASS" : "MISS"}'; }
cpustat() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8}' /proc/stat; }
busy_since() { read -r b0 t0 <<<"$1"; read -r b1 t1 <<<"$(cpustat)"
	awk -v b="$((b1 - b0))" -v t="$((t1 - t0))" 'BEGIN {printf "%.0f%%", t ? 100 * b / t : 0}'; }

# wait_quiet: until the machine is less than quiet_pct % busy, within a
# budget of quiet_wait seconds for the whole benchmark.
quiet_left=$quiet_wait
wait_quiet() {
	local s b
	while :; do
		s=$(cpustat); sleep 0.5; b=$(busy_since "$s"); b=${b%\%}
		[ "$b" -lt "$quiet_pct" ] && return 0
		if [ "$quiet_left" -le 0 ]; then
			echo "[bench] vtpm: machine ${b}% busy and no more waiting: measuring anyway (expect noise)"
			noisy=1
			return 0
		fi
		[ "$quiet_left" = "$quiet_wait" ] && echo "[bench] vtpm: machine ${b}% busy: waiting (${quiet_wait}s at most in all)"
		sleep 0.5
		quiet_left=$((quiet_left - 1))
	done
}
noisy=

# ------------------------------------------------------------ hvsecd
run=$work/run
hv() { timeout 30 "$bin/hvsec" --run-dir "$run" "$@"; }
start_hvsecd() {
	local base=$((3000000 + ($$ % 20000) * 32768))
	for try in 1 2 3 4; do
		rm -rf "$run"
		"$bin/hvsecd" --run-dir "$run" --uid-base "$base" >"$work/hvsecd.log" 2>&1 &
		hvpid=$!
		for _ in $(seq 100); do
			[ -S "$run/control" ] && hv stats >/dev/null 2>&1 && return 0
			kill -0 "$hvpid" 2>/dev/null || break
			sleep 0.05
		done
		kill "$hvpid" 2>/dev/null; wait "$hvpid" 2>/dev/null || true; hvpid=
		grep -q 'another hvsecd uses guest uids' "$work/hvsecd.log" || break
		base=$(((base + 7 * 32768 * try) % 900000000 + 1000000))
	done
	echo "bench: hvsecd did not start:" >&2; cat "$work/hvsecd.log" >&2
	return 1
}

abs() { case $1 in /*) echo "$1" ;; *) echo "$src/$1" ;; esac; }
# The pid of a domain, from `hvsec list --json`.
pid_of() {
	hv list --json "$1" | tr -d ' \n' | sed -n 's/.*"pid":\([0-9]*\).*/\1/p'
}
# pin_tree PID CPU: every thread of PID and of its descendants.
pin_tree() {
	local p
	taskset -a -p -c "$2" "$1" >/dev/null
	for p in $(cat /proc/"$1"/task/*/children 2>/dev/null); do pin_tree "$p" "$2"; done
}

# ring_run OUT GUEST_CPU STUB_CPU [SPIN_US]: one guest, its results in OUT.
ring_seq=0
ring_run() {
	local out=$1 cg=$2 cs=$3 spin=${4:-} name gpid spid cfg vtpmd=
	ring_seq=$((ring_seq + 1))
	name=vtpmbench$ring_seq cfg=$work/$name.cfg
	if [ -n "$spin" ]; then
		vtpmd=$work/vtpmd-spin$spin
		printf '#!/bin/sh\nexec %q --spin-us %q "$@"\n' "$(abs "$bin/hvsec-vtpmd")" "$spin" >"$vtpmd"
		chmod 755 "$vtpmd"
	fi
	{
		printf 'name = "%s"\n' "$name"
		printf 'kernel = "%s"\n' "$(abs "$guest")"
		printf 'extra = "0 %s %s"\n' "$loops" "$loop_ms"
		printf "vtpm = ['backend=0']\n"
	} >"$cfg"
	if ! HVSEC_VTPMD=$vtpmd hv create "$cfg" --paused >"$out.create" 2>&1; then
		echo "bench: hvsec create failed:" >&2; cat "$out.create" >&2; return 1
	fi
	gpid=$(pid_of "$name") spid=$(pid_of "$name-vtpm0")
	if [ -z "$gpid" ] || [ -z "$spid" ] || [ "$gpid" = 0 ] || [ "$spid" = 0 ]; then
		echo "bench: no pid for $name ($gpid) or $name-vtpm0 ($spid)" >&2; return 1
	fi
	pin_tree "$spid" "$cs"
	pin_tree "$gpid" "$cg"
	hv unpause "$name" >/dev/null
	# Each command: a warm-up of loop_ms/4, the loops, a latency pass.
	# Sleep through most of it rather than poll the console meanwhile.
	sleep "$(awk -v l="$loops" -v m="$loop_ms" 'BEGIN {printf "%.2f", 2 * (l + 1.25) * m / 1000 * 0.9}')"
	for _ in $(seq 600); do
		hv console "$name" >"$out" 2>&1 || true
		grep -Eq 'RESULT (done|error)' "$out" && break
		sleep 0.1
	done
	# The stub's counters come when the guest has closed the ring.
	for _ in $(seq 20); do
		hv console "$name-vtpm0" >"$out.stub" 2>&1 || true
		grep -q 'disconnected from domain' "$out.stub" && break
		sleep 0.05
	done
	hv destroy "$name" >/dev/null 2>&1 || true
	if ! grep -q 'RESULT done' "$out"; then
		echo "bench: the ring guest failed:" >&2
		tail -n 20 "$out" "$out.stub" >&2
		return 1
	fi
	sed -i -n 's/^RESULT //p' "$out"
}

# swtpm_run OUT CLIENT_CPU SERVER_CPU
swtpm_run() {
	local out=$1 cc=$2 cs=$3 st=$work/swtpm-state sock=$work/swtpm.sock ctrl=$work/swtpm.ctrl
	rm -rf "$st" "$sock" "$ctrl"
	mkdir -p "$st"
	taskset -c "$cs" swtpm socket --tpm2 --server type=unixio,path="$sock" \
		--ctrl type=unixio,path="$ctrl" --flags not-need-init,startup-clear \
		--tpmstate dir="$st" >"$work/swtpm.log" 2>&1 &
	swpid=$!
	for _ in $(seq 200); do [ -S "$sock" ] && break; sleep 0.02; done
	local rc=0
	taskset -c "$cc" "$vb" swtpm "$sock" "$loops" "$loop_ms" >"$out" || rc=1
	swtpm_ioctl --unix "$ctrl" -s >/dev/null 2>&1 || kill "$swpid" 2>/dev/null
	wait "$swpid" 2>/dev/null || true
	swpid=
	[ "$rc" = 0 ] || { echo "bench: swtpm peer failed" >&2; cat "$work/swtpm.log" >&2; }
	return "$rc"
}

# ------------------------------------------------------------ the runs
started=$EPOCHREALTIME
stat0=$(cpustat)
echo "[bench] vtpm: GetRandom(32) and PCR_Extend(sha256) per second; $runs runs of" \
	"ring, in-process libtpms, swtpm; $loops loops of $loop_ms ms each; cpus $cpu_a ${cpu_b:-}"
[ -n "$ring" ] && start_hvsecd
failed=0
out_lines=()
emit() { out_lines+=("$*"); echo "$*"; }

for pl in $placements; do
	if [ "$pl" = same ]; then cg=$cpu_a cs=$cpu_a; else cg=$cpu_a cs=$cpu_b; fi
	d=$work/$pl
	mkdir -p "$d"
	: >"$d/runs.txt"
	for ((r = 1; r <= runs; r++)); do
		wait_quiet
		echo "[bench] vtpm: $pl-cpu run $r/$runs (client/guest on cpu $cg, server/stub domain on cpu $cs)"
		if [ -n "$ring" ]; then
			ring_run "$d/ring.$r" "$cg" "$cs" || { failed=1; break 2; }
		fi
		taskset -c "$cg" "$vb" inprocess "$loops" "$loop_ms" >"$d/inproc.$r" ||
			{ echo "bench: in-process peer failed" >&2; failed=1; break 2; }
		swtpm_run "$d/swtpm.$r" "$cg" "$cs" || { failed=1; break 2; }
		"$vb" ideal "$cg" "$cs" "$loops" "$loop_ms" >"$d/ideal.$r" ||
			{ echo "bench: ideal-ring ceiling failed" >&2; failed=1; break 2; }
		line=
		for c in getrandom pcrextend; do
			rg=nan
			[ -n "$ring" ] && rg=$(key "$d/ring.$r" ${c}_per_s)
			line+="$rg $(key "$d/inproc.$r" ${c}_per_s) $(key "$d/swtpm.$r" ${c}_per_s) $(key "$d/ideal.$r" ideal_${c}_per_s) "
		done
		echo "$line" >>"$d/runs.txt"
	done
	"$vb" floor "$cg" "$cs" "$loops" "$loop_ms" >"$d/floor.txt" || true
	for v in $spins; do
		[ -n "$ring" ] || break
		echo "[bench] vtpm: $pl-cpu ring with hvsec-vtpmd --spin-us $v"
		ring_run "$d/ring.spin$v" "$cg" "$cs" "$v" || { failed=1; break; }
	done
done
[ -n "$hvpid" ] && { kill "$hvpid"; wait "$hvpid" 2>/dev/null || true; hvpid=; }
[ "$failed" = 0 ] || { echo "bench: vtpm benchmark failed" >&2; exit 1; }

# ------------------------------------------------------------ report
col() { awk -v c="$2" '{print $c}' "$1" | median; }
rat() { awk -v a="$2" -v b="$3" "$isnum"'isnum($a) && isnum($b) && $b > 0 {print $a / $b}' "$1" | median; }
for pl in $placements; do
	d=$work/$pl
	if [ "$pl" = same ]; then desc="same CPU (cpu $cpu_a)"; else desc="cross CPU (guest/client cpu $cpu_a, stub/swtpm cpu $cpu_b)"; fi
	echo
	echo "== vTPM, $desc: ops/s, median of $runs runs (higher is better)"
	i=0
	for c in getrandom pcrextend; do
		rc=$((i + 1)) ic=$((i + 2)) sc=$((i + 3)) dc=$((i + 4))
		i=$((i + 4))
		ringv=$(col "$d/runs.txt" $rc) inv=$(col "$d/runs.txt" $ic) swv=$(col "$d/runs.txt" $sc)
		r_in=$(rat "$d/runs.txt" $rc $ic) r_sw=$(rat "$d/runs.txt" $rc $sc)
		p50s=() in50=() sw50=()
		for ((r = 1; r <= runs; r++)); do
			[ -n "$ring" ] && p50s+=("$(key "$d/ring.$r" ${c}_p50_ns)")
			in50+=("$(key "$d/inproc.$r" ${c}_p50_ns)")
			sw50+=("$(key "$d/swtpm.$r" ${c}_p50_ns)")
		done
		ring50=$(printf '%s\n' "${p50s[@]:-nan}" | median)
		ring99=nan
		[ -n "$ring" ] && ring99=$(for ((r = 1; r <= runs; r++)); do key "$d/ring.$r" ${c}_p99_ns; done | median)
		if [ -n "$ring" ]; then
			echo "  $c: ring $(kops "$ringv") (p50 $(us "$ring50"), p99 $(us "$ring99"))," \
				"in-process libtpms $(kops "$inv") (p50 $(us "$(printf '%s\n' "${in50[@]}" | median)"))," \
				"swtpm $(kops "$swv") (p50 $(us "$(printf '%s\n' "${sw50[@]}" | median)"))"
			echo "    ring / in-process = $(fmt "$r_in")x, target >= $target_inproc: $(verdict "$r_in" $target_inproc);" \
				"ring / swtpm = $(fmt "$r_sw")x, target >= $target_swtpm: $(verdict "$r_sw" $target_swtpm)"
			emit "RATIO vtpm_ring_${c}_vs_inprocess_${pl}_cpu $(fmt "$r_in")"
			emit "RATIO vtpm_ring_${c}_vs_swtpm_${pl}_cpu $(fmt "$r_sw")"
			emit "VALUE vtpm_ring_${c}_per_s_${pl}_cpu $(fmt "$ringv")"
			emit "VALUE vtpm_ring_${c}_p50_ns_${pl}_cpu $(fmt "$ring50")"
			emit "VALUE vtpm_ring_${c}_p99_ns_${pl}_cpu $(fmt "$ring99")"
		else
			echo "  $c: in-process libtpms $(kops "$inv"), swtpm $(kops "$swv") (ring path not built)"
		fi
		idv=$(col "$d/runs.txt" $dc) r_id=$(rat "$d/runs.txt" $dc $ic)
		id50=$(for ((r = 1; r <= runs; r++)); do key "$d/ideal.$r" ideal_${c}_p50_ns; done | median)
		echo "    ceiling (no notifications, both sides polling, libtpms in a second process):" \
			"$(kops "$idv") (p50 $(us "$id50")) = $(fmt "$r_id")x in-process"
		emit "VALUE vtpm_inprocess_${c}_per_s_${pl}_cpu $(fmt "$inv")"
		emit "VALUE vtpm_swtpm_${c}_per_s_${pl}_cpu $(fmt "$swv")"
		emit "VALUE vtpm_ceiling_${c}_per_s_${pl}_cpu $(fmt "$idv")"
		emit "RATIO vtpm_ceiling_${c}_vs_inprocess_${pl}_cpu $(fmt "$r_id")"
		for v in $spins; do
			f=$d/ring.spin$v
			[ -s "$f" ] || continue
			sv=$(key "$f" ${c}_per_s)
			echo "    with hvsec-vtpmd --spin-us $v: ring $(kops "$sv"), p50 $(us "$(key "$f" ${c}_p50_ns)")" \
				"= $(fmt "$(div "$sv" "$inv")")x in-process, $(fmt "$(div "$sv" "$swv")")x swtpm (one run)"
			emit "VALUE vtpm_ring_${c}_per_s_${pl}_cpu_spin$v $(fmt "$sv")"
		done
	done
	fl=$d/floor.txt
	echo "  floor, one empty round trip between two processes:" \
		"eventfd+poll $(us "$(key "$fl" floor_eventfd_rtt_ns)")," \
		"spin $(us "$(key "$fl" floor_spin_rtt_ns)")," \
		"spin with sched_yield $(us "$(key "$fl" floor_yield_rtt_ns)"),"  \
		"spin yielding every 8 rounds $(us "$(key "$fl" floor_hybrid_rtt_ns)")"
	for k in floor_eventfd_rtt_ns floor_spin_rtt_ns floor_yield_rtt_ns floor_hybrid_rtt_ns; do
		v=$(key "$fl" $k)
		[ -n "$v" ] && emit "VALUE vtpm_${k}_${pl}_cpu $v"
	done
	if [ -n "$ring" ] && [ -s "$d/ring.1.stub" ]; then
		s=$(sed -n 's/.*disconnected from domain [0-9]* ([^)]*): //p' "$d/ring.1.stub" | head -n 1)
		[ -n "$s" ] && echo "  stub domain of run 1: $s"
	fi
done
echo
echo "[bench] vtpm: done in $(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.0f", b - a}') s;" \
	"machine busy during the run: $(busy_since "$stat0") of $(nproc) CPUs"
[ -n "$noisy" ] && echo "[bench] vtpm: some runs started on a busy machine: absolute figures are noisy"
echo "-- vtpm summary"
printf '%s\n' "${out_lines[@]}"
