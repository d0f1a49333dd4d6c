# fs/ test tooling: the libntfs-3g volume builder used by tests/tools/mk_fs_images.sh.
# Without ntfs-3g-dev it is not built and the NTFS tests skip with a notice.
FS_TEST_TOOLS := $(if $(wildcard /usr/include/ntfs-3g/volume.h),$(BUILD)/tests-tools/ntfs_build)

$(BUILD)/tests-tools/ntfs_build: tests/tools/ntfs_build.c
	@mkdir -p $(dir $@)
	$(HOSTCC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -o $@ $< -lntfs-3g

test-build: $(FS_TEST_TOOLS)
