#!/usr/bin/env bash
# bench/provision.sh - how long a new vTPM takes to be ready with its EKs
# and EK certificates, against swtpm_setup measured in the same run
# (bench/README.md, "vTPM provisioning"; issue 5: <= 60 ms median).
#
# Three ways to make a TPM 2.0 with an RSA-2048 and an ECC P-256 EK, both
# EK certificates at the TCG NV indices, the platform hierarchy closed,
# durable:
#   manager  `hvsec create` of a guest with vtpm = ['backend=0,manager=
#            yes'] and a fresh (ephemeral) vTPM: the stub's OPEN answers
#            NEW, libtpms manufactures, the EKs are created, PROVISION has
#            the manager's CA certify them, the certificates are written,
#            the platform hierarchy locked and everything COMMITted (one
#            platform-TPM NV increment).  The time is the stub's own, from
#            its start of manager mode to the committed instance
#            ("provisioning took X ms (manufacture, EKs, PROVISION,
#            commit)" on its console), with the phases.
#   file     the same guest with vtpm = ['backend=0,manager=no']: the toolstack
#            manufactures in dom0 with the host CA into the file store
#            (`hvsec create -v`: "manufactured ... in X ms", CA load
#            included).
#   swtpm_setup  `swtpm_setup --tpm2 --create-ek-cert --create-platform-
#            cert` with swtpm's own local CA (swtpm_localca) in a
#            directory of this run: wall time, and the work part (until
#            the last write of its state file; swtpm_setup 0.7.1 then
#            idles ~0.5 s polling its exited child, peer-baselines.md).
#
# The three alternate within each round, so a noisy neighbour slows all
# of them.  Output: human lines, then lines of exactly the form
#   RATIO <name> <value>      VALUE <name> <value>
# The target (manager median <= 60 ms) prints PASS or MISS and never fails
# the run; a failing create or swtpm_setup does (status 1).
#
# Before the rounds, bench/provision_bench (when built) times N new TPMs
# in-process - manufacture, RSA EK, ECC EK - to show where the EK time
# goes without I/O or round trips.
#
# Environment: HVSEC_BUILD (build dir), BENCH_PROV_N (15 rounds),
# BENCH_PROV_MODES ("manager file swtpm_setup"), HVSEC_VTPM_MANAGERD
# (another manager binary, for an A/B run).
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
src=$PWD
build=${HVSEC_BUILD:-build}
bin=$build/bin
n=${BENCH_PROV_N:-15}
modes=${BENCH_PROV_MODES:-manager file swtpm_setup}
target_ms=60

for t in "$bin/hvsecd" "$bin/hvsec" "$bin/hvsec-polc" "$bin/hvsec-vtpmd" "$bin/hvsec-vtpm-managerd" \
	"$bin/hvsec-tpmfront"; do
	[ -x "$t" ] || { echo "bench: $t is missing (make BUILD=$build all)" >&2; exit 2; }
done
for t in swtpm swtpm_setup swtpm_localca; do
	command -v $t >/dev/null || { echo "bench: $t is missing (bash scripts/deps.sh bench)" >&2; exit 2; }
done

