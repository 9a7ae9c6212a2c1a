#!/usr/bin/env bash
# bench/run.sh: hvsec against its peers, measured side by side in one run.
#
# For every N (BENCH_SIZES, default "100 1000 10000"):
#   1. genpolicy writes our XML policy, the equivalent SELinux policy.conf
#      and one file of random (subject, object) pairs;
#   2. `hvsec-polc compile` and `checkpolicy` compile them, alternately,
#      BENCH_COMPILE_RUNS times each (pinned to the same CPU);
#   3. bench_acm and bench_sepol decide the same pairs, alternately,
#      BENCH_RUNS process runs each (each run: median of 5 loops).
# Every ratio is the median of the ratios of adjacent runs, so that a noisy
# neighbour slows both sides of a ratio rather than one.
#
# Output: human lines, then for scripts lines of exactly the form
#   RATIO <name> <value>      VALUE <name> <value>
# Targets are printed as PASS/MISS and never fail the run; a correctness
# check that fails (the engines disagree) makes the exit status 1.
#
# Environment: HVSEC_BUILD (build dir), BENCH_SIZES, BENCH_SEED,
# BENCH_RUNS (3), BENCH_COMPILE_RUNS (5 at N >= 10000, else 3),
# BENCH_CPU (pinned CPU), BENCH_LOOPS / BENCH_LOOP_MS (per-process loops),
# BENCH_CLOCK (cpu: decision loops timed in thread CPU time; wall).
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."

build=${HVSEC_BUILD:-build}
bbin=${BENCH_BIN:-$build/bench/bin}
polc=${POLC:-$build/bin/hvsec-polc}
work=${BENCH_WORK:-$build/bench}
sizes=${BENCH_SIZES:-100 1000 10000}
seed=${BENCH_SEED:-12345}
runs=${BENCH_RUNS:-3}

# Targets (docs: bench/README.md).
target_uncached=20e6     # decisions/s, at every N
target_cached=100e6      # decisions/s
target_compile=0.25      # our compile time / checkpolicy's, at most
target_flat=0.8          # uncached rate at the largest N / at the smallest

failed=0
started=$EPOCHREALTIME

for tool in "$bbin/genpolicy" "$bbin/bench_acm" "$bbin/bench_sepol" "$polc"; do
	[ -x "$tool" ] || { echo "bench: $tool is missing (run make bench)" >&2; exit 2; }
done
command -v checkpolicy >/dev/null || {
	echo "bench: checkpolicy is missing (bash scripts/deps.sh bench)" >&2; exit 2; }

# The CPU everything runs on: the last one we may use, as bench_pin()
# chooses, so compilers and deciders see the same core.
cpu=${BENCH_CPU:-$(awk '/^Cpus_allowed_list/ {print $2}' /proc/self/status |
	tr ',' '\n' | tail -n 1 | sed 's/.*-//')}
export BENCH_CPU=$cpu
pin=()
command -v taskset >/dev/null && pin=(taskset -c "$cpu")

