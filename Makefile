# hvsec top-level Makefile.
#
#   make                 build every tool into build/bin/
#   make test            run every test (ends with "N passed, N failed")
#   make test SAN=1      the same under AddressSanitizer + UBSan (build/san/)
#   make bench           benchmarks against peers, prints RATIO lines
#   make fuzz            short runs of every libFuzzer harness
#   make demo            the main job, explained step by step
#   make install PREFIX=/usr/local DESTDIR=
#   make format | tidy | clean
#
# Missing Debian packages are installed by scripts/deps.sh (as root) before
# anything is built.  Nothing here relies on what was installed by hand.

SHELL := /bin/bash
.DEFAULT_GOAL := all

PREFIX ?= /usr/local
DESTDIR ?=
SAN ?= 0
WERROR ?= 1
V ?= 0

ifeq ($(SAN),1)
BUILD ?= build/san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
BUILD ?= build
SANFLAGS :=
endif

Q := $(if $(filter 1,$(V)),,@)
CC ?= cc
AR ?= ar
CSTD := -std=c11
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wvla -Wformat=2 -Wno-missing-field-initializers
ifeq ($(WERROR),1)
WARN += -Werror
endif
OPT ?= -O2 -g
CPPFLAGS += -I. -D_GNU_SOURCE
CFLAGS += $(CSTD) $(OPT) $(WARN) $(SANFLAGS) -fstack-protector-strong
LDFLAGS += $(SANFLAGS)

XML_CFLAGS := $(shell pkg-config --cflags libxml-2.0 2>/dev/null)
XML_LIBS := $(shell pkg-config --libs libxml-2.0 2>/dev/null || echo -lxml2)
CRYPTO_LIBS := $(shell pkg-config --libs libcrypto 2>/dev/null || echo -lcrypto)

BIN := $(BUILD)/bin
LIB := $(BUILD)/lib
OBJ := $(BUILD)/obj
DEPS_STAMP := build/.deps-$(shell cksum < scripts/deps.sh | cut -d' ' -f1)

# ---------------------------------------------------------------- deps
# Re-run the (fast) package check whenever the deps script changes.
$(DEPS_STAMP): scripts/deps.sh
	$(Q)mkdir -p build
	$(Q)bash scripts/deps.sh build
	$(Q)rm -f build/.deps-*; touch $@

deps-%:
	$(Q)bash scripts/deps.sh $*

