#!/usr/bin/env bash
# policies.sh - every policy we ship (policies/*.xml, policies/labs/*.xml)
# compiles with no warning, dumps, and draws: its DOT graph (from the XML and
# from the binary) renders with Graphviz when `dot` is installed.  Every lab
# policy has its write-up in docs/labs/ and its checked answers in
# tests/acm/matrix/.
: "${HVSEC_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
# shellcheck source=tests/lib.sh
source "$HVSEC_SRC/tests/lib.sh"

POLC=$HVSEC_BIN/hvsec-polc
have_dot=0
command -v dot >/dev/null 2>&1 && have_dot=1
[ $have_dot -eq 1 ] || echo "policies.sh: Graphviz 'dot' not installed; DOT output is checked for syntax only"

shopt -s nullglob
policies=("$HVSEC_SRC"/policies/*.xml "$HVSEC_SRC"/policies/labs/*.xml)
ok "policies found" "$([ ${#policies[@]} -ge 6 ] && echo 0 || echo 1)" "only ${#policies[@]} policies"

for xml in "${policies[@]}"; do
	rel=${xml#"$HVSEC_SRC"/}
	name=$(basename "$xml" .xml)
	bin=$TL_TMP/$name.bin

	# Compiles, silently: no warning, no error.
	out=$("$POLC" compile "$xml" -o "$bin" 2>&1)
	rc=$?
	if [ $rc -ne 0 ]; then
		ok "$rel: compiles" 1 "exit $rc: $(head -c 800 <<<"$out")"
		continue
	fi
	ok "$rel: compiles" 0 ""
	if grep -Eqi 'warning' <<<"$out"; then
		ok "$rel: no warnings" 1 "$(head -c 800 <<<"$out")"
	else
		ok "$rel: no warnings" 0 ""
	fi

	# Same bytes every time (deterministic output).
	"$POLC" compile "$xml" -o "$bin.again" >/dev/null 2>&1
	cmp -s "$bin" "$bin.again"
	ok "$rel: deterministic" $? "two compiles gave different bytes"

	# The dump names the policy.
	pname=$(sed -n 's:.*<PolicyName>\([^<]*\)</PolicyName>.*:\1:p' "$xml" | head -n 1)
	out=$("$POLC" dump "$bin" 2>&1)
	rc=$?
	[ $rc -eq 0 ] && grep -qF -- "$pname" <<<"$out"
	ok "$rel: dump" $? "exit $rc, or no '$pname' in: $(head -c 400 <<<"$out")"

	# The graph, from the source and from the binary.
	for src in "$xml" "$bin"; do
		what="graph of ${src##*.}"
		dotf=$TL_TMP/$name.${src##*.}.dot
		if ! "$POLC" graph "$src" >"$dotf" 2>"$dotf.err"; then
			ok "$rel: $what" 1 "exit $?: $(head -c 400 "$dotf.err")"
			continue
		fi
		if ! grep -Eq '^[[:space:]]*(strict[[:space:]]+)?(di)?graph' "$dotf"; then
			ok "$rel: $what" 1 "not DOT: $(head -c 200 "$dotf")"
			continue
		fi
		if [ $have_dot -eq 1 ]; then
			dot -Tsvg "$dotf" -o "$dotf.svg" 2>"$dotf.doterr" && [ -s "$dotf.svg" ]
			ok "$rel: $what renders" $? "dot: $(head -c 400 "$dotf.doterr")"
		else
			ok "$rel: $what" 0 ""
		fi
	done
done

# Every lab is documented and checked.
for xml in "$HVSEC_SRC"/policies/labs/*.xml; do
	name=$(basename "$xml" .xml)
	lab=${name%-v[0-9]*} # lab4-policy-update-v1 -> lab4-policy-update
	[ -s "$HVSEC_SRC/docs/labs/$lab.md" ]
	ok "labs/$name: docs/labs/$lab.md" $? "missing write-up"
	[ -s "$HVSEC_SRC/tests/acm/matrix/$lab.cases" ]
	ok "labs/$name: tests/acm/matrix/$lab.cases" $? "missing checked answers"
	grep -q "docs/labs/$lab.md\|$lab.md" "$HVSEC_SRC/docs/labs/README.md" 2>/dev/null
	ok "labs/$name: listed in docs/labs/README.md" $? "not in the index"
done

tl_done
