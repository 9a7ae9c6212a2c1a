# scripts/xen/module.mk - `make test-xen`: the real Xen tier.  Debian's Xen
# 4.17 boots under qemu-system-x86_64 -accel tcg; in its dom0 our vTPM
# backend (hvsec-vtpm-backendd + hvsec-vtpmd-xen) serves a PV guest whose
# tpm2-tools talk to /dev/tpm0 through xen-tpmfront.  The dom0/domU images
# are built from Debian packages once and cached under build/xen/ (keyed on
# a hash of scripts/xen/build-image.sh); our binaries and test scripts reach
# the machine through a 9p share, so changing them needs no rebuild.
# Needs root for the first image build.  See scripts/xen/run.sh.
.PHONY: test-xen
test-xen: all
	$(Q)bash scripts/deps.sh xen
	$(Q)HVSEC_BUILD=$(BUILD) bash scripts/xen/run.sh
