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
#
# On the xen platform (tools/hvt_xen.h) hvsec reaches Xen's ACM module
# through libxenctrl: tools/hvt_xen_ctrl.c is built when its headers are
# there (Debian's libxen-dev, a build dependency in scripts/deps.sh), and
# tools/hvt_xen_none.c (every call -ENOSYS) otherwise, so hvsec still
# builds and runs against hvsecd without Xen's headers.
HVSEC_XENCTRL := $(wildcard /usr/include/xenctrl.h)
HVSEC_SRC := $(filter-out tools/hvt_xen_ctrl.c tools/hvt_xen_none.c,$(wildcard tools/*.c))
ifneq ($(HVSEC_XENCTRL),)
HVSEC_SRC += tools/hvt_xen_ctrl.c
HVSEC_XEN_LIBS := $(shell pkg-config --libs xencontrol xentoollog 2>/dev/null || \
	echo -lxenctrl -lxentoollog)
# xenctrl.h pulls in xen/foreign/x86_64.h, whose alignment macro is a
# GNU attribute (strict ISO C gets a FIXME token instead).
$(OBJ)/tools/hvt_xen_ctrl.o: CFLAGS += -std=gnu11
else
HVSEC_SRC += tools/hvt_xen_none.c
HVSEC_XEN_LIBS :=
endif
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
		$(HVSEC_XEN_LIBS) $(XENSTORE_LIBS) $(TSS2_LIBS) $(TSS2_MU_LIBS) \
		$(CRYPTO_LIBS) $(TPMS_LIBS)

TOOLS += $(BIN)/hvsec

# tests/tools/test_xen.c: hvsec on the xen platform against a fake Xen (the
# test defines the hvt_xc_* backend): every tools object but main() and the
# real backends.
HVSEC_TEST_XEN := $(BUILD)/tests/tools/test_xen
HVSEC_TEST_XEN_OBJ := $(filter-out $(OBJ)/tools/hvsec_main.o \
	$(OBJ)/tools/hvt_xen_ctrl.o $(OBJ)/tools/hvt_xen_none.o,$(HVSEC_OBJ))

$(HVSEC_TEST_XEN): tests/tools/test_xen.c $(OBJ)/tests/harness.o \
		$(HVSEC_TEST_XEN_OBJ) $(LIB)/libhvctl.a $(LIB)/libhooks.a \
		$(LIB)/libacm.a $(LIB)/libmgr.a $(LIB)/libvtpm.a $(BIN)/hvsec-polc
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -o $@ $< $(OBJ)/tests/harness.o \
		$(HVSEC_TEST_XEN_OBJ) $(LIB)/libhvctl.a $(LIB)/libhooks.a \
		$(LIB)/libacm.a $(LIB)/libmgr.a $(LIB)/libvtpm.a \
		$(XENSTORE_LIBS) $(TSS2_LIBS) $(TSS2_MU_LIBS) $(CRYPTO_LIBS) $(TPMS_LIBS)

MODULE_TEST_BIN += $(HVSEC_TEST_XEN)
