# hypervisor/plat/module.mk - the xen platform behind plat.h (DESIGN.md §3)
# and what runs on it in dom0: the vTPM backend built for Xen and its
# dispatcher.  Built when Debian's libxen-dev headers are there (a build
# dependency in scripts/deps.sh); nothing here changes the sim build.
#
#   $(LIB)/libplatxen.a         hypervisor/plat/plat_xen*.c: plat.h over
#                               libxenevtchn + libxengnttab (+ libxenstore)
#   $(BIN)/hvsec-vtpmd-xen      the same vtpm-instance/vtpmd_*.c objects as
#                               hvsec-vtpmd, + libvtpm + libplatxen
#   $(BIN)/hvsec-vtpm-backendd  vtpm-instance/xen/backendd_*.c: starts one
#                               hvsec-vtpmd-xen per vTPM the toolstack makes
#
# This file is included before vtpm-instance/module.mk (the includes are
# sorted), so it names the vtpmd objects itself and uses that module's
# variables (TPMS_LIBS) only inside recipes.
XEN_PLAT_HDRS := $(and $(wildcard /usr/include/xenevtchn.h),$(wildcard /usr/include/xengnttab.h))

ifneq ($(XEN_PLAT_HDRS),)
XEN_PLAT_LIBS := $(shell pkg-config --libs xenevtchn xengnttab 2>/dev/null || echo -lxenevtchn -lxengnttab)

PLATXEN_SRC := hypervisor/plat/plat_xen.c hypervisor/plat/plat_xen_ports.c
PLATXEN_OBJ := $(PLATXEN_SRC:%.c=$(OBJ)/%.o)
XEN_VTPMD_OBJ := $(patsubst %.c,$(OBJ)/%.o,$(wildcard vtpm-instance/vtpmd_*.c))
BACKENDD_SRC := $(wildcard vtpm-instance/xen/backendd_*.c)
BACKENDD_OBJ := $(BACKENDD_SRC:%.c=$(OBJ)/%.o)
# The daemon's judges of XenStore values are hvsec-vtpmd's own.
BACKENDD_DEP_OBJ := $(OBJ)/vtpm-instance/vtpmd_args.o

$(OBJ)/vtpm-instance/xen/%.o: vtpm-instance/xen/%.c $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB)/libplatxen.a: $(PLATXEN_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@; $(AR) rcs $@ $^

$(BIN)/hvsec-vtpmd-xen: $(XEN_VTPMD_OBJ) $(LIB)/libvtpm.a $(LIB)/libmgr.a $(LIB)/libplatxen.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(XEN_PLAT_LIBS) $(XENSTORE_LIBS) $(TPMS_LIBS) $(TSS2_MU_LIBS) $(CRYPTO_LIBS)

$(BIN)/hvsec-vtpm-backendd: $(BACKENDD_OBJ) $(BACKENDD_DEP_OBJ)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(XENSTORE_LIBS)

TOOLS += $(BIN)/hvsec-vtpmd-xen $(BIN)/hvsec-vtpm-backendd

# ---------------------------------------------------------------- tests
# tests/xen/test_plat_xen.c: the per-port bookkeeping as a table, and
# plat_xen.c itself against a fake libxenevtchn/libxengnttab/libxenstore
# (the test defines them; the real libraries are not linked).
# tests/xen/test_backendd.c: the dispatcher's command line and its judge
# of the toolstack's nodes.  tests/xen/backendd.sh: the dispatcher end to
# end against hvsecd's XenStore, with a stand-in for hvsec-vtpmd-xen.
XEN_TEST_PLAT := $(BUILD)/tests/xen/test_plat_xen
XEN_TEST_BD := $(BUILD)/tests/xen/test_backendd

$(XEN_TEST_PLAT): tests/xen/test_plat_xen.c $(OBJ)/tests/harness.o $(PLATXEN_OBJ)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -o $@ $< $(OBJ)/tests/harness.o \
		$(PLATXEN_OBJ)

XEN_TEST_BD_OBJ := $(OBJ)/vtpm-instance/xen/backendd_args.o \
	$(OBJ)/vtpm-instance/xen/backendd_judge.o $(BACKENDD_DEP_OBJ)
$(XEN_TEST_BD): tests/xen/test_backendd.c $(OBJ)/tests/harness.o $(XEN_TEST_BD_OBJ)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -o $@ $< $(OBJ)/tests/harness.o \
		$(XEN_TEST_BD_OBJ)

MODULE_TEST_BIN += $(XEN_TEST_PLAT) $(XEN_TEST_BD)
endif
