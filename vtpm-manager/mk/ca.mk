# vtpm-manager/mk/ca.mk - extra rules of the EK certificate authority
# (vtpm-manager/mgr_ca.c): its libFuzzer harness tests/fuzz/fuzz_ca_ek.c,
# built by `make fuzz` (tests/fuzz/fuzz.mk) from mgr_ca.c alone.
#
# Its unit tests need nothing here: tests/vtpm-manager/test_ca.c and
# test_ek.c are built by vtpm-manager/module.mk (libmgr, libvtpm - whose
# vtpm_ek.c needs tss2-mu, in $(TSS2_LIBS) - OpenSSL, libtpms), and call
# the `openssl` command, which scripts/deps.sh installs with libssl-dev.
FUZZ_SRC_ca_ek := vtpm-manager/mgr_ca.c
# fuzz.mk's rule depends on the sources it knows (not vtpm-manager/):
# rebuild when the CA changes too.  fuzz.mk is read after this file, so
# its FUZZ_DIR is spelled out.
build/fuzz/fuzz_ca_ek: vtpm-manager/mgr_ca.c vtpm-manager/mgr_ca.h
