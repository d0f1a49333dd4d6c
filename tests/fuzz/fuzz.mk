# Fuzzing: libFuzzer targets tests/fuzz/fuzz_*.c (clang, -fsanitize=fuzzer,address,undefined).
#   make fuzz                   run each target for FUZZ_SECONDS (default 20) on its corpus
#   make fuzz FUZZ_SECONDS=60   a longer run
# Corpora: tests/fuzz/corpus/<target>/ (read-only seeds and regression inputs);
# new inputs go to build/fuzz/work/<target>/, crashes to build/fuzz/crashes/.
# `make test` runs tests/host/fuzz_regress.sh (a few seconds per target).
FUZZ_CC      := clang
FUZZ_SECONDS ?= 20
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -O1 -g -I. -Wall -Wextra -Werror -fno-omit-frame-pointer \
                -fsanitize=address,undefined -fno-sanitize-recover=undefined -DVB_VERSION='"fuzz"'
FUZZ_OBJ     := $(BUILD)/fuzz/obj
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS    := $(addprefix $(BUILD)/fuzz/,$(FUZZ_TARGETS))
# Everything a target links besides its own file: the core, the config
# parser, the host platform hooks, the in-memory source and the fuzz helpers.
FUZZ_LIB_SRCS := $(CORE_SRCS) loader/config.c tools/host_platform.c tests/unit/memsource.c \
                 $(filter-out tests/fuzz/fuzz_%.c,$(wildcard tests/fuzz/*.c))
FUZZ_LIB_OBJS := $(patsubst %.c,$(FUZZ_OBJ)/%.o,$(FUZZ_LIB_SRCS))

$(FUZZ_OBJ)/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(BUILD)/fuzz/fuzz_%: $(FUZZ_OBJ)/tests/fuzz/fuzz_%.o $(FUZZ_LIB_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^

.PHONY: fuzz-build
fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The regression run in `make test` needs the targets built.
test-build: $(FUZZ_BINS)

-include $(shell find $(FUZZ_OBJ) -name '*.d' 2>/dev/null)
