/* 32-bit entry shared by every boot protocol: build a GDT and identity page
 * tables for the first 4 GiB, enter long mode, zero BSS, call kmain(magic, info). */
#include "boot.h"

#define PTE_P     0x001
#define PTE_W     0x002
#define PTE_PWT   0x008
#define PTE_PCD   0x010
#define PTE_PS    0x080
#define CR0_PE    0x00000001
#define CR0_PG    0x80000000
#define CR4_PAE   0x00000020
#define MSR_EFER  0xC0000080
#define EFER_LME  0x00000100

    .section .boot.text, "ax"
    .code32

/* PVH: %ebx = hvm_start_info; no magic in %eax. */
    .globl pvh_entry
pvh_entry:
    mov $PVH_BOOT_MAGIC, %eax

/* Multiboot1/2: %eax = boot magic, %ebx = info pointer. */
    .globl _start32
_start32:
    cli
    cld
    mov %eax, %ebp          /* rep stos below uses eax, ecx, edi */

    /* Zero BSS first: the page tables and the stack live there. */
    mov $__bss_start, %edi
    mov $__bss_end, %ecx
    sub %edi, %ecx
    shr $2, %ecx
    xor %eax, %eax
    rep stosl

    /* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB pages. */
    mov $boot_pdpt, %eax
    or $(PTE_P | PTE_W), %eax
    mov %eax, boot_pml4

    xor %ecx, %ecx
1:  mov %ecx, %eax
    shl $12, %eax
    add $boot_pd, %eax
    or $(PTE_P | PTE_W), %eax
    mov %eax, boot_pdpt(, %ecx, 8)
    inc %ecx
    cmp $4, %ecx
    jb 1b

    /* 2048 entries of 2 MiB = 4 GiB. The last GiB holds the local APIC,
     * IOAPIC and HPET: map it uncached. */
    xor %ecx, %ecx
2:  mov %ecx, %eax
    shl $21, %eax
    or $(PTE_P | PTE_W | PTE_PS), %eax
    cmp $1536, %ecx
    jb 3f
    or $(PTE_PCD | PTE_PWT), %eax
3:  mov %eax, boot_pd(, %ecx, 8)
    inc %ecx
    cmp $2048, %ecx
    jb 2b

    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov %cr4, %eax
    or $CR4_PAE, %eax
    mov %eax, %cr4
    mov $MSR_EFER, %ecx
    rdmsr
    or $EFER_LME, %eax
    wrmsr
    mov %cr0, %eax
    or $(CR0_PG | CR0_PE), %eax
    mov %eax, %cr0

    lgdt boot_gdt_ptr
    ljmp $GDT_CODE64, $long_entry

    .code64
long_entry:
    mov $GDT_DATA, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %eax, %eax
    mov %ax, %fs
    mov %ax, %gs
    mov $boot_stack_top, %rsp
    mov %ebp, %edi          /* boot magic */
    mov %ebx, %esi          /* info pointer; zero-extended, it is below 4 GiB */
    xor %ebp, %ebp          /* terminates frame-pointer walks */
    call kmain
4:  cli
    hlt
    jmp 4b

    .section .rodata
    .balign 16
    .globl boot_gdt
boot_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF    /* 0x08: 64-bit code */
    .quad 0x00CF92000000FFFF    /* 0x10: data */
boot_gdt_end:
    .globl boot_gdt_ptr
boot_gdt_ptr:
    .short boot_gdt_end - boot_gdt - 1
    .quad boot_gdt

    .section .bss.pagetables, "aw", @nobits
    .balign 4096
boot_pml4:  .skip 4096
boot_pdpt:  .skip 4096
boot_pd:    .skip 4 * 4096

    .section .bss
    .balign 16
    .globl boot_stack_bottom
boot_stack_bottom:
    .skip BOOT_STACK_SIZE
boot_stack_top:
