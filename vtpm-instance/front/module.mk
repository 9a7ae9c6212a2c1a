# vtpm-instance/front/module.mk - the guest side's fuzzer.  The libraries,
# hvsec-tpmfront and tests/vtpm/test_*.c are built by
# vtpm-instance/module.mk.
#
# tests/fuzz/fuzz_tpmsock.c drives the four socket parsers of
# hvsec-tpmfront (mssim command and platform, swtpm data and control) with
# a fake transmit; tpmfront_wire.c is what they share.
FUZZ_SRC_tpmsock := vtpm-instance/front/tpmfront_mssim.c \
	vtpm-instance/front/tpmfront_swtpm.c vtpm-instance/front/tpmfront_wire.c