abs() { case $1 in /*) echo "$1" ;; *) echo "$src/$1" ;; esac; }
work=$(mktemp -d /tmp/hvsec-bench-prov.XXXXXX)
chmod 755 "$work" # guests run as other uids
run=$work/run
hvpid= swpid=
export HVSEC_VTPM_DIR=$work/state HVSEC_VTPM_MGR_DIR=$work/mgr HVSEC_CA=$work/ca.pem
hv() { timeout 60 "$bin/hvsec" --run-dir "$run" "$@"; }
cleanup() {
	hv vtpm manager stop >/dev/null 2>&1 || true
	[ -n "$hvpid" ] && kill "$hvpid" 2>/dev/null
	[ -n "$swpid" ] && kill "$swpid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

median() { sort -g | awk '{v[NR] = $1} END {
	if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2];
	else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# p90: the nearest-rank 90th percentile.
p90() { sort -g | awk '{v[NR] = $1} END {
	if (NR == 0) { print "nan"; exit } i = int(NR * 0.9 + 0.999999); print v[i < 1 ? 1 : i] }'; }
fmt() { awk -v a="$1" 'BEGIN {printf "%.3g", a}'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.4g", a / b; else print "nan"}'; }
ms_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", (b - a) * 1000}'; }
verdict() { awk -v v="$1" -v t="$2" 'BEGIN {print (v != "nan" && v + 0 <= t) ? "PASS" : "MISS"}'; }

# ------------------------------------------------------------ set-up
# The platform TPM of the manager: a swtpm of our own on free ports.
start_swtpm() {
	mkdir -p "$work/ptpm"
	for _ in 1 2 3 4 5; do
		local port=$((20000 + RANDOM % 20000))
		swtpm socket --tpm2 --server type=tcp,port=$port \
			--ctrl type=tcp,port=$((port + 1)) \
			--flags not-need-init,startup-clear \
			--tpmstate dir="$work/ptpm" >>"$work/swtpm.log" 2>&1 &
		swpid=$!
		for _ in $(seq 100); do
			kill -0 "$swpid" 2>/dev/null || { swpid=; break; }
			if (exec 3<>/dev/tcp/127.0.0.1/$((port + 1))) 2>/dev/null; then
				export HVSEC_VTPM_MGR_TCTI="swtpm:host=127.0.0.1,port=$port"
				return 0
			fi
			sleep 0.05
		done
		[ -n "$swpid" ] && { kill "$swpid" 2>/dev/null; wait "$swpid" 2>/dev/null || true; swpid=; }
	done
	echo "bench: the platform swtpm did not start:" >&2; cat "$work/swtpm.log" >&2
	return 1
}
# The manager domain needs a policy (its label): the multi-tenant example.
start_hvsecd() {
	"$bin/hvsec-polc" compile --quiet "$src/policies/multi-tenant.xml" -o "$work/mt.bin"
	local base=$((3000000 + ($$ % 20000) * 32768))
	for try in 1 2 3 4; do
		rm -rf "$run"
		"$bin/hvsecd" --run-dir "$run" --uid-base "$base" --policy "$work/mt.bin" \
			>"$work/hvsecd.log" 2>&1 &
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

# swtpm's own local CA, in this run's directory (never /var/lib/swtpm-localca).
setup_swtpm_localca() {
	local ca=$work/localca
	mkdir -p "$ca"
	cat >"$work/swtpm-localca.conf" <<-EOF
	statedir = $ca
	signingkey = $ca/signkey.pem
	issuercert = $ca/issuercert.pem
	certserial = $ca/certserial
	EOF
	printf -- '--platform-manufacturer hvsec\n--platform-version 2.1\n--platform-model bench\n' \
		>"$work/swtpm-localca.options"
	cat >"$work/swtpm_setup.conf" <<-EOF
	create_certs_tool = $(command -v swtpm_localca)
	create_certs_tool_config = $work/swtpm-localca.conf
	create_certs_tool_options = $work/swtpm-localca.options
	active_pcr_banks = sha256
	EOF
}

guest_cfg() { # FILE NAME VTPM-SPEC
	{
		printf 'name = "%s"\n' "$2"
		printf 'uuid = "%s"\n' "$(cat /proc/sys/kernel/random/uuid)"
		printf 'kernel = "%s"\n' "$(abs "$bin/hvsec-tpmfront")"
		printf 'extra = "--exec /bin/sleep 60"\n'
		printf "access_control = ['policy=multi-tenant,label=Acme']\n"
		printf "vtpm = ['%s']\n" "$3"
	} >"$1"
}

# ------------------------------------------------------------ one of each
# Each prints one line of numbers (ms) on stdout, or fails.
wait_console() { # NAME REGEX
	for _ in $(seq 200); do
		hv console "$1" 2>/dev/null | grep -Eq -- "$2" && return 0
		sleep 0.05
	done
	return 1
}

seq_no=0
# manager: total manufacture eks provision commit create_wall
one_manager() {
	local name t0 wall line
	seq_no=$((seq_no + 1)); name=pm$seq_no
	guest_cfg "$work/$name.cfg" "$name" "backend=0,manager=yes"
	t0=$EPOCHREALTIME
	hv create "$work/$name.cfg" >"$work/$name.out" 2>&1 ||
		{ echo "bench: manager-mode create failed:" >&2; cat "$work/$name.out" >&2
		  hv console "$name-vtpm0" 2>&1 | tail -n 5 >&2; return 1; }
	wall=$(ms_since "$t0")
	if ! wait_console "$name-vtpm0" 'provisioning took'; then
		echo "bench: no provisioning line from $name-vtpm0:" >&2
		hv console "$name-vtpm0" 2>&1 | tail -n 10 >&2; return 1
	fi
	line=$(hv console "$name-vtpm0" | sed -n 's/.*provisioning took \([0-9.]*\) ms (manufacture \([0-9.]*\), EKs \([0-9.]*\), PROVISION \([0-9.]*\), commit \([0-9.]*\) ms).*/\1 \2 \3 \4 \5/p' | tail -n 1)
	hv destroy "$name" >/dev/null 2>&1 || true
	[ -n "$line" ] || { echo "bench: unexpected provisioning line from $name-vtpm0" >&2; return 1; }
	echo "$line $wall"
}

