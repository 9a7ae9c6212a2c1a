#!/usr/bin/env bash
# cli.sh - the hvsec toolstack without a daemon: help and usage errors,
# exit codes, config label editing (checked against a policy file), policy
# files, and what happens when hvsecd is not there.
source "$(dirname "$0")/lib-ts.sh"
ts_need "$HVSEC" "$POLC"

T=$TL_TMP
P=$T/mt.bin
"$POLC" compile --quiet "$HVSEC_SRC/policies/multi-tenant.xml" -o "$P" ||
	{ echo "FAIL: policy"; echo "0 passed, 1 failed"; exit 1; }
export HVSEC_RUN_DIR=$T/nowhere

# ---- help, usage, exit codes
expect "--help" 0 'Domains:' -- "$HVSEC" --help
expect "--version" 0 '^hvsec [0-9]' -- "$HVSEC" --version
expect "no command" 2 'usage: hvsec' -- "$HVSEC"
expect "unknown command" 2 "unknown command 'frob'" -- "$HVSEC" frob
expect "group alone lists its commands" 2 'policy load' -- "$HVSEC" policy
expect "group --help" 0 'policy update' -- "$HVSEC" policy --help
expect "unknown subcommand" 2 "unknown command 'frob'" -- "$HVSEC" policy frob
expect "help CMD" 0 'usage: hvsec list' -- "$HVSEC" help list
expect "help unknown" 2 "no command 'frob'" -- "$HVSEC" help frob
for c in "policy load" "policy update" "policy show" "policy compile" "policy graph" \
	labels "label add" "label rm" "label get" resources create dry-run destroy \
	pause unpause relabel list console audit stats mode; do
	# shellcheck disable=SC2086
	expect "$c --help" 0 "usage: hvsec $c" -- "$HVSEC" $c --help
done
expect "unknown option" 2 "unknown option '--bogus'" -- "$HVSEC" list --bogus
expect "option value missing" 2 'needs N' -- "$HVSEC" audit --lines
expect "flag with a value" 2 'takes no value' -- "$HVSEC" list --label=yes
expect "missing argument" 2 'missing CFG' -- "$HVSEC" create
expect "extra argument" 2 "unexpected argument 'b'" -- "$HVSEC" destroy a b
expect "--json where there is none" 2 'not available' -- "$HVSEC" destroy x --json
expect "global --json where there is none" 2 'not available' -- "$HVSEC" --json destroy x
expect "bad --timeout" 2 'not a number of seconds' -- "$HVSEC" --timeout x list
expect "label: dom or res" 2 "say dom .* or res" -- "$HVSEC" label add L disk x
expect "labels --type bogus" 2 'not dom, res or any' -- "$HVSEC" labels --type x
expect "audit --count 0" 2 'not a positive number' -- "$HVSEC" audit --count 0
expect "mode bogus" 2 "'turbo' is not a mode" -- "$HVSEC" mode turbo

# ---- no daemon: exit 3 and a hint
expect "no daemon: list" 3 'cannot reach hvsecd at .*/nowhere/control.*is hvsecd running' \
	-- "$HVSEC" list
expect "--run-dir wins over the environment" 3 'at /nonexistent/control' \
	-- "$HVSEC" --run-dir /nonexistent stats
expect "--run-dir=DIR form" 3 'at /nonexistent2/control' \
	-- "$HVSEC" --run-dir=/nonexistent2 stats
expect "no daemon: label add res hints --policy" 3 'with --policy P.bin' \
	-- "$HVSEC" label add AcmeDisk res file:/x.img

# ---- policy files
expect "labels from a file" 0 '^Acme$' -- "$HVSEC" labels --policy "$P"
expect "labels --type res" 0 'AcmeDisk' -- "$HVSEC" labels --policy "$P" --type res
expect "labels --type res has no VM label" 1 '' -- bash -c \
	"$(printf '%q ' "$HVSEC" labels --policy "$P" -t res) | grep -qx Globex"
expect "labels --type any -l" 0 'SystemManagement +dom +.*\[dom0\]' \
	-- "$HVSEC" labels --policy "$P" -t any -l
json_ok "labels --json" "$HVSEC" labels --policy "$P" --json -t any
head -c 4096 /dev/zero | tr '\0' x >"$T/text.bin"
expect "labels: not a policy" 2 'text.bin: not an hvsec binary policy' \
	-- "$HVSEC" labels --policy "$T/text.bin"
expect "labels: missing file" 2 'No such file' -- "$HVSEC" labels --policy "$T/none.bin"
head -c 300 "$P" >"$T/short.bin"
expect "labels: truncated policy names the fault" 2 'short.bin: (byte [0-9]+: )?' \
	-- "$HVSEC" labels --policy "$T/short.bin"
expect "policy load checks the file first" 2 'not an hvsec binary policy' \
	-- "$HVSEC" policy load "$T/text.bin"
expect "policy compile (hvsec-polc)" 0 '' -- "$HVSEC" policy compile \
	"$HVSEC_SRC/policies/multi-tenant.xml" -o "$T/c.bin" --quiet
