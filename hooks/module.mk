# hooks/module.mk - the mediation layer (libhooks.a), its built-in DEFAULT
# policy, and its tests; also the unit test of the toolstack's xl-style
# config parser (tools/xlcfg.c), built straight from its source so that it
# does not depend on how tools/module.mk builds the toolstack.

HOOKS_SRC := $(wildcard hooks/*.c)
HOOKS_OBJ := $(HOOKS_SRC:%.c=$(OBJ)/%.o) $(OBJ)/hooks/default_policy.o

# Every object depends on the hook list: a new line regenerates the table,
# the wrappers and their declarations.
$(OBJ)/hooks/%.o: hooks/%.c hooks/hooks.def $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

# The DEFAULT policy is compiled from its XML at build time by the compiler
# built here, and embedded: the blob the daemon falls back to is exactly
# what hvsec-polc makes of policies/default.xml, and it goes through the
# same loader as any other policy when it is loaded.
$(OBJ)/hooks/default_policy.bin: policies/default.xml $(BIN)/hvsec-polc
	@mkdir -p $(dir $@)
	@echo "  POLC    $<"
	$(Q)$(BIN)/hvsec-polc compile --quiet -o $@ $<
$(OBJ)/hooks/default_policy.c: $(OBJ)/hooks/default_policy.bin scripts/embed.sh
	$(Q)bash scripts/embed.sh hooks_default_blob $< > $@
$(OBJ)/hooks/default_policy.o: $(OBJ)/hooks/default_policy.c
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LIB)/libhooks.a: $(HOOKS_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@; $(AR) rcs $@ $^

all: $(LIB)/libhooks.a

# Unit tests: tests/hooks/test_*.c, linked with the compiler library too so
# that they compile their policies from XML at test time.
HOOKS_TEST_BIN := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/hooks/test_*.c))
$(HOOKS_TEST_BIN): $(BUILD)/tests/hooks/%: tests/hooks/%.c $(wildcard tests/hooks/*.h) \
		$(OBJ)/tests/harness.o $(LIB)/libhooks.a $(LIB)/libpolc.a $(LIB)/libacm.a
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(XML_CFLAGS) $(CFLAGS) -MMD -MP -o $@ $< \
		$(OBJ)/tests/harness.o $(LIB)/libhooks.a $(LIB)/libpolc.a \
		$(LIB)/libacm.a $(XML_LIBS) $(CRYPTO_LIBS)

XLCFG_TEST_BIN := $(BUILD)/tests/tools/test_xlcfg
$(XLCFG_TEST_BIN): tests/tools/test_xlcfg.c tools/xlcfg.c tools/xlcfg.h $(OBJ)/tests/harness.o
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/tools/test_xlcfg.c tools/xlcfg.c \
		$(OBJ)/tests/harness.o

MODULE_TEST_BIN += $(HOOKS_TEST_BIN) $(XLCFG_TEST_BIN)

# The xl-style config parser (tools/xlcfg.c) is tested and fuzzed from here
# until the toolstack module lands; its harness builds from this source alone.
FUZZ_SRC_xlcfg := tools/xlcfg.c
