# vtpm-manager/mk/mb.mk - measured boot event logs (mb_log.c) and quote
# verification + golden values (att_quote.c): their libFuzzer harness
# tests/fuzz/fuzz_eventlog.c (seeds in tests/fuzz/corpus/eventlog/).
# Both sources are in libmgr.a through module.mk; their unit tests are
# tests/vtpm-manager/test_mblog.c and test_quote.c.
FUZZ_SRC_eventlog := vtpm-manager/mb_log.c vtpm-manager/att_quote.c
FUZZ_LIBS_eventlog := $(CRYPTO_LIBS) $(TSS2_LIBS)
# fuzz.mk's FUZZ_ALL_SRC does not list vtpm-manager/: rebuild on changes.
$(or $(FUZZ_DIR),build/fuzz)/fuzz_eventlog: $(FUZZ_SRC_eventlog)
