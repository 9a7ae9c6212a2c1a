# vtpm-manager/mk/migrate.mk - manager identities and migration bundles
# (mgr_migrate.c) and the export file (mgr_xfile.c), in libmgr.a through
# module.mk; unit test tests/vtpm-manager/test_migrate.c.  This adds their
# libFuzzer harness:
#
#   tests/fuzz/fuzz_mgrbundle.c  bundles, sealed identities, public keys
#                                and export files; seeds in
#                                tests/fuzz/corpus/mgrbundle/
FUZZ_SRC_mgrbundle := vtpm-manager/mgr_migrate.c vtpm-manager/mgr_seal.c \
	vtpm-manager/mgr_xfile.c
FUZZ_LIBS_mgrbundle := $(CRYPTO_LIBS)
# fuzz.mk's rule lists the sources it knows; these are not among them.
build/fuzz/fuzz_mgrbundle: $(FUZZ_SRC_mgrbundle)
