# libFuzzer harnesses (clang, ASan + UBSan).  `make fuzz` builds each
# tests/fuzz/fuzz_*.c against the sources it exercises and runs it for
# FUZZ_SECONDS (default 20) on its seed corpus: the checked-in seeds in
# tests/fuzz/corpus/<name>/ plus seeds generated from policies/ and the
# shared Xen policies.  New inputs go to build/fuzz/corpus/<name>/ (not the
# checked-in corpus); crashes are written to build/fuzz/ and fail the run.

FUZZ_SECONDS ?= 20
FUZZ_CC ?= clang
FUZZ_DIR := build/fuzz
FUZZ_FLAGS := -std=c11 -g -O1 -I. -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all $(XML_CFLAGS)
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_NAMES:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_LIB_SRC := $(ACM_SRC) $(POLC_SRC)
# A harness for another module names its sources in that module's module.mk:
#   FUZZ_SRC_<name> := hypervisor/xs_wire.c ...   (default: acm + compiler)
#   FUZZ_LIBS_<name> := -ltpms ...                  (extra libraries)
FUZZ_ALL_SRC := $(wildcard acm/*.c policy-compiler/*.c hooks/*.c hypervisor/*.c hypervisor/*/*.c \
	tools/*.c vtpm-instance/*.c vtpm-instance/*/*.c)

$(FUZZ_DIR)/xsd_embed.c: policies/security_policy.xsd scripts/embed.sh
	@mkdir -p $(dir $@)
	$(Q)bash scripts/embed.sh polc_xsd_text $< > $@

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_ALL_SRC) $(FUZZ_DIR)/xsd_embed.c $(wildcard */*.h)
	$(Q)bash scripts/deps.sh fuzz
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(or $(FUZZ_SRC_$*),$(FUZZ_LIB_SRC) $(FUZZ_DIR)/xsd_embed.c) \
		$(XML_LIBS) $(CRYPTO_LIBS) $(FUZZ_LIBS_$*)

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS) $(TOOLS)
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) HVSEC_BIN=$(BIN) FUZZ_DIR=$(FUZZ_DIR) \
		bash tests/fuzz/run.sh $(FUZZ_NAMES)

.PHONY: fuzz-build
