# bench/vtpm.mk - `make bench-vtpm` (also run by `make bench`): vTPM
# commands per second through the full ring path against libtpms called
# in-process and swtpm over a persistent socket, in the same run, with the
# two ends on one CPU and on two (bench/README.md, "vTPM"); then the time
# to provision a new vTPM (manager mode, file mode, swtpm_setup in the same
# run: bench/provision.sh, also `make bench-provision` alone).
#
#   $(BUILD)/bench/bin/vtpm_bench   the peers and the notification floors
#   $(BUILD)/bench/bin/vtpm_guest   the guest that drives the ring
#                                   (built once libvtpmfront has sources)
#   $(BUILD)/bench/bin/provision_bench  manufacture and EK creation times
#                                   in-process (bench/provision.sh)
#
# Included from bench/bench.mk.  Uses TPMS_LIBS, XENSTORE_LIBS and
# VTPMFRONT_SRC from vtpm-instance/module.mk and hypervisor/module.mk.

VTPM_BENCH := $(BUILD)/bench/bin/vtpm_bench
VTPM_GUEST := $(BUILD)/bench/bin/vtpm_guest
VTPM_BENCH_OBJ := $(OBJ)/bench-vtpm
PROV_BENCH := $(BUILD)/bench/bin/provision_bench
VTPM_BENCH_PROGS := $(VTPM_BENCH) $(if $(VTPMFRONT_SRC),$(VTPM_GUEST)) \
	$(PROV_BENCH)

$(VTPM_BENCH_OBJ)/%.o: bench/%.c $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(VTPM_BENCH): $(VTPM_BENCH_OBJ)/vtpm_bench.o $(VTPM_BENCH_OBJ)/vtpm_common.o
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(TPMS_LIBS)

$(VTPM_GUEST): $(VTPM_BENCH_OBJ)/vtpm_guest.o $(VTPM_BENCH_OBJ)/vtpm_common.o \
		$(LIB)/libvtpmfront.a $(LIB)/libhvguest.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(XENSTORE_LIBS)

$(PROV_BENCH): $(VTPM_BENCH_OBJ)/provision_bench.o $(LIB)/libvtpm.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(TPMS_LIBS) $(TSS2_MU_LIBS) $(CRYPTO_LIBS)

bench-progs: $(VTPM_BENCH_PROGS)

# swtpm (the peer) comes with the bench packages.
bench-vtpm: deps-bench all $(VTPM_BENCH_PROGS)
	$(Q)HVSEC_BUILD=$(BUILD) bash bench/vtpm.sh
	$(Q)HVSEC_BUILD=$(BUILD) bash bench/provision.sh
BENCH_EXTRA += bench-vtpm

# swtpm_setup and swtpm_localca (the peer) come with swtpm-tools.
bench-provision: deps-bench all $(PROV_BENCH)
	$(Q)HVSEC_BUILD=$(BUILD) bash bench/provision.sh
.PHONY: bench-vtpm bench-provision