# file: manufacture create_wall
one_file() {
	local name t0 wall v
	seq_no=$((seq_no + 1)); name=pf$seq_no
	guest_cfg "$work/$name.cfg" "$name" "backend=0,manager=no"
	t0=$EPOCHREALTIME
	hv create -v "$work/$name.cfg" >"$work/$name.out" 2>&1 ||
		{ echo "bench: file-mode create failed:" >&2; cat "$work/$name.out" >&2; return 1; }
	wall=$(ms_since "$t0")
	v=$(sed -n 's/.*manufactured with EKs and certificates in \([0-9.]*\) ms.*/\1/p' "$work/$name.out" | head -n 1)
	hv destroy "$name" >/dev/null 2>&1 || true
	[ -n "$v" ] || { echo "bench: no manufacture time from hvsec create -v:" >&2; cat "$work/$name.out" >&2; return 1; }
	echo "$v $wall"
}

# swtpm_setup: wall work
one_swtpm_setup() {
	local d t0 wall last
	seq_no=$((seq_no + 1)); d=$work/swtpm-setup.$seq_no
	mkdir -p "$d"
	t0=$EPOCHREALTIME
	swtpm_setup --tpm2 --tpmstate "$d" --config "$work/swtpm_setup.conf" \
		--create-ek-cert --create-platform-cert >"$d.log" 2>&1 ||
		{ echo "bench: swtpm_setup failed:" >&2; cat "$d.log" >&2; return 1; }
	wall=$(ms_since "$t0")
	last=$(stat -c %.6Y "$d"/tpm2-00.permall 2>/dev/null || echo)
	[ -n "$last" ] || { echo "bench: swtpm_setup left no state in $d" >&2; return 1; }
	grep -q 'Successfully created EK certificate' "$d.log" ||
		{ echo "bench: swtpm_setup made no EK certificate:" >&2; cat "$d.log" >&2; return 1; }
	echo "$wall $(awk -v a="$t0" -v b="$last" 'BEGIN {printf "%.1f", (b - a) * 1000}')"
	rm -rf "$d"
}

# ------------------------------------------------------------ the runs
started=$EPOCHREALTIME
echo "[bench] provision: $n rounds of: ${modes// /, } (a new TPM 2.0, RSA + ECC EKs, EK certificates, committed)"
case " $modes " in *" manager "* | *" file "*) start_hvsecd ;; esac
case " $modes " in *" manager "*)
	start_swtpm
	hv vtpm manager init >"$work/init.out" 2>&1 || { echo "bench: manager init failed:" >&2; cat "$work/init.out" >&2; exit 1; }
	hv vtpm manager start >"$work/start.out" 2>&1 || { echo "bench: manager start failed:" >&2; cat "$work/start.out" >&2; exit 1; }
	;;
esac
case " $modes " in *" swtpm_setup "*)
	setup_swtpm_localca
	# The local CA's first use makes its root and signing keys: not
	# part of any one TPM's provisioning, done once before timing.
	one_swtpm_setup >/dev/null || exit 1
	;;
esac
# Where the EK time goes, in-process (no I/O, no round trips).
pb=$build/bench/bin/provision_bench
inproc=
if [ -x "$pb" ]; then
	"$pb" "$n" >"$work/inprocess.txt" || { echo "bench: provision_bench failed" >&2; exit 1; }
	inproc=1
else
	echo "[bench] provision: $pb is not built: no in-process breakdown"
fi
# One warm-up of each: the host CA file, page cache of the binaries.
for m in $modes; do "one_$m" >/dev/null || exit 1; done
for m in $modes; do : >"$work/$m.txt"; done
for ((r = 1; r <= n; r++)); do
	for m in $modes; do
		"one_$m" >>"$work/$m.txt" || exit 1
	done
done
mgr_status= kh_prov=nan
case " $modes " in *" manager "*)
	mgr_status=$(hv vtpm manager status 2>&1 | grep -Ei 'commit' | tr -s ' ' | paste -sd ';' || true)
	# The key holder's own PROVISION time (EK checks, two certificates).
	kh_prov=$(hv console vtpm-manager 2>/dev/null | sed -n 's/.*PROVISION .* issued in \([0-9.]*\) ms.*/\1/p' | median)
	;;
esac

