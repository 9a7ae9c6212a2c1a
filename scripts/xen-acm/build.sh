#!/usr/bin/env bash
# scripts/xen-acm/build.sh: `make xen-acm`, Xen 4.17 with the hvsec ACM
# compiled in as an XSM module (`xsm=acm`).
#
#   1. deps     scripts/deps.sh xen-acm (bison, flex, checkpolicy, ...)
#   2. source   a deb-src entry for bookworm main (added if missing), then
#               `apt-get source xen` of $XEN_SRC_VERSION into build/xen-acm/
#               dl/ (the bookworm-security version has no source package)
#   3. tree     build/xen-acm/src: unpacked with Debian's patches, plus our
#               hooks/xen/xen-4.17-acm.patch; re-made when the patch changes
#   4. module   xen/xsm/hvsec/ = symlinks to hooks/xen/Makefile.xen,
#               hooks/xen/acm_xsm.c, acm/*.c and acm/ itself: Xen compiles
#               the very files the rest of hvsec compiles.  There is no
#               built-in policy: the policy is a multiboot module or comes
#               from `xl loadpolicy` (docs/xsm-acm.md).
#   5. build    Debian's config (debian/xen-kconfig) + CONFIG_XSM=y
#               CONFIG_XSM_ACM=y, `make -C xen`
#   6. cache    build/xen-acm/out/<key>/{xen,xen.gz,xen-syms,config,build.log}
#               (xen: the multiboot image QEMU's -kernel boots),
#               key = hash of the patch, hooks/xen/, acm/,
#               this script and the Xen version; build/xen-acm/xen, xen.gz
#               and xen-syms link to the newest.  An unchanged key builds nothing;
#               the 4 newest builds are kept.
#
# Needs root the first time (deb-src entry, packages).  ~60 s for a clean
# hypervisor build on 2 cores.  Environment: HVSEC_XEN_ACM_JOBS (make -j,
# default nproc).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD

XEN_SRC_VERSION=4.17.5+72-g01140da4e8-1
W=$ROOT/build/xen-acm
PATCH=$ROOT/hooks/xen/xen-4.17-acm.patch
JOBS=${HVSEC_XEN_ACM_JOBS:-$(nproc)}
T0=$SECONDS

say() { printf 'xen-acm: [%4ss] %s\n' $((SECONDS - T0)) "$*"; }
die() {
	printf 'xen-acm: error: %s\n' "$*" >&2
	exit 1
}

# ---------------------------------------------------------------- 1. deps
bash scripts/deps.sh xen-acm || die "missing packages (see above)"

# ---------------------------------------------------------------- 2. source
mkdir -p "$W/dl"
dsc=$W/dl/xen_${XEN_SRC_VERSION}.dsc
if [ ! -f "$dsc" ]; then
	if ! grep -rqsE '^(Types:.*deb-src|deb-src .*bookworm( |$).*main)' \
		/etc/apt/sources.list /etc/apt/sources.list.d/; then
		[ "$(id -u)" -eq 0 ] || die "no deb-src entry for bookworm main; run as root once so one can be added"
		say "adding a deb-src entry for bookworm main"
		cat >/etc/apt/sources.list.d/hvsec-deb-src.sources <<'SRC'
# Added by hvsec scripts/xen-acm/build.sh: `apt-get source xen` (make xen-acm).
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
		apt-get update -qq || die "apt-get update failed"
	fi
	say "fetching the xen $XEN_SRC_VERSION source package"
	if ! (cd "$W/dl" && apt-get source -qq --download-only "xen=$XEN_SRC_VERSION") >"$W/dl/fetch.log" 2>&1; then
		tail -5 "$W/dl/fetch.log" >&2
		die "apt-get source xen=$XEN_SRC_VERSION failed (log: $W/dl/fetch.log); is deb-src for bookworm main configured and 'apt-get update' done?"
	fi
fi
[ -f "$dsc" ] || die "$dsc missing after apt-get source"

