#!/usr/bin/env bash
# xen-platform.sh - hvsec's platform choice on the host (docs/toolstack.md
# "On Xen"): --platform, $HVSEC_PLATFORM and auto, as --help and status
# show them; what the xen platform refuses before it talks to Xen; and,
# on a host without Xen's privcmd, that it says it cannot reach Xen (exit
# 3).  The xen platform's commands themselves are tested against a fake
# Xen in test_xen.c and against real Xen by make test-xen (acm-hvsec-*).
source "$(dirname "$0")/lib-ts.sh"
ts_need "$HVSEC" "$POLC"

T=$TL_TMP
P=$T/t.bin
"$POLC" compile --quiet "$HVSEC_SRC/tests/xen/acm-tenants.xml" -o "$P" ||
	{ echo "FAIL: policy"; echo "0 passed, 1 failed"; exit 1; }
export HVSEC_RUN_DIR=$T/nowhere
unset HVSEC_PLATFORM
export HVSEC_XEN_STATE_DIR=$T/xenstate

# shellcheck disable=SC2016 # a literal $ in the pattern
expect "--help names the platform" 0 'auto \(default; \$HVSEC_PLATFORM\): here model' -- "$HVSEC" --help
expect "status --help" 0 'usage: hvsec status' -- "$HVSEC" status --help
expect "status: model, daemon down" 3 '^Platform +model \(auto: ' -- "$HVSEC" status
json_ok "status --json" "$HVSEC" status --json
expect "--platform bogus" 2 "'bogus' is not model, xen or auto" -- "$HVSEC" --platform bogus list
expect "--platform needs a value" 2 '--platform needs a value' -- "$HVSEC" --platform
expect "\$HVSEC_PLATFORM bogus" 2 "HVSEC_PLATFORM: 'x' is not" \
	-- env HVSEC_PLATFORM=x "$HVSEC" list
expect "--platform wins over the environment" 3 'Platform +model \(chosen by --platform\)' \
	-- env HVSEC_PLATFORM=xen "$HVSEC" --platform model status
expect "--platform=auto form" 3 'Platform +model \(auto: ' -- "$HVSEC" --platform=auto status
expect "--record on the model" 2 '--record: only on the xen platform' \
	-- "$HVSEC" policy load --record "$P"
expect "xen: create is xl's" 2 'not available on the xen platform \(use xl' \
	-- "$HVSEC" --platform xen create "$T/x.cfg"
expect "xen: audit is hvsecd's" 2 'audit: not available on the xen platform' \
	-- "$HVSEC" --platform xen audit
expect "xen: no resource labels" 2 'Xen has no resource labels' \
	-- "$HVSEC" --platform xen label add AcmeDisk res file:/x.img
expect "xen: --revoke" 2 'revoke' -- "$HVSEC" --platform xen policy update --revoke "$P"
expect "xen: bad policy file first" 2 'nope.bin: No such file' \
	-- "$HVSEC" --platform xen policy load "$T/nope.bin"
expect "xen: relabel to a bad context" 2 "'a:b' is not LABEL or ACM:POLICY:LABEL" \
	-- "$HVSEC" --platform xen relabel 1 a:b
expect "xen: mode turbo" 2 "'turbo': on Xen only enforcing" -- "$HVSEC" --platform xen mode turbo
expect "xen: labels from a file need no Xen" 0 '^Acme$' \
	-- "$HVSEC" --platform xen labels --policy "$P"
expect "xen: label get dom needs no Xen" 0 'no label' \
	-- bash -c "printf 'name = \"a\"\nkernel = \"/bin/true\"\n' >'$T/a.cfg'; '$HVSEC' --platform xen label get dom '$T/a.cfg'"
if [ -e /dev/xen/privcmd ] || [ -e /proc/xen/privcmd ]; then
	echo "# this host has Xen's privcmd: the unreachable-Xen checks are skipped"
else
	expect "xen: status without Xen" 3 'Platform +xen \(chosen by --platform\)' \
		-- "$HVSEC" --platform xen status
	expect "xen: list without Xen" 3 'cannot talk to Xen' -- env HVSEC_PLATFORM=xen "$HVSEC" list
	expect "xen: labels without Xen or --policy" 3 'cannot talk to Xen' \
		-- "$HVSEC" --platform xen labels
fi

tl_done