# ---------------------------------------------------------------- acm/
# Freestanding: no libc headers beyond the compiler's own, no allocation.
ACM_SRC := $(wildcard acm/*.c)
ACM_OBJ := $(ACM_SRC:%.c=$(OBJ)/%.o)
ACM_CFLAGS := -ffreestanding -fno-builtin -fno-common
$(OBJ)/acm/%.o: acm/%.c $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(ACM_CFLAGS) -MMD -MP -c $< -o $@
$(LIB)/libacm.a: $(ACM_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@; $(AR) rcs $@ $^

# The engine must link against nothing but the compiler's memory builtins
# (and the sanitizer runtime in SAN builds): proven on every test run.
acm-freestanding-check: $(LIB)/libacm.a
	$(Q)ld -r --whole-archive $(LIB)/libacm.a -o $(LIB)/acm-all.o
	$(Q)bad=$$(nm -u $(LIB)/acm-all.o | awk '{print $$NF}' | sort -u \
		| grep -Ev '^(memcpy|memset|memcmp|memmove|__stack_chk_fail|__(a|ub)san.*|__sanitizer.*|_GLOBAL_OFFSET_TABLE_)$$' || true); \
	if [ -n "$$bad" ]; then echo "acm/ is not freestanding, it uses: $$bad"; exit 1; fi; \
	echo "acm/: freestanding (no libc symbols used)"

# ---------------------------------------------------------------- policy-compiler/
POLC_SRC := $(filter-out policy-compiler/main.c,$(wildcard policy-compiler/*.c))
POLC_OBJ := $(POLC_SRC:%.c=$(OBJ)/%.o) $(OBJ)/policy-compiler/xsd_embed.o
$(OBJ)/policy-compiler/%.o: policy-compiler/%.c $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(XML_CFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@
# The XSD is compiled into the tool so no install path can drift from it.
$(OBJ)/policy-compiler/xsd_embed.c: policies/security_policy.xsd scripts/embed.sh
	@mkdir -p $(dir $@)
	$(Q)bash scripts/embed.sh polc_xsd_text $< > $@
$(OBJ)/policy-compiler/xsd_embed.o: $(OBJ)/policy-compiler/xsd_embed.c
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@
$(LIB)/libpolc.a: $(POLC_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@; $(AR) rcs $@ $^

$(BIN)/hvsec-polc: $(OBJ)/policy-compiler/main.o $(LIB)/libpolc.a $(LIB)/libacm.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(XML_LIBS) $(CRYPTO_LIBS)

TOOLS := $(BIN)/hvsec-polc

# ---------------------------------------------------------------- tests
# Unit tests: every tests/{acm,polc}/test_*.c is one binary linked with the
# libraries; every tests/<dir>/*.sh is a table-driven CLI test.  Each prints
# "N passed, N failed" as its last line; tests/run.sh adds them up.  Other
# modules add their own test binaries to MODULE_TEST_BIN in their module.mk.
TEST_SRC := $(wildcard tests/acm/test_*.c tests/polc/test_*.c)
MODULE_TEST_BIN :=
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
$(OBJ)/tests/harness.o: tests/harness.c tests/harness.h $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/tests/%: tests/%.c $(OBJ)/tests/harness.o $(LIB)/libpolc.a $(LIB)/libacm.a
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(XML_CFLAGS) $(CFLAGS) -MMD -MP -o $@ $< \
		$(OBJ)/tests/harness.o $(LIB)/libpolc.a $(LIB)/libacm.a $(XML_LIBS) $(CRYPTO_LIBS)

# ---------------------------------------------------------------- modules
# Later modules keep their rules beside their code (DIR/module.mk): they add
# tools to TOOLS, test binaries to MODULE_TEST_BIN, and use the variables
# above ($(BUILD) $(BIN) $(LIB) $(OBJ) $(CFLAGS) ...).  Order matters for
# static libraries: a module links the libraries it needs explicitly.
-include $(sort $(wildcard */module.mk */*/module.mk)) $(wildcard tests/fuzz/fuzz.mk bench/bench.mk)

# ---------------------------------------------------------------- top targets
.PHONY: all test check bench fuzz demo install format tidy clean deps acm-freestanding-check
all: $(DEPS_STAMP) $(TOOLS)

test: all $(TEST_BIN) $(MODULE_TEST_BIN) acm-freestanding-check
	$(Q)bash scripts/deps.sh test
	$(Q)HVSEC_BUILD=$(BUILD) SAN=$(SAN) bash tests/run.sh $(TEST_BIN) $(MODULE_TEST_BIN)

check: test

demo: all
	$(Q)bash scripts/deps.sh demo
	$(Q)HVSEC_BUILD=$(BUILD) bash scripts/demo.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/hvsec/policies/labs \
		$(DESTDIR)$(PREFIX)/share/doc/hvsec
	install -m 0755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 policies/security_policy.xsd $(DESTDIR)$(PREFIX)/share/hvsec/
	install -m 0644 $(wildcard policies/*.xml) $(DESTDIR)$(PREFIX)/share/hvsec/policies/
	$(if $(wildcard policies/labs/*.xml),install -m 0644 $(wildcard policies/labs/*.xml) $(DESTDIR)$(PREFIX)/share/hvsec/policies/labs/)
	install -m 0644 README.md $(wildcard docs/*.md) $(DESTDIR)$(PREFIX)/share/doc/hvsec/

FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_FILES)

tidy:
	clang-tidy $(filter-out hooks/xen/%,$(filter %.c,$(FORMAT_FILES))) -- $(CPPFLAGS) $(XML_CFLAGS) $(CSTD)

clean:
	rm -rf build

-include $(shell find $(OBJ) $(BUILD)/tests -name '*.d' 2>/dev/null)
