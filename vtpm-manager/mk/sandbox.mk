# vtpm-manager/mk/sandbox.mk - libseccomp for vtpm-manager/mgrd_sandbox.c
# (the manager's per-process sandbox, docs/vtpm-manager.md "Sandbox").
# Only the binaries that pull mgrd_sandbox.o out of libmgr.a need it: the
# daemon and its unit test.  Their link recipes (daemon.mk, module.mk)
# name $(TSS2_LIBS); a target-specific append adds libseccomp there
# without touching those rules.
SECCOMP_LIBS := $(shell pkg-config --libs libseccomp 2>/dev/null || echo -lseccomp)

$(MGRD_BIN) $(BUILD)/tests/vtpm-manager/test_sandbox: TSS2_LIBS += $(SECCOMP_LIBS)