# ------------------------------------------------------------ report
col() { awk -v c="$2" '{print $c}' "$1" | "${3:-median}"; }
out_lines=()
emit() { out_lines+=("$*"); echo "$*"; }
echo
echo "== vTPM provisioning, ms over $n rounds (lower is better): median / p90"
mgr_med=nan file_med=nan sw_med=nan sw_work=nan
if [ -s "$work/manager.txt" ]; then
	f=$work/manager.txt
	mgr_med=$(col "$f" 1)
	echo "  manager mode (stub: OPEN NEW -> committed, ready): $(fmt "$mgr_med") / $(fmt "$(col "$f" 1 p90)")"
	echo "    phases, median: manufacture $(col "$f" 2), EKs $(col "$f" 3), PROVISION $(col "$f" 4)" \
		"(of which the key holder $(fmt "$kh_prov")), COMMIT $(col "$f" 5); hvsec create wall $(col "$f" 6)"
	echo "    target <= $target_ms ms median: $(verdict "$mgr_med" $target_ms)"
	[ -n "$mgr_status" ] && echo "    manager: $mgr_status"
	emit "VALUE vtpm_provision_manager_ms_median $(fmt "$mgr_med")"
	emit "VALUE vtpm_provision_manager_ms_p90 $(fmt "$(col "$f" 1 p90)")"
	for p in 2:manufacture 3:eks 4:provision 5:commit; do
		emit "VALUE vtpm_provision_manager_${p#*:}_ms_median $(fmt "$(col "$f" "${p%%:*}")")"
	done
fi
if [ -n "$inproc" ]; then
	k() { awk -v k="$1" '$1 == k {print $2}' "$work/inprocess.txt"; }
	echo "  in-process libtpms, a new TPM ($n): manufacture $(k manufacture_ms_median)," \
		"RSA-2048 EK $(k ek_rsa_ms_median) (p90 $(k ek_rsa_ms_p90), min $(k ek_rsa_ms_min), max $(k ek_rsa_ms_max))," \
		"ECC P-256 EK $(k ek_ecc_ms_median)"
	for v in manufacture ek_rsa ek_ecc; do
		emit "VALUE vtpm_inprocess_${v}_ms_median $(fmt "$(k ${v}_ms_median)")"
	done
	emit "VALUE vtpm_inprocess_ek_rsa_ms_p90 $(fmt "$(k ek_rsa_ms_p90)")"
fi
if [ -s "$work/file.txt" ]; then
	f=$work/file.txt
	file_med=$(col "$f" 1)
	echo "  file mode (dom0 manufacture, host CA, file store): $(fmt "$file_med") / $(fmt "$(col "$f" 1 p90)");" \
		"hvsec create wall $(col "$f" 2)"
	emit "VALUE vtpm_provision_file_ms_median $(fmt "$file_med")"
	emit "VALUE vtpm_provision_file_ms_p90 $(fmt "$(col "$f" 1 p90)")"
fi
if [ -s "$work/swtpm_setup.txt" ]; then
	f=$work/swtpm_setup.txt
	sw_med=$(col "$f" 1) sw_work=$(col "$f" 2)
	echo "  swtpm_setup --tpm2 --create-ek-cert --create-platform-cert (swtpm_localca):" \
		"$(fmt "$sw_med") / $(fmt "$(col "$f" 1 p90)") wall; work until its last state write" \
		"$(fmt "$sw_work") / $(fmt "$(col "$f" 2 p90)")"
	emit "VALUE vtpm_provision_swtpm_setup_ms_median $(fmt "$sw_med")"
	emit "VALUE vtpm_provision_swtpm_setup_work_ms_median $(fmt "$sw_work")"
fi
# Ratios: time ours / theirs, LOWER is better.
[ "$mgr_med" != nan ] && [ "$sw_med" != nan ] && {
	emit "RATIO vtpm_provision_manager_vs_swtpm_setup $(fmt "$(div "$mgr_med" "$sw_med")")"
	emit "RATIO vtpm_provision_manager_vs_swtpm_setup_work $(fmt "$(div "$mgr_med" "$sw_work")")"
}
[ "$file_med" != nan ] && [ "$sw_med" != nan ] && {
	emit "RATIO vtpm_provision_file_vs_swtpm_setup $(fmt "$(div "$file_med" "$sw_med")")"
	emit "RATIO vtpm_provision_file_vs_swtpm_setup_work $(fmt "$(div "$file_med" "$sw_work")")"
}
[ "$mgr_med" != nan ] && [ "$file_med" != nan ] &&
	emit "RATIO vtpm_provision_manager_vs_file $(fmt "$(div "$mgr_med" "$file_med")")"
echo "  (RATIO lines: our time / theirs, lower is better)"
echo
echo "[bench] provision: done in $(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.0f", b - a}') s"
echo "-- provision summary"
printf '%s\n' "${out_lines[@]}"
