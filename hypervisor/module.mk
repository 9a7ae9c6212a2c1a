# hypervisor/module.mk - hvsecd (the Xen model), its protocols, the guest
# library and the lab guest, their tests, fuzzer and benchmark.
#
#   $(LIB)/libhvproto.a   hypercall protocol + fd passing (guests link it)
#   $(LIB)/libhvctl.a     control protocol + client (the toolstack links it)
#   $(LIB)/libhvguest.a   libhvguest: guest side of hypercalls (+ libhvproto)
#   $(BIN)/hvsecd         the daemon
#   $(BIN)/hvsec-testguest the lab guest (links -lxenstore)
#
# The XenStore library (hypervisor/xenstore/) is linked into hvsecd from its
# objects, so this file does not depend on how that module names its
# archive.

HV_PROTO_SRC := hypervisor/hv_proto.c hypervisor/hv_sock.c
HV_CTL_SRC := hypervisor/hv_control.c hypervisor/hv_ctlclient.c
HVD_SRC := $(wildcard hypervisor/hvd_*.c)
HVG_SRC := hypervisor/guest/hvguest.c
HV_XS_SRC := $(filter-out %_main.c,$(wildcard hypervisor/xenstore/xs_*.c))

HV_PROTO_OBJ := $(HV_PROTO_SRC:%.c=$(OBJ)/%.o)
HV_CTL_OBJ := $(HV_CTL_SRC:%.c=$(OBJ)/%.o)
HVD_OBJ := $(HVD_SRC:%.c=$(OBJ)/%.o)
HVG_OBJ := $(HVG_SRC:%.c=$(OBJ)/%.o)
HV_XS_OBJ := $(HV_XS_SRC:%.c=$(OBJ)/hv-xs/%.o)

XENSTORE_LIBS := -lxenstore

$(OBJ)/hypervisor/%.o: hypervisor/%.c $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

# Our own objects of the XenStore library (a separate tree: its module may
# build the same sources with other flags).
$(OBJ)/hv-xs/%.o: %.c $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB)/libhvproto.a: $(HV_PROTO_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@; $(AR) rcs $@ $^
$(LIB)/libhvctl.a: $(HV_CTL_OBJ) $(HV_PROTO_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@; $(AR) rcs $@ $^
$(LIB)/libhvguest.a: $(HVG_OBJ) $(HV_PROTO_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@; $(AR) rcs $@ $^

$(BIN)/hvsecd: $(HVD_OBJ) $(HV_XS_OBJ) $(LIB)/libhvctl.a $(LIB)/libhooks.a $(LIB)/libacm.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(HVD_OBJ) $(HV_XS_OBJ) $(LIB)/libhvctl.a \
		$(LIB)/libhooks.a $(LIB)/libacm.a

$(BIN)/hvsec-testguest: $(OBJ)/hypervisor/guest/testguest.o $(LIB)/libhvguest.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(XENSTORE_LIBS)

TOOLS += $(BIN)/hvsecd $(BIN)/hvsec-testguest
all: $(LIB)/libhvctl.a $(LIB)/libhvguest.a

# ---------------------------------------------------------------- tests
# tests/hypervisor/test_*.c: unit tests of the two parsers (in
# MODULE_TEST_BIN); tests/hypervisor/*.sh: integration tests with real
# processes, which use the small control client tests/hypervisor/ctl.c
# (built by `all`, not a test itself) and the guests above.
HV_TEST_BIN := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/hypervisor/test_*.c))
HV_TEST_CTL := $(BUILD)/tests/hypervisor/hvctl
HV_TEST_PEER := $(BUILD)/tests/hypervisor/hvpeer

$(HV_TEST_BIN): $(BUILD)/tests/hypervisor/%: tests/hypervisor/%.c $(OBJ)/tests/harness.o \
		$(LIB)/libhvctl.a $(LIB)/libhvguest.a
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -o $@ $< $(OBJ)/tests/harness.o \
		$(LIB)/libhvctl.a $(LIB)/libhvguest.a

$(HV_TEST_CTL): tests/hypervisor/ctl.c $(LIB)/libhvctl.a
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -o $@ $< $(LIB)/libhvctl.a

MODULE_TEST_BIN += $(HV_TEST_BIN)
all: $(HV_TEST_CTL)

# ---------------------------------------------------------------- fuzz
FUZZ_SRC_hypercall := hypervisor/hv_proto.c hypervisor/hv_control.c

# ---------------------------------------------------------------- bench
HV_BENCH := $(BUILD)/bench/bin/hypervisor_bench
$(HV_BENCH): bench/hypervisor_bench.c $(LIB)/libhvctl.a $(LIB)/libhvguest.a
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -o $@ $< $(LIB)/libhvctl.a \
		$(LIB)/libhvguest.a $(XENSTORE_LIBS)
bench-progs: $(HV_BENCH)

bench-hypervisor: all $(HV_BENCH)
	$(Q)HVSEC_BUILD=$(BUILD) bash bench/hypervisor.sh
BENCH_EXTRA += bench-hypervisor
.PHONY: bench-hypervisor
