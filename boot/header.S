/* Boot protocol headers, in the order linker.ld places them. */
#include "boot.h"

/* flags: bit 1 = memory map wanted, bit 16 = the address fields below are
 * valid (the a.out kludge; QEMU refuses an ELF64 multiboot image without it). */
#define MB1_FLAGS ((1 << 1) | (1 << 16))

    .section .boot.mb1, "a"
    .balign 4
    .globl mb1_header
mb1_header:
    .long MB1_HEADER_MAGIC
    .long MB1_FLAGS
    .long -(MB1_HEADER_MAGIC + MB1_FLAGS)
    .long mb1_header        /* header_addr */
    .long __load_start      /* load_addr */
    .long __load_end        /* load_end_addr */
    .long __bss_end         /* bss_end_addr */
    .long _start32          /* entry_addr */

    .section .boot.mb2, "a"
    .balign 8
mb2_header:
    .long MB2_HEADER_MAGIC
    .long 0                 /* architecture: i386 protected mode */
    .long mb2_header_end - mb2_header
    .long -(MB2_HEADER_MAGIC + (mb2_header_end - mb2_header))
    .balign 8
    .short 3, 0             /* entry address tag */
    .long 12
    .long _start32
    .balign 8
    .short 0, 0             /* end tag */
    .long 8
mb2_header_end:

/* XEN_ELFNOTE_PHYS32_ENTRY (18): 32-bit physical entry point for PVH. */
    .section .note.Xen, "a", @note
    .balign 4
    .long 4                 /* name size: "Xen\0" */
    .long 4                 /* descriptor size */
    .long 18
    .asciz "Xen"
    .balign 4
    .long pvh_entry
    .balign 4
