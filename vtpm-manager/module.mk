# vtpm-manager/module.mk - the vTPM manager's libraries (and, later, its
# daemon hvsec-vtpm-managerd): sealed per-instance state, the platform TPM
# (tpm2-tss ESAPI), the EK certificate CA, measured boot event logs and
# quote verification.
#
#   $(LIB)/libmgr.a  every vtpm-manager/*.c except *_main.c
#   tests/vtpm-manager/test_*.c  unit tests, linked with libmgr, libvtpm,
#                    OpenSSL and tpm2-tss
# Each part may add its own rules (fuzz harness sources, a tool) in a
# fragment vtpm-manager/mk/NAME.mk.
TSS2_LIBS := $(shell pkg-config --libs tss2-esys tss2-sys tss2-mu tss2-rc tss2-tctildr 2>/dev/null || \
	echo -ltss2-esys -ltss2-sys -ltss2-mu -ltss2-rc -ltss2-tctildr)

MGR_SRC := $(filter-out %_main.c,$(wildcard vtpm-manager/*.c))
MGR_OBJ := $(MGR_SRC:%.c=$(OBJ)/%.o)

$(OBJ)/vtpm-manager/%.o: vtpm-manager/%.c $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB)/libmgr.a: $(MGR_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@; $(AR) rcs $@ $^
ifneq ($(MGR_SRC),)
all: $(LIB)/libmgr.a
endif

MGR_TEST_BIN := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/vtpm-manager/test_*.c))
$(MGR_TEST_BIN): $(BUILD)/tests/vtpm-manager/%: tests/vtpm-manager/%.c $(OBJ)/tests/harness.o \
		$(OBJ)/tests/vtpm/tpmcmd.o $(LIB)/libmgr.a $(LIB)/libvtpm.a
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -o $@ $< $(OBJ)/tests/harness.o \
		$(OBJ)/tests/vtpm/tpmcmd.o \
		$(LIB)/libmgr.a $(LIB)/libvtpm.a $(TSS2_LIBS) $(CRYPTO_LIBS) $(TPMS_LIBS)
MODULE_TEST_BIN += $(MGR_TEST_BIN)

-include $(wildcard vtpm-manager/mk/*.mk)
