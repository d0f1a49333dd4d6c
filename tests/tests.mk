# Tests: cmocka unit tests (plain and ASan+UBSan), host shell tests, QEMU+OVMF integration.
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
ASAN_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests-asan/%,$(UNIT_SRCS))
UNIT_SUPPORT := $(filter-out tests/unit/test_%.c,$(wildcard tests/unit/*.c))
HOST_TESTS := $(sort $(wildcard tests/host/*.sh))
INTEGRATION_TESTS := $(sort $(wildcard tests/integration/test_*.sh))

ASAN_CC     := clang
ASAN_CFLAGS := -std=c11 -D_GNU_SOURCE -O1 -g -I. -Wall -Wextra -Werror -fno-omit-frame-pointer \
               -fsanitize=address,undefined -fno-sanitize-recover=undefined -DVB_VERSION='"test"'

$(BUILD)/tests/%: tests/unit/%.c $(UNIT_SUPPORT) $(call host_obj,$(HOST_LIB_SRCS) $(CORE_SRCS)) | deps
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -o $@ $(filter-out tools/%,$^) -lcmocka

# The sanitized core and host glue are compiled once and linked into every test.
ASAN_OBJ := $(BUILD)/asan-obj
asan_obj = $(patsubst %.c,$(ASAN_OBJ)/%.o,$(1))
$(ASAN_OBJ)/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(ASAN_CC) $(ASAN_CFLAGS) -MMD -MP -c $< -o $@
-include $(shell find $(ASAN_OBJ) -name '*.d' 2>/dev/null)

$(BUILD)/tests-asan/%: tests/unit/%.c $(UNIT_SUPPORT) $(call asan_obj,$(HOST_LIB_SRCS) $(CORE_SRCS)) | deps
	@mkdir -p $(dir $@)
	$(ASAN_CC) $(ASAN_CFLAGS) -o $@ $(filter-out tools/%,$^) -lcmocka

# test_nbd_splice compiles tools/nbd_splice.c into itself (#include): rebuild
# it when that changes (sources under tools/ are left out of the link lines).
$(BUILD)/tests/test_nbd_splice $(BUILD)/tests-asan/test_nbd_splice: tools/nbd_splice.c tools/nbd_splice.h

.PHONY: test-build unit integration
test-build: deps all $(UNIT_BINS) $(ASAN_BINS) $(TEST_EFI_APPS)

# TEST_GROUPS narrows the run: unit, asan, host, integration (default: all).
TEST_GROUPS ?= unit asan host integration
SELECTED_PROGS := $(if $(filter unit,$(TEST_GROUPS)),$(UNIT_BINS)) \
                  $(if $(filter asan,$(TEST_GROUPS)),$(ASAN_BINS)) \
                  $(if $(filter host,$(TEST_GROUPS)),$(HOST_TESTS)) \
                  $(if $(filter integration,$(TEST_GROUPS)),$(INTEGRATION_TESTS))
# Longest first (minutes on the 2-core machine), so that the lanes of
# tests/run-all.sh (TEST_JOBS programs at a time) end close together.
LONGEST_FIRST := $(addprefix tests/integration/,test_debian.sh test_debian_dracut.sh) tests/host/vhdx.sh \
                 $(addprefix tests/integration/,test_vhdx.sh test_linux.sh test_hostile.sh test_ntfs.sh \
                   test_ramdisk.sh test_debian_ram.sh test_menu.sh test_payload.sh test_windows.sh \
                   test_powerloss.sh) \
                 $(addprefix tests/host/,fuzz_regress.sh convert_sparse.sh size_rule.sh realworld.sh)
TEST_PROGS := $(filter $(SELECTED_PROGS),$(LONGEST_FIRST)) $(filter-out $(LONGEST_FIRST),$(SELECTED_PROGS))

test: test-build
	@tests/run-all.sh $(TEST_PROGS)

unit:
	@$(MAKE) --no-print-directory test TEST_GROUPS="unit asan"

integration:
	@$(MAKE) --no-print-directory test TEST_GROUPS=integration

bench: deps all
	@tests/bench/run.sh

demo: deps all
	@tests/integration/demo.sh
-include tests/fs/fs.mk
-include tests/fuzz/fuzz.mk
