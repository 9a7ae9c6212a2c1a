# bench/bench.mk - `make bench`: hvsec against its peers in one run
# (bench/README.md).  Included by the top Makefile.
#
# The SELinux peer needs checkpolicy and libsepol-dev: scripts/deps.sh
# installs them (group "bench") before the sepol benchmark is compiled and
# before anything runs.

BENCH_BIN := $(BUILD)/bench/bin
BENCH_OBJ := $(OBJ)/bench
BENCH_PROGS := $(BENCH_BIN)/genpolicy $(BENCH_BIN)/bench_acm \
	$(BENCH_BIN)/bench_sepol

$(BENCH_OBJ)/%.o: bench/%.c bench/bench.h $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

# <sepol/...> must exist before this one compiles; order-only, so the
# (fast) package check never forces a rebuild.
$(BENCH_OBJ)/bench_sepol.o: | deps-bench

$(BENCH_BIN)/genpolicy: $(BENCH_OBJ)/genpolicy.o
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

$(BENCH_BIN)/bench_acm: $(BENCH_OBJ)/bench_acm.o $(BENCH_OBJ)/bench_util.o \
		$(LIB)/libacm.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

$(BENCH_BIN)/bench_sepol: $(BENCH_OBJ)/bench_sepol.o $(BENCH_OBJ)/bench_util.o
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lsepol

bench-progs: $(BENCH_PROGS)

# Other modules' benchmarks register themselves in BENCH_EXTRA (a make
# target each, e.g. bench-xenstore) and run after the policy benchmark.
bench: deps-bench all $(BENCH_PROGS)
	$(Q)HVSEC_BUILD=$(BUILD) BENCH_BIN=$(BENCH_BIN) POLC=$(BIN)/hvsec-polc \
		bash bench/run.sh
	$(Q)for t in $(BENCH_EXTRA); do $(MAKE) --no-print-directory $$t || exit 1; done

.PHONY: bench-progs

# The vTPM ring benchmark (bench-vtpm) registers itself in BENCH_EXTRA.
include bench/vtpm.mk