ok "policy compile wrote the same bytes" "$(cmp -s "$P" "$T/c.bin"; echo $?)" "differs"
printf '<SecurityPolicyDefinition>\n<oops>\n' >"$T/bad.xml"
expect "policy compile: errors name FILE:LINE" 2 'bad.xml:[0-9]+' \
	-- "$HVSEC" policy compile "$T/bad.xml" -o "$T/bad.bin"
expect "policy graph" 0 'digraph' -- "$HVSEC" policy graph "$P"

# ---- config labels (no daemon: --policy)
C=$T/web.cfg
cat >"$C" <<'EOF'
# the web server of tenant Acme
name = "web"
kernel = "/bin/true"     # the guest program
memory = 64
disk = [ 'file:/img/web.img,xvda,w',
         'file:/img/data.img,xvdb,r' ]   # two disks
EOF
cp "$C" "$T/orig.cfg"
chmod 640 "$C"
expect "label get dom: none" 0 'no label' -- "$HVSEC" label get dom "$C"
expect "label add dom" 0 'web.cfg: label ACM:multi-tenant:Acme' \
	-- "$HVSEC" label add Acme dom "$C" --policy "$P"
expect "label get dom" 0 '^ACM:multi-tenant:Acme$' -- "$HVSEC" label get dom "$C"
json_ok "label get dom --json" "$HVSEC" label get dom "$C" --json
expect "the line is xm's access_control" 0 '' \
	-- grep -qx "access_control = \['policy=multi-tenant,label=Acme'\]" "$C"
expect "the other lines are untouched" 0 '' -- bash -c \
	"diff <(grep -v access_control '$C') '$T/orig.cfg'"
expect "mode kept" 0 '640' -- stat -c %a "$C"
expect "relabel in place" 0 'label ACM:multi-tenant:Globex' \
	-- "$HVSEC" label add Globex dom "$C" --policy "$P"
expect "one label line only" 0 '^1$' -- grep -c access_control "$C"
expect "not a VM label" 2 "'AcmeDisk' is not a VM label of policy multi-tenant" \
	-- "$HVSEC" label add AcmeDisk dom "$C" --policy "$P"
expect "unknown label" 2 "'Nobody' is not a VM label" \
	-- "$HVSEC" label add Nobody dom "$C" --policy "$P"
expect "label unchanged after refusals" 0 'Globex' -- "$HVSEC" label get dom "$C"
expect "--force skips the check, not the syntax" 2 'cannot be written' \
	-- "$HVSEC" label add "a,b" dom "$C" --policy "$P" --force
expect "label rm dom" 0 'web.cfg: label removed' -- "$HVSEC" label rm dom "$C"
expect "back to the original bytes" 0 '' -- cmp "$C" "$T/orig.cfg"
expect "label rm dom again" 0 'has no label' -- "$HVSEC" label rm dom "$C"

# seclabel stays seclabel, with its comment; a symlink's target is edited
cat >"$T/s.cfg" <<'EOF'
name = "s"; seclabel = 'ACM:multi-tenant:Acme'   # tenant A
kernel = "/bin/true"
EOF
ln -s s.cfg "$T/link.cfg"
expect "seclabel through a symlink" 0 'label ACM:multi-tenant:Initech' \
	-- "$HVSEC" label add Initech dom "$T/link.cfg" --policy "$P"
expect "still a symlink" 0 '' -- test -L "$T/link.cfg"
expect "seclabel form and comment kept" 0 '' \
	-- grep -qx "name = \"s\"; seclabel = 'ACM:multi-tenant:Initech'   # tenant A" "$T/s.cfg"

# a multi-line access_control list is replaced whole
cat >"$T/m.cfg" <<'EOF'
name = "m"
access_control = [   # label
    'policy=multi-tenant,label=Acme',
]
kernel = "/bin/true"
EOF
expect "multi-line list replaced" 0 'Globex' -- "$HVSEC" label add Globex dom "$T/m.cfg" --policy "$P"
expect "multi-line list gone" 1 '' -- grep -q "label=Acme" "$T/m.cfg"
expect "kernel line survives" 0 '' -- grep -qx 'kernel = "/bin/true"' "$T/m.cfg"

# broken configs are refused with FILE:LINE and left alone
printf 'name = "b"\nkernel = "/bin/true"\nmemory = "lots\n' >"$T/b.cfg"
cp "$T/b.cfg" "$T/b.orig"
expect "broken config: FILE:LINE" 2 'b.cfg:3: error' \
	-- "$HVSEC" label add Acme dom "$T/b.cfg" --policy "$P"
expect "broken config untouched" 0 '' -- cmp "$T/b.cfg" "$T/b.orig"
expect "label add dom: missing file" 2 'No such file' \
	-- "$HVSEC" label add Acme dom "$T/none.cfg" --policy "$P"
expect "create: config errors before the daemon" 2 'b.cfg:3: error' -- "$HVSEC" create "$T/b.cfg"
expect "dry-run: missing config" 2 'none.cfg' -- "$HVSEC" dry-run "$T/none.cfg"
expect "label get res: bad resource" 2 "unknown kind of resource" \
	-- "$HVSEC" label get res disk0

tl_done
