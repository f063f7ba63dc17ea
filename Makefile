# pvcheck: the guest image, the ISO, and the project's own tests.

CC      ?= gcc
LD      ?= ld
HOSTCC  ?= cc
BUILD   := build

GUEST_CFLAGS := -std=gnu11 -Os -Wall -Wextra -Werror \
	-ffreestanding -nostdlib -mno-red-zone -mno-sse -mno-sse2 -mno-mmx -mno-80387 \
	-mgeneral-regs-only -fno-pic -fno-pie -fno-stack-protector -fno-omit-frame-pointer \
	-fno-asynchronous-unwind-tables -fno-builtin -mcmodel=small -Ikernel -Iboot
GUEST_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack --build-id=none --no-warn-rwx-segments -s

HOST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Ikernel -Iboot \
	-fsanitize=address,undefined -fno-sanitize-recover=all -Wno-format-nonliteral -Wno-format-security

BOOT_SRCS   := boot/header.S boot/entry.S boot/trampoline.S
# kernel/: lib (formatting, options, KTAP report, runner), platform (the
# runtime), iface (the interfaces' readers), live (the registered
# interfaces), checks (checks/shared, the rule helpers, and one folder per
# suite), main.c.
LAYERS      := lib platform iface live checks/shared
SUITES      := $(filter-out shared,$(notdir $(wildcard kernel/checks/*)))
DIRS        := $(LAYERS) $(addprefix checks/,$(SUITES))
KERNEL_SRCS := $(foreach d,$(DIRS),$(wildcard kernel/$(d)/*.c)) kernel/main.c kernel/platform/isr.S
GUEST_OBJS  := $(patsubst %,$(BUILD)/guest/%.o,$(BOOT_SRCS) $(KERNEL_SRCS))
HEADERS     := $(foreach d,$(DIRS),$(wildcard kernel/$(d)/*.h)) $(wildcard boot/*.h)

# Pure files: compiled into the guest and into the host tests alike.
PURE_SRCS   := kernel/lib/format.c kernel/lib/options.c kernel/lib/report.c kernel/lib/runner.c \
	kernel/platform/madt.c kernel/platform/mptable.c kernel/platform/acpi_parse.c \
	kernel/platform/rtc_decode.c kernel/checks/migration/migration_judge.c \
	kernel/checks/shared/clock_compare.c kernel/checks/pv_msrs/apf_log.c kernel/checks/tsc/tsc_judge.c kernel/checks/shared/tsc_bracket.c kernel/checks/smp/preempt_watch.c kernel/checks/selftest/sti_shadow_tally.c kernel/iface/hv_cpuid.c kernel/iface/hyperv.c kernel/iface/pvclock.c kernel/iface/steal.c kernel/iface/runstate.c
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
UNIT_BINS   := $(patsubst tests/unit/%.c,$(BUILD)/host/%,$(UNIT_SRCS))

.PHONY: all iso check check-tcg check-kvm check-xen test-deps unit fuzzers clean
all: $(BUILD)/pvcheck.elf

$(BUILD)/guest/%.c.o: %.c $(HEADERS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guest/%.S.o: %.S $(HEADERS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

# The layering is part of the build: an include of a higher layer or of
# another suite fails it, and so does a guest file over 400 lines.
$(BUILD)/layers.ok: $(KERNEL_SRCS) $(HEADERS) tests/tools/layers.sh
	@mkdir -p $(dir $@)
	tests/tools/layers.sh kernel
	@touch $@

# So do calls, read from the objects: a suite calling into another suite, a
# lower layer calling up, or two files calling each other.
$(BUILD)/calls.ok: $(GUEST_OBJS) tests/tools/calls.sh
	tests/tools/calls.sh $(BUILD)/guest/kernel $(filter $(BUILD)/guest/kernel/%,$(GUEST_OBJS))
	@touch $@

$(BUILD)/pvcheck.elf: $(GUEST_OBJS) linker.ld $(BUILD)/layers.ok $(BUILD)/calls.ok
	$(LD) $(GUEST_LDFLAGS) -T linker.ld -o $@ $(GUEST_OBJS)
	@size=$$(stat -c %s $@); if [ $$size -gt 172032 ]; then \
		echo "$@ is $$size bytes, over the 168 KiB budget" >&2; rm -f $@; exit 1; fi

# The same link with its symbols, for tools that read the check tables.
$(BUILD)/pvcheck.syms.elf: $(GUEST_OBJS) linker.ld $(BUILD)/layers.ok $(BUILD)/calls.ok
	$(LD) $(filter-out -s,$(GUEST_LDFLAGS)) -T linker.ld -o $@ $(GUEST_OBJS)

# Every suite and check, from those tables (run.sh --list-checks).
$(BUILD)/host/list_checks: tests/tools/list_checks.c kernel/lib/suite.h
	@mkdir -p $(dir $@)
	$(HOSTCC) -std=gnu11 -O1 -Wall -Wextra -Werror -Ikernel -o $@ $<

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

# The multiboot2 parser, on information blocks the test builds.
$(BUILD)/host/test_bootinfo: tests/unit/test_bootinfo.c kernel/platform/bootinfo.c $(HEADERS) tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -o $@ $< kernel/platform/bootinfo.c

# The budget runs against a timer the test moves by hand.
$(BUILD)/host/test_budget: tests/unit/test_budget.c kernel/platform/budget.c $(HEADERS) tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -o $@ $< kernel/platform/budget.c

# The patient versioned reads, against a timer the test moves by hand.
$(BUILD)/host/test_read_within: tests/unit/test_read_within.c kernel/iface/pvclock_now.c $(PURE_SRCS) $(HEADERS) tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -o $@ $< kernel/iface/pvclock_now.c $(PURE_SRCS) -lpthread

$(BUILD)/host/strip_mb1: tests/tools/strip_mb1.c
	@mkdir -p $(dir $@)
	$(HOSTCC) -std=gnu11 -O1 -Wall -Wextra -Werror -o $@ $<

# run.sh's QMP client for --migrate and --snapshot; static, so that the nested
# harness's busybox system runs it too.
$(BUILD)/host/qmp: tests/tools/qmp.c
	@mkdir -p $(dir $@)
	$(HOSTCC) -std=gnu11 -O2 -Wall -Wextra -Werror -static -o $@ $<

# The checks themselves, compiled for the host against the hypervisor model.
# Every suite but smp and selftest (they need real vCPUs), the live layer
# and the shared rule helpers but exit_costs and aps (the model stands in).
MODEL_SUITES := $(filter-out smp selftest,$(SUITES))
MODEL_SRCS  := kernel/platform/budget.c kernel/iface/kvm.c kernel/iface/hv_get.c kernel/iface/xen.c kernel/iface/pvclock_now.c \
	$(wildcard kernel/live/*.c) \
	$(filter-out %/exit_costs.c %/aps.c $(PURE_SRCS),$(wildcard kernel/checks/shared/*.c)) \
	$(filter-out $(PURE_SRCS),$(foreach s,$(MODEL_SUITES),$(wildcard kernel/checks/$(s)/*.c))) \
	tests/model/model.c tests/model/model_xen.c tests/model/model_hyperv.c tests/model/model_pv_msrs.c tests/model/platform.c \
	tests/model/matrix.c
$(BUILD)/host/matrix: $(MODEL_SRCS) $(PURE_SRCS) $(HEADERS) $(wildcard tests/model/*.h)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -DPVCHECK_HOST_MODEL -Itests/model -o $@ $(MODEL_SRCS) $(PURE_SRCS) -lpthread

unit: $(UNIT_BINS) $(BUILD)/host/matrix

# libFuzzer harnesses for every parser of untrusted input (tests/fuzz).
FUZZ_CC  ?= clang
FUZZERS  := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(PURE_SRCS) kernel/platform/bootinfo.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-Ikernel -Iboot -o $@ $< $(PURE_SRCS) kernel/platform/bootinfo.c
fuzzers: $(FUZZERS)

TEST_DEPS := all $(BUILD)/host/qmp $(BUILD)/pvcheck-pvh.elf $(BUILD)/pvcheck.iso unit fuzzers

# Everything: unit, TCG boots, the real-KVM and real-Xen scenarios; one count.
# The test binaries and images are built on every core first: a fresh
# clone's make check has a time limit.
JOBS ?= $(shell nproc 2>/dev/null || echo 1)
test-deps:
	@$(MAKE) --no-print-directory -j$(JOBS) $(TEST_DEPS)

check: test-deps
	@tests/check.sh --tcg --kvm --xen

# Without the nested real KVM and Xen (about 10 minutes).
check-tcg: test-deps
	@tests/check.sh --tcg

# pvcheck on the real Linux KVM, nested in QEMU TCG (tests/kvm/harness.sh; the outer machine
# emulated by bookworm-backports' QEMU 10.0): Linux 6.1 with QEMU 7.2, Linux 6.12 with QEMU 10.0
# (bookworm-backports) and Linux 7.3 with QEMU 11.1 (trixie-backports), every scenario on each,
# two outer systems at a time.
check-kvm: all $(BUILD)/host/qmp
	@tests/check.sh --kvm

# pvcheck as a PVH and an HVM guest of Debian's Xen 4.17 and of trixie's Xen 4.20,
# nested in QEMU TCG, both at once.
check-xen: all $(BUILD)/host/qmp
	@tests/check.sh --xen

clean:
	rm -rf $(BUILD)
