# Host programs: vhdtool and the host platform layer shared with the tests.
HOST_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -I. -DVB_VERSION='"$(VERSION)"'
# Host-side glue used by vhdtool and tests (POSIX file source, opener, platform).
HOST_LIB_SRCS := $(wildcard tools/host_*.c)
VHDTOOL_SRCS := $(wildcard tools/vhdtool*.c) $(wildcard tools/nbd_*.c) tools/loop_attach.c

HOST_OBJ := $(BUILD)/host
host_obj = $(patsubst %.c,$(HOST_OBJ)/%.o,$(1))

$(HOST_OBJ)/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/vhdtool: $(call host_obj,$(VHDTOOL_SRCS) $(HOST_LIB_SRCS) $(CORE_SRCS))
	$(HOSTCC) -o $@ $^

-include $(shell find $(HOST_OBJ) -name '*.d' 2>/dev/null)

# The same vhdtool linked statically: runs in an initramfs without a C
# library (the guest tests put it into a busybox initramfs).
$(BUILD)/vhdtool-static: $(call host_obj,$(VHDTOOL_SRCS) $(HOST_LIB_SRCS) $(CORE_SRCS))
	$(HOSTCC) -static -o $@ $^
test-build: $(BUILD)/vhdtool-static
