# vtpm-manager/mk/proto.mk - the manager's wire protocol (mgr_proto.c:
# parsers and encoders of the instance ring and the control socket;
# mgr_proto_ctl.c: the control client).  Both are in libmgr.a and tested
# by tests/vtpm-manager/test_proto.c (module.mk's rules); this adds their
# libFuzzer harness.
#
#   tests/fuzz/fuzz_mgrproto.c  requests and responses of every op on both
#                               channels, seeds in tests/fuzz/corpus/mgrproto/
#                               (written by `test_proto --seeds DIR`)
FUZZ_SRC_mgrproto := vtpm-manager/mgr_proto.c
# fuzz.mk's rule lists the sources it knows; this one is not among them.
build/fuzz/fuzz_mgrproto: $(FUZZ_SRC_mgrproto)