# ---------------------------------------------------------------- 3. tree
[ -f "$PATCH" ] || die "$PATCH missing"
patch_sum=$(sha256sum <"$PATCH" | cut -c1-16)
if [ "$(cat "$W/src/.hvsec-tree" 2>/dev/null)" != "$XEN_SRC_VERSION $patch_sum" ]; then
	say "unpacking the source tree with Debian's patches and ours"
	rm -rf "$W/src"
	dpkg-source -q -x "$dsc" "$W/src" >"$W/unpack.log" 2>&1 ||
		die "dpkg-source -x failed (log: $W/unpack.log)"
	patch -s -p1 -d "$W/src" <"$PATCH" >>"$W/unpack.log" 2>&1 ||
		die "hooks/xen/xen-4.17-acm.patch does not apply to xen $XEN_SRC_VERSION (log: $W/unpack.log)"
	echo "$XEN_SRC_VERSION $patch_sum" >"$W/src/.hvsec-tree"
fi

# ---------------------------------------------------------------- 4. module
M=$W/src/xen/xsm/hvsec
rm -rf "$M"
mkdir -p "$M/inc"
ln -s "$ROOT/hooks/xen/Makefile.xen" "$M/Makefile"
ln -s "$ROOT/hooks/xen/acm_xsm.c" "$M/acm_xsm.c"
for f in "$ROOT"/acm/*.c; do ln -s "$f" "$M/$(basename "$f")"; done
ln -s "$ROOT/acm" "$M/inc/acm"

key=$(
	{
		echo "$XEN_SRC_VERSION"
		cat "$PATCH" "$0" hooks/xen/* acm/*
	} | sha256sum | cut -c1-16
)
O=$W/out/$key
link_out() {
	local f
	for f in xen xen.gz xen-syms; do ln -sfn "out/$key/$f" "$W/$f"; done
}
if [ -f "$O/xen" ] && [ -f "$O/xen.gz" ] && [ -f "$O/xen-syms" ]; then
	link_out
	say "cached: build/xen-acm/xen.gz ($key)"
	exit 0
fi

# ---------------------------------------------------------------- 5. build
say "configuring (Debian's xen-kconfig + CONFIG_XSM=y CONFIG_XSM_ACM=y)"
X=$W/src/xen
mkdir -p "$O"
{
	cat "$W/src/debian/xen-kconfig"
	echo "CONFIG_XSM=y"
	echo "CONFIG_XSM_ACM=y"
} >"$W/config.in"
# Rewriting .config regenerates Xen's autoconf and rebuilds everything
# (~100 s); an unchanged config keeps a module-only rebuild incremental.
if ! cmp -s "$W/config.in" "$X/.hvsec-config.in" || [ ! -f "$X/.config" ]; then
	cp "$W/config.in" "$X/.config"
	make -C "$X" olddefconfig >"$O/build.log" 2>&1 || { tail -20 "$O/build.log" >&2; die "make olddefconfig failed"; }
	cp "$W/config.in" "$X/.hvsec-config.in"
fi
grep -qx 'CONFIG_XSM_ACM=y' "$X/.config" || die "CONFIG_XSM_ACM did not survive olddefconfig (is the patch applied?)"

say "building the hypervisor (make -C xen -j$JOBS; log: ${O#"$ROOT"/}/build.log)"
if ! make -C "$X" -j"$JOBS" >>"$O/build.log" 2>&1; then
	grep -E 'error:|Error [0-9]' "$O/build.log" | head -20 >&2
	die "Xen build failed (log: ${O#"$ROOT"/}/build.log)"
fi

# ---------------------------------------------------------------- 6. cache
n=$(nm "$X/xen-syms" | grep -cE ' [tTrRdDbB] acm_')
[ "$n" -gt 0 ] || die "xen-syms holds no acm_ symbols: the module was not linked"
gzip -9 -n -c "$X/xen" >"$O/xen.gz"
cp "$X/xen" "$O/xen"
cp "$X/xen-syms" "$O/xen-syms"
cp "$X/.config" "$O/config"
link_out
# Every source change makes a new key: keep the newest few builds.
# shellcheck disable=SC2012 # the names are hex keys
ls -1dt "$W"/out/*/ 2>/dev/null | tail -n +5 | while read -r old; do rm -rf "$old"; done
say "built build/xen-acm/xen.gz ($key): $n acm_ symbols in xen-syms"
