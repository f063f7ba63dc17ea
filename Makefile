# pvcheck: the guest image, the ISO, and the project's own tests.

CC      ?= gcc
LD      ?= ld
HOSTCC  ?= cc
BUILD   := build

GUEST_CFLAGS := -std=gnu11 -Os -Wall -Wextra -Werror \
	-ffreestanding -nostdlib -mno-red-zone -mno-sse -mno-sse2 -mno-mmx -mno-80387 \
	-mgeneral-regs-only -fno-pic -fno-pie -fno-stack-protector -fno-omit-frame-pointer \
	-fno-asynchronous-unwind-tables -fno-builtin -mcmodel=small -Iboot
GUEST_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack --build-id=none --no-warn-rwx-segments -s

HOST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Ikernel -Iboot \
	-fsanitize=address,undefined -fno-sanitize-recover=all -Wno-format-nonliteral -Wno-format-security

BOOT_SRCS   := boot/header.S boot/entry.S boot/trampoline.S
KERNEL_SRCS := $(wildcard kernel/*.c) kernel/isr.S
GUEST_OBJS  := $(patsubst %,$(BUILD)/guest/%.o,$(BOOT_SRCS) $(KERNEL_SRCS))
HEADERS     := $(wildcard kernel/*.h boot/*.h)

# Pure files: compiled into the guest and into the host tests alike.
PURE_SRCS   := kernel/format.c kernel/options.c kernel/report.c kernel/runner.c kernel/hv_cpuid.c kernel/madt.c \
	kernel/pvclock.c kernel/steal.c
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
UNIT_BINS   := $(patsubst tests/unit/%.c,$(BUILD)/host/%,$(UNIT_SRCS))

.PHONY: all iso check check-tcg check-kvm unit clean
all: $(BUILD)/pvcheck.elf

$(BUILD)/guest/%.c.o: %.c $(HEADERS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guest/%.S.o: %.S $(HEADERS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

$(BUILD)/pvcheck.elf: $(GUEST_OBJS) linker.ld
	$(LD) $(GUEST_LDFLAGS) -T linker.ld -o $@ $(GUEST_OBJS)
	@size=$$(stat -c %s $@); if [ $$size -gt 65536 ]; then \
		echo "$@ is $$size bytes, over the 64 KiB budget" >&2; rm -f $@; exit 1; fi

# The same image without its multiboot1 magic: QEMU tries multiboot1 before
# PVH, so this is how the PVH entry gets tested.
$(BUILD)/pvcheck-pvh.elf: $(BUILD)/pvcheck.elf $(BUILD)/host/strip_mb1
	$(BUILD)/host/strip_mb1 $< $@

iso: $(BUILD)/pvcheck.iso
$(BUILD)/pvcheck.iso: $(BUILD)/pvcheck.elf boot/grub.cfg
	@rm -rf $(BUILD)/iso && mkdir -p $(BUILD)/iso/boot/grub
	cp $(BUILD)/pvcheck.elf $(BUILD)/iso/boot/pvcheck.elf
	sed 's/PVCHECK_OPTIONS//' boot/grub.cfg > $(BUILD)/iso/boot/grub/grub.cfg
	grub-mkrescue -o $@ $(BUILD)/iso 2>$(BUILD)/grub-mkrescue.log || \
		{ cat $(BUILD)/grub-mkrescue.log >&2; exit 1; }

$(BUILD)/host/test_%: tests/unit/test_%.c $(PURE_SRCS) $(HEADERS) tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -o $@ $< $(PURE_SRCS) -lpthread

$(BUILD)/host/strip_mb1: tests/tools/strip_mb1.c
	@mkdir -p $(dir $@)
	$(HOSTCC) -std=gnu11 -O1 -Wall -Wextra -Werror -o $@ $<

unit: $(UNIT_BINS)

TEST_DEPS := all $(BUILD)/pvcheck-pvh.elf $(BUILD)/pvcheck.iso unit

# Everything: unit, TCG boots and the real-KVM scenarios; one final count.
check: $(TEST_DEPS)
	@tests/check.sh --tcg --kvm

# Without the nested real KVM (about 20 s).
check-tcg: $(TEST_DEPS)
	@tests/check.sh --tcg

# pvcheck on the real Linux KVM, nested in QEMU TCG (tests/kvm/harness.sh).
check-kvm: all
	@tests/check.sh --kvm

clean:
	rm -rf $(BUILD)
