#!/usr/bin/env bash
# deps.sh [build|test|bench|fuzz|demo|xen|xen-acm|all]: makes sure the Debian
# packages hvsec needs are installed, installing the missing ones when run
# as root on Debian/Ubuntu.  Fast when nothing is missing (one dpkg-query).
set -euo pipefail
group=${1:-build}

build_pkgs="build-essential pkg-config libxml2-dev libxml2-utils libssl-dev libxen-dev libtpms-dev libtss2-dev libseccomp-dev"
# tpm2-tools and the two TCTIs our guests serve (mssim, swtpm protocols);
# swtpm as the peer in benchmarks and the platform TPM in tests.
tpm_pkgs="tpm2-tools libtss2-tcti-mssim0 libtss2-tcti-swtpm0 swtpm swtpm-tools"
test_pkgs="$build_pkgs graphviz xenstore-utils $tpm_pkgs"
bench_pkgs="$build_pkgs checkpolicy libsepol-dev $tpm_pkgs"
fuzz_pkgs="$build_pkgs clang libclang-rt-14-dev llvm"
demo_pkgs="$build_pkgs graphviz $tpm_pkgs"
# make test-xen: real Xen 4.17 in QEMU (TCG); the dom0 and domU images are
# built from Debian packages with debootstrap (scripts/xen/build-image.sh).
xen_pkgs="qemu-system-x86 debootstrap busybox-static cpio e2fsprogs gzip xz-utils"
# make xen-acm: Xen 4.17 built from Debian's source package with our XSM
# module (scripts/xen-acm/build.sh); checkpolicy for the FLASK built-in policy.
xen_acm_pkgs="bison flex checkpolicy python3 dpkg-dev patch gzip"
all_pkgs="$build_pkgs $tpm_pkgs checkpolicy libsepol-dev clang libclang-rt-14-dev llvm graphviz clang-format"

case "$group" in
build) want=$build_pkgs ;;
test) want=$test_pkgs ;;
bench) want=$bench_pkgs ;;
fuzz) want=$fuzz_pkgs ;;
demo) want=$demo_pkgs ;;
xen) want="$build_pkgs $xen_pkgs" ;;
xen-acm) want="$build_pkgs $xen_acm_pkgs" ;;
all) want=$all_pkgs ;;
*) echo "deps.sh: unknown group '$group' (build|test|bench|fuzz|demo|xen|xen-acm|all)" >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps.sh: not a Debian system (no dpkg-query); install by hand: $want" >&2
	exit 1
fi

missing=()
for p in $want; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ "$st" == *"install ok installed"* ]] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps.sh: missing Debian packages for '$group': ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: run as root to install them:  apt-get install ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# The package lists may be absent or stale on a fresh machine.
apt-get update -qq || { echo "deps.sh: apt-get update failed" >&2; exit 1; }
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
	echo "deps.sh: apt-get install ${missing[*]} failed" >&2
	exit 1
fi
echo "deps.sh: installed ${missing[*]}"
