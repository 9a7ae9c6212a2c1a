# vtpm-manager/mk/store.mk - the manager's sealed storage (mgr_seal*.c:
# state blobs, root record, commit protocol) and platform TPM (mgr_ptpm.c).
# Both are in libmgr.a and tested by tests/vtpm-manager/test_seal.c and
# test_ptpm.c (module.mk's rules); this adds their libFuzzer harness.
#
#   tests/fuzz/fuzz_mgrblob.c  the state-blob and root-record decoders,
#                              seeds in tests/fuzz/corpus/mgrblob/
FUZZ_SRC_mgrblob := $(wildcard vtpm-manager/mgr_seal*.c)
FUZZ_LIBS_mgrblob := $(CRYPTO_LIBS)
# fuzz.mk's rule lists the sources it knows; these are not among them.
build/fuzz/fuzz_mgrblob: $(FUZZ_SRC_mgrblob)
