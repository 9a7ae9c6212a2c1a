# hypervisor/xenstore/module.mk - the XenStore server library
# (libhvxs.a), the standalone server hvsec-xenstored, their tests, the wire
# fuzzer's source list and the libxenstore benchmark (docs/xenstore.md).
#
# Only <xen/io/xs_wire.h> (libxen-dev) is needed to build the library; the
# tests and the benchmark that talk to it through Debian's real libxenstore
# link -lxenstore, and the tool tests run xenstore-utils (deps.sh "test").

XS_SRC := $(filter-out hypervisor/xenstore/xsd_main.c,$(wildcard hypervisor/xenstore/*.c))
XS_OBJ := $(XS_SRC:%.c=$(OBJ)/%.o)
XS_HDR := $(wildcard hypervisor/xenstore/*.h)

$(OBJ)/hypervisor/xenstore/%.o: hypervisor/xenstore/%.c $(XS_HDR) $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB)/libhvxs.a: $(XS_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@; $(AR) rcs $@ $^

$(BIN)/hvsec-xenstored: $(OBJ)/hypervisor/xenstore/xsd_main.o $(LIB)/libhvxs.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

TOOLS += $(BIN)/hvsec-xenstored

# Unit tests drive the library through xs_conn_input/xs_conn_output with
# hand-built wire messages (tests/xenstore/xs_test.h builds them).
# test_libxenstore starts hvsec-xenstored and uses the real libxenstore.
XS_TEST_SRC := $(wildcard tests/xenstore/test_*.c)
XS_TEST_BIN := $(XS_TEST_SRC:tests/%.c=$(BUILD)/tests/%)
XS_TEST_LIBS_test_libxenstore := -lxenstore -lpthread
$(XS_TEST_BIN): $(BUILD)/tests/xenstore/%: tests/xenstore/%.c \
		$(wildcard tests/xenstore/*.h) $(OBJ)/tests/harness.o \
		$(LIB)/libhvxs.a $(BIN)/hvsec-xenstored
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(OBJ)/tests/harness.o \
		$(LIB)/libhvxs.a $(LDFLAGS) $(XS_TEST_LIBS_$*)

MODULE_TEST_BIN += $(XS_TEST_BIN)

xenstore: $(BIN)/hvsec-xenstored $(XS_TEST_BIN)

# libFuzzer harness tests/fuzz/fuzz_xenstore_wire.c (tests/fuzz/fuzz.mk).
FUZZ_SRC_xenstore_wire := $(XS_SRC)

# Benchmark: operations per second through libxenstore against
# hvsec-xenstored (bench/xenstore.sh prints VALUE lines).
XS_BENCH := $(BUILD)/bench/bin/xenstore_bench
$(XS_BENCH): bench/xenstore_bench.c $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LDFLAGS) -lxenstore -lpthread

bench-xenstore: $(XS_BENCH) $(BIN)/hvsec-xenstored
	$(Q)HVSEC_BUILD=$(BUILD) XS_BENCH=$(XS_BENCH) \
		XSD=$(BIN)/hvsec-xenstored bash bench/xenstore.sh

BENCH_EXTRA += bench-xenstore
.PHONY: xenstore bench-xenstore