say() { printf '[bench %5.1fs] %s\n' "$(elapsed)" "$*"; }
elapsed() { awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", b - a}'; }
# key FILE KEY: the value of "KEY value" in a bench's output.
key() { awk -v k="$2" '$1 == k {print $2; exit}' "$1"; }
median() { sort -g | awk '{v[NR] = $1} END {
	if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2];
	else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# col FILE N: median of column N.
col() { awk -v c="$2" '{print $c}' "$1" | median; }
div() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.4g", a / b; else print "nan"}'; }
fmt() { awk -v a="$1" 'BEGIN {printf "%.3g", a}'; }
mega() { awk -v a="$1" 'BEGIN {printf "%.2f M/s", a / 1e6}'; }
# verdict VALUE OP TARGET: PASS or MISS.
verdict() { awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {
	ok = (op == ">=") ? (v >= t) : (v <= t); print (v == v && ok) ? "PASS" : "MISS" }'; }
# Machine-wide busy share from /proc/stat, to judge how noisy a run was.
cpustat() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8}' /proc/stat; }
busy_since() { read -r b0 t0 <<<"$1"; read -r b1 t1 <<<"$(cpustat)"
	awk -v b="$((b1 - b0))" -v t="$((t1 - t0))" 'BEGIN {printf "%.0f%%", t ? 100 * b / t : 0}'; }
# ms COMMAND...: wall time of one run in milliseconds; output discarded.
ms() {
	local t0=$EPOCHREALTIME
	"$@" >/dev/null || { echo "bench: failed: $*" >&2; return 1; }
	awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.3f", (b - a) * 1000}'
}

say "hvsec bench: N = $sizes, seed $seed, pinned to cpu $cpu of $(nproc)," \
	"$runs process runs per decision bench, loops timed in ${BENCH_CLOCK:-cpu} time"
stat0=$(cpustat)

out_lines=()   # RATIO/VALUE lines, printed together at the end too
emit() { out_lines+=("$*"); echo "$*"; }

first_uncached='' last_uncached='' first_n='' last_n=''
for n in $sizes; do
	dir=$work/n$n
	mkdir -p "$dir"
	# As in the peer baseline: 1M pairs, 300k at 10k types (sepol is slow).
	npairs=1000000
	[ "$n" -ge 10000 ] && npairs=300000
	say "n=$n: generating policies and $npairs pairs"
	"$bbin/genpolicy" "$n" "$seed" "$dir" "$npairs" >"$dir/gen.txt"
	model=$(key "$dir/gen.txt" granted_fraction)

	# ---- compile time
	cruns=${BENCH_COMPILE_RUNS:-3}
	[ -z "${BENCH_COMPILE_RUNS:-}" ] && [ "$n" -ge 10000 ] && cruns=5
	say "n=$n: compiling, $cruns runs each of hvsec-polc and checkpolicy"
	: >"$dir/compile.txt"
	for ((r = 1; r <= cruns; r++)); do
		a=$(ms "${pin[@]}" "$polc" compile "$dir/policy.xml" -o "$dir/hvsec.bin" --quiet)
		b=$(ms "${pin[@]}" checkpolicy -o "$dir/selinux.bin" "$dir/policy.conf")
		echo "$a $b" >>"$dir/compile.txt"
	done
	polc_ms=$(awk '{print $1}' "$dir/compile.txt" | median)
	cp_ms=$(awk '{print $2}' "$dir/compile.txt" | median)
	compile_ratio=$(awk '{print $1 / $2}' "$dir/compile.txt" | median)

	# ---- decisions
	: >"$dir/runs.txt"
	for ((r = 1; r <= runs; r++)); do
		say "n=$n: decision run $r/$runs (bench_acm, then bench_sepol)"
		"$bbin/bench_acm" "$dir/hvsec.bin" "$dir/pairs.bin" >"$dir/acm.$r.txt" ||
			{ echo "bench: bench_acm failed" >&2; exit 1; }
		"$bbin/bench_sepol" "$dir/selinux.bin" "$dir/pairs.bin" >"$dir/sepol.$r.txt" ||
			{ echo "bench: bench_sepol failed" >&2; exit 1; }
		echo "$(key "$dir/acm.$r.txt" uncached_per_s)" \
			"$(key "$dir/acm.$r.txt" cached_per_s)" \
			"$(key "$dir/sepol.$r.txt" compute_av_per_s)" \
			"$(key "$dir/acm.$r.txt" create_destroy_per_s)" >>"$dir/runs.txt"
	done
	uncached=$(col "$dir/runs.txt" 1) cached=$(col "$dir/runs.txt" 2)
	sepol=$(col "$dir/runs.txt" 3) cycles=$(col "$dir/runs.txt" 4)
	r_uncached=$(awk '{print $1 / $3}' "$dir/runs.txt" | median)
	r_cached=$(awk '{print $2 / $3}' "$dir/runs.txt" | median)

	# ---- correctness: both engines against the model of genpolicy
	acm_frac=$(key "$dir/acm.1.txt" granted_fraction)
	sepol_frac=$(key "$dir/sepol.1.txt" granted_fraction)
	mism=$(key "$dir/acm.1.txt" cache_mismatches)
	check=OK
	if [ "$acm_frac" != "$model" ] || [ "$sepol_frac" != "$model" ] || [ "$mism" != 0 ]; then
		check=MISMATCH
		failed=1
	fi

	echo
	echo "== N = $n types ($(key "$dir/gen.txt" te_rules) SELinux TE rules," \
		"$(key "$dir/acm.1.txt" labels) ACM labels, $npairs random pairs)"
	echo "  granted fraction: model $model, acm $acm_frac, sepol $sepol_frac," \
		"cache mismatches $mism: $check"
	echo "  blob: hvsec $(stat -c %s "$dir/hvsec.bin") B, selinux $(stat -c %s "$dir/selinux.bin") B;" \
		"load (validate + index): acm $(key "$dir/acm.1.txt" load_ms) ms, libsepol $(key "$dir/sepol.1.txt" load_ms) ms"
	echo "  decisions, uncached: acm $(mega "$uncached") vs sepol_compute_av $(mega "$sepol")" \
		"= $(fmt "$r_uncached")x (higher is better);" \
		"target >= $(mega $target_uncached): $(verdict "$uncached" ">=" $target_uncached)"
	echo "  decisions, cached:   acm $(mega "$cached") (hit rate $(key "$dir/acm.1.txt" cache_hit_rate)," \
		"$(key "$dir/acm.1.txt" cache_hot_pairs) hot pairs) = $(fmt "$r_cached")x sepol (higher is better);" \
		"target >= $(mega $target_cached): $(verdict "$cached" ">=" $target_cached)"
	echo "  domain create+destroy: $(mega "$cycles") cycles" \
		"($(key "$dir/acm.1.txt" create_denied_fraction) of creations denied by Chinese Wall)"
	echo "  compile: hvsec-polc $(fmt "$polc_ms") ms vs checkpolicy $(fmt "$cp_ms") ms" \
		"= $(fmt "$compile_ratio")x the time (lower is better);" \
		"target <= $target_compile: $(verdict "$compile_ratio" "<=" $target_compile)"
	emit "RATIO acm_uncached_vs_sepol_compute_av_n$n $(fmt "$r_uncached")"
	emit "RATIO acm_cached_vs_sepol_n$n $(fmt "$r_cached")"
	emit "RATIO polc_compile_vs_checkpolicy_n$n $(fmt "$compile_ratio")"
	emit "VALUE acm_uncached_decisions_per_s_n$n $(fmt "$uncached")"
	emit "VALUE acm_cached_decisions_per_s_n$n $(fmt "$cached")"
	emit "VALUE sepol_compute_av_per_s_n$n $(fmt "$sepol")"
	emit "VALUE acm_cache_hit_rate_n$n $(key "$dir/acm.1.txt" cache_hit_rate)"
	emit "VALUE acm_create_destroy_per_s_n$n $(fmt "$cycles")"
	emit "VALUE polc_compile_ms_n$n $(fmt "$polc_ms")"
	emit "VALUE checkpolicy_compile_ms_n$n $(fmt "$cp_ms")"
	emit "VALUE hvsec_blob_bytes_n$n $(stat -c %s "$dir/hvsec.bin")"
	emit "VALUE selinux_blob_bytes_n$n $(stat -c %s "$dir/selinux.bin")"
	echo

	[ -z "$first_n" ] && first_n=$n first_uncached=$uncached
	last_n=$n last_uncached=$uncached
done

if [ "$first_n" != "$last_n" ]; then
	flat=$(div "$last_uncached" "$first_uncached")
	echo "== flatness: acm uncached at N=$last_n is $(fmt "$flat")x its rate at N=$first_n" \
		"(1 = flat, higher is better); target >= $target_flat: $(verdict "$flat" ">=" $target_flat)"
	emit "RATIO acm_uncached_n${last_n}_vs_n${first_n} $(fmt "$flat")"
fi

echo
say "done; machine busy during the run: $(busy_since "$stat0") of $(nproc) CPUs" \
	"(the benches use one); raw outputs in $work/"
echo "-- summary"
printf '%s\n' "${out_lines[@]}"
if [ "$failed" -ne 0 ]; then
	echo "bench: CORRECTNESS MISMATCH between the engines (see 'granted fraction' above)" >&2
	exit 1
fi
