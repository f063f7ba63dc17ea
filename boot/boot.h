/* Constants shared by the boot assembly and the C entry. */
#ifndef PVCHECK_BOOT_H
#define PVCHECK_BOOT_H

#define MB1_HEADER_MAGIC     0x1BADB002
#define MB1_BOOT_MAGIC       0x2BADB002
#define MB2_HEADER_MAGIC     0xE85250D6
#define MB2_BOOT_MAGIC       0x36D76289
/* PVH passes no magic in a register; the entry stub supplies the
 * hvm_start_info magic so that the C entry can tell the protocols apart. */
#define PVH_BOOT_MAGIC       0x336EC578

#define GDT_CODE64 0x08
#define GDT_DATA   0x10

#define BOOT_STACK_SIZE 16384

/* Application processors start in real mode here (SIPI vector 0x08). */
#define TRAMPOLINE_BASE 0x8000

#endif
