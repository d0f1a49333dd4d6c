# fs/ test tooling: the libntfs-3g volume builder used by tests/tools/mk_fs_images.sh.
# Always built, after `make deps` has installed ntfs-3g-dev: whether it is built
# must not depend on what was installed when the Makefile was read (a first
# `make test` on a fresh machine installs the headers only then).
FS_TEST_TOOLS := $(BUILD)/tests-tools/ntfs_build

$(BUILD)/tests-tools/ntfs_build: tests/tools/ntfs_build.c | deps
	@mkdir -p $(dir $@)
	$(HOSTCC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -o $@ $< -lntfs-3g

test-build: $(FS_TEST_TOOLS)

# Read benchmark run inside the attach guest benchmark (static: busybox initramfs).
$(BUILD)/tests-tools/blkbench: tests/tools/blkbench.c
	@mkdir -p $(dir $@)
	$(HOSTCC) -std=gnu11 -O2 -Wall -Wextra -Werror -static -o $@ $<

test-build: $(BUILD)/tests-tools/blkbench
