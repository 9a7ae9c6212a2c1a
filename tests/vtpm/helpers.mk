# tests/vtpm/helpers.mk - test helpers of hvsec-vtpmd (included from
# vtpm-instance/module.mk):
#
#   $(BUILD)/tests/vtpm/ringguest    a hand-written tpmif v2 frontend, a
#                                    guest of hvsecd driven by backend.sh
#                                    and hostile.sh (two threads: -pthread)
#   $(BUILD)/tests/vtpm/unit_vtpmd   unit tests of the daemon's parsers and
#                                    rate limit (vtpmd_args.c, vtpmd_log.c)
#   $(BUILD)/tests/vtpm/crashtpm     a TPM on the file store that acknowledges
#                                    NV writes, and its checker: the instance
#                                    half of crash.sh (kill -9 consistency);
#                                    with crashmgr.c the manager-mode store
#                                    and a stand-in manager (manager-crash.sh)
#   $(OBJ)/tests/vtpm/tpmcmd.o       hand-marshalled TPM commands, linked
#                                    into crashtpm and the tests/vtpm and
#                                    tests/vtpm-manager test_*.c
#
# None is named test_*.c: module.mk's rule for those links libvtpm and
# libvtpmfront, not the daemon's own objects, and runs them as unit tests
# (crashtpm is a program that crash.sh kills, not a test).
VTPM_RINGGUEST := $(BUILD)/tests/vtpm/ringguest
VTPMD_UNIT := $(BUILD)/tests/vtpm/unit_vtpmd
VTPMD_UNIT_OBJ := $(OBJ)/vtpm-instance/vtpmd_args.o $(OBJ)/vtpm-instance/vtpmd_log.o
VTPM_CRASHTPM := $(BUILD)/tests/vtpm/crashtpm

$(VTPM_RINGGUEST): tests/vtpm/ringguest.c $(LIB)/libhvguest.a
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -pthread -MMD -MP -o $@ $< \
		$(LIB)/libhvguest.a $(XENSTORE_LIBS)

$(VTPMD_UNIT): tests/vtpm/unit_vtpmd.c $(OBJ)/tests/harness.o $(VTPMD_UNIT_OBJ) \
		$(LIB)/libhvguest.a
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -o $@ $< $(OBJ)/tests/harness.o \
		$(VTPMD_UNIT_OBJ) $(LIB)/libhvguest.a $(XENSTORE_LIBS)

$(OBJ)/tests/vtpm/tpmcmd.o: tests/vtpm/tpmcmd.c tests/vtpm/tpmcmd.h $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

# (+ crashmgr.c: the stand-in manager and the manager-mode store of
# manager-crash.sh, hence libmgr and OpenSSL.)
$(VTPM_CRASHTPM): tests/vtpm/crashtpm.c tests/vtpm/crashmgr.c tests/vtpm/crashmgr.h \
		$(OBJ)/tests/vtpm/tpmcmd.o $(LIB)/libvtpm.a $(LIB)/libmgr.a
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -o $@ $< tests/vtpm/crashmgr.c \
		$(OBJ)/tests/vtpm/tpmcmd.o $(LIB)/libvtpm.a $(LIB)/libmgr.a \
		$(TPMS_LIBS) $(TSS2_MU_LIBS) $(CRYPTO_LIBS)

all: $(VTPM_RINGGUEST) $(VTPM_CRASHTPM)
MODULE_TEST_BIN += $(VTPMD_UNIT)
