#!/usr/bin/env bash
# run.sh NAME...: runs each libFuzzer harness build/fuzz/fuzz_NAME for
# $FUZZ_SECONDS on its corpus.  Seeds: tests/fuzz/corpus/NAME/ (checked in)
# plus, generated here, the project's and the shared Xen policies (as XML for
# policy_xml, compiled with hvsec-polc for policy_blob).
set -uo pipefail
cd "$(dirname "$0")/../.."
: "${FUZZ_SECONDS:=20}" "${FUZZ_DIR:=build/fuzz}" "${HVSEC_BIN:=build/bin}"
shared=${HVSEC_SHARED:-$(cd .. && pwd)/shared}
fail=0 pass=0
for name in "$@"; do
	work=$FUZZ_DIR/corpus/$name
	gen=$FUZZ_DIR/seeds/$name
	mkdir -p "$work" "$gen"
	xmls=(policies/*.xml policies/labs/*.xml "$shared"/xen-acm-policies/*.xml)
	for x in "${xmls[@]}"; do
		[ -e "$x" ] || continue
		case $name in
		policy_xml) cp "$x" "$gen/$(basename "$x")" ;;
		policy_blob) "$HVSEC_BIN/hvsec-polc" compile --quiet "$x" \
			-o "$gen/$(basename "$x" .xml).bin" >/dev/null 2>&1 || true ;;
		esac
	done
	echo "== fuzz_$name for ${FUZZ_SECONDS}s (seeds: $(ls tests/fuzz/corpus/"$name" "$gen" 2>/dev/null | grep -vc ':$'))"
	# The first directory receives new inputs; the checked-in one is only
	# read, and exists only for harnesses with hand-written seeds.
	dirs=("$work" "$gen")
	[ -d "tests/fuzz/corpus/$name" ] && dirs+=("tests/fuzz/corpus/$name")
	if "$FUZZ_DIR/fuzz_$name" -max_total_time="$FUZZ_SECONDS" -max_len=65536 \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$FUZZ_DIR/$name-" \
		"${dirs[@]}" >"$FUZZ_DIR/$name.log" 2>&1; then
		grep -E '^stat::(number_of_executed_units|new_units_added)' "$FUZZ_DIR/$name.log" | tr '\n' ' '
		echo
		pass=$((pass + 1))
	else
		echo "fuzz_$name FAILED: see $FUZZ_DIR/$name.log"
		grep -E 'ERROR|SUMMARY|deadly' "$FUZZ_DIR/$name.log" | head -5
		fail=$((fail + 1))
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
