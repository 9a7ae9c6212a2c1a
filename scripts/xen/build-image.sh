#!/usr/bin/env bash
# scripts/xen/build-image.sh: builds, once, everything `make test-xen` boots
# that comes from Debian: the Xen hypervisor, a dom0 (kernel, small initrd,
# ext4 root image) and the parts of the guest that do not change between
# runs.  The real Xen tier (`make test-xen`, scripts/xen/module.mk):
#
#   build-image.sh  debootstrap a bookworm root, install the kernel, Xen 4.17,
#                   its tools, tpm2-tools and libtpms0 from bookworm +
#                   -updates + -security (so they match the host's libxen*,
#                   which our binaries are linked against); make the images.
#   run.sh          boots Xen under qemu-system-x86_64 -accel tcg with a 9p
#                   share holding our binaries, dom0-init.sh and the guest's
#                   /init, then reads PASS/FAIL from the share and the serial
#                   log and prints a table of stage times.
#   dom0-init.sh    dom0's test driver (the image's PID 1 stub execs it from
#                   the share): Xen tools, our vTPM backend, two boots of one
#                   PV guest with a vTPM, xl destroy checks.
#   domU-init.sh    the guest's /init: xen-tpmfront, tpm2-tools on /dev/tpm0.
#
# Nothing of ours is baked into the image (only a PID 1 stub that mounts the
# share), so new binaries or test scripts never force a rebuild.  The output
# directory is build/xen/<first 16 hex of sha256 of this file>/; when it is
# complete (it holds a file "ok") the build is skipped, and a new recipe
# removes the old directories.  Downloaded .debs stay in build/xen/debs.
# Prints the directory on the last line of stdout, progress on stderr.
# Needs root (debootstrap, chroot) and a Debian mirror: HVSEC_XEN_MIRROR
# (default http://deb.debian.org/debian), HVSEC_XEN_SECURITY_MIRROR.
#
# Outputs: xen (multiboot ELF), vmlinuz + initrd.img (dom0), dom0.img (ext4
# root), versions.txt, build.log.  The guest's files are inside dom0.img,
# under /var/lib/hvsec-guest/ (virtio-blk is much faster than 9p under
# TCG): vmlinux (uncompressed: saves xl create ~6 s of XZ in dom0 under
# TCG) and domU-base.cpio (busybox, tpm2-tools + libraries,
# xen-tpmfront.ko), to which dom0-init.sh appends the run's /init.
set -euo pipefail
cd "$(dirname "$0")/../.."

