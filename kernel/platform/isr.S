/* Interrupt entry stubs: every vector pushes (error code, vector) so that
 * the dispatcher sees one frame layout (struct trap_frame in traps.h). The
 * dispatcher is whatever traps_init stores in isr_dispatch: the stubs are
 * below the C runtime and name nothing in it. */

    .text
    .code64

.macro STUB_NOERR n
isr_\n:
    pushq $0
    pushq $\n
    jmp isr_common
.endm

.macro STUB_ERR n
isr_\n:
    pushq $\n
    jmp isr_common
.endm

/* Vectors that push an error code: #DF 8, #TS 10, #NP 11, #SS 12, #GP 13,
 * #PF 14, #AC 17, #CP 21, #VC 29, #SX 30. */
.irp n, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
    STUB_NOERR \n
.endr
.irp n, 8,10,11,12,13,14,17,21,29,30
    STUB_ERR \n
.endr
.irp n, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,232,233,236,240,255
    STUB_NOERR \n
.endr

isr_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    cld
    call *isr_dispatch(%rip)
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp
    iretq

    .data
    .balign 8
    .globl isr_dispatch
/* void (*)(struct trap_frame *), set before the IDT is loaded. */
isr_dispatch:
    .quad 0

    .section .rodata
    .balign 8
    .globl isr_stubs
/* Pairs of (vector, stub address), ended by vector 0xffffffff. */
isr_stubs:
.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad \n, isr_\n
.endr
.irp n, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,232,233,236,240,255
    .quad \n, isr_\n
.endr
    .quad 0xffffffff, 0
