# vtpm-manager/mk/daemon.mk - hvsec-vtpm-managerd, the vTPM manager daemon
# (docs/vtpm-manager.md): vtpm-manager/mgrd_main.c (excluded from libmgr.a
# by module.mk) linked with libmgr (the mgrd_*.c and the libraries), libvtpm
# (the tpmif ring helpers vtpm_ring_*), the platform as hvsec-vtpmd links it
# (libplatsim, whose frontend half needs libvtpmfront, over libhvguest),
# libxenstore, tpm2-tss and OpenSSL.
#
#   $(BUILD)/tests/vtpm-manager/mgrctl    a control-socket client
#   $(BUILD)/tests/vtpm-manager/mgrguest  an instance stand-in on the ring
# both for tests/vtpm-manager/mgrd.sh (run by `make test` like every
# tests/*/*.sh); the unit tests test_keyholder and test_ekpub are module.mk's.
MGRD_BIN := $(BIN)/hvsec-vtpm-managerd
MGRCTL := $(BUILD)/tests/vtpm-manager/mgrctl

$(MGRD_BIN): $(OBJ)/vtpm-manager/mgrd_main.o $(LIB)/libmgr.a $(LIB)/libvtpm.a \
		$(LIB)/libplatsim.a $(LIB)/libvtpmfront.a $(LIB)/libhvguest.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(XENSTORE_LIBS) $(TSS2_LIBS) $(TPMS_LIBS) \
		$(CRYPTO_LIBS)

$(MGRCTL): tests/vtpm-manager/mgrctl.c $(LIB)/libmgr.a $(LIB)/libvtpm.a
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -o $@ $< $(LIB)/libmgr.a \
		$(LIB)/libvtpm.a $(LIB)/libmgr.a $(TSS2_LIBS) $(CRYPTO_LIBS)

TOOLS += $(MGRD_BIN)
all: $(if $(wildcard tests/vtpm-manager/mgrctl.c),$(MGRCTL))

# tests/vtpm-manager/mgrguest: an instance stand-in on the manager's ring
# (a guest of hvsecd speaking mgr_proto over libvtpmfront), for mgrd.sh.
MGRGUEST := $(BUILD)/tests/vtpm-manager/mgrguest
$(MGRGUEST): tests/vtpm-manager/mgrguest.c $(LIB)/libmgr.a $(LIB)/libvtpmfront.a \
		$(LIB)/libvtpm.a $(LIB)/libhvguest.a
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -o $@ $< $(LIB)/libmgr.a \
		$(LIB)/libvtpmfront.a $(LIB)/libvtpm.a $(LIB)/libmgr.a \
		$(LIB)/libhvguest.a $(XENSTORE_LIBS) $(TSS2_LIBS) $(CRYPTO_LIBS)
all: $(if $(wildcard tests/vtpm-manager/mgrguest.c),$(MGRGUEST))
