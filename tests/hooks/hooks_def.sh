#!/usr/bin/env bash
# hooks_def.sh - a hook that is not implemented fails the build, not the
# guest: hooks/table.c (the one hook table and the wrappers) is compiled
# against copies of hooks.def with one bad line added, and each must be a
# compile error naming the problem.  The unchanged list compiles.
source "$HVSEC_SRC/tests/lib.sh"

CC=${CC:-cc}
T=$TL_TMP
mkdir -p "$T/hooks"
cp "$HVSEC_SRC/hooks/hooks.h" "$HVSEC_SRC/hooks/hooks_impl.h" "$T/hooks/"

# compile_with NAME WANT_EXIT REGEX [LINE]: table.c with LINE appended.
compile_with() {
	local name=$1 want=$2 re=$3 line=${4:-}
	cp "$HVSEC_SRC/hooks/hooks.def" "$T/hooks/hooks.def"
	[ -n "$line" ] && echo "$line" >>"$T/hooks/hooks.def"
	# -I"$T" first: table.c's "hooks/hooks.def" resolves to the copy.
	expect "$name" "$want" "$re" -- "$CC" -std=c11 -Wall -Wextra -Werror \
		-I"$T" -I"$HVSEC_SRC" -D_GNU_SOURCE -c "$HVSEC_SRC/hooks/table.c" \
		-o "$T/table.o"
}

compile_with unchanged 0 ''
compile_with unknown-kind 1 "KIND_sharing|HOOKS_ARGS_sharing" \
	'HOOK(foo, sharing, EVTCHN_SEND, deny)'
compile_with unknown-engine-hook 1 "ACM_HOOK_EVTCHN_SENDX" \
	'HOOK(foo, share, EVTCHN_SENDX, deny)'
compile_with unknown-default 1 "DEFAULT_maybe" \
	'HOOK(foo, share, EVTCHN_SEND, maybe)'
compile_with create-defaults-to-permit 1 "a create hook may not default to permit" \
	'HOOK(foo, create, DOMAIN_CREATE, permit)'
compile_with destroy-defaults-to-deny 1 "a destroy hook may not default to deny" \
	'HOOK(foo, destroy, DOMAIN_DESTROY, deny)'
compile_with resource-on-evtchn 1 "engine hook EVTCHN_SEND is not one a resource hook decides" \
	'HOOK(foo, resource, EVTCHN_SEND, deny)'
compile_with share-on-create 1 "engine hook DOMAIN_CREATE is not one a share hook decides" \
	'HOOK(foo, share, DOMAIN_CREATE, deny)'
compile_with duplicate-name 1 "redeclaration|redefinition|duplicate" \
	'HOOK(evtchn_send, share, EVTCHN_SEND, deny)'
compile_with new-hook-ok 0 '' \
	'HOOK(evtchn_status, share, EVTCHN_SEND, deny)'

tl_done
