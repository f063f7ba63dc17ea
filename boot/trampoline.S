/* Application-processor start: real mode at TRAMPOLINE_BASE (where the boot
 * CPU copies this blob), to protected mode, to long mode on the boot page
 * tables, then to ap_entry64 in the image with the stack the boot CPU left
 * in trampoline_stack. */
#include "boot.h"

#define T(x) (TRAMPOLINE_BASE + (x) - trampoline_start)

    .section .rodata
    .balign 16
    .globl trampoline_start, trampoline_end
    .globl trampoline_cr3, trampoline_stack, trampoline_entry
    .code16
trampoline_start:
    cli
    cld
    xor %ax, %ax
    mov %ax, %ds
    lgdtl T(tramp_gdt_ptr)
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmpl $0x18, $T(tramp32)

    .code32
tramp32:
    mov $GDT_DATA, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %cr4, %eax
    or $0x20, %eax              /* PAE */
    mov %eax, %cr4
    mov T(trampoline_cr3), %eax
    mov %eax, %cr3
    mov $0xc0000080, %ecx       /* EFER.LME */
    rdmsr
    or $0x100, %eax
    wrmsr
    mov %cr0, %eax
    or $0x80000000, %eax        /* PG */
    mov %eax, %cr0
    ljmp $GDT_CODE64, $T(tramp64)

    .code64
tramp64:
    mov T(trampoline_stack), %rsp
    mov T(trampoline_entry), %rax
    jmp *%rax

    .balign 8
tramp_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF    /* 0x08: 64-bit code */
    .quad 0x00CF92000000FFFF    /* 0x10: data */
    .quad 0x00CF9A000000FFFF    /* 0x18: 32-bit code */
tramp_gdt_end:
tramp_gdt_ptr:
    .short tramp_gdt_end - tramp_gdt - 1
    .long T(tramp_gdt)
    .balign 8
trampoline_cr3:   .quad 0
trampoline_stack: .quad 0
trampoline_entry: .quad 0
trampoline_end:

/* In the image: the kernel's own GDT and IDT, then C. */
    .text
    .globl ap_entry64
ap_entry64:
    lgdt boot_gdt_ptr(%rip)
    pushq $GDT_CODE64
    leaq 1f(%rip), %rax
    pushq %rax
    lretq
1:  mov $GDT_DATA, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ebp, %ebp
    call ap_main
2:  cli
    hlt
    jmp 2b
