# vhdboot — top-level build.
#   make          build build/vhdboot.efi and build/vhdtool
#   make deps     install the Debian packages the project needs (run by the targets that need them)
#   make test     every test; ends with "N passed, N failed", non-zero exit on failure
#   make demo     boot a Debian kernel from a differencing VHD under QEMU+OVMF
#   make bench    print throughput figures (not a test)
#   make fuzz     run the fuzz targets (FUZZ_SECONDS per target)
#   make deb      build/vhdboot_<version>_amd64.deb (vhdtool, loader, initramfs integration)

BUILD   := build
HOSTCC  ?= gcc
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)

.PHONY: all deps test demo bench fuzz clean deb

# The version string is compiled into the loader and vhdtool: a stamp that
# changes only when the version does makes exactly those objects rebuild.
VERSION_STAMP := $(BUILD)/version.stamp
$(shell mkdir -p $(BUILD); [ "$$(cat $(VERSION_STAMP) 2>/dev/null)" = "$(VERSION)" ] || echo "$(VERSION)" > $(VERSION_STAMP))
all: $(BUILD)/vhdtool $(BUILD)/vhdboot.efi

deps:
	@tools/install-deps.sh

# Portable core sources (format/ and fs/), shared by the host and EFI builds.
CORE_SRCS := $(wildcard format/*.c) $(wildcard fs/*.c)

include tools/tools.mk
include efi/efi.mk
include tests/tests.mk
include linux/deb.mk

clean:
	rm -rf $(BUILD)

$(HOST_OBJ)/tools/vhdtool.o $(EFI_OBJ)/loader/main.o: $(VERSION_STAMP)
