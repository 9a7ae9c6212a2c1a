# vtpm-instance/module.mk - the per-guest vTPM: the engine + ring + storage
# library, the backend daemon, the guest-side frontend library and the
# guest program that serves it to TPM software; their tests and fuzzer.
#
#   $(LIB)/libvtpm.a       vtpm-instance/vtpm_*.c (vtpm.h): libtpms wrapper,
#                          tpmif v2 ring backend, NV storage (files, or
#                          sealed blobs committed to the vTPM manager:
#                          vtpm_mgr.c, vtpm_store_mgr.c need libmgr and
#                          OpenSSL, linked only by what calls them),
#                          EK provisioning
#   $(LIB)/libplatsim.a    hypervisor/plat/plat_sim.c (plat.h over libhvguest)
#   $(LIB)/libvtpmfront.a  vtpm-instance/front/vtpmfront*.c (vtpmfront.h)
#   $(BIN)/hvsec-vtpmd     vtpm-instance/vtpmd_*.c: one guest's vTPM backend,
#                          a stub domain of the model
#   $(BIN)/hvsec-tpmfront  vtpm-instance/front/tpmfront_*.c: guest program
#                          serving its vTPM on a local mssim/swtpm socket
TPMS_LIBS := $(shell pkg-config --libs libtpms 2>/dev/null || echo -ltpms)
# vtpm_ek.c marshals its TPM commands with libtss2-mu (only that part of
# tpm2-tss): whatever links libvtpm's objects links this too.
TSS2_MU_LIBS := $(shell pkg-config --libs tss2-mu 2>/dev/null || echo -ltss2-mu)

VTPM_SRC := $(wildcard vtpm-instance/vtpm_*.c)
VTPMD_SRC := $(wildcard vtpm-instance/vtpmd_*.c)
PLATSIM_SRC := hypervisor/plat/plat_sim.c
VTPMFRONT_SRC := $(wildcard vtpm-instance/front/vtpmfront*.c)
TPMFRONT_SRC := $(wildcard vtpm-instance/front/tpmfront_*.c)

VTPM_OBJ := $(VTPM_SRC:%.c=$(OBJ)/%.o)
VTPMD_OBJ := $(VTPMD_SRC:%.c=$(OBJ)/%.o)
PLATSIM_OBJ := $(PLATSIM_SRC:%.c=$(OBJ)/%.o)
VTPMFRONT_OBJ := $(VTPMFRONT_SRC:%.c=$(OBJ)/%.o)
TPMFRONT_OBJ := $(TPMFRONT_SRC:%.c=$(OBJ)/%.o)

$(OBJ)/vtpm-instance/%.o: vtpm-instance/%.c $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB)/libvtpm.a: $(VTPM_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@; $(AR) rcs $@ $^
$(LIB)/libplatsim.a: $(PLATSIM_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@; $(AR) rcs $@ $^
$(LIB)/libvtpmfront.a: $(VTPMFRONT_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@; $(AR) rcs $@ $^

# plat_sim.c's frontend side (the link to the vTPM manager) is
# libvtpmfront, hence its place between libplatsim and libhvguest.
$(BIN)/hvsec-vtpmd: $(VTPMD_OBJ) $(LIB)/libvtpm.a $(LIB)/libmgr.a $(LIB)/libplatsim.a \
		$(LIB)/libvtpmfront.a $(LIB)/libhvguest.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(XENSTORE_LIBS) $(TPMS_LIBS) $(TSS2_MU_LIBS) $(CRYPTO_LIBS)

$(BIN)/hvsec-tpmfront: $(TPMFRONT_OBJ) $(LIB)/libvtpmfront.a $(LIB)/libhvguest.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(XENSTORE_LIBS)

TOOLS += $(if $(VTPMD_SRC),$(BIN)/hvsec-vtpmd) $(if $(TPMFRONT_SRC),$(BIN)/hvsec-tpmfront)

# ---------------------------------------------------------------- tests
# tests/vtpm/test_*.c: unit tests (ring, storage, TPM engine, frontend
# against a fake backend); tests/vtpm/*.sh: end to end with hvsecd,
# hvsec-vtpmd, hvsec-tpmfront and tpm2-tools.
VTPM_TEST_BIN := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/vtpm/test_*.c))
# (libmgr and OpenSSL for test_mgrstore: the manager link's wire format,
# sealed blobs and a CA for its fake manager.)
$(VTPM_TEST_BIN): $(BUILD)/tests/vtpm/%: tests/vtpm/%.c $(OBJ)/tests/harness.o \
		$(OBJ)/tests/vtpm/tpmcmd.o \
		$(LIB)/libvtpm.a $(LIB)/libmgr.a $(LIB)/libvtpmfront.a $(LIB)/libhvguest.a
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -o $@ $< $(OBJ)/tests/harness.o \
		$(OBJ)/tests/vtpm/tpmcmd.o \
		$(LIB)/libvtpm.a $(LIB)/libmgr.a $(LIB)/libvtpmfront.a $(LIB)/libhvguest.a \
		$(XENSTORE_LIBS) $(TPMS_LIBS) $(TSS2_MU_LIBS) $(CRYPTO_LIBS)
MODULE_TEST_BIN += $(VTPM_TEST_BIN)

# The ring request path (header + TPM command through libtpms) on a fake
# page: tests/fuzz/fuzz_tpmif.c.
# (without the manager link and its store, which need libmgr: not on the
# ring's request path).
FUZZ_SRC_tpmif := $(filter-out vtpm-instance/vtpm_mgr.c vtpm-instance/vtpm_store_mgr.c,$(VTPM_SRC))
FUZZ_LIBS_tpmif := $(TPMS_LIBS) $(TSS2_MU_LIBS)
-include tests/vtpm/helpers.mk
