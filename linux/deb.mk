# make deb: build/vhdboot_<version>_amd64.deb (dpkg-deb) with vhdtool, the
# loader, the initramfs-tools and dracut integration and the docs.
# Debian versions start with a digit and have no '-' (no revision here).
DEB_VERSION := 0.1+git$(subst -,.,$(VERSION))
DEB_FILE    := $(BUILD)/vhdboot_$(DEB_VERSION)_amd64.deb
DEB_INPUTS  := $(shell find linux -type f) README.md

.PHONY: deb
deb: $(DEB_FILE)

$(DEB_FILE): $(BUILD)/vhdtool $(BUILD)/vhdboot.efi $(DEB_INPUTS)
	@rm -f $(BUILD)/vhdboot_*_amd64.deb
	linux/build-deb.sh $(BUILD) $(DEB_VERSION)

# The Debian guest tests install the package: built before they run side by side.
test-build: $(DEB_FILE)
