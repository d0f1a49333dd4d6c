# fs/ test tooling: the libntfs-3g volume builder used by tests/tools/mk_fs_images.sh.
FS_TEST_TOOLS := $(BUILD)/tests-tools/ntfs_build

$(BUILD)/tests-tools/ntfs_build: tests/tools/ntfs_build.c
	@mkdir -p $(dir $@)
	$(HOSTCC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -o $@ $< -lntfs-3g

test-build: $(FS_TEST_TOOLS)
