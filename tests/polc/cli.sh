#!/usr/bin/env bash
# cli.sh - table-driven tests of the hvsec-polc command line.
#
# Every command is run the way a user or a script would run it, and each
# case checks the exit status and what was printed.  Decisions are checked
# by their exact first line, since that line is what scripts parse.
source "$HVSEC_SRC/tests/lib.sh"

P=$HVSEC_BIN/hvsec-polc
XEN=$HVSEC_SHARED/xen-acm-policies
XSD=$HVSEC_SRC/policies/security_policy.xsd
T=$TL_TMP

# expect_first NAME EXIT LINE -- CMD...: exit status and exact first line
# of stdout (the verdict), with stderr shown on failure.
expect_first() {
	local name=$1 want_rc=$2 want_line=$3 out rc first
	shift 3
	[ "${1:-}" = "--" ] && shift
	out=$("$@" 2>"$T/stderr")
	rc=$?
	first=${out%%$'\n'*}
	if [ "$rc" -eq "$want_rc" ] && [ "$first" = "$want_line" ]; then
		ok "$name" 0 ""
	else
		ok "$name" 1 "exit $rc (wanted $want_rc), first line '$first' (wanted '$want_line'); stderr: $(head -c 400 "$T/stderr")"
	fi
}

# poke FILE OFFSET BYTE_OCTAL: overwrite one byte.
poke() { printf '%b' "\\0$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }

# rehash FILE: rewrite the trailer SHA-256 so the loader accepts an edit.
rehash() {
	local f=$1 n hex
	n=$(($(stat -c %s "$f") - 32))
	hex=$(head -c "$n" "$f" | sha256sum | cut -c1-64)
	printf '%b' "$(sed 's/../\\x&/g' <<<"$hex")" | dd of="$f" bs=1 seek="$n" conv=notrunc status=none
}

# ---------------------------------------------------------------- usage
expect help-global 0 '^usage: hvsec-polc COMMAND' -- "$P" --help
expect help-word 0 'update-check' -- "$P" help
expect version 0 '^hvsec-polc [0-9]+\.[0-9]+' -- "$P" --version
expect no-args 2 '^usage:' -- "$P"
expect unknown-command 2 "unknown command 'frobnicate'" -- "$P" frobnicate
for c in compile dump decompile graph decide update-check hash; do
	expect "help-$c" 0 "^usage: hvsec-polc $c " -- "$P" "$c" --help
done
expect unknown-option 2 "unknown option '--bogus'" -- "$P" compile x.xml --bogus
expect unknown-option-usage 2 '^usage: hvsec-polc compile' -- "$P" compile --bogus x.xml
expect compile-no-input 2 'expected 1 argument, got 0' -- "$P" compile
expect compile-two-inputs 2 'expected 1 argument, got 2' -- "$P" compile a.xml b.xml
expect output-needs-value 2 "option '--output' needs a value" -- "$P" compile a.xml -o
expect flag-takes-no-value 2 "takes no value" -- "$P" compile a.xml --quiet=yes

# ---------------------------------------------------------------- the toy policy (reference/acm.md 1.3)
cat >"$T/toy.xml" <<'EOF'
<SecurityPolicyDefinition xmlns="http://www.ibm.com">
  <PolicyHeader><PolicyName>toy</PolicyName><Version>1.0</Version></PolicyHeader>
  <SimpleTypeEnforcement><SimpleTypeEnforcementTypes>
      <Type>Admin</Type><Type>Blue</Type><Type>Red</Type>
  </SimpleTypeEnforcementTypes></SimpleTypeEnforcement>
  <ChineseWall><ChineseWallTypes><Type>Admin</Type><Type>Blue</Type><Type>Red</Type></ChineseWallTypes>
    <ConflictSets><Conflict name="BR"><Type>Blue</Type><Type>Red</Type></Conflict></ConflictSets>
  </ChineseWall>
  <SecurityLabelTemplate>
    <SubjectLabels bootstrap="Admin">
      <VirtualMachineLabel><Name>Admin</Name>
        <SimpleTypeEnforcementTypes><Type>Admin</Type><Type>Blue</Type><Type>Red</Type></SimpleTypeEnforcementTypes>
        <ChineseWallTypes><Type>Admin</Type></ChineseWallTypes></VirtualMachineLabel>
      <VirtualMachineLabel><Name>Blue</Name>
        <SimpleTypeEnforcementTypes><Type>Blue</Type></SimpleTypeEnforcementTypes>
        <ChineseWallTypes><Type>Blue</Type></ChineseWallTypes></VirtualMachineLabel>
      <VirtualMachineLabel><Name>Red</Name>
        <SimpleTypeEnforcementTypes><Type>Red</Type></SimpleTypeEnforcementTypes>
        <ChineseWallTypes><Type>Red</Type></ChineseWallTypes></VirtualMachineLabel>
    </SubjectLabels>
    <ObjectLabels>
      <ResourceLabel><Name>BlueDisk</Name><SimpleTypeEnforcementTypes><Type>Blue</Type></SimpleTypeEnforcementTypes></ResourceLabel>
      <ResourceLabel><Name>RedDisk</Name><SimpleTypeEnforcementTypes><Type>Red</Type></SimpleTypeEnforcementTypes></ResourceLabel>
    </ObjectLabels>
  </SecurityLabelTemplate>
</SecurityPolicyDefinition>
EOF
TOY=$T/toy.bin
expect toy-compile 0 "policy 'toy' version 1\.0: 3 STE \+ 3 CHWALL types, 5 labels \(3 VM, 2 resource\), 1 conflict set, [0-9]+ bytes, sha256 [0-9a-f]{16}" \
	-- "$P" compile "$T/toy.xml" -o "$TOY"
expect toy-compile-quiet 0 '' -- "$P" compile "$T/toy.xml" -o "$T/toy-q.bin" --quiet
out=$("$P" compile "$T/toy.xml" -o "$T/toy-q2.bin" -q 2>&1)
ok toy-quiet-silent "$([ -z "$out" ]; echo $?)" "--quiet printed: $out"
cmp -s "$TOY" "$T/toy-q.bin"
ok toy-deterministic $? "two compiles of one policy differ"
cp "$T/toy.xml" "$T/toy-default.xml"
expect toy-default-output 0 'toy-default\.bin' -- "$P" compile "$T/toy-default.xml"
cmp -s "$TOY" "$T/toy-default.bin"
ok toy-default-output-same $? "default output differs from -o output"

# ---------------------------------------------------------------- decide: --share
D=(decide "$TOY")
expect_first share-same 0 'permit' -- "$P" "${D[@]}" --share Blue Blue
expect_first share-admin-red 0 'permit' -- "$P" "${D[@]}" --share Admin Red
expect_first share-red-admin 0 'permit' -- "$P" "${D[@]}" --share Red Admin
expect_first share-blue-red 1 "deny: no common STE type between 'Blue' {Blue} and 'Red' {Red}" \
	-- "$P" "${D[@]}" --share Blue Red
expect_first share-red-blue 1 "deny: no common STE type between 'Red' {Red} and 'Blue' {Blue}" \
	-- "$P" "${D[@]}" --share Red Blue
expect_first share-mode-last 0 'permit' -- "$P" decide --share "$TOY" Blue Admin
expect_first share-no-unlabeled 1 'deny: policy defines no __UNLABELED__ label' \
	-- "$P" "${D[@]}" --share __UNLABELED__ Blue
expect share-unknown-label 2 "toy\.bin: --share: unknown VM label 'Green'" \
	-- "$P" "${D[@]}" --share Blue Green
expect share-resource-as-vm 2 "'BlueDisk' is a resource label, not a VM label" \
	-- "$P" "${D[@]}" --share Blue BlueDisk
expect share-explain 0 "both hold STE type 'Blue'" -- "$P" "${D[@]}" --share Blue Admin --explain
expect share-explain-v 1 "no STE type is held by both labels" -- "$P" "${D[@]}" -v --share Blue Red
expect_first share-explain-first 1 "deny: no common STE type between 'Blue' {Blue} and 'Red' {Red}" \
	-- "$P" "${D[@]}" --share Blue Red --explain
expect share-too-few 2 '--share needs POLICY.bin and two VM labels' -- "$P" "${D[@]}" --share Blue

# ---------------------------------------------------------------- decide: --create
expect_first create-alone 0 'permit' -- "$P" "${D[@]}" --create Red
expect_first create-red-blue-running 1 "deny: Chinese Wall: type 'Red' of 'Red' conflicts with running type 'Blue' in conflict set 'BR'" \
	-- "$P" "${D[@]}" --create Red --running Blue
expect_first create-blue-red-running 1 "deny: Chinese Wall: type 'Blue' of 'Blue' conflicts with running type 'Red' in conflict set 'BR'" \
	-- "$P" "${D[@]}" --create Blue --running Admin,Red,Red
expect_first create-same-type 0 'permit' -- "$P" "${D[@]}" --create Red --running Red,Red,Admin
expect_first create-admin 0 'permit' -- "$P" "${D[@]}" --create Admin --running Blue
expect_first create-empty-running 0 'permit' -- "$P" "${D[@]}" --create Blue --running ''
expect_first create-historical 0 'permit' -- "$P" "${D[@]}" --create Blue --running Admin,Blue --historical
expect create-historical-deny 1 "^deny: Chinese Wall.*'Red' of 'Red'" \
	-- "$P" "${D[@]}" --create Red --running Blue --historical
expect create-inconsistent 2 "toy\.bin: --running: labels '(Blue|Red)' and '(Red|Blue)' cannot run together.*'BR'" \
	-- "$P" "${D[@]}" --create Admin --running Blue,Admin,Red
expect create-unknown-running 2 "unknown VM label 'Green'" -- "$P" "${D[@]}" --create Blue --running Admin,Green
expect create-unknown 2 "toy\.bin: --create: unknown VM label 'Purple'" -- "$P" "${D[@]}" --create Purple
expect_first create-no-unlabeled 1 'deny: policy defines no __UNLABELED__ label' \
	-- "$P" "${D[@]}" --create __UNLABELED__
expect create-explain 1 "running \(1\): Blue" -- "$P" "${D[@]}" --create Red --running Blue --explain
expect create-explain-excluded 0 "types excluded by the running domains: Red" \
	-- "$P" "${D[@]}" --create Admin --running Blue -v
expect create-running-without-create 2 '--running and --historical go with --create' \
	-- "$P" "${D[@]}" --share Blue Blue --running Red

# ---------------------------------------------------------------- decide: --resource
expect_first res-blue-bluedisk 0 'permit' -- "$P" "${D[@]}" --resource Blue BlueDisk
expect_first res-admin-reddisk 0 'permit' -- "$P" "${D[@]}" --resource Admin RedDisk
expect_first res-blue-reddisk 1 "deny: no common STE type between 'Blue' {Blue} and 'RedDisk' {Red}" \
	-- "$P" "${D[@]}" --resource Blue RedDisk
expect_first res-inaccessible 1 'deny: resource label __INACCESSIBLE__ is never accessible' \
	-- "$P" "${D[@]}" --resource Admin __INACCESSIBLE__
expect_first res-unlabeled 1 'deny: policy defines no __UNLABELED__ label' \
	-- "$P" "${D[@]}" --resource Blue __UNLABELED__
expect res-unknown 2 "toy\.bin: --resource: unknown resource label 'GreenDisk'" \
	-- "$P" "${D[@]}" --resource Blue GreenDisk
expect res-vm-as-resource 2 "'Red' is a VM label, not a resource label" \
	-- "$P" "${D[@]}" --resource Blue Red
expect res-explain 0 "resource 'BlueDisk' STE types \{Blue\}" \
	-- "$P" "${D[@]}" --resource Blue BlueDisk --explain

# ---------------------------------------------------------------- decide: --authorize
expect_first auth-admin-blue 0 'permit' -- "$P" "${D[@]}" --authorize Admin Blue
expect_first auth-admin-admin 0 'permit' -- "$P" "${D[@]}" --authorize Admin Admin
expect_first auth-blue-blue 0 'permit' -- "$P" "${D[@]}" --authorize Blue Blue
expect_first auth-blue-red 1 "deny: host 'Blue' lacks STE type 'Red' of 'Red'" \
	-- "$P" "${D[@]}" --authorize Blue Red
expect_first auth-blue-admin 1 "deny: host 'Blue' lacks STE type 'Admin' of 'Admin'" \
	-- "$P" "${D[@]}" --authorize Blue Admin
expect auth-explain 0 "every STE type of 'Red' is held by 'Admin'" \
	-- "$P" "${D[@]}" --authorize Admin Red --explain
expect auth-unknown-host 2 "toy\.bin: --authorize: unknown VM label 'Host'" \
	-- "$P" "${D[@]}" --authorize Host Red

# ---------------------------------------------------------------- decide: argument errors
expect decide-no-mode 2 'give exactly one of --share' -- "$P" decide "$TOY" Blue Red
expect decide-two-modes 2 'give exactly one of --share' -- "$P" decide "$TOY" --share --resource Blue Red
expect decide-missing-file 2 "nonexistent\.bin: No such file" -- "$P" decide "$T/nonexistent.bin" --share Blue Red
expect decide-xml-file 2 "toy\.xml: byte offset 0: .*compile it first" -- "$P" decide "$T/toy.xml" --share Blue Red
expect decide-directory 2 "$T: Is a directory" -- "$P" decide "$T" --share Blue Red

# A policy with an __UNLABELED__ label (Xen's DEFAULT-UL).
if "$P" compile "$XEN/default-ul-security_policy.xml" -o "$T/ul.bin" -q 2>/dev/null; then
	U=(decide "$T/ul.bin")
	expect_first ul-share 0 'permit' -- "$P" "${U[@]}" --share __UNLABELED__ __UNLABELED__
	expect_first ul-share-dom0 0 'permit' -- "$P" "${U[@]}" --share SystemManagement __UNLABELED__
	expect_first ul-create 0 'permit' -- "$P" "${U[@]}" --create __UNLABELED__ --running __UNLABELED__,SystemManagement
	expect_first ul-authorize 0 'permit' -- "$P" "${U[@]}" --authorize SystemManagement __UNLABELED__
	expect_first ul-authorize-rev 1 "deny: host '__UNLABELED__' lacks STE type 'SystemManagement' of 'SystemManagement'" \
		-- "$P" "${U[@]}" --authorize __UNLABELED__ SystemManagement
	expect_first ul-resource 0 'permit' -- "$P" "${U[@]}" --resource SystemManagement __UNLABELED__
else
	ok ul-compile 1 "default-ul-security_policy.xml does not compile"
fi

# ---------------------------------------------------------------- every Xen policy: compile, dump, hash, decompile round trip
n_xen=0
for x in "$XEN"/*.xml; do
	n=$(basename "$x" -security_policy.xml)
	b=$T/xen-$n.bin
	n_xen=$((n_xen + 1))
	expect "xen-compile-$n" 0 "xen-$n\.bin: policy '[^']+' " -- "$P" compile "$x" -o "$b"
	[ -s "$b" ] || continue
	expect "xen-dump-$n" 0 '^bootstrap: ' -- "$P" dump "$b"
	src=$("$P" dump "$b" 2>/dev/null | sed -n 's/^source sha256: //p')
	h=$("$P" hash "$x" 2>/dev/null)
	ok "xen-hash-$n" "$([ -n "$h" ] && [ "$h" = "$src" ]; echo $?)" "hash '$h' != dump source sha256 '$src'"
	hb=$("$P" hash "$b" 2>/dev/null)
	ok "xen-hash-bin-$n" "$([ "$hb" = "$src" ]; echo $?)" "hash of the .bin '$hb' != '$src'"
	expect "xen-decompile-$n" 0 '' -- "$P" decompile "$b" -o "$T/xen-$n.dec.xml"
	if command -v xmllint >/dev/null && [ -f "$XSD" ]; then
		expect "xen-decompile-xsd-$n" 0 'validates' -- xmllint --noout --schema "$XSD" "$T/xen-$n.dec.xml"
	fi
	expect "xen-recompile-$n" 0 '' -- "$P" compile "$T/xen-$n.dec.xml" -o "$T/xen-$n.re.bin" -q
	cmp -s "$b" "$T/xen-$n.re.bin"
	ok "xen-roundtrip-$n" $? "decompile+compile of $n is not byte-identical"
	"$P" decompile "$b" >"$T/xen-$n.dec2.xml" 2>"$T/stderr"
	cmp -s "$T/xen-$n.dec.xml" "$T/xen-$n.dec2.xml"
	ok "xen-decompile-stdout-$n" $? "decompile to stdout differs from -o"
	ok "xen-decompile-quiet-$n" "$([ ! -s "$T/stderr" ]; echo $?)" "decompile warned: $(head -c 300 "$T/stderr")"
done
ok xen-policies-present "$([ "$n_xen" -ge 9 ]; echo $?)" "only $n_xen Xen policies found in $XEN"

# Header fields and renames survive the round trip.
if [ -s "$T/xen-xm-test-update.bin" ]; then
	dec=$T/xen-xm-test-update.dec.xml
	expect upd-dec-from 0 '<Name from="green">GREEN</Name>' -- cat "$dec"
	expect upd-dec-frompolicy 0 '<FromPolicy>' -- cat "$dec"
	expect upd-dec-priority 0 '<ChineseWall priority="PrimaryPolicyComponent">' -- cat "$dec"
	expect upd-dec-date 0 '<Date>Fri Sep 29 14:44:38 2006</Date>' -- cat "$dec"
	expect upd-dec-ns 0 '<SecurityPolicyDefinition xmlns="http://www\.ibm\.com">' -- cat "$dec"
fi

# ---------------------------------------------------------------- dump
expect dump-name 0 '^policy: toy$' -- "$P" dump "$TOY"
expect dump-version 0 '^version: 1\.0$' -- "$P" dump "$TOY"
expect dump-from-none 0 '^FromPolicy: \(none\)$' -- "$P" dump "$TOY"
expect dump-flags 0 '^flags: 0x3 \(STE, CHWALL\)$' -- "$P" dump "$TOY"
expect dump-blob-hash 0 '^blob sha256: [0-9a-f]{64}$' -- "$P" dump "$TOY"
expect dump-ste-type 0 '^  2 Red$' -- "$P" dump "$TOY"
expect dump-conflict 0 '^  BR: \{Blue, Red\}$' -- "$P" dump "$TOY"
expect dump-label-admin 0 "^  row 0 id 0x[0-9a-f]{8} vm +Admin ste=\{Admin, Blue, Red\} chwall=\{Admin\} \[bootstrap\]$" -- "$P" dump "$TOY"
expect dump-label-disk 0 "^  row 3 id 0x[0-9a-f]{8} resource BlueDisk ste=\{Blue\}$" -- "$P" dump "$TOY"
expect dump-bootstrap 0 '^bootstrap: Admin \(row 0\)$' -- "$P" dump "$TOY"
expect dump-unlabeled 0 '^unlabeled: \(none' -- "$P" dump "$TOY"
if [ -s "$T/xen-xm-test-update.bin" ]; then
	expect dump-fromline 0 '^FromPolicy: xm-test 1\.0$' -- "$P" dump "$T/xen-xm-test-update.bin"
	expect dump-rename 0 ' GREEN from=green ste=\{GREEN\}' -- "$P" dump "$T/xen-xm-test-update.bin"
	expect dump-primary 0 '^primary component: CHWALL$' -- "$P" dump "$T/xen-xm-test-update.bin"
fi
# The stable id of a label does not depend on the other labels.
id_toy=$("$P" dump "$TOY" | sed -n 's/^  row [0-9]* id \(0x[0-9a-f]*\) vm *Blue .*/\1/p')
sed 's#<VirtualMachineLabel><Name>Red</Name>#<VirtualMachineLabel><Name>Aqua</Name><SimpleTypeEnforcementTypes><Type>Blue</Type></SimpleTypeEnforcementTypes></VirtualMachineLabel>&#' \
	"$T/toy.xml" >"$T/toy-aqua.xml"
"$P" compile "$T/toy-aqua.xml" -o "$T/toy-aqua.bin" -q 2>/dev/null
id_aqua=$("$P" dump "$T/toy-aqua.bin" 2>/dev/null | sed -n 's/^  row [0-9]* id \(0x[0-9a-f]*\) vm *Blue .*/\1/p')
ok dump-stable-id "$([ -n "$id_toy" ] && [ "$id_toy" = "$id_aqua" ]; echo $?)" "Blue's id changed: '$id_toy' vs '$id_aqua'"

# ---------------------------------------------------------------- damaged blobs
size=$(stat -c %s "$TOY")
head -c 100 "$TOY" >"$T/trunc.bin"
expect dump-truncated 2 "trunc\.bin: byte offset [0-9]+: " -- "$P" dump "$T/trunc.bin"
head -c $((size - 8)) "$TOY" >"$T/short.bin"
expect dump-short 2 "short\.bin: byte offset [0-9]+: " -- "$P" dump "$T/short.bin"
: >"$T/empty.bin"
expect dump-empty 2 "empty\.bin: byte offset 0: " -- "$P" dump "$T/empty.bin"
# flip one bit in the middle of the blob (in the string pool)
cp "$TOY" "$T/flip.bin"
poke "$T/flip.bin" 300 "$(printf '%03o' $(($(od -An -tu1 -j 300 -N 1 "$TOY") ^ 4)))"
ok flip-differs "$(! cmp -s "$TOY" "$T/flip.bin"; echo $?)" "bit flip did not change the file"
expect dump-bitflip 2 "flip\.bin: byte offset [0-9]+: " -- "$P" dump "$T/flip.bin"
cp "$TOY" "$T/magic.bin"
poke "$T/magic.bin" 0 130
expect dump-magic 2 "magic\.bin: byte offset 0: " -- "$P" dump "$T/magic.bin"
expect decompile-bitflip 2 "flip\.bin: byte offset [0-9]+: " -- "$P" decompile "$T/flip.bin"
expect decide-bitflip 2 "flip\.bin: byte offset [0-9]+: " -- "$P" decide "$T/flip.bin" --share Blue Blue
expect graph-bitflip 2 "flip\.bin: byte offset [0-9]+: " -- "$P" graph "$T/flip.bin"
expect dump-missing 2 "nope\.bin: No such file or directory" -- "$P" dump "$T/nope.bin"

# ---------------------------------------------------------------- compile errors
cat >"$T/bad-type.xml" <<'EOF'
<SecurityPolicyDefinition xmlns="http://www.ibm.com">
  <PolicyHeader><PolicyName>bad</PolicyName><Version>1.0</Version></PolicyHeader>
  <SimpleTypeEnforcement><SimpleTypeEnforcementTypes><Type>A</Type></SimpleTypeEnforcementTypes></SimpleTypeEnforcement>
  <SecurityLabelTemplate>
    <SubjectLabels bootstrap="A">
      <VirtualMachineLabel><Name>A</Name>
        <SimpleTypeEnforcementTypes><Type>Undeclared</Type></SimpleTypeEnforcementTypes>
      </VirtualMachineLabel>
    </SubjectLabels>
  </SecurityLabelTemplate>
</SecurityPolicyDefinition>
EOF
expect compile-undeclared 2 "bad-type\.xml:7: error: .*Undeclared" -- "$P" compile "$T/bad-type.xml" -o "$T/bad.bin"
ok compile-error-writes-nothing "$([ ! -e "$T/bad.bin" ]; echo $?)" "a failed compile wrote $T/bad.bin"
printf '<SecurityPolicyDefinition xmlns="http://www.ibm.com"><PolicyHeader>\n' >"$T/broken.xml"
expect compile-malformed 2 "broken\.xml:[0-9]+: error: " -- "$P" compile "$T/broken.xml" -o "$T/broken.bin"
expect compile-missing 2 "missing\.xml" -- "$P" compile "$T/missing.xml" -o "$T/m.bin"
expect compile-unwritable 2 "/nonexistent-dir/x\.bin: " -- "$P" compile "$T/toy.xml" -o /nonexistent-dir/x.bin
expect hash-missing 2 "missing\.xml: No such file" -- "$P" hash "$T/missing.xml"
expect graph-malformed 2 "broken\.xml:[0-9]+: error: " -- "$P" graph "$T/broken.xml"

# A label holding both types of a conflict set: error, or a warning on request.
sed 's#<ChineseWallTypes><Type>Admin</Type></ChineseWallTypes>#<ChineseWallTypes><Type>Blue</Type><Type>Red</Type></ChineseWallTypes>#' \
	"$T/toy.xml" >"$T/selfconf.xml"
expect selfconflict-error 2 "selfconf\.xml:[0-9]+: error: " -- "$P" compile "$T/selfconf.xml" -o "$T/sc.bin"
expect selfconflict-warning 0 "selfconf\.xml:[0-9]+: warning: " -- "$P" compile "$T/selfconf.xml" -o "$T/sc.bin" --self-conflict-warning

# ---------------------------------------------------------------- hash
h1=$("$P" hash "$T/toy.xml")
# Reordering elements does not change the canonical hash.
sed -e 's#<Type>Admin</Type><Type>Blue</Type><Type>Red</Type>#<Type>Red</Type><Type>Admin</Type><Type>Blue</Type>#' "$T/toy.xml" >"$T/toy-reordered.xml"
h2=$("$P" hash "$T/toy-reordered.xml")
ok hash-format "$([[ $h1 =~ ^[0-9a-f]{64}$ ]]; echo $?)" "hash printed '$h1'"
ok hash-order-independent "$([ "$h1" = "$h2" ]; echo $?)" "reordered types changed the hash"
"$P" compile "$T/toy-reordered.xml" -o "$T/toy-reordered.bin" -q
cmp -s "$TOY" "$T/toy-reordered.bin"
ok compile-order-independent $? "reordered types changed the binary"
expect hash-matches-summary 0 "sha256 ${h1:0:16}" -- "$P" compile "$T/toy.xml" -o "$T/toy3.bin"

# ---------------------------------------------------------------- graph
expect graph-xml 0 '' -- "$P" graph "$T/toy.xml" -o "$T/toy.dot"
expect graph-xml-file 0 '^digraph ' -- cat "$T/toy.dot"
expect graph-bin 0 '' -- "$P" graph "$TOY" -o "$T/toy-bin.dot"
cmp -s "$T/toy.dot" "$T/toy-bin.dot"
ok graph-xml-equals-bin $? "graph of the XML and of the binary differ"
"$P" graph "$T/toy-reordered.xml" >"$T/toy-reordered.dot"
cmp -s "$T/toy.dot" "$T/toy-reordered.dot"
ok graph-deterministic $? "graph depends on element order"
g=$T/toy.dot
count() { grep -c -- "$1" "$g"; }
ok graph-ste-edges "$([ "$(count '\[style=solid\]')" -eq 7 ]; echo $?)" "want 7 STE edges, got $(count '\[style=solid\]')"
ok graph-cw-edges "$([ "$(count '\[style=dashed\]')" -eq 3 ]; echo $?)" "want 3 CHWALL edges, got $(count '\[style=dashed\]')"
ok graph-conflict-edge "$([ "$(count '"cw:Blue" -> "cw:Red" \[dir=none, color=red')" -eq 1 ]; echo $?)" "conflict edge Blue--Red missing"
ok graph-vm-nodes "$([ "$(count 'shape=box')" -eq 3 ]; echo $?)" "want 3 VM label nodes"
ok graph-res-nodes "$([ "$(count 'shape=cylinder')" -eq 2 ]; echo $?)" "want 2 resource nodes"
ok graph-type-nodes "$([ "$(count 'shape=ellipse')" -eq 3 ] && [ "$(count 'shape=hexagon')" -eq 3 ]; echo $?)" "want 3+3 type nodes"
ok graph-bootstrap "$(grep -q '"vm:Admin" \[label="Admin\\n\[bootstrap\]".*fillcolor=gold' "$g"; echo $?)" "bootstrap node not highlighted"
ok graph-braces "$([ "$(grep -c '{' "$g")" -eq "$(grep -c '}' "$g")" ]; echo $?)" "unbalanced braces"
expect graph-stdout 0 '"vm:Blue" -> "ste:Blue" \[style=solid\];' -- "$P" graph "$TOY"
if command -v dot >/dev/null; then
	expect graph-dot-toy 0 '' -- dot -Tsvg -o "$T/toy.svg" "$g"
	for b in "$T"/xen-*.re.bin; do
		[ -e "$b" ] || continue
		n=$(basename "$b" .re.bin)
		"$P" graph "$b" -o "$T/$n.dot" 2>/dev/null
		expect "graph-dot-$n" 0 '' -- dot -Tsvg -o "$T/$n.svg" "$T/$n.dot"
	done
fi
# Names that need quoting in DOT and escaping in XML survive both.
cat >"$T/odd.xml" <<'EOF'
<SecurityPolicyDefinition xmlns="http://www.ibm.com">
  <PolicyHeader><PolicyName>odd &amp; "quoted"</PolicyName><Reference>a &lt;ref&gt;</Reference><Version>2.10</Version></PolicyHeader>
  <SimpleTypeEnforcement priority="PrimaryPolicyComponent"><SimpleTypeEnforcementTypes><Type>A&amp;B</Type><Type>C</Type></SimpleTypeEnforcementTypes></SimpleTypeEnforcement>
  <ChineseWall><ChineseWallTypes><Type>A&amp;B</Type><Type>C</Type></ChineseWallTypes>
    <ConflictSets><Conflict name="B&amp;R &quot;x&quot;"><Type>A&amp;B</Type><Type>C</Type></Conflict></ConflictSets>
  </ChineseWall>
  <SecurityLabelTemplate>
    <SubjectLabels bootstrap="dom 0">
      <VirtualMachineLabel><Name>dom 0</Name>
        <SimpleTypeEnforcementTypes><Type>A&amp;B</Type><Type>C</Type></SimpleTypeEnforcementTypes></VirtualMachineLabel>
      <VirtualMachineLabel><Name>été</Name>
        <SimpleTypeEnforcementTypes><Type>C</Type></SimpleTypeEnforcementTypes>
        <ChineseWallTypes><Type>C</Type></ChineseWallTypes></VirtualMachineLabel>
    </SubjectLabels>
    <ObjectLabels>
      <ResourceLabel><Name>Blue\Disk &lt;1&gt;</Name><SimpleTypeEnforcementTypes><Type>C</Type></SimpleTypeEnforcementTypes></ResourceLabel>
    </ObjectLabels>
  </SecurityLabelTemplate>
</SecurityPolicyDefinition>
EOF
expect odd-compile 0 '' -- "$P" compile "$T/odd.xml" -o "$T/odd.bin" -q
expect odd-graph 0 '' -- "$P" graph "$T/odd.bin" -o "$T/odd.dot"
expect odd-graph-node 0 '"res:Blue\\\\Disk <1>"' -- cat "$T/odd.dot"
expect odd-graph-conflict 0 'label="B&R \\"x\\""' -- cat "$T/odd.dot"
expect odd-graph-title 0 'label="policy odd & \\"quoted\\" 2\.10"' -- cat "$T/odd.dot"
expect_first odd-decide 0 'permit' -- "$P" decide "$T/odd.bin" --resource 'été' 'Blue\Disk <1>'
if command -v dot >/dev/null; then
	expect odd-dot 0 '' -- dot -Tsvg -o "$T/odd.svg" "$T/odd.dot"
fi
expect odd-decompile 0 '' -- "$P" decompile "$T/odd.bin" -o "$T/odd.dec.xml"
"$P" compile "$T/odd.dec.xml" -o "$T/odd.re.bin" -q 2>/dev/null
cmp -s "$T/odd.bin" "$T/odd.re.bin"
ok odd-roundtrip $? "escaped names do not round-trip"

# ---------------------------------------------------------------- update-check (xm-test -> xm-test-update)
OLD=$T/xen-xm-test.bin NEW=$T/xen-xm-test-update.bin
UC=(update-check "$OLD" "$NEW")
expect_first upd-ok 0 'ok' -- "$P" "${UC[@]}"
expect upd-map-rename 0 '^  vm +green -> GREEN \(renamed\)$' -- "$P" "${UC[@]}"
expect upd-map-res-rename 0 '^  resource red -> RED \(renamed\)$' -- "$P" "${UC[@]}"
expect upd-map-removed 0 '^  vm +blue -> \(removed\)$' -- "$P" "${UC[@]}"
expect upd-map-same 0 '^  vm +SystemManagement -> SystemManagement$' -- "$P" "${UC[@]}"
expect_first upd-green-running 0 'ok' -- "$P" "${UC[@]}" --running green
expect upd-explain 0 '^  domain 1: green -> GREEN$' -- "$P" "${UC[@]}" --running green --explain
expect_first upd-blue-removed 1 "blocked: label 'blue' (domain 1) is removed by the update" \
	-- "$P" "${UC[@]}" --running blue
expect_first upd-blue-domid 1 "blocked: label 'blue' (domain 3) is removed by the update" \
	-- "$P" "${UC[@]}" --running blue@3
expect_first upd-conflict 1 "blocked: domains 1 (green) and 2 (red) would conflict in set 'RER'" \
	-- "$P" "${UC[@]}" --running green,red
expect_first upd-conflict-domids 1 "blocked: domains 3 (green) and 4 (red) would conflict in set 'RER'" \
	-- "$P" "${UC[@]}" --running green@3,red@4
out=$("$P" "${UC[@]}" --running blue@5,green@3,red@4 2>&1)
ok upd-all-blockers "$([ "$(grep -c '^blocked: ' <<<"$out")" -ge 2 ]; echo $?)" "want every blocker listed: $out"
expect_first upd-resource-ok 0 'ok' -- "$P" "${UC[@]}" --running green@3 --resource 3:green
expect upd-resource-removed 1 "^blocked: resource label 'blue' \(in use by domain 2\) is removed by the update$" \
	-- "$P" "${UC[@]}" --running SystemManagement@1,green@2 --resource 2:blue
expect_first upd-share-ok 0 'ok' -- "$P" "${UC[@]}" --running red --share 0:1
expect upd-reverse 1 '^blocked: ' -- "$P" update-check "$NEW" "$OLD"
expect upd-self 1 '^blocked: ' -- "$P" update-check "$OLD" "$OLD"
expect upd-unknown-label 2 "xen-xm-test\.bin: --running: unknown VM label 'GREEN'" -- "$P" "${UC[@]}" --running GREEN
expect upd-share-unknown-dom 2 "--share: '1:9': domain 9 is not in the running list" -- "$P" "${UC[@]}" --running red --share 1:9
expect upd-share-syntax 2 "--share: '1-2': expected DOMID:DOMID" -- "$P" "${UC[@]}" --running red --share 1-2
expect upd-resource-syntax 2 "--resource: 'x': expected DOMID:RESOURCE_LABEL" -- "$P" "${UC[@]}" --running red --resource x
expect upd-resource-unknown 2 "unknown resource label 'purple'" -- "$P" "${UC[@]}" --running red --resource 1:purple
expect upd-dup-domid 2 'domid 3 is listed twice' -- "$P" "${UC[@]}" --running red@3,green@3
expect upd-missing 2 "nope\.bin: No such file" -- "$P" update-check "$OLD" "$T/nope.bin"
expect upd-one-arg 2 'expected 2 arguments, got 1' -- "$P" update-check "$OLD"

# ---------------------------------------------------------------- update-check: every kind of blocker, on the toy policy
sed -e 's#<Version>1.0</Version></PolicyHeader>#<Version>1.1</Version><FromPolicy><PolicyName>toy</PolicyName><Version>1.0</Version></FromPolicy></PolicyHeader>#' \
	-e 's#<Type>Admin</Type><Type>Blue</Type><Type>Red</Type></SimpleTypeEnforcementTypes>#<Type>Admin</Type><Type>Red</Type></SimpleTypeEnforcementTypes>#' \
	-e 's#<Name>Blue</Name>#<Name from="Blue">Navy</Name>#' \
	-e 's#<Name>BlueDisk</Name><SimpleTypeEnforcementTypes><Type>Blue</Type>#<Name>BlueDisk</Name><SimpleTypeEnforcementTypes><Type>Red</Type>#' \
	"$T/toy.xml" >"$T/toy2.xml"
sed -e 's#<Version>1.0</Version></PolicyHeader>#<Version>2.0</Version><FromPolicy><PolicyName>toy</PolicyName><Version>1.0</Version></FromPolicy></PolicyHeader>#' \
	-e 's#bootstrap="Admin"#bootstrap="Boss"#' -e 's#<Name>Admin</Name>#<Name>Boss</Name>#' \
	-e 's#<Name>Red</Name>#<Name from="Ghost">Red</Name>#' \
	"$T/toy.xml" >"$T/toy3.xml"
T2=$T/toy2.bin T3=$T/toy3.bin
expect toy2-compile 0 '' -- "$P" compile "$T/toy2.xml" -o "$T2" -q
expect toy3-compile 0 '' -- "$P" compile "$T/toy3.xml" -o "$T3" -q
expect_first toy-upd-ok 0 'ok' -- "$P" update-check "$TOY" "$T2" --running Blue,Admin@7
expect toy-upd-rename 0 '^  vm +Blue -> Navy \(renamed\)$' -- "$P" update-check "$TOY" "$T2"
expect toy-upd-explain 0 '^  domain 1: Blue -> Navy$' -- "$P" update-check "$TOY" "$T2" --running Blue,Admin@7 -v
expect_first toy-upd-share 1 "blocked: domains 0 (Admin) and 1 (Blue) share through an event channel but would have no common STE type" \
	-- "$P" update-check "$TOY" "$T2" --running Blue --share 0:1
expect_first toy-upd-share-evtchn 1 "blocked: domains 1 (Blue) and 0 (Admin) share through an event channel but would have no common STE type" \
	-- "$P" update-check "$TOY" "$T2" --running Blue --share 1:0:evtchn
expect_first toy-upd-grant 1 "blocked: domains 0 (Admin) and 1 (Blue) share through a grant but would have no common STE type" \
	-- "$P" update-check "$TOY" "$T2" --running Blue --share 0:1:grant
expect toy-upd-share-kind 2 "--share: '0:1:pipe': kind must be evtchn or grant" \
	-- "$P" update-check "$TOY" "$T2" --running Blue --share 0:1:pipe
expect_first toy-upd-share-ok 0 'ok' -- "$P" update-check "$TOY" "$T2" --running Red,Red --share 0:1,1:2
expect_first toy-upd-resource 1 "blocked: domain 1 (Blue) would lose access to resource 'BlueDisk'" \
	-- "$P" update-check "$TOY" "$T2" --running Blue --resource 1:BlueDisk
expect_first toy-upd-resource-ok 0 'ok' -- "$P" update-check "$TOY" "$T2" --running Red --resource 1:RedDisk,0:BlueDisk
expect toy-upd-bootstrap 1 "^blocked: dom0's label 'Admin' would change or vanish \(domain 0 runs it; the update removes it\)$" \
	-- "$P" update-check "$TOY" "$T3"
expect toy-upd-bad-rename 1 "^blocked: label 'Red' is renamed from 'Ghost', which the running policy does not define$" \
	-- "$P" update-check "$TOY" "$T3"
expect toy-upd-dom0-listed 1 "^blocked: label 'Admin' \(domain 3\) is removed by the update$" \
	-- "$P" update-check "$TOY" "$T3" --running Blue@0,Admin@3
expect_first toy-upd-version 1 "blocked: FromPolicy version 1.0 does not match the running version 1.1" \
	-- "$P" update-check "$T2" "$T2"
expect_first toy-upd-no-from 1 "blocked: 'toy' has no FromPolicy naming the running policy 'toy'" \
	-- "$P" update-check "$TOY" "$TOY"
expect toy-upd-unlabeled 1 '^blocked: FromPolicy names' -- "$P" update-check "$T/xen-xm-test-update.bin" "$T/xen-xm-test-update.bin" --running __UNLABELED__
expect toy-upd-no-unlabeled 2 "toy\.bin: --running: policy defines no __UNLABELED__ label" \
	-- "$P" update-check "$TOY" "$T2" --running __UNLABELED__
expect toy-upd-bad-domid 2 "--running: 'Blue@99999999999': domid out of range" \
	-- "$P" update-check "$TOY" "$T2" --running Blue@99999999999

# ---------------------------------------------------------------- compile to stdout, help word
"$P" compile "$T/toy.xml" -o - 2>"$T/stderr" | cmp -s - "$TOY"
ok compile-stdout $? "compile -o - differs from the file"
expect compile-stdout-summary 0 "^-: policy 'toy'" -- cat "$T/stderr"
expect help-decide-word 0 '^usage: hvsec-polc decide POLICY\.bin --share' -- "$P" help decide
expect help-unknown-word 2 "unknown command 'nope'" -- "$P" help nope

# ---------------------------------------------------------------- decompile of blobs that were not made from their text
cp "$TOY" "$T/src-hash.bin"
poke "$T/src-hash.bin" 40 000
rehash "$T/src-hash.bin"
expect tamper-dump 0 '^policy: toy$' -- "$P" dump "$T/src-hash.bin"
expect tamper-decompile-warns 0 'first difference at byte offset 40 \(source hash' -- "$P" decompile "$T/src-hash.bin" -o "$T/src-hash.xml"
# The policy name "toy" is the last string of the pool: "to\377" keeps the
# pool sorted, so the engine loads it, but XML cannot carry the byte.
off=$(grep -obUa 'toy' "$TOY" | head -n 1 | cut -d: -f1)
cp "$TOY" "$T/utf8.bin"
poke "$T/utf8.bin" $((off + 2)) 377
rehash "$T/utf8.bin"
expect utf8-dump 0 '^policy: to' -- "$P" dump "$T/utf8.bin"
expect utf8-decompile 2 "utf8\.xml: cannot write: a name in the policy is not valid UTF-8" -- "$P" decompile "$T/utf8.bin" -o "$T/utf8.xml"
ok utf8-nothing-written "$([ ! -e "$T/utf8.xml" ]; echo $?)" "a refused decompile wrote a file"
# A policy compiled with --self-conflict-warning decompiles without complaint.
out=$("$P" decompile "$T/sc.bin" -o "$T/sc.dec.xml" 2>&1)
rc=$?
ok sc-decompile-quiet "$([ $rc -eq 0 ] && [ -z "$out" ]; echo $?)" "decompile complained ($rc): $out"
"$P" compile "$T/sc.dec.xml" -o "$T/sc.re.bin" -q --self-conflict-warning 2>/dev/null
cmp -s "$T/sc.bin" "$T/sc.re.bin"
ok sc-roundtrip $? "self-conflicting policy does not round-trip"

tl_done