mirror=${HVSEC_XEN_MIRROR:-http://deb.debian.org/debian}
security=${HVSEC_XEN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
self=scripts/xen/build-image.sh
hash=$(sha256sum "$self" | cut -c1-16)
top=build/xen
out=$top/$hash
t0=$(date +%s)

say() { printf 'xen-image: [%3ss] %s\n' $(($(date +%s) - t0)) "$*" >&2; }
die() { printf 'xen-image: error: %s\n' "$*" >&2; exit 1; }

if [ -f "$out/ok" ]; then
	say "cached image $out (recipe $hash), skipping the build"
	echo "$out"
	exit 0
fi

[ "$(id -u)" -eq 0 ] || die "building the dom0 image needs root (debootstrap, chroot); run as root or build once as root"
for t in debootstrap:debootstrap mkfs.ext4:e2fsprogs cpio:cpio busybox:busybox-static xz:xz-utils; do
	command -v "${t%%:*}" >/dev/null 2>&1 ||
		die "'${t%%:*}' is missing: install the Debian package ${t#*:} (bash scripts/deps.sh xen)"
done

# .debs are kept across recipes in build/xen/debs (debootstrap's and apt's
# cache): a changed recipe rebuilds without downloading again.
debs=$(pwd)/$top/debs
mkdir -p "$debs"
for old in "$top"/*/; do
	old=${old%/}
	if ! [[ $(basename "$old") =~ ^[0-9a-f]{16}$ ]] || [ "$old" = "$out" ]; then
		continue
	fi
	say "removing the image of an older recipe: $old"
	rm -rf "$old"
done
rm -rf "$out"
mkdir -p "$out"
root=$out/root
log=$out/build.log
: >"$log"

# Mounts inside the chroot are undone on every exit path.
mounted=()
cleanup() {
	local i
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		umount -l "${mounted[i]}" 2>/dev/null || true
	done
}
trap cleanup EXIT

# run LABEL CMD...: runs a step with its output in build.log; on failure
# names the step and shows what apt/debootstrap said.
run() {
	local label=$1
	shift
	if ! "$@" >>"$log" 2>&1; then
		echo "xen-image: step '$label' failed; last lines of $log:" >&2
		tail -n 25 "$log" | sed 's/^/    /' >&2
		local missing
		missing=$(grep -Eo "Unable to locate package [^ ]+|Package '[^']+' has no installation candidate" "$log" |
			sort -u | head -n 5 | tr '\n' ' ' || true)
		[ -z "$missing" ] || echo "xen-image: apt could not find: $missing" >&2
		grep -q -E 'Failed to fetch|Temporary failure resolving|Could not resolve' "$log" &&
			echo "xen-image: the Debian mirror is unreachable ($mirror); set HVSEC_XEN_MIRROR" >&2
		exit 1
	fi
}

dom0_pkgs="linux-image-amd64 xen-hypervisor-4.17-amd64 xen-utils-4.17 xenstore-utils
	tpm2-tools libtss2-tcti-device0 libtpms0 libxml2 libssl3 busybox kmod procps
	initramfs-tools iproute2"

say "debootstrap bookworm (minbase) into $root (log: $log)"
run debootstrap debootstrap --variant=minbase --include=ca-certificates \
	--cache-dir="$debs" bookworm "$root" "$mirror"

say "adding bookworm-updates and bookworm-security so the kernel and Xen match the host"
cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
EOF
# No services start inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
# The kernel's own initrd is not used (a smaller one is made below).
mkdir -p "$root/etc/initramfs-tools/conf.d"
printf 'MODULES=list\nCOMPRESS=gzip\n' >"$root/etc/initramfs-tools/conf.d/hvsec"

for m in proc sys dev dev/pts var/cache/apt/archives; do
	mkdir -p "$root/$m"
	case $m in
	proc) mount -t proc proc "$root/proc" ;;
	sys) mount -t sysfs sys "$root/sys" ;;
	dev) mount --bind /dev "$root/dev" ;;
	dev/pts) mount --bind /dev/pts "$root/dev/pts" ;;
	var/cache/apt/archives) mount --bind "$debs" "$root/$m" ;;
	esac
	mounted+=("$root/$m")
done

export DEBIAN_FRONTEND=noninteractive
say "apt-get update in the chroot"
run "apt-get update" chroot "$root" apt-get update
say "installing: $(tr -s '\n\t ' ' ' <<<"$dom0_pkgs")"
# shellcheck disable=SC2086
run "apt-get install" chroot "$root" apt-get install -y --no-install-recommends \
	-o Dpkg::Options::=--force-confold $dom0_pkgs
chroot "$root" dpkg-query -W linux-image-amd64 'linux-image-6*' xen-hypervisor-4.17-amd64 \
	xen-utils-4.17 tpm2-tools libtpms0 2>/dev/null | awk 'NF == 2' >"$out/versions.txt" || true
sed 's/^/    /' "$out/versions.txt" >&2

kver=$(basename "$(ls -d "$root"/lib/modules/* | sort -V | tail -n 1)")
[ -f "$root/boot/vmlinuz-$kver" ] || die "no kernel in the chroot (/boot/vmlinuz-$kver)"
xengz=$(ls "$root"/boot/xen-4.17*-amd64.gz 2>/dev/null | head -n 1 || true)
[ -n "$xengz" ] || die "no /boot/xen-4.17*-amd64.gz in the chroot"
tpmfront=$(find "$root/lib/modules/$kver" -name 'xen-tpmfront.ko*' | head -n 1)
[ -n "$tpmfront" ] || die "the kernel $kver has no xen-tpmfront module"

say "kernel $kver, $(basename "$xengz"): extracting boot files"
zcat "$xengz" >"$out/xen"
cp "$root/boot/vmlinuz-$kver" "$out/vmlinuz"
# dom0 initrd of our own (busybox, the modules that find a virtio root,
# switch_root): initramfs-tools' udev-based one costs ~8 s more under TCG.
r=$out/initrd
mkdir -p "$r"/{bin,dev,proc,sys,root,modules}
cp "$(command -v busybox)" "$r/bin/busybox"
for a in sh mount umount insmod sleep switch_root cat; do ln -s busybox "$r/bin/$a"; done
chroot "$root" modprobe -a -S "$kver" --show-depends virtio_pci virtio_blk ext4 |
	awk '$1 == "insmod" && !/crc32c-intel/ && !seen[$2]++ {print $2}' >"$out/initrd.modules"
for m in virtio_blk.ko ext4.ko; do
	grep -q "/$m\$" "$out/initrd.modules" || die "modprobe --show-depends did not list $m for the dom0 initrd"
done
while read -r m; do
	cp "$root$m" "$r/modules/"
	echo "/modules/$(basename "$m")" >>"$r/modules.order"
done <"$out/initrd.modules"
cat >"$r/init" <<'INIT'
#!/bin/sh
# hvsec dom0 initrd (scripts/xen/build-image.sh): virtio root, then
# /sbin/hvsec-init on it.
mount -t proc proc /proc
mount -t devtmpfs dev /dev
while read -r m; do insmod "$m"; done </modules.order
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
mount -t ext4 -o rw /dev/vda /root || { echo "@@hvsec fatal: dom0 cannot mount /dev/vda"; echo o >/proc/sysrq-trigger; }
umount /proc
exec switch_root /root /sbin/hvsec-init
INIT
chmod 755 "$r/init"
(cd "$r" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) >"$out/initrd.img"
rm -rf "$r"
# The bzImage payload is XZ: an ELF vmlinux lets the PV domain builder in
# dom0 skip decompressing it (slow under TCG).
off=$(grep -abo $'\xfd7zXZ\x00' "$out/vmlinuz" | head -n 1 | cut -d: -f1)
[ -n "$off" ] || die "vmlinuz has no XZ payload; cannot extract vmlinux"
g=$root/var/lib/hvsec-guest
mkdir -p "$g"
tail -c +$((off + 1)) "$out/vmlinuz" | xz -dc --single-stream >"$g/vmlinux" 2>/dev/null || true
[ "$(head -c 4 "$g/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ] ||
	die "extracting vmlinux from vmlinuz failed"

say "domU base initramfs: busybox, tpm2-tools and its libraries, xen-tpmfront"
d=$out/domU-base
mkdir -p "$d"/{bin,sbin,usr/lib/x86_64-linux-gnu,usr/lib64,dev,proc,sys,tmp,etc,modules}
ln -s usr/lib "$d/lib"
ln -s usr/lib64 "$d/lib64"
cp "$(command -v busybox)" "$d/bin/busybox"
for a in $("$d/bin/busybox" --list); do
	[ -e "$d/bin/$a" ] || ln -s busybox "$d/bin/$a"
done
cp "$tpmfront" "$d/modules/"
case $tpmfront in *.xz) xz -d "$d/modules/$(basename "$tpmfront")" ;; *.zst) die "zstd modules not handled" ;; esac
cp "$root/usr/bin/tpm2" "$d/bin/tpm2"
for l in "$root"/usr/bin/tpm2_*; do ln -sf tpm2 "$d/bin/$(basename "$l")"; done
# Libraries: what the loader resolves for tpm2 and the device TCTI (dlopened).
tcti=$(cd "$root" && ls usr/lib/x86_64-linux-gnu/libtss2-tcti-device.so.0* | head -n 1)
libs=$(chroot "$root" sh -c "ldd /usr/bin/tpm2 /$tcti" | awk '/=> \//{print $3} /^\t\/lib64/{print $1}' | sort -u)
for l in $libs "/$tcti"; do
	real=$(chroot "$root" readlink -f "$l")
	cp "$root$real" "$d$l"
done
# libtss2 looks the TCTI up by its short and its .so names.
ln -sf "$(basename "$tcti")" "$d/usr/lib/x86_64-linux-gnu/libtss2-tcti-device.so"
[ -e "$d/lib64/ld-linux-x86-64.so.2" ] || cp -L "$root/lib64/ld-linux-x86-64.so.2" "$d/lib64/"
(cd "$d" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$g/domU-base.cpio"
rm -rf "$d"

say "dom0 root image (ext4, sparse 3 GiB)"
# PID 1 stub: mounts the share and hands over to the run's dom0-init.sh.
cat >"$root/sbin/hvsec-init" <<'EOF'
#!/bin/sh
# hvsec dom0 PID 1 stub (scripts/xen/build-image.sh): mount the 9p share and
# run the test driver the host put there.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mountpoint -q /dev || mount -t devtmpfs dev /dev
modprobe 9pnet_virtio; modprobe 9p
mkdir -p /share
if mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 share /share &&
	[ -f /share/dom0-init.sh ]; then
	exec /bin/bash /share/dom0-init.sh
fi
echo "@@hvsec fatal: dom0 could not mount the 9p share or find dom0-init.sh"
echo o >/proc/sysrq-trigger
EOF
chmod 755 "$root/sbin/hvsec-init"
cleanup
mounted=()
chroot "$root" apt-get clean >>"$log" 2>&1
rm -rf "$root"/var/lib/apt/lists/* "$root/usr/sbin/policy-rc.d"
run mkfs mkfs.ext4 -q -F -L hvsec-dom0 -d "$root" "$out/dom0.img" 3G
rm -rf "$root"

echo "$hash $(date -u +%FT%TZ) kernel=$kver" >"$out/ok"
say "done: $out ($(du -sh "$out" | cut -f1) on disk)"
echo "$out"
