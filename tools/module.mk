# tools/module.mk - the toolstack's build rules (owned by the toolstack).
# The xl-style config parser's libFuzzer harness builds from this source alone.
FUZZ_SRC_xlcfg := tools/xlcfg.c

# $(BIN)/hvsec: every tools/*.c is part of it (xlcfg.c included; its unit
# test is built by hooks/module.mk straight from the source).  It links
# the control client (libhvctl), the hooks layer for the hook table's names
# and the engine (libacm) to read policies and explain decisions; and, to
# manufacture vTPMs and write measured-boot logs before their stubs run,
# the vTPM instance (libvtpm: libtpms, tss2-mu) and the manager's CA and
# event log (libmgr: OpenSSL); to attest a guest's vTPM, tpm2-tss ESAPI
# over the guest's mssim TCTI (TSS2_LIBS, vtpm-manager/module.mk).
HVSEC_SRC := $(wildcard tools/*.c)
HVSEC_OBJ := $(HVSEC_SRC:%.c=$(OBJ)/%.o)

$(OBJ)/tools/%.o: tools/%.c $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BIN)/hvsec: $(HVSEC_OBJ) $(LIB)/libhvctl.a $(LIB)/libhooks.a $(LIB)/libacm.a \
		$(LIB)/libmgr.a $(LIB)/libvtpm.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(HVSEC_OBJ) $(LIB)/libhvctl.a \
		$(LIB)/libhooks.a $(LIB)/libacm.a $(LIB)/libmgr.a $(LIB)/libvtpm.a \
		$(XENSTORE_LIBS) $(TSS2_LIBS) $(TSS2_MU_LIBS) $(CRYPTO_LIBS) $(TPMS_LIBS)

TOOLS += $(BIN)/hvsec
