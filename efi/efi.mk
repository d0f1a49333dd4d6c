# EFI build (gnu-efi, x86_64). Firmware calls are plain calls: GNU_EFI_USE_MS_ABI.
EFI_INC    := /usr/include/efi
EFI_LIB    := /usr/lib
EFI_CC     ?= gcc
EFI_CFLAGS := -std=c11 -O2 -g0 -I. -I$(EFI_INC) -I$(EFI_INC)/x86_64 \
              -ffreestanding -fshort-wchar -mno-red-zone -fno-stack-protector -fpic \
              -fno-strict-aliasing -fno-builtin-printf -maccumulate-outgoing-args \
              -DGNU_EFI_USE_MS_ABI -DVB_VERSION='"$(VERSION)"' -Wall -Wextra -Werror
EFI_LDFLAGS := -nostdlib -znocombreloc -shared -Bsymbolic -T $(EFI_LIB)/elf_x86_64_efi.lds \
               -L$(EFI_LIB) $(EFI_LIB)/crt0-efi-x86_64.o
# Expanded when linking (after `make deps`), not when the Makefile is read.
EFI_LIBS    = -lefi -lgnuefi $(shell $(EFI_CC) -print-libgcc-file-name)

EFI_OBJ := $(BUILD)/efi
efi_obj = $(patsubst %.c,$(EFI_OBJ)/%.o,$(1))

# Shared firmware glue (efi/) and the loader application (loader/).
EFI_GLUE_SRCS := $(wildcard efi/*.c)
LOADER_SRCS   := $(wildcard loader/*.c)

$(EFI_OBJ)/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(EFI_CC) $(EFI_CFLAGS) -MMD -MP -c $< -o $@

$(EFI_OBJ)/%.so:
	@mkdir -p $(dir $@)
	ld $(EFI_LDFLAGS) $^ -o $@ $(EFI_LIBS)

$(BUILD)/%.efi: $(EFI_OBJ)/%.so
	objcopy -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela \
	        -j '.rel.*' -j '.rela.*' -j .reloc --target efi-app-x86_64 --subsystem=10 $< $@

$(EFI_OBJ)/vhdboot.so: $(call efi_obj,$(LOADER_SRCS) $(EFI_GLUE_SRCS) $(CORE_SRCS))

# Test EFI apps (payload placed inside VHDs by the integration tests, benchmark app):
# each tests/efi/NAME.c becomes build/NAME.efi, linked with efi/ and the core.
TEST_EFI_SRCS := $(wildcard tests/efi/*.c)
TEST_EFI_APPS := $(patsubst tests/efi/%.c,$(BUILD)/%.efi,$(TEST_EFI_SRCS))
$(foreach s,$(TEST_EFI_SRCS),$(eval $(EFI_OBJ)/$(basename $(notdir $(s))).so: $(call efi_obj,$(s) $(EFI_GLUE_SRCS) $(CORE_SRCS))))

.SECONDARY:
-include $(shell find $(EFI_OBJ) -name '*.d' 2>/dev/null)

# The loader's portable parts (no <efi.h>) are unit-tested on the host:
# link them into tests/unit/test_config.c's programs.
LOADER_PORTABLE_SRCS := loader/config.c loader/options.c loader/discover_list.c
$(BUILD)/tests/test_config $(BUILD)/tests-asan/test_config $(BUILD)/tests/test_discover $(BUILD)/tests-asan/test_discover: $(LOADER_PORTABLE_SRCS)
